package transaction

import "errors"

var (
	// ErrTimeout is given to the TU when Timer B or F fires: no final
	// response came (RFC 3261 §17.1.1.2, §17.1.2.2); the TU treats it as
	// a 408 (§8.1.3.1).
	ErrTimeout = errors.New("transaction: timed out")
	// ErrTransport wraps a send failure: the TU treats it as a 503
	// (§8.1.3.1).
	ErrTransport = errors.New("transaction: transport error")
	// ErrNoACK is given to the TU when Timer H fires on an INVITE server
	// transaction: the final response was never acknowledged (§17.2.1).
	ErrNoACK = errors.New("transaction: no ACK for the final response")
	// ErrTerminated is returned when responding on a transaction that has
	// ended.
	ErrTerminated = errors.New("transaction: terminated")
	// ErrBadResponse is returned for a response the transaction cannot
	// send in its state (e.g. a provisional after a final).
	ErrBadResponse = errors.New("transaction: response not allowed in this state")
	// ErrNoBranch is returned when a request to send has no top Via with
	// an RFC 3261 branch (§8.1.1.7).
	ErrNoBranch = errors.New("transaction: request has no Via branch with the magic cookie")
)
