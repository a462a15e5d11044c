package sip

// NewRequest returns a request with the given method and Request-URI and
// no headers; add them with the editing methods.
func NewRequest(method string, uri URI) *Request {
	r := &Request{method: method, uri: uri}
	r.initBuilt()
	return r
}

func (m *message) initBuilt() {
	m.hdrs = m.hdrArr[:0]
	m.vias = m.viaArr[:0]
	m.contacts = m.contactArr[:0]
	m.maxForwards, m.contentLength = -1, -1
	m.edited = true
}

// NewResponse builds a response to req as RFC 3261 §8.2.6.2 says: the
// same Via headers in order, From, To, Call-ID and CSeq, copied byte for
// byte, Timestamp for a 100 (§8.2.6.1), and Content-Length 0. The To tag
// is not added: a UAS sets it with SetToTag. An empty reason takes the
// standard phrase.
//
// It also works on a request that failed to parse, so a 400 can be sent
// with whatever of those headers it has.
func NewResponse(req *Request, code int, reason string) *Response {
	if reason == "" {
		reason = ReasonPhrase(code)
	}
	r := &Response{code: code, reason: reason}
	r.initBuilt()
	for i := range req.hdrs {
		h := req.hdrs[i]
		switch h.Kind {
		case KindVia, KindFrom, KindTo, KindCallID, KindCSeq:
		case KindTimestamp:
			if code != 100 {
				continue
			}
		default:
			continue
		}
		r.hdrs = append(r.hdrs, h)
	}
	r.hdrs = append(r.hdrs, Header{Name: "Content-Length", Value: "0", Kind: KindContentLength})
	r.vias = append(r.vias, req.vias...)
	r.from, r.to, r.callID, r.cseq = req.from, req.to, req.callID, req.cseq
	r.contentLength = 0
	return r
}
