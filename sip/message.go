package sip

import (
	"iter"
	"strconv"
	"unsafe"
)

// Message is a parsed or built SIP request or response. Messages are not
// safe for concurrent modification; reading from several goroutines is
// safe once nothing modifies the message.
type Message interface {
	// StartLine returns the request or status line without its line end.
	StartLine() string
	// NumHeaders and HeaderAt give the headers in wire order; All
	// iterates over them.
	NumHeaders() int
	HeaderAt(i int) Header
	All() iter.Seq[Header]
	// Get returns the first value of the named header (any case, long or
	// compact name), unfolded.
	Get(name string) (string, bool)
	// Values iterates over every value of the named header, in order:
	// repeated headers one by one, each unfolded (comma lists are not split).
	Values(name string) iter.Seq[string]
	Body() []byte
	TopVia() (Via, bool)
	Vias() []Via
	From() NameAddr
	To() NameAddr
	FromTag() string
	ToTag() string
	CallID() string
	CSeq() CSeq
	AppendTo(b []byte) []byte
	String() string

	base() *message
}

// hdr locates one header line. Offsets are into the receive buffer, or
// into the message's edit buffer when extBit is set, so the header table
// holds no pointers and stays small.
type hdr struct {
	off    uint32 // start of the line
	nameN  uint8  // names are at most 255 bytes (maxNameLen)
	kind   HeaderKind
	valOff uint16 // value start, relative to off
	valN   uint16
	rawN   uint16 // whole line with its terminator (and folded lines)
}

// maxNameLen bounds header names; 12-byte slots keep a message with 16
// headers inside one 384-byte allocation.
const maxNameLen = 255

const extBit = 1 << 31

// message holds what requests and responses share. Parse checks the
// headers every layer needs and keeps the few values the transaction
// layer reads on every message (branch, tags, Call-ID, CSeq); the full
// typed views are parsed again from the validated text on access, which
// costs no allocation. Keeping the struct small matters more than
// caching: allocation size is what the garbage collector charges for.
type message struct {
	buf     []byte // the receive buffer, owned by the message (nil if built)
	ext     []byte // text added by edits; append-only, so strings into it stay valid
	hdrs    []hdr
	extBody []byte // the body set by SetBody
	bodySet bool

	// Positions, not strings: storing a string into the message costs a
	// write barrier while the garbage collector runs, and Parse would do
	// it a dozen times per message.
	startN, wireN      uint32 // start line, and the whole message, from buf[0]
	body               span
	callID, cseqMethod span
	fromTag, toTag     span
	branch             span // top Via branch
	cseq               uint32
	contentLength      int32 // -1 when absent
	maxForwards        int16 // -1 when absent
	nvia, ncontact     uint16
	edited             bool // anything changed since parsing

	hdrArr [16]hdr
}

// span locates text in the receive buffer, or in the edit buffer when
// off has extBit set.
type span struct{ off, n uint32 }

// str returns the text of a span.
func (m *message) str(sp span) string { return m.text(sp.off, int(sp.n)) }

// reserveExt makes room for need more bytes in the edit buffer: one
// allocation for the typical run of edits (a Via, a Record-Route,
// Max-Forwards) instead of one per append. Text already there keeps its
// place, and strings into the old array stay valid.
func (m *message) reserveExt(need int) {
	if cap(m.ext)-len(m.ext) < need {
		ext := make([]byte, len(m.ext), max(2*cap(m.ext), len(m.ext)+need, 512))
		copy(ext, m.ext)
		m.ext = ext
	}
}

// addText appends s to the edit buffer and returns its span.
func (m *message) addText(s string) span {
	m.reserveExt(len(s))
	off := len(m.ext)
	m.ext = append(m.ext, s...)
	return span{uint32(off) | extBit, uint32(len(s))}
}

func (m *message) base() *message { return m }

// text returns the string at off (buffer or edit buffer) of length n.
func (m *message) text(off uint32, n int) string {
	if n == 0 {
		return ""
	}
	if off&extBit != 0 {
		return unsafe.String(&m.ext[off&^extBit], n)
	}
	return unsafe.String(&m.buf[off], n)
}

func (m *message) hName(h *hdr) string  { return m.text(h.off, int(h.nameN)) }
func (m *message) hValue(h *hdr) string { return m.text(h.off+uint32(h.valOff), int(h.valN)) }
func (m *message) hRaw(h *hdr) string   { return m.text(h.off, int(h.rawN)) }

// Header is one header of a message. Name and Value alias the message.
// Value is trimmed and may still contain folded line breaks (CRLF
// followed by whitespace), which the typed parsers treat as whitespace;
// Get and Values return it unfolded.
type Header struct {
	Name  string // as written, possibly compact ("v")
	Value string
	Kind  HeaderKind
}

// NumHeaders returns the number of header lines.
func (m *message) NumHeaders() int { return len(m.hdrs) }

// HeaderAt returns the i-th header line.
func (m *message) HeaderAt(i int) Header {
	h := &m.hdrs[i]
	return Header{Name: m.hName(h), Value: m.hValue(h), Kind: h.kind}
}

// All iterates over the headers in wire order.
func (m *message) All() iter.Seq[Header] {
	return func(yield func(Header) bool) {
		for i := range m.hdrs {
			if !yield(m.HeaderAt(i)) {
				return
			}
		}
	}
}

func (m *message) matches(h *hdr, name string, k HeaderKind) bool {
	if k != KindOther {
		return h.kind == k
	}
	return h.kind == KindOther && equalFold(m.hName(h), name)
}

// index returns the index of the first header called name, or -1.
func (m *message) index(name string) int {
	k := LookupKind(name)
	for i := range m.hdrs {
		if m.matches(&m.hdrs[i], name, k) {
			return i
		}
	}
	return -1
}

// Get returns the first value of the named header, unfolded.
func (m *message) Get(name string) (string, bool) {
	i := m.index(name)
	if i < 0 {
		return "", false
	}
	return unfold(m.hValue(&m.hdrs[i])), true
}

// Has reports whether the message has the named header.
func (m *message) Has(name string) bool { return m.index(name) >= 0 }

// Values iterates over the values of every header with the given name.
func (m *message) Values(name string) iter.Seq[string] {
	k := LookupKind(name)
	return func(yield func(string) bool) {
		for i := range m.hdrs {
			if m.matches(&m.hdrs[i], name, k) && !yield(unfold(m.hValue(&m.hdrs[i]))) {
				return
			}
		}
	}
}

// kindValues iterates over the raw values of every header of one kind.
func (m *message) kindValues(k HeaderKind) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := range m.hdrs {
			if m.hdrs[i].kind == k && !yield(m.hValue(&m.hdrs[i])) {
				return
			}
		}
	}
}

func (m *message) firstValue(k HeaderKind) (string, bool) {
	for i := range m.hdrs {
		if m.hdrs[i].kind == k {
			return m.hValue(&m.hdrs[i]), true
		}
	}
	return "", false
}

// Body returns the body (nil if none).
func (m *message) Body() []byte {
	if m.bodySet {
		return m.extBody
	}
	if m.body.n == 0 {
		return nil
	}
	return m.buf[m.body.off : m.body.off+m.body.n : m.body.off+m.body.n]
}

// TopVia returns the first Via value; ok is false if there is none.
func (m *message) TopVia() (Via, bool) {
	v, ok := m.firstValue(KindVia)
	if !ok {
		return Via{}, false
	}
	via, _, _ := parseVia(v, 0)
	return via, true
}

// Branch returns the branch parameter of the top Via.
func (m *message) Branch() string { return m.str(m.branch) }

// ViaCount returns the number of Via values.
func (m *message) ViaCount() int { return int(m.nvia) }

// Vias returns every Via value, top first.
func (m *message) Vias() []Via {
	out := make([]Via, 0, m.nvia)
	for v := range m.kindValues(KindVia) {
		for i := 0; ; {
			via, next, _ := parseVia(v, i)
			out = append(out, via)
			if next >= len(v) {
				break
			}
			i = next + 1
		}
	}
	return out
}

func (m *message) nameAddr(k HeaderKind) NameAddr {
	v, _ := m.firstValue(k)
	n, _, _ := parseNameAddr(v, 0, false)
	return n
}

// From returns the From header.
func (m *message) From() NameAddr { return m.nameAddr(KindFrom) }

// To returns the To header.
func (m *message) To() NameAddr { return m.nameAddr(KindTo) }

// FromTag returns the From tag ("" if none).
func (m *message) FromTag() string { return m.str(m.fromTag) }

// ToTag returns the To tag ("" if none).
func (m *message) ToTag() string { return m.str(m.toTag) }

// CallID returns the Call-ID.
func (m *message) CallID() string { return m.str(m.callID) }

// CSeq returns the CSeq header.
func (m *message) CSeq() CSeq { return CSeq{Seq: m.cseq, Method: m.str(m.cseqMethod)} }

// MaxForwards returns the Max-Forwards value; ok is false when absent.
func (m *message) MaxForwards() (n int, ok bool) { return int(m.maxForwards), m.maxForwards >= 0 }

// ContentLength returns the Content-Length value, or -1 when absent.
func (m *message) ContentLength() int { return int(m.contentLength) }

// Contacts returns the Contact values in order.
func (m *message) Contacts() []NameAddr {
	if m.ncontact == 0 {
		return nil
	}
	out, _ := m.nameAddrs(KindContact)
	return out
}

// nameAddrs parses every value of every header of kind k.
func (m *message) nameAddrs(k HeaderKind) ([]NameAddr, error) {
	var out []NameAddr
	for v := range m.kindValues(k) {
		var prob string
		if out, prob = parseNameAddrList(v, out); prob != "" {
			return nil, headerErr(canonicalNames[k], prob)
		}
	}
	return out, nil
}

// Routes parses the Route headers (RFC 3261 §20.34), in order.
func (m *message) Routes() ([]NameAddr, error) { return m.nameAddrs(KindRoute) }

// RecordRoutes parses the Record-Route headers (RFC 3261 §20.30).
func (m *message) RecordRoutes() ([]NameAddr, error) { return m.nameAddrs(KindRecordRoute) }

// Paths parses the Path headers (RFC 3327).
func (m *message) Paths() ([]NameAddr, error) { return m.nameAddrs(KindPath) }

// Expires returns the Expires header in seconds (RFC 3261 §20.19);
// values above 2**32-1 are clamped to it. The error is ErrNoSuchHeader
// when the header is absent.
func (m *message) Expires() (uint32, error) {
	v, ok := m.firstValue(KindExpires)
	if !ok {
		return 0, ErrNoSuchHeader
	}
	n, ok := parseDeltaSeconds(trimWS(v))
	if !ok {
		return 0, headerErr("Expires", "not a number of seconds")
	}
	return n, nil
}

// ContentType returns the media type of the body without parameters,
// and the parameters (RFC 3261 §20.15).
func (m *message) ContentType() (mediaType string, params Params, err error) {
	v, ok := m.firstValue(KindContentType)
	if !ok {
		return "", "", ErrNoSuchHeader
	}
	i := scanToken(v, 0)
	j := skipWS(v, i)
	if i == 0 || j >= len(v) || v[j] != '/' {
		return "", "", headerErr("Content-Type", "malformed media type")
	}
	j = skipWS(v, j+1)
	k := scanToken(v, j)
	if k == j {
		return "", "", headerErr("Content-Type", "malformed media subtype")
	}
	end, prob := scanParams(v, k)
	if prob != "" || end != len(v) {
		return "", "", headerErr("Content-Type", "malformed parameters")
	}
	if j == i+1 {
		mediaType = v[:k]
	} else {
		mediaType = v[:i] + "/" + v[j:k]
	}
	return mediaType, Params(trimWS(v[k:])), nil
}

// Tokens returns the option tags or methods of a comma-separated token
// list header such as Require, Proxy-Require, Supported, Unsupported or
// Allow, across all its occurrences.
func (m *message) Tokens(name string) ([]string, error) {
	var out []string
	for v := range m.Values(name) {
		for {
			first, rest, more := splitComma(v)
			t := trimWS(first)
			if !isTokenString(t) {
				if t == "" && !more && len(out) == 0 {
					break // an empty header is an empty list
				}
				return nil, headerErr(CanonicalName(name), "malformed token list")
			}
			out = append(out, t)
			if !more {
				break
			}
			v = rest
		}
	}
	return out, nil
}

// HasToken reports whether a token list header (Supported, Require,
// Allow...) contains tag, case-insensitively, without allocating.
func (m *message) HasToken(name, tag string) bool {
	k := LookupKind(name)
	for i := range m.hdrs {
		if !m.matches(&m.hdrs[i], name, k) {
			continue
		}
		v := m.hValue(&m.hdrs[i])
		for {
			first, rest, more := splitComma(v)
			if equalFold(trimWS(first), tag) {
				return true
			}
			if !more {
				break
			}
			v = rest
		}
	}
	return false
}

// Reasons parses every Reason header (RFC 3326).
func (m *message) Reasons() ([]Reason, error) {
	var out []Reason
	for v := range m.kindValues(KindReason) {
		r, err := ParseReason(v)
		if err != nil {
			return nil, err
		}
		out = append(out, r...)
	}
	return out, nil
}

// WWWAuthenticate parses every WWW-Authenticate header (RFC 3261 §20.44),
// one challenge each.
func (m *message) WWWAuthenticate() ([]Challenge, error) { return m.challenges(KindWWWAuthenticate) }

// ProxyAuthenticate parses every Proxy-Authenticate header (§20.27).
func (m *message) ProxyAuthenticate() ([]Challenge, error) {
	return m.challenges(KindProxyAuthenticate)
}

// Authorization parses every Authorization header (§20.7).
func (m *message) Authorization() ([]Credentials, error) { return m.credentials(KindAuthorization) }

// ProxyAuthorization parses every Proxy-Authorization header (§20.28).
func (m *message) ProxyAuthorization() ([]Credentials, error) {
	return m.credentials(KindProxyAuthorization)
}

func (m *message) challenges(k HeaderKind) ([]Challenge, error) {
	return parseEach(m, k, ParseChallenge)
}

func (m *message) credentials(k HeaderKind) ([]Credentials, error) {
	return parseEach(m, k, ParseCredentials)
}

// parseEach parses every value of the headers of kind k.
func parseEach[T any](m *message, k HeaderKind, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for v := range m.kindValues(k) {
		x, err := parse(v)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// Request is a SIP request.
type Request struct {
	message
	method span
	uri    span // Request-URI as written (validated)
}

// Method returns the request method as written ("INVITE").
func (r *Request) Method() string { return r.str(r.method) }

// RequestURI returns the Request-URI.
func (r *Request) RequestURI() URI {
	u, _ := ParseURI(r.str(r.uri))
	return u
}

// StartLine returns the Request-Line without its line end.
func (r *Request) StartLine() string {
	if r.startN != 0 && !r.edited {
		return r.text(0, int(r.startN))
	}
	return string(r.appendStartLine(nil))
}

func (r *Request) appendStartLine(b []byte) []byte {
	b = append(b, r.Method()...)
	b = append(b, ' ')
	b = append(b, r.str(r.uri)...)
	return append(b, " SIP/2.0"...)
}

// String returns the message as it goes on the wire.
func (r *Request) String() string { return string(r.AppendTo(nil)) }

// AppendTo appends the wire form of the request.
func (r *Request) AppendTo(b []byte) []byte { return r.appendMessage(b, r.appendStartLine) }

// Response is a SIP response.
type Response struct {
	message
	code   int
	reason span
}

// StatusCode returns the status code.
func (r *Response) StatusCode() int { return r.code }

// Reason returns the reason phrase as written.
func (r *Response) Reason() string { return r.str(r.reason) }

// StartLine returns the Status-Line without its line end.
func (r *Response) StartLine() string {
	if r.startN != 0 && !r.edited {
		return r.text(0, int(r.startN))
	}
	return string(r.appendStartLine(nil))
}

func (r *Response) appendStartLine(b []byte) []byte {
	b = append(b, "SIP/2.0 "...)
	b = strconv.AppendInt(b, int64(r.code), 10)
	b = append(b, ' ')
	return append(b, r.Reason()...)
}

// String returns the message as it goes on the wire.
func (r *Response) String() string { return string(r.AppendTo(nil)) }

// AppendTo appends the wire form of the response.
func (r *Response) AppendTo(b []byte) []byte { return r.appendMessage(b, r.appendStartLine) }

// appendMessage writes the message: an untouched one verbatim, an edited
// one line by line, copying the raw bytes of every header line.
func (m *message) appendMessage(b []byte, startLine func([]byte) []byte) []byte {
	if !m.edited && m.wireN != 0 {
		return append(b, m.buf[:m.wireN]...)
	}
	b = startLine(b)
	b = append(b, '\r', '\n')
	for i := range m.hdrs {
		b = append(b, m.hRaw(&m.hdrs[i])...)
	}
	b = append(b, '\r', '\n')
	return append(b, m.Body()...)
}
