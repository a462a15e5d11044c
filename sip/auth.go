package sip

import "strings"

// Digest authentication headers: RFC 3261 §20.7, §20.27, §20.28, §20.44,
// §22 and the §25.1 grammar, updated for SHA-256 by RFC 8760, which
// imports the RFC 7616 parameters (userhash, charset, username*).

// AuthParam is one auth-param as written: Value keeps its quotes, so a
// quoted-string and a token stay distinguishable and re-emit unchanged.
// For a scheme whose data is not an auth-param list (a token68 such as
// "Bearer mF_9.B5f-4.1JqM"), Name is empty and Value holds the data.
type AuthParam struct{ Name, Value string }

// Challenge is the value of a WWW-Authenticate or Proxy-Authenticate
// header (RFC 3261 §20.44, §20.28). Field strings alias the parsed input
// unless they contained quoted-pairs, in which case they are unescaped
// copies.
type Challenge struct {
	Scheme    string // "Digest" (compare case-insensitively) or another scheme
	Realm     string
	Nonce     string
	Opaque    string
	Algorithm string // "MD5", "SHA-256", "SHA-512-256", "-sess" variants…
	Domain    string // space-separated URIs
	QOP       string // qop-options as listed, e.g. "auth,auth-int"; see HasQOP
	Stale     bool
	Params    []AuthParam // the other auth-params in order; nil when there are none
}

// Credentials is the value of an Authorization or Proxy-Authorization
// header (RFC 3261 §20.7, §20.27). Field strings alias the parsed input
// unless they contained quoted-pairs.
type Credentials struct {
	Scheme    string
	Username  string
	Realm     string
	Nonce     string
	URI       string
	Response  string
	Algorithm string
	CNonce    string
	Opaque    string
	QOP       string // the single qop-value chosen, e.g. "auth"
	NC        string // nonce-count, 8 hex digits
	Userhash  bool   // RFC 7616 §3.4.4: Username is a hash of user and realm
	Params    []AuthParam
}

// Names of the parameters that have fields. The index into each list is
// the bit used to catch duplicates, which RFC 7235 §2.1 forbids ("each
// parameter name MUST only occur once per challenge").
var (
	challengeNames   = [...]string{"realm", "nonce", "opaque", "algorithm", "domain", "qop", "stale"}
	credentialsNames = [...]string{"username", "realm", "nonce", "uri", "response", "algorithm",
		"cnonce", "opaque", "qop", "nc", "userhash"}
)

func authKnownIndex(names []string, name string) int {
	for i, n := range names {
		if equalFold(n, name) {
			return i
		}
	}
	return -1
}

// ParseChallenge parses a WWW-Authenticate or Proxy-Authenticate value:
// an auth-scheme, LWS, then comma-separated auth-params whose values are
// tokens or quoted-strings (RFC 3261 §25.1 challenge). Either form is
// accepted for every parameter, as RFC 7235 §2.1 asks of recipients,
// and LWS, folding included, may surround '=' and ','.
//
// For schemes other than Digest whose data does not parse as auth-params,
// the data is kept whole in a single AuthParam with an empty Name, since
// this package has no business rejecting a scheme it does not know.
func ParseChallenge(value string) (Challenge, error) {
	var c Challenge
	err := parseAuth(value, "WWW-Authenticate", challengeNames[:], &c.Scheme, &c.Params, func(name, v string) string {
		switch name {
		case "realm":
			c.Realm = v
		case "nonce":
			c.Nonce = v
		case "opaque":
			c.Opaque = v
		case "algorithm":
			c.Algorithm = v
		case "domain":
			c.Domain = v
		case "qop":
			c.QOP = v
		case "stale":
			// RFC 7616 §3.3: anything but a case-insensitive "true"
			// means false, so an odd value is not an error.
			c.Stale = equalFold(v, "true")
		}
		return ""
	})
	if err != nil {
		return Challenge{}, err
	}
	if c.Params != nil && c.Params[0].Name == "" {
		return Challenge{Scheme: c.Scheme, Params: c.Params}, nil
	}
	return c, nil
}

// ParseCredentials parses an Authorization or Proxy-Authorization value
// (RFC 3261 §25.1 credentials) with the same rules as ParseChallenge.
// The nonce-count must be 8 hex digits (RFC 3261 §25.1 nc-value), because
// it is hashed verbatim and any other form could never verify.
func ParseCredentials(value string) (Credentials, error) {
	var c Credentials
	err := parseAuth(value, "Authorization", credentialsNames[:], &c.Scheme, &c.Params, func(name, v string) string {
		switch name {
		case "username":
			c.Username = v
		case "realm":
			c.Realm = v
		case "nonce":
			c.Nonce = v
		case "uri":
			c.URI = v
		case "response":
			c.Response = v
		case "algorithm":
			c.Algorithm = v
		case "cnonce":
			c.CNonce = v
		case "opaque":
			c.Opaque = v
		case "qop":
			c.QOP = v
		case "nc":
			c.NC = v
			if !isAuthNonceCount(v) {
				return "nc is not 8 hex digits"
			}
		case "userhash":
			// RFC 7616 §3.4: "true" or "false"; treat anything else
			// as false like stale, rather than failing the request.
			c.Userhash = equalFold(v, "true")
		}
		return ""
	})
	if err != nil {
		return Credentials{}, err
	}
	if c.Params != nil && c.Params[0].Name == "" {
		return Credentials{Scheme: c.Scheme, Params: c.Params}, nil
	}
	return c, nil
}

// parseAuth is the loop ParseChallenge and ParseCredentials share: the
// scheme, then auth-params, each known one (named in names) given once
// to set with its unquoted value, the others kept in *params. For a
// scheme other than Digest whose data does not parse as auth-params, the
// data is kept whole as one AuthParam with an empty Name, which the
// callers return alone.
func parseAuth(value, hdr string, names []string, scheme *string, params *[]AuthParam, set func(name, v string) string) error {
	value = trimWS(value)
	sch, start, problem := scanAuthScheme(value)
	if problem != "" {
		return headerErr(hdr, problem)
	}
	*scheme = sch
	var seen uint32
	for i := start; i < len(value) && problem == ""; {
		var name, raw string
		name, raw, i, problem = nextAuthParam(value, i)
		if problem != "" {
			break
		}
		k := authKnownIndex(names, name)
		if k < 0 {
			*params, problem = addAuthParam(*params, name, raw)
			continue
		}
		if seen&(1<<k) != 0 {
			problem = "duplicate " + names[k] + " parameter"
			break
		}
		seen |= 1 << k
		problem = set(names[k], Unquote(raw))
	}
	if problem != "" {
		if equalFold(sch, "Digest") {
			return headerErr(hdr, problem)
		}
		*params = []AuthParam{{Value: value[start:]}}
	}
	return nil
}

// scanAuthScheme reads the auth-scheme and the LWS after it and returns
// the index of the first parameter (len(s) when there is none). s must
// be trimmed of LWS.
func scanAuthScheme(s string) (scheme string, next int, problem string) {
	i := skipWS(s, 0)
	j := scanToken(s, i)
	if j == i {
		return "", 0, "missing auth scheme"
	}
	if j < len(s) && !isWS(s[j]) {
		return "", 0, "invalid auth scheme"
	}
	return s[i:j], skipWS(s, j), ""
}

// nextAuthParam scans the auth-param at s[i] and the comma after it:
//
//	auth-param = auth-param-name EQUAL ( token / quoted-string )
//
// It returns the raw value (quotes kept) and the index of the next
// parameter, or len(s) after the last one. s must not end in LWS.
func nextAuthParam(s string, i int) (name, value string, next int, problem string) {
	j := scanToken(s, i)
	if j == i {
		return "", "", i, "empty parameter name"
	}
	name = s[i:j]
	k := skipWS(s, j)
	if k >= len(s) || s[k] != '=' {
		return "", "", k, "parameter " + shortAuthName(name) + " has no value"
	}
	k = skipWS(s, k+1)
	if k < len(s) && s[k] == '"' {
		q := scanQuoted(s, k)
		if q < 0 {
			return "", "", k, "unterminated quoted string"
		}
		value, k = s[k:q], q
	} else {
		e := scanToken(s, k)
		if e == k {
			return "", "", k, "parameter " + shortAuthName(name) + " has no value"
		}
		value, k = s[k:e], e
	}
	k = skipWS(s, k)
	if k < len(s) {
		if s[k] != ',' {
			return "", "", k, "missing comma between parameters"
		}
		k = skipWS(s, k+1)
		if k >= len(s) {
			return "", "", k, "trailing comma"
		}
	}
	return name, value, k, ""
}

// addAuthParam adds an unknown parameter, refusing a second one of the
// same name (RFC 7235 §2.1).
func addAuthParam(ps []AuthParam, name, raw string) ([]AuthParam, string) {
	for _, p := range ps {
		if equalFold(p.Name, name) {
			return ps, "duplicate " + shortAuthName(p.Name) + " parameter"
		}
	}
	return append(ps, AuthParam{Name: name, Value: raw}), ""
}

// shortAuthName bounds a parameter name quoted in an error, since the
// problem text may become the reason phrase of a 400 response.
func shortAuthName(name string) string {
	if len(name) > 32 {
		return name[:32] + "..."
	}
	return name
}

func isAuthNonceCount(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := lower(s[i])
		if !isDigit(c) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// HasQOP reports whether the challenge offers the named qop-value,
// ignoring case and the LWS around the commas of the list.
func (c Challenge) HasQOP(name string) bool {
	if name == "" {
		return false
	}
	s := c.QOP
	for s != "" {
		var item string
		if i := strings.IndexByte(s, ','); i >= 0 {
			item, s = s[:i], s[i+1:]
		} else {
			item, s = s, ""
		}
		if equalFold(trimWS(item), name) {
			return true
		}
	}
	return false
}

// String formats the challenge as it goes on the wire, in a fixed order:
//
//	Digest realm="x", domain="…", nonce="y", opaque="…", stale=true, algorithm=SHA-256, qop="auth"
//
// followed by Params. RFC 7616 §3.3 says which values a sender quotes:
// realm, domain, nonce, opaque and qop always, stale and algorithm never
// (unless an algorithm is not a token and cannot be written bare). Empty
// fields and stale=false are left out. An empty Scheme means Digest.
func (c Challenge) String() string {
	b := make([]byte, 0, 128)
	b = appendAuthScheme(b, c.Scheme)
	n := 0
	b = appendAuthQuoted(b, &n, "realm", c.Realm)
	b = appendAuthQuoted(b, &n, "domain", c.Domain)
	b = appendAuthQuoted(b, &n, "nonce", c.Nonce)
	b = appendAuthQuoted(b, &n, "opaque", c.Opaque)
	if c.Stale {
		b = appendAuthRaw(b, &n, "stale", "true")
	}
	b = appendAuthToken(b, &n, "algorithm", c.Algorithm)
	b = appendAuthQuoted(b, &n, "qop", c.QOP)
	b = appendAuthParams(b, &n, c.Params)
	return string(b)
}

// String formats the credentials in a fixed order:
//
//	Digest username="..", realm="..", nonce="..", uri="..", response="..", algorithm=..,
//	cnonce="..", opaque="..", qop=auth, nc=00000001, userhash=true
//
// followed by Params, quoting as RFC 7616 §3.4 prescribes: algorithm,
// qop, nc and userhash bare, the rest quoted. Empty fields and
// userhash=false are left out. An empty Scheme means Digest.
func (c Credentials) String() string {
	b := make([]byte, 0, 256)
	b = appendAuthScheme(b, c.Scheme)
	n := 0
	b = appendAuthQuoted(b, &n, "username", c.Username)
	b = appendAuthQuoted(b, &n, "realm", c.Realm)
	b = appendAuthQuoted(b, &n, "nonce", c.Nonce)
	b = appendAuthQuoted(b, &n, "uri", c.URI)
	b = appendAuthQuoted(b, &n, "response", c.Response)
	b = appendAuthToken(b, &n, "algorithm", c.Algorithm)
	b = appendAuthQuoted(b, &n, "cnonce", c.CNonce)
	b = appendAuthQuoted(b, &n, "opaque", c.Opaque)
	b = appendAuthToken(b, &n, "qop", c.QOP)
	b = appendAuthToken(b, &n, "nc", c.NC)
	if c.Userhash {
		b = appendAuthRaw(b, &n, "userhash", "true")
	}
	b = appendAuthParams(b, &n, c.Params)
	return string(b)
}

func appendAuthScheme(b []byte, scheme string) []byte {
	if scheme == "" {
		scheme = "Digest"
	}
	return append(b, scheme...)
}

// appendAuthRaw writes ", name=value" (" name=value" for the first) with
// value as given; n counts the parameters written so far.
func appendAuthRaw(b []byte, n *int, name, value string) []byte {
	if *n == 0 {
		b = append(b, ' ')
	} else {
		b = append(b, ", "...)
	}
	*n++
	if name != "" {
		b = append(b, name...)
		b = append(b, '=')
	}
	return append(b, value...)
}

func appendAuthQuoted(b []byte, n *int, name, value string) []byte {
	if value == "" {
		return b
	}
	return appendAuthRaw(b, n, name, Quote(value))
}

// appendAuthToken writes a value bare when it is a token and quoted
// otherwise, so that the output always parses back to the same value.
func appendAuthToken(b []byte, n *int, name, value string) []byte {
	if value == "" {
		return b
	}
	if !isTokenString(value) {
		value = Quote(value)
	}
	return appendAuthRaw(b, n, name, value)
}

func appendAuthParams(b []byte, n *int, ps []AuthParam) []byte {
	for _, p := range ps {
		b = appendAuthRaw(b, n, p.Name, p.Value)
	}
	return b
}
