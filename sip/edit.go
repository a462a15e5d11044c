package sip

import (
	"slices"
	"strconv"
	"unsafe"
)

// Editing methods change a message in place for forwarding or answering.
// Headers they do not touch keep their exact bytes when the message is
// written. A message shared with another goroutine (a transaction keeps
// the request it received) must be cloned before it is edited.

// Clone returns a copy of the message whose headers can be edited without
// affecting m. The copy shares the (immutable) receive buffer and body.
func Clone[M Message](m M) M {
	var out Message
	switch v := any(m).(type) {
	case *Request:
		c := *v
		c.message.cloneFrom(&v.message)
		out = &c
	case *Response:
		c := *v
		c.message.cloneFrom(&v.message)
		out = &c
	}
	return out.(M)
}

func (m *message) cloneFrom(src *message) {
	m.hdrs = append(m.hdrArr[:0:len(m.hdrArr)], src.hdrs...)
	// Both copies may append to the edit buffer: cap it so the first
	// append of either reallocates instead of writing over the other's.
	m.ext = src.ext[:len(src.ext):len(src.ext)]
}

// newHdr stores "Name: value\r\n" in the edit buffer and returns its
// header entry. Known long names take their canonical spelling.
func (m *message) newHdr(name, value string) hdr {
	k := LookupKind(name)
	if k != KindOther && len(name) > 1 {
		name = canonicalNames[k]
	}
	m.reserveExt(len(name) + len(value) + 4)
	off := len(m.ext)
	m.ext = append(m.ext, name...)
	m.ext = append(m.ext, ':', ' ')
	m.ext = append(m.ext, value...)
	m.ext = append(m.ext, '\r', '\n')
	return hdr{
		off:    uint32(off) | extBit,
		nameN:  uint8(len(name)),
		valOff: uint16(len(name) + 2),
		valN:   uint16(len(value)),
		rawN:   uint16(len(m.ext) - off),
		kind:   k,
	}
}

// reindex re-derives the eager values of kind k after an edit. The
// values were checked before the edit, so it cannot fail.
func (m *message) reindex(k HeaderKind) {
	switch k {
	case KindVia:
		m.nvia, m.branch = 0, span{}
	case KindContact:
		m.ncontact = 0
	case KindFrom:
		m.fromTag = span{}
	case KindTo:
		m.toTag = span{}
	case KindCallID:
		m.callID = span{}
	case KindCSeq:
		m.cseq, m.cseqMethod = 0, span{}
	case KindMaxForwards:
		m.maxForwards = -1
	case KindContentLength:
		m.contentLength = -1
	default:
		return
	}
	var seen uint64
	for i := range m.hdrs {
		if h := &m.hdrs[i]; h.kind == k {
			_ = m.parseEager(k, m.hValue(h), h.off+uint32(h.valOff), &seen)
		}
	}
}

// checkValue validates a value about to be written into a header of
// kind k with the parser Parse uses, so edits cannot make a message that
// would not parse.
func checkValue(k HeaderKind, name, value string) error {
	if len(name) > maxNameLen || len(value) > 8192 {
		return &ParseError{Err: ErrInvalidHeaderEdit, Header: CanonicalName(name), Problem: "too long"}
	}
	// A line break would end the header and start another: no value of
	// any header may carry one (header injection).
	for i := 0; i < len(value); i++ {
		if value[i] == '\r' || value[i] == '\n' {
			return &ParseError{Err: ErrInvalidHeaderEdit, Header: CanonicalName(name), Problem: "line break in value"}
		}
	}
	if k == KindOther {
		if !isTokenString(name) {
			return &ParseError{Err: ErrInvalidHeaderEdit, Header: name, Problem: "name is not a token"}
		}
		return nil
	}
	var scratch message
	var seen uint64
	if err := scratch.parseEager(k, value, 0, &seen); err != nil {
		pe, _ := err.(*ParseError)
		return &ParseError{Err: ErrInvalidHeaderEdit, Header: canonicalNames[k], Problem: pe.Problem}
	}
	return nil
}

// PrependHeader adds a header before every other header of the same name
// (or at the top of the header section if there is none).
func (m *message) PrependHeader(name, value string) error {
	return m.insertHeader(name, value, false)
}

// AppendHeader adds a header after the last header of the same name (or
// at the end of the header section).
func (m *message) AppendHeader(name, value string) error {
	return m.insertHeader(name, value, true)
}

func (m *message) insertHeader(name, value string, after bool) error {
	k := LookupKind(name)
	if err := checkValue(k, name, value); err != nil {
		return err
	}
	at := -1
	for i := range m.hdrs {
		if m.matches(&m.hdrs[i], name, k) {
			if singleKinds&(1<<k) != 0 {
				return perr(ErrDuplicateHeader, canonicalNames[k], "already present")
			}
			at = i
			if !after {
				break
			}
		}
	}
	switch {
	case at >= 0 && after:
		at++
	case at < 0 && after:
		at = len(m.hdrs)
	case at < 0:
		at = 0
	}
	m.hdrs = slices.Insert(m.hdrs, at, m.newHdr(name, value))
	m.reindex(k)
	m.edited = true
	return nil
}

// SetHeader replaces every header of that name by one with the given
// value, in the place of the first, or appends it.
func (m *message) SetHeader(name, value string) error {
	k := LookupKind(name)
	if err := checkValue(k, name, value); err != nil {
		return err
	}
	h := m.newHdr(name, value)
	match := func(x hdr) bool { return m.matches(&x, name, k) }
	if at := slices.IndexFunc(m.hdrs, match); at < 0 {
		m.hdrs = append(m.hdrs, h)
	} else {
		m.hdrs[at] = h
		m.hdrs = append(m.hdrs[:at+1], slices.DeleteFunc(m.hdrs[at+1:], match)...)
	}
	m.reindex(k)
	m.edited = true
	return nil
}

// RemoveHeader removes every header of that name and reports how many
// there were.
func (m *message) RemoveHeader(name string) int {
	k := LookupKind(name)
	n := len(m.hdrs)
	m.hdrs = slices.DeleteFunc(m.hdrs, func(x hdr) bool { return m.matches(&x, name, k) })
	if removed := n - len(m.hdrs); removed > 0 {
		m.reindex(k)
		m.edited = true
		return removed
	}
	return 0
}

// removeFirstValue removes the first comma-separated value of the first
// header of kind k, dropping the header when it held only that value.
func (m *message) removeFirstValue(k HeaderKind) bool {
	for i := range m.hdrs {
		if m.hdrs[i].kind != k {
			continue
		}
		_, rest, more := splitComma(m.hValue(&m.hdrs[i]))
		if more {
			m.hdrs[i] = m.newHdr(m.hName(&m.hdrs[i]), trimWS(rest))
		} else {
			m.hdrs = slices.Delete(m.hdrs, i, i+1)
		}
		m.reindex(k)
		m.edited = true
		return true
	}
	return false
}

// PrependVia adds v as the new top Via (RFC 3261 §16.6 step 8).
func (m *message) PrependVia(v Via) error {
	var buf [128]byte
	return m.insertHeader("Via", tempString(v.AppendTo(buf[:0])), false)
}

// tempString views b as a string without copying. Only for values that
// insertHeader copies into the edit buffer and nothing keeps: it spares
// the proxy an allocation per header it adds.
func tempString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// RemoveTopVia removes the top Via value (a proxy forwarding a response,
// RFC 3261 §16.7 step 3) and returns it.
func (m *message) RemoveTopVia() (Via, bool) {
	top, ok := m.TopVia()
	if !ok {
		return Via{}, false
	}
	return top, m.removeFirstValue(KindVia)
}

// SetTopVia replaces the top Via value with v: the transport layer
// uses it to add received and rport (RFC 3261 §18.2.1, RFC 3581 §4) and
// to write the sent-by of the transport a request actually leaves on.
func (m *message) SetTopVia(v Via) error {
	if _, ok := m.RemoveTopVia(); !ok {
		return perr(ErrMissingHeader, "Via", "no Via to replace")
	}
	return m.PrependVia(v)
}

// DecrementMaxForwards lowers Max-Forwards by one, adding it with 70 - 1
// if absent (RFC 3261 §16.6 step 3). It fails with ErrMaxForwardsExceeded
// when the value is already zero.
func (m *message) DecrementMaxForwards() (int, error) {
	n := 70
	if m.maxForwards >= 0 {
		n = int(m.maxForwards)
	}
	if n == 0 {
		return 0, ErrMaxForwardsExceeded
	}
	n--
	return n, m.SetHeader("Max-Forwards", strconv.Itoa(n))
}

// PrependRoute adds a Route value on top (a loose-routing proxy or UA
// pushing a route, RFC 3261 §16.6 step 7).
func (m *message) PrependRoute(na NameAddr) error {
	var buf [128]byte
	return m.insertHeader("Route", tempString(na.AppendTo(buf[:0])), false)
}

// RemoveTopRoute removes the first Route value (RFC 3261 §16.4).
func (m *message) RemoveTopRoute() bool { return m.removeFirstValue(KindRoute) }

// PrependRecordRoute adds a Record-Route value on top (RFC 3261 §16.6
// step 4).
func (m *message) PrependRecordRoute(na NameAddr) error {
	var buf [128]byte
	return m.insertHeader("Record-Route", tempString(na.AppendTo(buf[:0])), false)
}

// SetToTag sets the To tag, replacing any tag there was (a UAS answering,
// RFC 3261 §8.2.6.2). The display name and URI are kept as written.
func (m *message) SetToTag(tag string) error {
	if !isTokenString(tag) {
		return &ParseError{Err: ErrInvalidHeaderEdit, Header: "To", Problem: "tag is not a token"}
	}
	i := slices.IndexFunc(m.hdrs, func(h hdr) bool { return h.kind == KindTo })
	if i < 0 {
		return perr(ErrMissingHeader, "To", "missing")
	}
	to := m.To()
	var params []byte
	to.Params.Each(func(n, v string) bool {
		if !equalFold(n, "tag") {
			params = appendParam(params, n, v)
		}
		return true
	})
	params = append(params, ";tag="...)
	params = append(params, tag...)
	to.Params = Params(params)
	b := to.AppendTo(nil)
	m.hdrs[i] = m.newHdr(m.hName(&m.hdrs[i]), string(b))
	m.reindex(KindTo)
	m.edited = true
	return nil
}

// AddReason appends a Reason header (RFC 3326).
func (m *message) AddReason(r Reason) error { return m.AppendHeader("Reason", r.String()) }

// SetBody replaces the body and sets Content-Length, and Content-Type
// when contentType is not empty.
func (m *message) SetBody(body []byte, contentType string) error {
	if contentType != "" {
		if err := m.SetHeader("Content-Type", contentType); err != nil {
			return err
		}
	}
	m.extBody, m.bodySet = body, true
	m.edited = true
	return m.SetHeader("Content-Length", strconv.Itoa(len(body)))
}

// SetRequestURI replaces the Request-URI (RFC 3261 §16.6 step 2).
func (r *Request) SetRequestURI(u URI) {
	r.uri = r.addText(u.String())
	r.edited = true
}

// SetMethod changes the method (used when deriving ACK or CANCEL from an
// INVITE).
func (r *Request) SetMethod(method string) {
	r.method = r.addText(method)
	r.edited = true
}

// SetStatus changes the status code and reason phrase; an empty reason
// takes the standard phrase.
func (r *Response) SetStatus(code int, reason string) {
	if reason == "" {
		reason = ReasonPhrase(code)
	}
	r.code, r.reason = code, r.addText(reason)
	r.edited = true
}
