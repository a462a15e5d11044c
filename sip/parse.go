package sip

import (
	"strings"
	"unsafe"
)

// Limits bound what the parser accepts, so a peer cannot make it do
// unbounded work (compare net/textproto's header limits).
type Limits struct {
	// MaxMessageSize is the largest message in bytes. Zero means 65535,
	// the largest UDP payload.
	MaxMessageSize int
	// MaxHeaders is the largest number of header lines. Zero means 256.
	MaxHeaders int
	// MaxLineLength is the longest start line or header (with folding)
	// in bytes. Zero means 8192; at most 65535.
	MaxLineLength int
}

// DefaultLimits are the limits Parse uses.
var DefaultLimits = Limits{MaxMessageSize: 65535, MaxHeaders: 256, MaxLineLength: 8192}

func (l Limits) withDefaults() Limits {
	if l.MaxMessageSize <= 0 {
		l.MaxMessageSize = DefaultLimits.MaxMessageSize
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultLimits.MaxHeaders
	}
	if l.MaxLineLength <= 0 {
		l.MaxLineLength = DefaultLimits.MaxLineLength
	}
	// The header table stores line lengths in 16 bits.
	l.MaxLineLength = min(l.MaxLineLength, 65535)
	return l
}

// Parse parses one message received as a datagram (RFC 3261 §18.3): the
// body runs to Content-Length, or to the end of data if it is absent;
// octets after Content-Length are ignored (RFC 4475 dblreq).
//
// The message keeps data and its strings point into it: the caller hands
// data over and must not modify it afterwards.
//
// On error the returned message is non-nil when the start line and the
// header framing could be read, so a server can still answer a bad
// request with the error's StatusCode and Reason.
func Parse(data []byte) (Message, error) {
	return parse(data, DefaultLimits, false)
}

// ParseWithLimits is Parse with explicit limits.
func ParseWithLimits(data []byte, l Limits) (Message, error) {
	return parse(data, l.withDefaults(), false)
}

func parse(data []byte, l Limits, stream bool) (Message, error) {
	if len(data) > l.MaxMessageSize || len(data) >= extBit {
		return nil, perr(ErrMessageTooLarge, "", "message too large")
	}
	if len(data) == 0 {
		return nil, perr(ErrIncomplete, "", "empty message")
	}
	s := unsafe.String(unsafe.SliceData(data), len(data))
	eol := strings.IndexByte(s, '\n')
	if eol < 0 {
		return nil, perr(ErrIncomplete, "", "no line end after start line")
	}
	line := s[:eol]
	if eol > 0 && line[eol-1] == '\r' {
		line = line[:eol-1]
	}
	if len(line) > l.MaxLineLength {
		return nil, perr(ErrLineTooLong, "", "start line too long")
	}
	var m *message
	var msg Message
	var err error
	if strings.HasPrefix(line, "SIP/") {
		r := new(Response)
		m, msg = &r.message, r
		err = r.parseStatusLine(line)
	} else {
		r := new(Request)
		m, msg = &r.message, r
		err = r.parseRequestLine(line)
	}
	if err != nil {
		return nil, err
	}
	m.buf = data
	m.startN = uint32(len(line))
	seen, bad, err := m.parseHeaders(s, eol+1, l, stream)
	if err != nil {
		return nil, err
	}
	if bad != nil {
		return msg, bad
	}
	if r, ok := msg.(*Request); ok {
		err = r.checkRequest(seen)
	} else {
		err = checkMandatory(seen)
	}
	if err != nil {
		return msg, err
	}
	return msg, nil
}

func (r *Request) parseRequestLine(line string) error {
	// The common shape, "METHOD sip:simple-uri SIP/2.0", in one pass.
	if sp1 := scanToken(line, 0); sp1 > 0 && sp1 < len(line) && line[sp1] == ' ' {
		var p sipURIPos
		if end, ok := scanSIPURI(&p, line[sp1+1:]); ok && line[sp1+1+end:] == " SIP/2.0" {
			r.method, r.uri = span{0, uint32(sp1)}, span{uint32(sp1 + 1), uint32(end)}
			return nil
		}
	}
	sp1 := strings.IndexByte(line, ' ')
	if sp1 <= 0 {
		return perr(ErrBadStartLine, "", "malformed request line")
	}
	r.method = span{0, uint32(sp1)}
	if !isTokenString(line[:sp1]) {
		return perr(ErrBadStartLine, "", "malformed method")
	}
	rest := line[sp1+1:]
	// Trailing whitespace after the version is tolerated, as RFC 4475
	// §3.1.2.10 (trws) allows and Kamailio does; whitespace anywhere else
	// is an error (lwsstart, lwsruri).
	for len(rest) > 0 && (rest[len(rest)-1] == ' ' || rest[len(rest)-1] == '\t') {
		rest = rest[:len(rest)-1]
	}
	sp2 := strings.IndexByte(rest, ' ')
	if sp2 < 0 {
		return perr(ErrBadStartLine, "", "missing SIP version")
	}
	uri, ver := rest[:sp2], rest[sp2+1:]
	if strings.IndexByte(ver, ' ') >= 0 || uri == "" {
		return perr(ErrBadStartLine, "", "malformed request line")
	}
	if ver != "SIP/2.0" {
		if len(ver) > 4 && equalFold(ver[:4], "SIP/") {
			if equalFold(ver, "SIP/2.0") {
			} else {
				return perr(ErrUnsupportedVersion, "", "unsupported SIP version")
			}
		} else {
			return perr(ErrBadStartLine, "", "malformed SIP version")
		}
	}
	if uri[0] == '<' {
		return perr(ErrBadURI, "", "Request-URI enclosed in <>")
	}
	var p sipURIPos
	if end, ok := scanSIPURI(&p, uri); !ok || end != len(uri) {
		var u URI
		if err := u.parseFull(uri); err != nil {
			return perr(ErrBadURI, "", "bad Request-URI: "+uriProblem(err))
		}
		if u.Headers != "" {
			// RFC 3261 §19.1.1: headers are not allowed in a
			// Request-URI (RFC 4475 escruri).
			return perr(ErrBadURI, "", "headers in Request-URI")
		}
	}
	r.uri = span{uint32(sp1 + 1), uint32(len(uri))}
	return nil
}

func (r *Response) parseStatusLine(line string) error {
	if len(line) < 12 || line[7] != ' ' {
		if len(line) >= 8 && line[:8] != "SIP/2.0 " {
			return perr(ErrUnsupportedVersion, "", "unsupported SIP version")
		}
		return perr(ErrBadStartLine, "", "malformed status line")
	}
	if line[:7] != "SIP/2.0" {
		return perr(ErrUnsupportedVersion, "", "unsupported SIP version")
	}
	i := 8
	j := i
	for j < len(line) && isDigit(line[j]) {
		j++
	}
	code, ok := parseUint(line[i:j], 999)
	if !ok || j-i != 3 || code < 100 || code > 699 {
		return perr(ErrBadStatusCode, "", "status code out of range")
	}
	if j < len(line) && line[j] != ' ' {
		return perr(ErrBadStartLine, "", "malformed status line")
	}
	r.code = int(code)
	if j < len(line) {
		r.reason = span{uint32(j + 1), uint32(len(line) - j - 1)}
	}
	return nil
}

// parseHeaders splits the header section starting at s[i], parses the
// eager headers and locates the body. A framing error (err) leaves no
// usable message; a bad header value (bad) still leaves every header
// split, so a 400 can be built from the message.
func (m *message) parseHeaders(s string, i int, l Limits, stream bool) (seen uint64, bad, err error) {
	// Split first, then parse the eager headers: two small loops keep
	// their variables in registers, one big one spills them.
	hdrs, i, err := splitHeaders(s, i, m.hdrArr[:0], l, stream)
	if err != nil {
		return 0, nil, err
	}
	m.hdrs = hdrs
	m.maxForwards, m.contentLength = -1, -1
	for j := range hdrs {
		h := &hdrs[j]
		if eagerKinds&(1<<h.kind) != 0 {
			vs := int(h.off) + int(h.valOff)
			if bad = m.parseEager(h.kind, s[vs:vs+int(h.valN)], uint32(vs), &seen); bad != nil {
				break
			}
		}
	}
	if err := m.finishBody(s, i, stream); err != nil && bad == nil {
		bad = err
	}
	if m.nvia > 0 {
		seen |= 1 << KindVia
	}
	return seen, bad, nil
}

// splitHeaders splits the header section starting at s[i] into hdrs and
// returns the index after the empty line that ends it.
func splitHeaders(s string, i int, hdrs []hdr, l Limits, stream bool) ([]hdr, int, error) {
	maxLine, maxHdrs := l.MaxLineLength, l.MaxHeaders
	for {
		if i >= len(s) {
			if stream {
				return nil, i, perr(ErrIncomplete, "", "no empty line after headers")
			}
			// A datagram that ends right after a header line lacks only
			// the empty line; its end frames it, so accept it as having
			// no body (RFC 4475 baddn is such a datagram).
			return hdrs, i, nil
		}
		if c := s[i]; c == '\r' || c == '\n' {
			if c == '\n' {
				return hdrs, i + 1, nil
			}
			if i+1 < len(s) && s[i+1] == '\n' {
				return hdrs, i + 2, nil
			}
		}
		// Name: a token, optional whitespace, ':'. The common names are
		// recognised whole; any other is scanned as a token, which finds
		// the colon sooner than a library search would (names are short)
		// and checks the name on the way.
		start := i
		kind, n := knownName(s, i)
		c := n
		if n == start {
			n = scanToken(s, i)
			c = n
			for c < len(s) && (s[c] == ' ' || s[c] == '\t') {
				c++
			}
			if n == start || c >= len(s) || s[c] != ':' {
				return nil, i, perr(ErrBadHeader, "", "malformed header line")
			}
			kind = canonicalKind(s[start:n])
			if kind == KindOther {
				if n-start > maxNameLen {
					return nil, i, perr(ErrBadHeader, "", "header name too long")
				}
				kind = foldedKind(s[start:n])
			}
		}
		// The header ends at the first line end not followed by
		// whitespace (RFC 3261 §7.3.1 folding).
		end := c
		for {
			k := strings.IndexByte(s[end:], '\n')
			if k < 0 {
				return nil, i, perr(ErrIncomplete, "", "header section not terminated")
			}
			end += k + 1
			if end >= len(s) || (s[end] != ' ' && s[end] != '\t') {
				break
			}
		}
		if end-start > maxLine {
			return nil, i, perr(ErrLineTooLong, "", "header line too long")
		}
		if len(hdrs) >= maxHdrs {
			return nil, i, perr(ErrTooManyHeaders, "", "too many headers")
		}
		i = end
		// Value: trimmed of LWS at both ends and of the line end.
		vs := skipWS(s, c+1)
		ve := end - 1 // at '\n'
		if ve > vs && s[ve-1] == '\r' {
			ve--
		}
		if ve > vs && isWS(s[ve-1]) { // rare: trailing whitespace or folding
			for ve > vs && isWS(s[ve-1]) {
				ve--
			}
		}
		if vs > ve {
			vs = ve
		}
		// Fields are stored one by one into the slot: building the
		// struct on the stack and copying it made the CPU wait on a
		// 16-byte load from several smaller stores (store forwarding).
		hdrs = append(hdrs, hdr{})
		h := &hdrs[len(hdrs)-1]
		h.off, h.nameN = uint32(start), uint8(n-start)
		h.valOff, h.valN = uint16(vs-start), uint16(ve-vs)
		h.rawN, h.kind = uint16(end-start), kind
	}
}

// singleKinds may appear only once in a message (RFC 3261 §7.3.1, §20;
// RFC 4475 multi01, mcl01).
const singleKinds = 1<<KindFrom | 1<<KindTo | 1<<KindCallID | 1<<KindCSeq | 1<<KindMaxForwards | 1<<KindContentLength

// eagerKinds are the headers Parse checks and indexes.
const eagerKinds = 1<<KindVia | 1<<KindContact | singleKinds

// parseEager checks the headers every layer needs, keeps the values read
// on every message, and checks that the single-valued ones appear once
// (RFC 3261 §7.3.1, §20; RFC 4475 multi01, mcl01). base is where v starts
// in the buffer (with extBit for an edited header), for the spans kept.
func (m *message) parseEager(k HeaderKind, v string, base uint32, seen *uint64) error {
	at := func(from, to int) span { return span{base + uint32(from), uint32(to - from)} }
	switch k {
	case KindVia:
		for i := 0; ; {
			var p viaPos
			next, prob := scanVia(&p, v, i)
			if prob != "" {
				return headerErr("Via", prob)
			}
			if m.nvia == 0 {
				m.branch = at(p.branch, p.branchEnd)
			}
			m.nvia++
			if next >= len(v) {
				return nil
			}
			i = next + 1
		}
	case KindContact:
		for i := 0; ; {
			var p nameAddrPos
			next, prob := scanNameAddr(&p, v, i, true)
			if prob != "" {
				return headerErr("Contact", prob)
			}
			m.ncontact++
			if next >= len(v) {
				return nil
			}
			i = next + 1
		}
	}
	if singleKinds&(1<<k) == 0 {
		return nil
	}
	if *seen&(1<<k) != 0 {
		return perr(ErrDuplicateHeader, canonicalNames[k], "appears more than once")
	}
	*seen |= 1 << k
	switch k {
	case KindFrom, KindTo:
		var p nameAddrPos
		_, prob := scanNameAddr(&p, v, 0, false)
		if prob != "" {
			return headerErr(canonicalNames[k], prob)
		}
		if k == KindFrom {
			m.fromTag = at(p.tag, p.tagEnd)
		} else {
			m.toTag = at(p.tag, p.tagEnd)
		}
	case KindCallID:
		// callid = word [ "@" word ] (RFC 3261 §25.1)
		if v == "" {
			return headerErr("Call-ID", "empty")
		}
		i := scanWhile(v, 0, &charClass, cCallID)
		if i < len(v) && v[i] == '@' && i > 0 {
			i = scanWhile(v, i+1, &charClass, cCallID)
			if v[i-1] == '@' {
				return headerErr("Call-ID", "malformed")
			}
		}
		if i != len(v) {
			return headerErr("Call-ID", "malformed")
		}
		m.callID = at(0, len(v))
	case KindCSeq:
		seq, ms, me, prob := scanCSeq(v)
		if prob != "" {
			return headerErr("CSeq", prob)
		}
		m.cseq, m.cseqMethod = seq, at(ms, me)
	case KindMaxForwards:
		n, ok := parseUint(v, 255)
		if !ok {
			return headerErr("Max-Forwards", "not a number from 0 to 255")
		}
		m.maxForwards = int16(n)
	case KindContentLength:
		n, ok := parseUint(v, 1<<31-1)
		if !ok {
			return headerErr("Content-Length", "not a valid length")
		}
		m.contentLength = int32(n)
	}
	return nil
}

// finishBody sets the body and the wire span once the headers end at
// s[i]. For a stream message s ends exactly at the end of the body.
func (m *message) finishBody(s string, i int, stream bool) error {
	rest := len(s) - i
	n := int(m.contentLength)
	switch {
	case n < 0 && stream:
		return perr(ErrNoContentLength, "Content-Length", "missing on a stream transport")
	case n < 0:
		n = rest
	case n > rest:
		// RFC 4475 clerr: over UDP the body must be complete.
		m.body, m.wireN = span{uint32(i), uint32(rest)}, uint32(len(s))
		return perr(ErrContentLength, "Content-Length", "larger than the body")
	}
	m.body, m.wireN = span{uint32(i), uint32(n)}, uint32(i+n)
	return nil
}

// checkRequest applies the rules every request must meet (RFC 3261
// §8.1.1, §8.2.2): the mandatory headers and a CSeq method equal to the
// request method. Max-Forwards is not required, to accept RFC 2543
// requests (RFC 4475 inv2543).
func (r *Request) checkRequest(seen uint64) error {
	if err := checkMandatory(seen); err != nil {
		return err
	}
	if r.str(r.cseqMethod) != r.Method() {
		return perr(ErrMethodMismatch, "CSeq", "method does not match the request method")
	}
	return nil
}

// checkMandatory reports the first mandatory header missing from seen,
// the kinds Parse found.
func checkMandatory(seen uint64) error {
	const mandatory = 1<<KindVia | 1<<KindFrom | 1<<KindTo | 1<<KindCallID | 1<<KindCSeq
	if seen&mandatory == mandatory {
		return nil
	}
	for _, k := range [...]HeaderKind{KindVia, KindFrom, KindTo, KindCallID, KindCSeq} {
		if seen&(1<<k) == 0 {
			return perr(ErrMissingHeader, canonicalNames[k], "missing")
		}
	}
	return nil
}
