// Package auth is SIP digest authentication (RFC 3261 §22) with the
// algorithms of RFC 8760: MD5, SHA-256 and SHA-512-256, each also in its
// -sess form, with qop auth, auth-int, or none (the RFC 2069 form RFC
// 3261 keeps for compatibility).
//
// A Client answers the 401 and 407 responses a UAC receives: Authorize
// takes the request as sent and the challenge, and returns the request
// to send again, with Authorization or Proxy-Authorization headers and
// the next CSeq. The caller gives it a new Via branch and sends it as a
// new transaction:
//
//	c := &auth.Client{Accounts: []auth.Account{{Username: "alice", Password: "secret"}}}
//	retry, err := c.Authorize(sent, resp) // resp: the 401 or 407 to sent
//	if err != nil {
//		return err // errors.Is: ErrNoCredentials, ErrUnsupported, ErrRejected...
//	}
//	retry.SetTopVia(sip.Via{Transport: "UDP", Host: host, Branch: newBranch()})
//
// Digest computes a request-digest from its inputs, from a password or
// from a stored HA1; a server recomputes the response of received
// credentials with FromCredentials and compares.
//
// RFCs: 3261 §22 and §8.1.3.5, 2617 §3.2 (MD5, MD5-sess, qop), 7616
// §3.4 (SHA-256, SHA-512-256, nonce-count), 8760 (their use in SIP and
// the preference for the strongest algorithm).
package auth
