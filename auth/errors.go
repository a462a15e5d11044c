package auth

import "errors"

// Sentinel errors. Errors from this package wrap one of them with the
// realm or the value at fault, so callers test with errors.Is.
var (
	// ErrNotChallenge is returned by Authorize for a response that is not
	// a 401 or 407 with a WWW-Authenticate or Proxy-Authenticate header.
	ErrNotChallenge = errors.New("auth: response is not a digest challenge")
	// ErrUnsupported is returned when no challenge offers an algorithm
	// and qop this package implements, when a digest names an unknown
	// algorithm or qop, and for requests that cannot be challenged
	// (ACK and CANCEL, RFC 3261 §22.1).
	ErrUnsupported = errors.New("auth: unsupported digest challenge")
	// ErrNoCredentials is returned when no Account matches the realm of
	// any challenge.
	ErrNoCredentials = errors.New("auth: no credentials for the realm")
	// ErrRejected is returned when the server challenges again, without
	// stale=true, with the nonce the request already answered: the
	// username or password is wrong, and retrying would loop
	// (RFC 7616 §3.3, RFC 3261 §22.2).
	ErrRejected = errors.New("auth: credentials rejected")
	// ErrInvalid is returned for digest inputs that cannot form a
	// response: qop without cnonce or nonce-count, a -sess algorithm
	// without cnonce, a challenge without realm or nonce, a control
	// character in a value to be sent, a CSeq that cannot be incremented.
	ErrInvalid = errors.New("auth: invalid digest parameters")
)
