package sip

import (
	"net/netip"
	"strconv"
	"strings"
)

// URI is a SIP, SIPS, tel or other absolute URI. Its string fields alias the
// text it was parsed from (no copies): parsing must not allocate.
//
// The grammar is RFC 3261 §19.1 and §25 for sip/sips, RFC 3966 for tel
// and RFC 5118 for IPv6 references. Fields keep their wire form, escapes
// included, so that AppendTo reproduces the input and nothing is decoded
// unless someone asks (see Unescape).
type URI struct {
	Scheme      string // as written, e.g. "sip", "SIPS", "tel"; compare with equalFold
	User        string // user part as on the wire, still %-escaped; for tel: the number
	Password    string // as on the wire; empty if none (HasPassword tells)
	HasPassword bool   // a ':' followed the user, even if the password is empty
	Host        string // host as written: name, IPv4, or IPv6 reference WITH brackets "[2001:db8::1]"
	Port        int    // 0 when absent
	Params      Params // uri-parameters incl. leading ';' (";transport=tcp;lr"), raw
	Headers     string // headers after '?', without the '?', raw ("subject=x&priority=urgent")
	Opaque      string // for schemes other than sip/sips/tel: everything after "scheme:"
}

// Scheme kinds; the scheme is matched case-insensitively (RFC 3261 §19.1.4).
const (
	uriOther = iota
	uriSIP
	uriSIPS
	uriTel
)

func uriKind(scheme string) int {
	switch {
	case equalFold(scheme, "sip"):
		return uriSIP
	case equalFold(scheme, "sips"):
		return uriSIPS
	case equalFold(scheme, "tel"):
		return uriTel
	}
	return uriOther
}

// Character classes of the URI grammar, one bit per component, so each
// component is checked with a single table lookup per byte. '%' is in
// none of them: escapes are validated separately by uriScan.
const (
	uriCUser   = 1 << iota // unreserved / user-unreserved (RFC 3261 §25)
	uriCPass               // unreserved / "&" / "=" / "+" / "$" / ","
	uriCParam              // paramchar: unreserved / param-unreserved
	uriCHeader             // hname, hvalue: unreserved / hnv-unreserved
	uriCHost               // hostname and IPv4 characters
	uriCTel                // telephone number characters (RFC 3966, loosely)
	uriCScheme             // scheme characters after the first ALPHA
)

var uriClass = func() (t [256]uint8) {
	set := func(chars string, m uint8) {
		for i := 0; i < len(chars); i++ {
			t[chars[i]] |= m
		}
	}
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	set(alnum+"-_.!~*'()", uriCUser|uriCPass|uriCParam|uriCHeader)
	set("&=+$,;?/", uriCUser)
	set("&=+$,", uriCPass)
	set("[]/:&+$", uriCParam)
	set("[]/?:+$", uriCHeader)
	set(alnum+"-.", uriCHost)
	set(alnum+"*#+-.()", uriCTel)
	set(alnum+"+-.", uriCScheme)
	return t
}()

func uriIsHex(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f'
}

func uriUnhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return (c | 0x20) - 'a' + 10
}

// uriScan returns the end of the run starting at s[i] of bytes in the
// class mask or valid %HH escapes. badEsc reports that the run stopped at
// a '%' not followed by two hex digits (RFC 4475 esc01 and escnull show
// that any escape, %00 included, is fine as long as it is well formed).
func uriScan(s string, i int, mask uint8) (end int, badEsc bool) {
	for i < len(s) {
		i = scanWhile(s, i, &uriClass, mask)
		if i >= len(s) {
			break
		}
		c := s[i]
		if uriClass[c]&mask != 0 {
			i++
			continue
		}
		if c != '%' {
			break
		}
		if i+2 >= len(s) || !uriIsHex(s[i+1]) || !uriIsHex(s[i+2]) {
			return i, true
		}
		i += 3
	}
	return i, false
}

func uriErr(problem string) error { return perr(ErrBadURI, "", problem) }

// uriStopErr builds the error for a scan that stopped at s[j]. Whitespace
// gets its own message because it is the usual cause (RFC 4475 lwsruri:
// a URI cannot contain LWS), and a generic "bad character" would hide it.
func uriStopErr(s string, j int, problem string) error {
	if j < len(s) && (s[j] <= ' ' || s[j] == 0x7f) {
		return uriErr("whitespace or control character in URI")
	}
	return uriErr(problem)
}

// ParseURI parses s, which must be exactly one URI without surrounding
// <> or whitespace. The result aliases s. It does not allocate unless it
// fails.
func ParseURI(s string) (URI, error) {
	var u URI
	if err := u.parse(s); err != nil {
		return URI{}, err
	}
	return u, nil
}

// parse fills u, which must be zero, from s. Parsers of headers that
// hold a URI call it in place, sparing a copy of the struct.
func (u *URI) parse(s string) error {
	if end, ok := u.parseSIPPrefix(s); ok && end == len(s) {
		return nil
	}
	*u = URI{}
	return u.parseFull(s)
}

// parseFull is the complete parser, for every URI the fast path leaves.
func (u *URI) parseFull(s string) error {
	if s == "" || s[0]|0x20 < 'a' || s[0]|0x20 > 'z' {
		return uriStopErr(s, 0, "missing scheme")
	}
	i := 1
	for i < len(s) && uriClass[s[i]]&uriCScheme != 0 {
		i++
	}
	if i == len(s) || s[i] != ':' {
		return uriStopErr(s, i, "missing scheme")
	}
	u.Scheme = s[:i]
	i++
	switch uriKind(u.Scheme) {
	case uriSIP, uriSIPS:
		return u.parseSIP(s, i)
	case uriTel:
		return u.parseTel(s, i)
	}
	return u.parseOpaque(s, i)
}

// parseSIP parses s[i:] as [userinfo@]hostport[;params][?headers].
func (u *URI) parseSIP(s string, i int) error {
	// '@' may appear unescaped only as the userinfo terminator: it is
	// not a character of hostport, uri-parameters or headers, while ';',
	// '?', '/' and '=' are legal in the user part (RFC 4475 semiuri and
	// intmeth: "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:...
	// @example.com"). So the userinfo is exactly what precedes the first
	// '@', and no '?' or ';' may be looked for before it is found.
	if a := strings.IndexByte(s[i:], '@'); a >= 0 {
		a += i
		j, bad := uriScan(s, i, uriCUser)
		switch {
		case bad:
			return uriErr("bad escape in user part")
		case j != a && s[j] != ':':
			return uriStopErr(s, j, "bad character in user part")
		case j == i:
			return uriErr("empty user part")
		}
		u.User = s[i:j]
		if s[j] == ':' {
			k, bad := uriScan(s, j+1, uriCPass)
			switch {
			case bad:
				return uriErr("bad escape in password")
			case k != a:
				return uriStopErr(s, k, "bad character in password")
			}
			u.Password, u.HasPassword = s[j+1:k], true
		}
		i = a + 1
	}

	if i < len(s) && s[i] == '[' {
		j, err := scanIPv6Ref(s, i)
		if err != nil {
			return err
		}
		u.Host = s[i:j]
		i = j
	} else {
		if i == len(s) || uriClass[s[i]]&uriCHost == 0 {
			return uriStopErr(s, i, "missing host")
		}
		j, ok := uriScanHost(s, i)
		if !ok {
			return uriErr("bad host")
		}
		u.Host = s[i:j]
		i = j
	}
	what := "bad character after host"
	if i < len(s) && s[i] == ':' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		p, ok := parseUint(s[i+1:j], 65535)
		if !ok || p == 0 {
			return uriStopErr(s, j, "bad port")
		}
		u.Port = int(p)
		i = j
		what = "bad port"
	}

	if i < len(s) && s[i] == ';' {
		j, err := uriScanParams(s, i)
		if err != nil {
			return err
		}
		u.Params = Params(s[i:j])
		i = j
		what = "bad character in parameters"
	}
	if i < len(s) && s[i] == '?' {
		j, err := uriScanHeaders(s, i+1)
		if err != nil {
			return err
		}
		u.Headers = s[i+1 : j]
		i = j
		what = "bad character in headers"
	}
	if i < len(s) {
		return uriStopErr(s, i, what)
	}
	return nil
}

// scanIPv6Ref scans the IPv6reference (RFC 5118) at s[i] == '[' and
// returns the index after its ']'. Only hex digits, ':' and '.' (for an
// embedded IPv4) may appear inside, which also rules out zones.
func scanIPv6Ref(s string, i int) (int, error) {
	j := i + 1
	for j < len(s) && (uriIsHex(s[j]) || s[j] == ':' || s[j] == '.') {
		j++
	}
	if j == len(s) {
		return j, uriErr("unterminated IPv6 reference")
	}
	if s[j] != ']' {
		return j, uriStopErr(s, j, "bad IPv6 reference")
	}
	if _, ok := uriParseIPv6(s[i+1 : j]); !ok {
		return j, uriErr("bad IPv6 reference")
	}
	return j + 1, nil
}

// appendHostPort appends host, and ":port" when port is not zero: the
// hostport of a URI and the sent-by of a Via.
func appendHostPort(b []byte, host string, port int) []byte {
	b = append(b, host...)
	if port != 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(port), 10)
	}
	return b
}

// uriParseIPv6 parses the inside of an IPv6reference. netip.ParseAddr
// implements RFC 4291 and does not allocate for a zoneless address.
//
// RFC 3261's ABNF, taken from the obsoleted RFC 2373, also derives a
// third colon before an embedded IPv4 address ("2001:db8:::192.0.2.1"),
// and RFC 5118 §4.10 says implementations must tolerate it. That one
// position is accepted here by reading ":::" as "::", and nothing else
// beyond RFC 4291 is.
func uriParseIPv6(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err == nil {
		return a, a.Is6()
	}
	k := strings.Index(s, ":::")
	if k < 0 {
		return netip.Addr{}, false
	}
	// Parse the two halves apart rather than build "pre::v4", which
	// would allocate: "pre::" must be a valid address with at most five
	// groups before the "::", so its last 32 bits are zeros that the
	// IPv4 address then fills.
	if groups := strings.Count(s[:k], ":") + 1; k > 0 && groups > 5 {
		return netip.Addr{}, false
	}
	head, err := netip.ParseAddr(s[:k+2])
	if err != nil || !head.Is6() {
		return netip.Addr{}, false
	}
	v4, err := netip.ParseAddr(s[k+3:])
	if err != nil || !v4.Is4() {
		return netip.Addr{}, false
	}
	b, t := head.As16(), v4.As4()
	copy(b[12:], t[:])
	return netip.AddrFrom16(b), true
}

// uriScanHost scans a hostname or IPv4address (RFC 3261 §25.1) at s[i]
// and returns its end and whether it is well formed: dot-separated labels
// of alphanumerics and inner hyphens, where a top label that does not
// start with a letter means the whole must be a dotted quad. The host is
// the longest part of most URIs, so alphanumerics cost one lookup and one
// branch; only at '-' and '.' are the label rules checked.
func uriScanHost(s string, i int) (end int, ok bool) {
	t := s[i:]
	ok = true
	j := 0
	for ; j < len(t); j++ {
		cls := hostClass[t[j]]
		if cls == hostAlnum {
			continue
		}
		if cls == 0 {
			break
		}
		// '-' may not start a label, '.' may not end an empty one or
		// one ending in '-'.
		if j == 0 || t[j-1] == '.' || cls == hostDot && t[j-1] == '-' {
			ok = false
		}
	}
	if j == 0 || !ok {
		return i + j, false
	}
	h := t[:j]
	switch h[j-1] {
	case '-':
		return i + j, false
	case '.': // trailing dot: allowed after a hostname only
		h = h[:j-1]
		c := h[strings.LastIndexByte(h, '.')+1] | 0x20
		return i + j, c >= 'a' && c <= 'z'
	}
	if c := h[strings.LastIndexByte(h, '.')+1] | 0x20; c >= 'a' && c <= 'z' {
		return i + j, true
	}
	return i + j, uriIsIPv4(h)
}

// Byte classes of the hostname scanner.
const (
	hostAlnum = 1 + iota
	hostHyphen
	hostDot
)

var hostClass = func() (t [256]uint8) {
	for c := range t {
		if uriClass[c]&uriCHost != 0 {
			t[c] = hostAlnum
		}
	}
	t['-'], t['.'] = hostHyphen, hostDot
	return t
}()

// uriIsIPv4 reports whether h is four dot-separated decimal octets. RFC
// 3261 allows any 1*3DIGIT; values over 255 are refused as RFC 5954
// corrected the grammar.
func uriIsIPv4(h string) bool {
	parts, v, digits := 0, 0, 0
	for i := 0; i <= len(h); i++ {
		if i == len(h) || h[i] == '.' {
			if digits == 0 || v > 255 {
				return false
			}
			parts++
			v, digits = 0, 0
			continue
		}
		if !isDigit(h[i]) || digits == 3 {
			return false
		}
		v = v*10 + int(h[i]-'0')
		digits++
	}
	return parts == 4
}

// uriScanParams validates uri-parameters starting at s[i] == ';' and
// returns where they end. Names and values are 1*paramchar, so ";lr" is
// fine but ";a=" and ";;" are not.
func uriScanParams(s string, i int) (int, error) {
	for i < len(s) && s[i] == ';' {
		j, bad := uriScan(s, i+1, uriCParam)
		switch {
		case bad:
			return j, uriErr("bad escape in parameters")
		case j == i+1:
			return j, uriStopErr(s, j, "empty parameter name")
		}
		i = j
		if i < len(s) && s[i] == '=' {
			j, bad = uriScan(s, i+1, uriCParam)
			switch {
			case bad:
				return j, uriErr("bad escape in parameters")
			case j == i+1:
				return j, uriStopErr(s, j, "empty parameter value")
			}
			i = j
		}
	}
	return i, nil
}

// uriScanHeaders validates hname "=" hvalue *( "&" hname "=" hvalue )
// starting at s[i] and returns where it ends.
func uriScanHeaders(s string, i int) (int, error) {
	for {
		j, bad := uriScan(s, i, uriCHeader)
		switch {
		case bad:
			return j, uriErr("bad escape in headers")
		case j == i:
			return j, uriStopErr(s, j, "empty header name")
		case j == len(s) || s[j] == '&':
			return j, uriErr("missing '=' in header")
		case s[j] != '=':
			return j, uriStopErr(s, j, "bad character in headers")
		}
		k, bad := uriScan(s, j+1, uriCHeader) // hvalue may be empty
		if bad {
			return k, uriErr("bad escape in headers")
		}
		if k == len(s) || s[k] != '&' {
			return k, nil
		}
		i = k + 1
	}
}

// parseTel parses s[i:] as a tel URI (RFC 3966): a number up to the first
// ';', then parameters. The number is checked loosely, as local numbers
// may use letters and both forms may carry visual separators.
func (u *URI) parseTel(s string, i int) error {
	j, bad := uriScan(s, i, uriCTel)
	switch {
	case bad:
		return uriErr("bad escape in telephone number")
	case j == i:
		return uriStopErr(s, j, "empty telephone number")
	}
	u.User = s[i:j]
	what := "bad character in telephone number"
	if j < len(s) && s[j] == ';' {
		k, err := uriScanParams(s, j)
		if err != nil {
			return err
		}
		u.Params = Params(s[j:k])
		j = k
		what = "bad character in parameters"
	}
	if j < len(s) {
		return uriStopErr(s, j, what)
	}
	return nil
}

// parseOpaque takes s[i:] as the body of a URI with a scheme this package
// does not interpret (RFC 3261 absoluteURI, RFC 4475 unksm and novelsc).
// It only refuses what could not be part of any URI and would break the
// framing of a header: whitespace, controls, '<', '>' and '"'.
func (u *URI) parseOpaque(s string, i int) error {
	if i == len(s) {
		return uriErr("empty URI body")
	}
	for k := i; k < len(s); k++ {
		switch c := s[k]; {
		case c <= ' ' || c == 0x7f:
			return uriStopErr(s, k, "")
		case c == '<' || c == '>' || c == '"':
			return uriErr("bad character in URI")
		}
	}
	u.Opaque = s[i:]
	return nil
}

// IsSIP reports whether the scheme is sip or sips.
func (u URI) IsSIP() bool {
	k := uriKind(u.Scheme)
	return k == uriSIP || k == uriSIPS
}

// IsSecure reports whether the scheme is sips.
func (u URI) IsSecure() bool { return uriKind(u.Scheme) == uriSIPS }

// AppendTo appends the URI in wire form to b. For a parsed URI that is
// the parsed text, except that a port written with leading zeros loses
// them.
func (u URI) AppendTo(b []byte) []byte {
	b = append(b, u.Scheme...)
	b = append(b, ':')
	switch uriKind(u.Scheme) {
	case uriSIP, uriSIPS:
		hasPw := u.HasPassword || u.Password != ""
		if u.User != "" || hasPw {
			b = append(b, u.User...)
			if hasPw {
				b = append(b, ':')
				b = append(b, u.Password...)
			}
			b = append(b, '@')
		}
		b = appendHostPort(b, u.Host, u.Port)
		b = append(b, u.Params...)
		if u.Headers != "" {
			b = append(b, '?')
			b = append(b, u.Headers...)
		}
	case uriTel:
		b = append(b, u.User...)
		b = append(b, u.Params...)
	default:
		b = append(b, u.Opaque...)
	}
	return b
}

// String returns the wire form of the URI.
func (u URI) String() string {
	var buf [128]byte // most URIs fit, leaving the string as the only allocation
	return string(u.AppendTo(buf[:0]))
}

// HostPort returns "host" or "host:port"; an IPv6 host keeps its brackets.
func (u URI) HostPort() string {
	if u.Port == 0 {
		return u.Host
	}
	var buf [64]byte
	return string(appendHostPort(buf[:0], u.Host, u.Port))
}

// Transport returns the value of the transport parameter in lower case,
// or "" if there is none. It does not supply the scheme's default.
func (u URI) Transport() string {
	v, ok := uriFindParam(string(u.Params), len(u.Params), "transport")
	if !ok {
		return ""
	}
	return strings.ToLower(Unescape(v)) // returns v itself when already plain lower case
}

// Unescape decodes %HH escapes. It returns s itself, without allocating,
// when s contains no '%'. A '%' not followed by two hex digits is kept as
// is, so Unescape never fails.
func Unescape(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		c, _, next := uriNext(s, i)
		b.WriteByte(c)
		i = next
	}
	return b.String()
}

// uriNext decodes one character of an escaped string: the byte at s[i],
// or the byte an escape there stands for. esc reports the latter.
func uriNext(s string, i int) (c byte, esc bool, next int) {
	c = s[i]
	if c == '%' && i+2 < len(s) && uriIsHex(s[i+1]) && uriIsHex(s[i+2]) {
		return uriUnhex(s[i+1])<<4 | uriUnhex(s[i+2]), true, i + 3
	}
	return c, false, i + 1
}

// uriReserved reports whether c is in the RFC 2396 "reserved" set, whose
// characters RFC 3261 §19.1.4 does not treat as equal to their escapes.
func uriReserved(c byte) bool {
	switch c {
	case ';', '/', '?', ':', '@', '&', '=', '+', '$', ',':
		return true
	}
	return false
}

// uriEqualEsc compares two escaped strings by their decoded content,
// decoding on the fly so nothing is allocated. A reserved character only
// matches another written the same way, escaped or not (RFC 3261
// §19.1.4). fold makes the comparison ASCII case-insensitive.
func uriEqualEsc(a, b string, fold bool) bool {
	if len(a) == len(b) && (a == b || fold && equalFold(a, b)) {
		return true // same bytes up to case: same escapes, same decoding
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		x, ex, ni := uriNext(a, i)
		y, ey, nj := uriNext(b, j)
		if fold {
			x, y = lower(x), lower(y)
		}
		if x != y || ex != ey && uriReserved(x) {
			return false
		}
		i, j = ni, nj
	}
	return i == len(a) && j == len(b)
}

// uriNextParam returns the parameter at p[i] of a validated uri-parameter
// list and the index of the next one. It is simpler than nextParam as
// such a list holds no whitespace or quotes.
func uriNextParam(p string, i int) (name, value string, next int) {
	if p[i] == ';' {
		i++
	}
	j := i
	for j < len(p) && p[j] != ';' && p[j] != '=' {
		j++
	}
	name = p[i:j]
	if j < len(p) && p[j] == '=' {
		k := j + 1
		for k < len(p) && p[k] != ';' {
			k++
		}
		value, j = p[j+1:k], k
	}
	return name, value, j
}

// uriFindParam returns the value of the first parameter in p[:end] whose
// name, unescaped, equals name case-insensitively.
func uriFindParam(p string, end int, name string) (string, bool) {
	for i := 0; i < end; {
		var n, v string
		n, v, i = uriNextParam(p, i)
		if uriEqualEsc(n, name, true) {
			return v, true
		}
	}
	return "", false
}

// uriNextHeader returns the header at s[i] in a '&'-separated list and
// the index of the next one.
func uriNextHeader(s string, i int) (name, value string, next int) {
	j := i
	for j < len(s) && s[j] != '&' {
		j++
	}
	h := s[i:j]
	if k := strings.IndexByte(h, '='); k >= 0 {
		return h[:k], h[k+1:], j + 1
	}
	return h, "", j + 1
}

// Equal reports whether u and v are equivalent.
//
// For sip and sips this follows RFC 3261 §19.1.4: schemes, hosts and
// parameter names and values compare case-insensitively, userinfo and
// header values case-sensitively, all after decoding escapes; a port
// written only on one side differs even if it is the default; the user,
// ttl, method, maddr and transport parameters must appear on both sides
// or neither, other parameters count only when present in both; every
// header must appear on both sides. IPv6 hosts compare as addresses.
//
// For tel (RFC 3966 §4) the numbers compare without visual separators and
// case, and both must have the same parameters, in any order. Other
// schemes compare the scheme case-insensitively and the rest byte-wise.
func (u URI) Equal(v URI) bool {
	if !equalFold(u.Scheme, v.Scheme) {
		return false
	}
	switch uriKind(u.Scheme) {
	case uriOther:
		return u.Opaque == v.Opaque
	case uriTel:
		return uriTelNumberEqual(u.User, v.User) &&
			uriParamsIn(string(u.Params), string(v.Params), true, true) &&
			uriParamsIn(string(v.Params), string(u.Params), false, true)
	}
	return u.Port == v.Port &&
		(u.HasPassword || u.Password != "") == (v.HasPassword || v.Password != "") &&
		uriEqualEsc(u.User, v.User, false) &&
		uriEqualEsc(u.Password, v.Password, false) &&
		uriHostEqual(u.Host, v.Host) &&
		uriSIPParamsEqual(string(u.Params), string(v.Params)) &&
		uriHeadersIn(u.Headers, v.Headers) &&
		uriHeadersIn(v.Headers, u.Headers)
}

func uriHostEqual(a, b string) bool {
	if len(a) > 2 && len(b) > 2 && a[0] == '[' && b[0] == '[' &&
		a[len(a)-1] == ']' && b[len(b)-1] == ']' {
		x, ok1 := uriParseIPv6(a[1 : len(a)-1])
		y, ok2 := uriParseIPv6(b[1 : len(b)-1])
		if ok1 && ok2 {
			return x == y
		}
	}
	return equalFold(a, b)
}

// uriSpecialParam reports whether a parameter must be present on both
// sides or neither for two SIP URIs to be equal (RFC 3261 §19.1.4).
func uriSpecialParam(name string) bool {
	for _, n := range [...]string{"user", "ttl", "method", "maddr", "transport"} {
		if uriEqualEsc(name, n, true) {
			return true
		}
	}
	return false
}

func uriSIPParamsEqual(a, b string) bool {
	return a == b || uriParamsIn(a, b, true, false) && uriParamsIn(b, a, false, false)
}

// uriParamsIn checks the parameters of a against b. A parameter that is
// in both must have equal values (compared when values is set, so that
// checking both directions compares them once); one missing from b is
// fine unless it is special or all is set (tel, RFC 3966 §4). Only the
// first occurrence of a name counts, which keeps Equal reflexive and
// symmetric when a name is repeated.
func uriParamsIn(a, b string, values, all bool) bool {
	for i := 0; i < len(a); {
		start := i
		var n, v string
		n, v, i = uriNextParam(a, i)
		if _, dup := uriFindParam(a, start, n); dup {
			continue
		}
		w, ok := uriFindParam(b, len(b), n)
		switch {
		case ok && values && !uriEqualEsc(v, w, true):
			return false
		case !ok && (all || uriSpecialParam(n)):
			return false
		}
	}
	return true
}

// uriHeadersIn reports whether every header of a appears in b with the
// same value: names compare case-insensitively, values exactly, both
// after unescaping.
func uriHeadersIn(a, b string) bool {
	for i := 0; i < len(a); {
		var n, v string
		n, v, i = uriNextHeader(a, i)
		found := false
		for j := 0; j < len(b) && !found; {
			var m, w string
			m, w, j = uriNextHeader(b, j)
			found = uriEqualEsc(n, m, true) && uriEqualEsc(v, w, false)
		}
		if !found {
			return false
		}
	}
	return true
}

// uriTelNumberEqual compares telephone numbers ignoring the visual
// separators "-", ".", "(" and ")" and the case of hex digits (RFC 3966
// §4 and §5.1.1).
func uriTelNumberEqual(a, b string) bool {
	i, j := 0, 0
	for {
		i, j = uriSkipSep(a, i), uriSkipSep(b, j)
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		x, _, ni := uriNext(a, i)
		y, _, nj := uriNext(b, j)
		if lower(x) != lower(y) {
			return false
		}
		i, j = ni, nj
	}
}

// uriSkipSep returns the index of the first character at or after s[i]
// that is not a visual separator.
func uriSkipSep(s string, i int) int {
	for i < len(s) {
		c, _, next := uriNext(s, i)
		if !uriVisualSep(c) {
			break
		}
		i = next
	}
	return i
}

func uriVisualSep(c byte) bool { return c == '-' || c == '.' || c == '(' || c == ')' }
