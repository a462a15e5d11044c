package sip

import (
	"strconv"
	"strings"
)

// NameAddr is a From, To, Contact, Route or Record-Route value:
// an optional display name, a URI, and header parameters (RFC 3261
// §20.10, §20.20, §20.39). Strings alias the message.
type NameAddr struct {
	Display  string // as written: a quoted-string with its quotes, or tokens; "" if none
	URI      URI
	Params   Params // header params with leading ';' (tag, q, expires, ...)
	Bracket  bool   // the URI was written inside <>
	Wildcard bool   // Contact: *
}

// Tag returns the tag parameter (From, To).
func (n NameAddr) Tag() string {
	t, _ := n.Params.Get("tag")
	return t
}

// DisplayName returns the display name without quotes or escapes.
func (n NameAddr) DisplayName() string { return Unquote(n.Display) }

// Q returns a Contact's q-value in thousandths (0..1000) and whether it
// was present and well formed (RFC 3261 §20.10 qvalue).
func (n NameAddr) Q() (int, bool) {
	v, ok := n.Params.Get("q")
	if !ok {
		return 0, false
	}
	return parseQValue(v)
}

// Expires returns a Contact's expires parameter in seconds. Values larger
// than 2**32-1 are clamped to it, as RFC 3261 §20.19 asks of Expires.
func (n NameAddr) Expires() (uint32, bool) {
	v, ok := n.Params.Get("expires")
	if !ok {
		return 0, false
	}
	return parseDeltaSeconds(v)
}

// AppendTo appends the value in canonical form: the URI is always put in
// angle brackets, which RFC 3261 §20 allows and avoids ambiguity.
func (n NameAddr) AppendTo(b []byte) []byte {
	if n.Wildcard {
		return append(b, '*')
	}
	if n.Display != "" {
		b = append(b, n.Display...)
		b = append(b, ' ')
	}
	b = append(b, '<')
	b = n.URI.AppendTo(b)
	b = append(b, '>')
	return append(b, n.Params...)
}

// String returns the value in canonical form.
func (n NameAddr) String() string { return string(n.AppendTo(nil)) }

func parseQValue(v string) (int, bool) {
	// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
	if v == "" || (v[0] != '0' && v[0] != '1') {
		return 0, false
	}
	q := int(v[0]-'0') * 1000
	if len(v) == 1 {
		return q, true
	}
	if v[1] != '.' || len(v) > 5 {
		return 0, false
	}
	scale := 100
	for i := 2; i < len(v); i++ {
		if !isDigit(v[i]) {
			return 0, false
		}
		q += int(v[i]-'0') * scale
		scale /= 10
	}
	if q > 1000 {
		return 0, false
	}
	return q, true
}

func parseDeltaSeconds(v string) (uint32, bool) {
	if v == "" {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) {
			return 0, false
		}
	}
	n, ok := parseUint(v, 1<<32-1)
	if !ok {
		return 1<<32 - 1, true
	}
	return uint32(n), true
}

// parseNameAddr parses one name-addr or addr-spec followed by parameters
// starting at s[i]. In a list (Contact, Route) a ',' ends the value;
// otherwise anything after the parameters is an error. The tag parameter
// is returned on the way, for From and To.
func parseNameAddr(s string, i int, list bool) (n NameAddr, tag string, next int, problem string) {
	tag, next, problem = n.parse(s, i, list)
	return n, tag, next, problem
}

// parse fills n, which must be zero, in place: the eager checks of Parse
// use it on a scratch value to spare copying the struct around.
func (n *NameAddr) parse(s string, i int, list bool) (tag string, next int, problem string) {
	i = skipWS(s, i)
	if i >= len(s) {
		return "", i, "empty value"
	}
	start := i
	switch {
	case s[i] == '"':
		q := scanQuoted(s, i)
		if q < 0 {
			return "", i, "unterminated quoted display name"
		}
		n.Display = s[i:q]
		i = skipWS(s, q)
		if i >= len(s) || s[i] != '<' {
			return "", i, "display name without <URI>"
		}
	case s[i] != '<':
		// Either display-name tokens followed by <URI>, or an addr-spec.
		j := i
		for {
			k := scanToken(s, j)
			if k == j {
				break
			}
			j = skipWS(s, k)
			if j < len(s) && s[j] == '<' {
				n.Display = trimWS(s[i:j])
				i = j
				break
			}
			if j == k { // token not followed by LWS or '<'
				break
			}
		}
	}
	if i < len(s) && s[i] == '<' {
		// The fast path finds the '>' as it parses; the full parser
		// needs the URI cut out first.
		if end, ok := n.URI.parseSIPPrefix(s[i+1:]); ok && i+1+end < len(s) && s[i+1+end] == '>' {
			i += end + 2
		} else {
			n.URI = URI{}
			gt := strings.IndexByte(s[i:], '>')
			if gt < 0 {
				return "", i, "missing '>'"
			}
			gt += i
			if err := n.URI.parseFull(s[i+1 : gt]); err != nil {
				return "", i, uriProblem(err)
			}
			i = gt + 1
		}
		n.Bracket = true
	} else {
		i = start
		// addr-spec: RFC 3261 §20 says a URI holding ',', ';' or '?'
		// must be in <>, so the URI ends at the first of those; a '?'
		// means headers outside brackets, which is an error (RFC 4475
		// regbadct).
		j := i
		for j < len(s) && s[j] != ';' && s[j] != ',' && !isWS(s[j]) {
			if s[j] == '?' {
				return "", j, "URI with headers must be enclosed in <>"
			}
			j++
		}
		if j < len(s) && s[j] == ',' && !list {
			return "", j, "more than one value"
		}
		if s[i:j] == "*" {
			n.Wildcard = true
		} else {
			if err := n.URI.parse(s[i:j]); err != nil {
				return "", i, uriProblem(err)
			}
		}
		i = j
	}
	end, tag, prob := scanParamsFind(s, i, "tag")
	if prob != "" {
		return "", end, prob
	}
	n.Params = Params(trimWS(s[i:end]))
	if end < len(s) && !list {
		return "", end, "more than one value"
	}
	return tag, end, ""
}

func uriProblem(err error) string {
	if pe, ok := err.(*ParseError); ok && pe.Problem != "" {
		return pe.Problem
	}
	return "malformed URI"
}

// parseNameAddrList parses a comma-separated list of name-addrs.
func parseNameAddrList(s string, dst []NameAddr) ([]NameAddr, string) {
	for i := 0; ; {
		n, _, next, prob := parseNameAddr(s, i, true)
		if prob != "" {
			return dst, prob
		}
		dst = append(dst, n)
		if next >= len(s) {
			return dst, ""
		}
		i = next + 1 // skip ','
	}
}

// CSeq is the CSeq header value (RFC 3261 §20.16).
type CSeq struct {
	Seq    uint32
	Method string
}

// String returns "Seq METHOD".
func (c CSeq) String() string { return strconv.FormatUint(uint64(c.Seq), 10) + " " + c.Method }

func parseCSeq(s string) (CSeq, string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	n, ok := parseUint(s[:i], 1<<32-1)
	if !ok {
		if i == 0 {
			return CSeq{}, "missing sequence number"
		}
		return CSeq{}, "sequence number out of range"
	}
	j := skipWS(s, i)
	if j == i {
		return CSeq{}, "missing method"
	}
	k := scanToken(s, j)
	if k == j || k != len(s) {
		return CSeq{}, "malformed method"
	}
	return CSeq{Seq: uint32(n), Method: s[j:k]}, ""
}
