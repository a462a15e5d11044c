package sip

// Character classes and small scanners shared by the header parsers.
// Everything works on strings that alias the message buffer, so no
// function here allocates.

const (
	cTok        = 1 << iota // RFC 3261 token
	cWS                     // SP, HTAB, and CR/LF inside a folded value
	cAlnum                  // ALPHA / DIGIT
	cWord                   // RFC 3261 word (Call-ID)
	cCallID                 // word characters but '@'
	cParamValue             // token characters and ':' (a bare IPv6 received)
)

var charClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] |= cTok | cAlnum | cWord
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= cTok | cAlnum | cWord
		t[c-'a'+'A'] |= cTok | cAlnum | cWord
	}
	for _, c := range "-.!%*_+`'~" {
		t[c] |= cTok | cWord
	}
	for _, c := range "()<>:\\\"/[]?{}" {
		t[c] |= cWord
	}
	for _, c := range " \t\r\n" {
		t[c] |= cWS
	}
	for c := range t {
		if t[c]&cWord != 0 {
			t[c] |= cCallID
		}
		if t[c]&cTok != 0 || c == ':' {
			t[c] |= cParamValue
		}
	}
	return t
}()

func isWS(c byte) bool    { return charClass[c]&cWS != 0 }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// The scanning loops below index a subslice from 0, which lets the
// compiler drop the bounds check inside the loop: these loops are where
// the parser spends its time.

// skipWS returns the index of the first non-LWS byte at or after i.
func skipWS(s string, i int) int {
	for i < len(s) && charClass[s[i]]&cWS != 0 {
		i++
	}
	return i
}

// trimWS trims LWS (including folding) from both ends.
func trimWS(s string) string {
	i, j := 0, len(s)
	for i < j && isWS(s[i]) {
		i++
	}
	for j > i && isWS(s[j-1]) {
		j--
	}
	return s[i:j]
}

// scanToken returns the end of a token starting at i (i itself if none).
func scanToken(s string, i int) int { return scanWhile(s, i, &charClass, cTok) }

// scanWhile returns the end of the run of bytes starting at s[i] whose
// class in tab has a bit of mask.
func scanWhile(s string, i int, tab *[256]uint8, mask uint8) int {
	if i >= len(s) {
		return i
	}
	t := s[i:]
	for j := 0; j < len(t); j++ {
		if tab[t[j]]&mask == 0 {
			return i + j
		}
	}
	return len(s)
}

func isTokenString(s string) bool {
	if s == "" {
		return false
	}
	return scanToken(s, 0) == len(s)
}

// scanQuoted expects s[i] == '"' and returns the index after the closing
// quote, or -1 if the string is not terminated. Backslash escapes any
// byte but CR and LF (RFC 3261 quoted-pair).
func scanQuoted(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '"':
			return i + 1
		case '\\':
			i++
			if i >= len(s) || s[i] == '\r' || s[i] == '\n' {
				return -1
			}
		}
	}
	return -1
}

// equalFold reports whether a and b are equal under ASCII case folding.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// parseUint parses a non-empty run of digits into a value no larger than
// max. ok is false on an empty string, a non-digit, or overflow.
func parseUint(s string, max uint64) (v uint64, ok bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
		if v > max {
			return 0, false
		}
	}
	return v, true
}

// Params is a parameter list as it appears on the wire, starting with ';'
// (";branch=z9hG4bK1;rport"), possibly with LWS around the separators. It
// aliases the message and is searched on demand, so carrying it costs
// nothing. Names compare case-insensitively (RFC 3261 §7.3.1).
type Params string

// appendParam appends ";name" or ";name=value".
func appendParam(b []byte, name, value string) []byte {
	b = append(b, ';')
	b = append(b, name...)
	if value != "" {
		b = append(b, '=')
		b = append(b, value...)
	}
	return b
}

// Get returns the value of the named parameter. A parameter with no value
// ("lr") is present with an empty value. Quoted values are returned with
// their quotes; use Unquote to strip them.
func (p Params) Get(name string) (value string, ok bool) {
	s := string(p)
	for i := 0; i < len(s); {
		var n, v string
		n, v, i = nextParam(s, i)
		if n == "" {
			if i >= len(s) {
				break
			}
			continue
		}
		if equalFold(n, name) {
			return v, true
		}
	}
	return "", false
}

// Set returns p with the named parameter set to value ("" for a
// parameter without a value): the first occurrence is replaced where it
// stands, so the order on the wire is kept, or the parameter is appended.
func (p Params) Set(name, value string) Params {
	s := string(p)
	if start, next, ok := p.find(name); ok {
		b := make([]byte, 0, len(s)+len(name)+len(value)+2)
		b = append(b, s[:start]...)
		b = appendParam(b, name, value)
		return Params(append(b, s[next:]...))
	}
	return Params(appendParam([]byte(s), name, value))
}

// Delete returns p without any occurrence of the named parameter.
func (p Params) Delete(name string) Params {
	for {
		start, next, ok := p.find(name)
		if !ok {
			return p
		}
		p = p[:start] + p[next:]
	}
}

// find returns where the first occurrence of the named parameter starts
// (at its ';' or the space before it) and ends.
func (p Params) find(name string) (start, end int, ok bool) {
	s := string(p)
	for i := 0; i < len(s); {
		n, _, next := nextParam(s, i)
		if n != "" && equalFold(n, name) {
			return i, next, true
		}
		i = next
	}
	return 0, 0, false
}

// Has reports whether the named parameter is present.
func (p Params) Has(name string) bool {
	_, ok := p.Get(name)
	return ok
}

// Each calls fn for every parameter in order until fn returns false.
func (p Params) Each(fn func(name, value string) bool) {
	s := string(p)
	for i := 0; i < len(s); {
		var n, v string
		n, v, i = nextParam(s, i)
		if n != "" && !fn(n, v) {
			return
		}
	}
}

// nextParam scans the parameter after position i in an already
// validated list and returns it with the index to continue from.
func nextParam(s string, i int) (name, value string, next int) {
	i = skipWS(s, i)
	if i < len(s) && s[i] == ';' {
		i = skipWS(s, i+1)
	}
	j := i
	for j < len(s) && s[j] != '=' && s[j] != ';' && !isWS(s[j]) {
		j++
	}
	name = s[i:j]
	k := skipWS(s, j)
	if k < len(s) && s[k] == '=' {
		k = skipWS(s, k+1)
		e := k
		if e < len(s) && s[e] == '"' {
			if q := scanQuoted(s, e); q > 0 {
				e = q
			} else {
				e = len(s)
			}
		} else {
			for e < len(s) && s[e] != ';' && !isWS(s[e]) {
				e++
			}
		}
		value = s[k:e]
		k = e
	}
	if k == i { // no progress: skip a stray byte
		k++
	}
	return name, value, k
}

// scanParams validates a generic-param list starting at s[i] (which may
// be ';' or the end) and returns the index where the list ends: at a ','
// or the end of s. Values may be tokens, quoted strings or IPv6
// references, as RFC 3261 gen-value allows.
func scanParams(s string, i int) (end int, err string) {
	end, _, _, err = scanParamsFind(s, i, "")
	return end, err
}

// scanParamsFind is scanParams that also returns where the value of the
// parameter called want (lower-case) is, saving the parsers of Via and
// From/To a second pass for branch and tag. fs == fe when it is absent.
func scanParamsFind(s string, i int, want string) (end, fs, fe int, err string) {
	for {
		i = skipWS(s, i)
		if i >= len(s) || s[i] == ',' {
			return i, fs, fe, ""
		}
		if s[i] != ';' {
			return i, 0, 0, "unexpected character after parameters"
		}
		i = skipWS(s, i+1)
		j := scanToken(s, i)
		if j == i {
			return i, 0, 0, "empty parameter name"
		}
		isWanted := want != "" && equalFold(s[i:j], want)
		i = skipWS(s, j)
		if i < len(s) && s[i] == '=' {
			i = skipWS(s, i+1)
			vs := i
			switch {
			case i < len(s) && s[i] == '"':
				q := scanQuoted(s, i)
				if q < 0 {
					return i, 0, 0, "unterminated quoted parameter value"
				}
				i = q
			case i < len(s) && s[i] == '[':
				k := i + 1
				for k < len(s) && s[k] != ']' {
					k++
				}
				if k >= len(s) {
					return i, 0, 0, "unterminated IPv6 reference in parameter"
				}
				i = k + 1
			default:
				// gen-value is a token or a host; RFC 3261 lets received
				// carry a bare IPv6address, and RFC 5118 §4.5 asks
				// elements to accept it, so ':' is taken too.
				k := scanWhile(s, i, &charClass, cParamValue)
				if k == i {
					return i, 0, 0, "empty parameter value"
				}
				i = k
			}
			if isWanted && fe == 0 {
				fs, fe = vs, i
			}
		}
	}
}

// Unquote strips the quotes of a quoted-string and resolves its
// quoted-pairs. A string that is not quoted is returned unchanged. It
// allocates only when the string contains a backslash.
func Unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	i := 0
	for i < len(s) && s[i] != '\\' {
		i++
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b = append(b, s[i])
	}
	return string(b)
}

// Quote returns s as a quoted-string, escaping '"' and '\'.
func Quote(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(append(b, '"'))
}

// splitComma returns the first element of a comma-separated header value
// and the rest, honouring quoted strings and <...> so commas inside them
// do not split.
func splitComma(s string) (first, rest string, more bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			q := scanQuoted(s, i)
			if q < 0 {
				return s, "", false
			}
			i = q - 1
		case '<':
			for i < len(s) && s[i] != '>' {
				i++
			}
		case ',':
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
