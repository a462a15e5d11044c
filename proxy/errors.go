package proxy

import (
	"fmt"

	"github.com/sipkit/sipkit/sip"
)

// StatusError is a router's refusal: the proxy answers the request with
// Code and Reason (the standard phrase when empty).
type StatusError struct {
	Code   int
	Reason string
}

// Reject returns a *StatusError for a router to return.
func Reject(code int, reason string) error { return &StatusError{Code: code, Reason: reason} }

func (e *StatusError) Error() string {
	r := e.Reason
	if r == "" {
		r = sip.ReasonPhrase(e.Code)
	}
	return fmt.Sprintf("proxy: %d %s", e.Code, r)
}
