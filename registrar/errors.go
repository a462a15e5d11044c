package registrar

import "errors"

// ErrConfig is wrapped by the errors of New for an invalid Config.
var ErrConfig = errors.New("registrar: invalid config")

// Failures of a binding update (RFC 3261 §10.3 steps 6 and 7), turned
// into responses by Register.
var (
	errOutOfOrder = errors.New("registrar: CSeq not above the binding's")
	errTooMany    = errors.New("registrar: too many contacts")
)
