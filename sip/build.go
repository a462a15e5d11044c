package sip

// NewRequest returns a request with the given method and Request-URI and
// no headers; add them with the editing methods.
func NewRequest(method string, uri URI) *Request {
	r := &Request{}
	r.initBuilt()
	r.method, r.uri = r.addText(method), r.addText(uri.String())
	return r
}

func (m *message) initBuilt() {
	m.hdrs = m.hdrArr[:0]
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
	r := &Response{code: code}
	r.initBuilt()
	r.buf = req.buf
	r.ext = req.ext[:len(req.ext):len(req.ext)]
	r.reason = r.addText(reason)
	for i := range req.hdrs {
		switch req.hdrs[i].kind {
		case KindVia, KindFrom, KindTo, KindCallID, KindCSeq:
		case KindTimestamp:
			if code != 100 {
				continue
			}
		default:
			continue
		}
		r.hdrs = append(r.hdrs, req.hdrs[i])
	}
	r.hdrs = append(r.hdrs, r.newHdr("Content-Length", "0"))
	r.callID, r.cseq, r.cseqMethod = req.callID, req.cseq, req.cseqMethod
	r.fromTag, r.toTag, r.branch, r.nvia = req.fromTag, req.toTag, req.branch, req.nvia
	r.contentLength = 0
	return r
}
