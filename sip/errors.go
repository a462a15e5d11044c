package sip

import "errors"

// Sentinel errors. A *ParseError wraps one of them, so callers can test
// with errors.Is and still get a message naming the header and problem.
var (
	ErrBadStartLine        = errors.New("sip: malformed start line")
	ErrBadHeader           = errors.New("sip: malformed header")
	ErrBadURI              = errors.New("sip: malformed URI")
	ErrMissingHeader       = errors.New("sip: missing mandatory header")
	ErrDuplicateHeader     = errors.New("sip: header may appear only once")
	ErrMethodMismatch      = errors.New("sip: CSeq method differs from request method")
	ErrContentLength       = errors.New("sip: Content-Length does not match the body")
	ErrNoContentLength     = errors.New("sip: stream message without Content-Length")
	ErrUnsupportedVersion  = errors.New("sip: unsupported SIP version")
	ErrMessageTooLarge     = errors.New("sip: message too large")
	ErrTooManyHeaders      = errors.New("sip: too many headers")
	ErrLineTooLong         = errors.New("sip: line too long")
	ErrBadStatusCode       = errors.New("sip: status code out of range")
	ErrIncomplete          = errors.New("sip: incomplete message")
	ErrNoSuchHeader        = errors.New("sip: no such header")
	ErrInvalidHeaderEdit   = errors.New("sip: invalid header edit")
	ErrMaxForwardsExceeded = errors.New("sip: Max-Forwards is zero")
)

// ParseError describes why a message or header could not be parsed. Its
// Reason is short enough to be the reason phrase of a 400 response
// ("Bad Via header: empty parameter name").
type ParseError struct {
	Err     error  // one of the sentinels above
	Header  string // canonical header name, empty for the start line or framing
	Problem string // what is wrong, in a few words
}

func (e *ParseError) Error() string {
	return "sip: " + e.Reason()
}

// Reason returns a reason phrase suitable for a 400 response.
func (e *ParseError) Reason() string {
	switch {
	case e.Err == ErrMissingHeader && e.Header != "":
		return "Missing " + e.Header + " header"
	case e.Err == ErrDuplicateHeader && e.Header != "":
		return "Duplicate " + e.Header + " header"
	case e.Header != "" && e.Problem != "":
		return "Bad " + e.Header + " header: " + e.Problem
	case e.Header != "":
		return "Bad " + e.Header + " header"
	case e.Problem != "":
		return capitalize(e.Problem)
	}
	return "Bad request"
}

func (e *ParseError) Unwrap() error { return e.Err }

// StatusCode is the response a server should send to a request that
// failed with this error: 505 for an unknown SIP version, else 400.
func (e *ParseError) StatusCode() int {
	if e.Err == ErrUnsupportedVersion {
		return 505
	}
	if e.Err == ErrMessageTooLarge {
		return 513
	}
	return 400
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func headerErr(header, problem string) error {
	return &ParseError{Err: ErrBadHeader, Header: header, Problem: problem}
}

func perr(err error, header, problem string) error {
	return &ParseError{Err: err, Header: header, Problem: problem}
}
