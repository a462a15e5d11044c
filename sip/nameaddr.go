package sip

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
// otherwise anything after the parameters is an error.
func parseNameAddr(s string, i int, list bool) (n NameAddr, next int, problem string) {
	var p nameAddrPos
	next, problem = scanNameAddr(&p, s, i, list)
	if problem != "" {
		return n, next, problem
	}
	n.Display = s[p.disp:p.dispEnd]
	n.Bracket, n.Wildcard = p.bracket, p.wildcard
	if !p.wildcard {
		// Already validated: this cannot fail.
		_ = n.URI.parse(s[p.uri:p.uriEnd])
	}
	n.Params = Params(s[p.params:p.paramsEnd])
	return n, next, ""
}

// nameAddrPos locates the parts of a name-addr in its header value.
type nameAddrPos struct {
	disp, dispEnd     int // display name as written, quotes included
	uri, uriEnd       int
	params, paramsEnd int
	tag, tagEnd       int
	bracket, wildcard bool
}

// scanNameAddr checks the name-addr or addr-spec with parameters at s[i],
// fills p with where its parts are and returns where it ends. It keeps positions,
// not strings, as Parse checks From, To and every Contact eagerly.
func scanNameAddr(p *nameAddrPos, s string, i int, list bool) (next int, problem string) {
	i = skipWS(s, i)
	if i >= len(s) {
		return i, "empty value"
	}
	start := i
	switch {
	case s[i] == '"':
		q := scanQuoted(s, i)
		if q < 0 {
			return i, "unterminated quoted display name"
		}
		p.disp, p.dispEnd = i, q
		i = skipWS(s, q)
		if i >= len(s) || s[i] != '<' {
			return i, "display name without <URI>"
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
				e := j
				for e > i && isWS(s[e-1]) {
					e--
				}
				p.disp, p.dispEnd = i, e
				i = j
				break
			}
			if j == k { // token not followed by LWS or '<'
				break
			}
		}
	}
	if i < len(s) && s[i] == '<' {
		end, prob := validURIPrefix(s[i+1:], '>')
		if prob != "" {
			return i, prob
		}
		p.uri, p.uriEnd, p.bracket = i+1, i+1+end, true
		i += end + 2
	} else {
		i = start
		// addr-spec: RFC 3261 §20 says a URI holding ',', ';' or '?'
		// must be in <>, so the URI ends at the first of those; a '?'
		// means headers outside brackets, which is an error (RFC 4475
		// regbadct).
		j := i
		for j < len(s) && s[j] != ';' && s[j] != ',' && !isWS(s[j]) {
			if s[j] == '?' {
				return j, "URI with headers must be enclosed in <>"
			}
			j++
		}
		if j < len(s) && s[j] == ',' && !list {
			return j, "more than one value"
		}
		if s[i:j] == "*" {
			p.wildcard = true
		} else if _, prob := validURIPrefix(s[i:j], toEnd); prob != "" {
			return i, prob
		}
		p.uri, p.uriEnd = i, j
		i = j
	}
	// The tag of a From or To, first and written plainly, is taken
	// without the general parameter scan, which then checks the rest.
	ts, te, rest, want := 0, 0, i, "tag"
	if len(s)-i > 5 && s[i:i+5] == ";tag=" {
		if e := scanWhile(s, i+5, &charClass, cParamValue); e > i+5 {
			ts, te, rest, want = i+5, e, e, ""
		}
	}
	end, fs, fe, prob := scanParamsFind(s, rest, want)
	if prob != "" {
		return end, prob
	}
	if want != "" {
		ts, te = fs, fe
	}
	if end < len(s) && !list {
		return end, "more than one value"
	}
	ps, pe := skipWS(s, i), end
	for pe > ps && isWS(s[pe-1]) {
		pe--
	}
	p.params, p.paramsEnd, p.tag, p.tagEnd = ps, pe, ts, te
	return end, ""
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
		n, next, prob := parseNameAddr(s, i, true)
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

// ParseNameAddr parses one name-addr or addr-spec with its parameters,
// as in a From, To or Route value ("Bob <sip:bob@example.com>;tag=1").
// The result aliases s.
func ParseNameAddr(s string) (NameAddr, error) {
	n, next, problem := parseNameAddr(s, skipWS(s, 0), false)
	if problem == "" && skipWS(s, next) != len(s) {
		problem = "trailing text after name-addr"
	}
	if problem != "" {
		return NameAddr{}, perr(ErrBadHeader, "", problem)
	}
	return n, nil
}
