package sip

import (
	"iter"
	"strconv"
)

// Message is a parsed or built SIP request or response. Messages are not
// safe for concurrent modification; reading from several goroutines is
// safe once nothing modifies the message.
type Message interface {
	// StartLine returns the request or status line without its line end.
	StartLine() string
	// Headers returns the headers in wire order. The slice is the
	// message's own: do not modify it, use the editing methods.
	Headers() []Header
	// Get returns the first value of the named header (any case, long or
	// compact name), unfolded.
	Get(name string) (string, bool)
	// Values iterates over every value of the named header, in order:
	// repeated headers one by one, each unfolded (comma lists are not split).
	Values(name string) iter.Seq[string]
	Body() []byte
	Vias() []Via
	From() NameAddr
	To() NameAddr
	CallID() string
	CSeq() CSeq
	AppendTo(b []byte) []byte
	String() string

	base() *message
}

// message holds what requests and responses share. The eagerly parsed
// views (Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Length,
// Contact) are filled by Parse and kept in step by the editing methods;
// arrays inline in the struct keep the common case to one allocation.
type message struct {
	buf    []byte // the receive buffer, owned by the message (nil if built)
	wire   string // the message bytes as received, start line to body end
	start  string // start line as received, without line end
	hdrs   []Header
	body   []byte
	edited bool // headers, start line or body changed since parsing

	callID        string
	cseq          CSeq
	maxForwards   int // -1 when absent
	contentLength int // -1 when absent
	vias          []Via
	from, to      NameAddr
	contacts      []NameAddr

	hdrArr     [16]Header
	viaArr     [2]Via
	contactArr [1]NameAddr
}

func (m *message) base() *message { return m }

// Headers returns the headers in wire order.
func (m *message) Headers() []Header { return m.hdrs }

// Body returns the body (nil if none).
func (m *message) Body() []byte { return m.body }

// Vias returns every Via value, top first. Do not modify the slice.
func (m *message) Vias() []Via { return m.vias }

// TopVia returns the first Via value; ok is false if there is none.
func (m *message) TopVia() (v Via, ok bool) {
	if len(m.vias) == 0 {
		return Via{}, false
	}
	return m.vias[0], true
}

// From returns the From header.
func (m *message) From() NameAddr { return m.from }

// To returns the To header.
func (m *message) To() NameAddr { return m.to }

// CallID returns the Call-ID.
func (m *message) CallID() string { return m.callID }

// CSeq returns the CSeq header.
func (m *message) CSeq() CSeq { return m.cseq }

// MaxForwards returns the Max-Forwards value; ok is false when absent.
func (m *message) MaxForwards() (n int, ok bool) { return m.maxForwards, m.maxForwards >= 0 }

// ContentLength returns the Content-Length value, or -1 when absent.
func (m *message) ContentLength() int { return m.contentLength }

// Contacts returns the Contact values in order. Do not modify the slice.
func (m *message) Contacts() []NameAddr { return m.contacts }

// Header returns the first header with the given name, including its
// raw value.
func (m *message) Header(name string) (Header, bool) {
	k := LookupKind(name)
	for i := range m.hdrs {
		if m.hdrs[i].nameMatches(name, k) {
			return m.hdrs[i], true
		}
	}
	return Header{}, false
}

// Get returns the first value of the named header, unfolded.
func (m *message) Get(name string) (string, bool) {
	h, ok := m.Header(name)
	return unfold(h.Value), ok
}

// Has reports whether the message has the named header.
func (m *message) Has(name string) bool {
	_, ok := m.Header(name)
	return ok
}

// Values iterates over the values of every header with the given name.
func (m *message) Values(name string) iter.Seq[string] {
	k := LookupKind(name)
	return func(yield func(string) bool) {
		for i := range m.hdrs {
			if m.hdrs[i].nameMatches(name, k) && !yield(unfold(m.hdrs[i].Value)) {
				return
			}
		}
	}
}

// kindValues iterates over the raw values of every header of one kind.
func (m *message) kindValues(k HeaderKind) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := range m.hdrs {
			if m.hdrs[i].Kind == k && !yield(m.hdrs[i].Value) {
				return
			}
		}
	}
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
	h, ok := m.Header("Expires")
	if !ok {
		return 0, ErrNoSuchHeader
	}
	n, ok := parseDeltaSeconds(trimWS(h.Value))
	if !ok {
		return 0, headerErr("Expires", "not a number of seconds")
	}
	return n, nil
}

// ContentType returns the media type of the body without parameters,
// and the parameters (RFC 3261 §20.15).
func (m *message) ContentType() (mediaType string, params Params, err error) {
	h, ok := m.Header("Content-Type")
	if !ok {
		return "", "", ErrNoSuchHeader
	}
	v := h.Value
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
		if !m.hdrs[i].nameMatches(name, k) {
			continue
		}
		v := m.hdrs[i].Value
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

// Request is a SIP request.
type Request struct {
	message
	method string
	uri    URI
	proto  string
}

// Method returns the request method as written ("INVITE").
func (r *Request) Method() string { return r.method }

// RequestURI returns the Request-URI.
func (r *Request) RequestURI() URI { return r.uri }

// StartLine returns the Request-Line without its line end.
func (r *Request) StartLine() string {
	if r.start != "" && !r.edited {
		return r.start
	}
	return string(r.appendStartLine(nil))
}

func (r *Request) appendStartLine(b []byte) []byte {
	b = append(b, r.method...)
	b = append(b, ' ')
	b = r.uri.AppendTo(b)
	return append(b, " SIP/2.0"...)
}

// String returns the message as it goes on the wire.
func (r *Request) String() string { return string(r.AppendTo(nil)) }

// AppendTo appends the wire form of the request.
func (r *Request) AppendTo(b []byte) []byte { return r.appendMessage(b, r.appendStartLine) }

// IsInvite reports whether the request is an INVITE.
func (r *Request) IsInvite() bool { return r.method == INVITE }

// Response is a SIP response.
type Response struct {
	message
	code   int
	reason string
}

// StatusCode returns the status code.
func (r *Response) StatusCode() int { return r.code }

// Reason returns the reason phrase as written.
func (r *Response) Reason() string { return r.reason }

// StartLine returns the Status-Line without its line end.
func (r *Response) StartLine() string {
	if r.start != "" && !r.edited {
		return r.start
	}
	return string(r.appendStartLine(nil))
}

func (r *Response) appendStartLine(b []byte) []byte {
	b = append(b, "SIP/2.0 "...)
	b = strconv.AppendInt(b, int64(r.code), 10)
	b = append(b, ' ')
	return append(b, r.reason...)
}

// String returns the message as it goes on the wire.
func (r *Response) String() string { return string(r.AppendTo(nil)) }

// AppendTo appends the wire form of the response.
func (r *Response) AppendTo(b []byte) []byte { return r.appendMessage(b, r.appendStartLine) }

// IsProvisional reports a 1xx response.
func (r *Response) IsProvisional() bool { return r.code < 200 }

// IsSuccess reports a 2xx response.
func (r *Response) IsSuccess() bool { return r.code >= 200 && r.code < 300 }

// appendMessage writes the message: untouched messages verbatim,
// edited ones line by line, copying the raw bytes of every header the
// edit did not touch.
func (m *message) appendMessage(b []byte, startLine func([]byte) []byte) []byte {
	if !m.edited && m.wire != "" {
		return append(b, m.wire...)
	}
	b = startLine(b)
	b = append(b, '\r', '\n')
	for i := range m.hdrs {
		h := &m.hdrs[i]
		if h.raw != "" {
			b = append(b, h.raw...)
			continue
		}
		b = append(b, h.Name...)
		b = append(b, ':', ' ')
		b = append(b, h.Value...)
		b = append(b, '\r', '\n')
	}
	b = append(b, '\r', '\n')
	return append(b, m.body...)
}
