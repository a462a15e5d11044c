package sip

import (
	"slices"
	"strconv"
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
	m.vias = append(m.viaArr[:0:len(m.viaArr)], src.vias...)
	m.contacts = append(m.contactArr[:0:len(m.contactArr)], src.contacts...)
}

// reindex re-derives the eager view of kind k after an edit.
func (m *message) reindex(k HeaderKind) error {
	switch k {
	case KindVia:
		m.vias = m.vias[:0]
	case KindContact:
		m.contacts = m.contacts[:0]
	case KindFrom:
		m.from = NameAddr{}
	case KindTo:
		m.to = NameAddr{}
	case KindCallID:
		m.callID = ""
	case KindCSeq:
		m.cseq = CSeq{}
	case KindMaxForwards:
		m.maxForwards = -1
	case KindContentLength:
		m.contentLength = -1
	default:
		return nil
	}
	var seen uint64
	for i := range m.hdrs {
		if m.hdrs[i].Kind == k {
			if err := m.parseEager(k, m.hdrs[i].Value, &seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkValue validates a value about to be written into a header of
// kind k with the same parser Parse uses, so edits cannot make a
// message that would not parse.
func checkValue(k HeaderKind, value string) error {
	if k == KindOther || value == "" && k != KindCallID {
		return nil
	}
	var scratch message
	scratch.vias, scratch.contacts = scratch.viaArr[:0], scratch.contactArr[:0]
	var seen uint64
	if err := scratch.parseEager(k, value, &seen); err != nil {
		pe, _ := err.(*ParseError)
		return &ParseError{Err: ErrInvalidHeaderEdit, Header: canonicalNames[k], Problem: pe.Problem}
	}
	return nil
}

// singleValued reports the kinds a message may carry only once.
func singleValued(k HeaderKind) bool {
	switch k {
	case KindFrom, KindTo, KindCallID, KindCSeq, KindMaxForwards, KindContentLength:
		return true
	}
	return false
}

// edit applies fn to the header list and re-derives kind k.
func (m *message) edit(k HeaderKind, fn func()) {
	fn()
	// The values were checked before fn ran and single-valued kinds are
	// never added twice, so re-deriving cannot fail.
	_ = m.reindex(k)
	m.edited = true
}

func newHeader(name, value string) Header {
	k := LookupKind(name)
	if k != KindOther && len(name) > 1 {
		name = canonicalNames[k]
	}
	return Header{Name: name, Value: value, Kind: k}
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
	h := newHeader(name, value)
	if err := checkValue(h.Kind, value); err != nil {
		return err
	}
	at := -1
	for i := range m.hdrs {
		if m.hdrs[i].nameMatches(name, h.Kind) {
			if singleValued(h.Kind) {
				return perr(ErrDuplicateHeader, canonicalNames[h.Kind], "already present")
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
	m.edit(h.Kind, func() { m.hdrs = slices.Insert(m.hdrs, at, h) })
	return nil
}

// SetHeader replaces every header of that name by one with the given
// value, in the place of the first, or appends it.
func (m *message) SetHeader(name, value string) error {
	h := newHeader(name, value)
	if err := checkValue(h.Kind, value); err != nil {
		return err
	}
	match := func(x Header) bool { return x.nameMatches(name, h.Kind) }
	m.edit(h.Kind, func() {
		at := slices.IndexFunc(m.hdrs, match)
		if at < 0 {
			m.hdrs = append(m.hdrs, h)
			return
		}
		m.hdrs = slices.DeleteFunc(m.hdrs, match)
		m.hdrs = slices.Insert(m.hdrs, at, h)
	})
	return nil
}

// RemoveHeader removes every header of that name and reports how many
// there were.
func (m *message) RemoveHeader(name string) int {
	k := LookupKind(name)
	n := len(m.hdrs)
	m.edit(k, func() {
		m.hdrs = slices.DeleteFunc(m.hdrs, func(x Header) bool { return x.nameMatches(name, k) })
	})
	return n - len(m.hdrs)
}

// removeFirstValue removes the first comma-separated value of the first
// header of kind k, dropping the header when it held only that value.
func (m *message) removeFirstValue(k HeaderKind) bool {
	for i := range m.hdrs {
		if m.hdrs[i].Kind != k {
			continue
		}
		_, rest, more := splitComma(m.hdrs[i].Value)
		m.edit(k, func() {
			if more {
				m.hdrs[i] = Header{Name: m.hdrs[i].Name, Value: trimWS(rest), Kind: k}
			} else {
				m.hdrs = slices.Delete(m.hdrs, i, i+1)
			}
		})
		return true
	}
	return false
}

// PrependVia adds v as the new top Via (RFC 3261 §16.6 step 8).
func (m *message) PrependVia(v Via) error { return m.PrependHeader("Via", v.String()) }

// RemoveTopVia removes the top Via value (a proxy forwarding a response,
// RFC 3261 §16.7 step 3) and returns it.
func (m *message) RemoveTopVia() (Via, bool) {
	if len(m.vias) == 0 {
		return Via{}, false
	}
	top := m.vias[0]
	return top, m.removeFirstValue(KindVia)
}

// DecrementMaxForwards lowers Max-Forwards by one, adding it with 70 - 1
// if absent (RFC 3261 §16.6 step 3). It fails with ErrMaxForwardsExceeded
// when the value is already zero.
func (m *message) DecrementMaxForwards() (int, error) {
	n := 70
	if m.maxForwards >= 0 {
		n = m.maxForwards
	}
	if n == 0 {
		return 0, ErrMaxForwardsExceeded
	}
	n--
	return n, m.SetHeader("Max-Forwards", strconv.Itoa(n))
}

// PrependRoute adds a Route value on top (a loose-routing proxy or UA
// pushing a route, RFC 3261 §16.6 step 7).
func (m *message) PrependRoute(na NameAddr) error { return m.PrependHeader("Route", na.String()) }

// RemoveTopRoute removes the first Route value (RFC 3261 §16.4).
func (m *message) RemoveTopRoute() bool { return m.removeFirstValue(KindRoute) }

// PrependRecordRoute adds a Record-Route value on top (RFC 3261 §16.6
// step 4).
func (m *message) PrependRecordRoute(na NameAddr) error {
	return m.PrependHeader("Record-Route", na.String())
}

// SetToTag sets the To tag, replacing any tag there was (a UAS answering,
// RFC 3261 §8.2.6.2). The rest of the To header is kept as written.
func (m *message) SetToTag(tag string) error {
	if !isTokenString(tag) {
		return &ParseError{Err: ErrInvalidHeaderEdit, Header: "To", Problem: "tag is not a token"}
	}
	for i := range m.hdrs {
		if m.hdrs[i].Kind != KindTo {
			continue
		}
		to := m.to
		var b []byte
		if to.Bracket {
			if to.Display != "" {
				b = append(b, to.Display...)
				b = append(b, ' ')
			}
			b = append(b, '<')
			b = to.URI.AppendTo(b)
			b = append(b, '>')
		} else {
			b = to.URI.AppendTo(b)
		}
		to.Params.Each(func(n, v string) bool {
			if !equalFold(n, "tag") {
				b = append(b, ';')
				b = append(b, n...)
				if v != "" {
					b = append(b, '=')
					b = append(b, v...)
				}
			}
			return true
		})
		b = append(b, ";tag="...)
		b = append(b, tag...)
		m.edit(KindTo, func() {
			m.hdrs[i] = Header{Name: m.hdrs[i].Name, Value: string(b), Kind: KindTo}
		})
		return nil
	}
	return perr(ErrMissingHeader, "To", "missing")
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
	m.body = body
	m.edited = true
	return m.SetHeader("Content-Length", strconv.Itoa(len(body)))
}

// SetRequestURI replaces the Request-URI (RFC 3261 §16.6 step 2).
func (r *Request) SetRequestURI(u URI) {
	r.uri = u
	r.edited = true
}

// SetMethod changes the method (used when deriving ACK or CANCEL from an
// INVITE).
func (r *Request) SetMethod(method string) {
	r.method = method
	r.edited = true
}

// SetStatus changes the status code and reason phrase; an empty reason
// takes the standard phrase.
func (r *Response) SetStatus(code int, reason string) {
	if reason == "" {
		reason = ReasonPhrase(code)
	}
	r.code, r.reason = code, reason
	r.edited = true
}
