// Package transport carries SIP messages over UDP, TCP, TLS, WS and WSS
// (RFC 3261 §18, RFC 7118), fills received and rport on requests it
// receives (RFC 3581), sends responses where RFC 3261 §18.2.2 says, and
// resolves request targets per RFC 3263.
package transport
