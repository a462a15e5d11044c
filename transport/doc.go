// Package transport carries SIP messages over UDP, TCP, TLS, WS and WSS
// (RFC 3261 §18, RFC 7118) and finds where to send them (RFC 3263).
//
// A Layer owns the listening sockets and the stream connections. Every
// message it reads is parsed in the goroutine that read it and handed to
// the Handler with its Source; a request first gets received and rport in
// its top Via (RFC 3261 §18.2.1, RFC 3581). SendRequest sends to a Target,
// writing the transport and sent-by of the socket it leaves on into the
// top Via, and moves a request over 1300 bytes from UDP to TCP
// (§18.1.1). SendResponse sends back over the request's connection, or
// where the top Via says (§18.2.2, RFC 3581 §4).
//
// UDP sockets have several reader goroutines each; streams have one per
// connection. Connections are kept in a table by transport and remote
// address and reused for requests and responses to the same peer, close
// after an idle time, answer CRLF keep-alive pings (RFC 5626 §3.5.1), and
// are limited in number in total and per source address.
//
// A Resolver turns a SIP URI into an ordered list of Targets through
// NAPTR, SRV and A/AAAA records (RFC 3263 §4), so a caller can fail over
// from one to the next, and caches every answer for its TTL.
package transport
