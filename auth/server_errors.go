package auth

import "errors"

// Errors of Server.Verify, besides ErrNoCredentials (no credentials for
// the server's realm: challenge).
var (
	// ErrStale is returned when the credentials answer a nonce this
	// server issued and has since retired (expired), with a correct
	// digest: the client knows the password and should be challenged
	// again with stale=true, so it retries without asking its user
	// (RFC 7616 §3.3, RFC 2617 §3.2.1).
	ErrStale = errors.New("auth: stale nonce")
	// ErrUnauthorized is returned for every other failure: unknown user,
	// wrong password, a nonce this server did not issue, a replayed
	// nonce-count, an algorithm or qop not offered, a digest-uri other
	// than the Request-URI. One error for all, so that a caller cannot
	// tell an unknown user from a wrong password and neither can the
	// client it answers.
	ErrUnauthorized = errors.New("auth: unauthorized")
)
