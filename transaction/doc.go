// Package transaction implements the SIP transaction layer: the four
// state machines of RFC 3261 §17 (INVITE and non-INVITE, client and
// server) with the Accepted state and Timers L and M of RFC 6026,
// transaction matching (§17.1.3, §17.2.3, with the RFC 2543 fallback),
// and CANCEL handling at the server (§9.2).
//
// A Layer sits between the transport (any Sender, such as
// *transport.Layer or a siptest network) and a transaction user (a proxy
// core, a registrar, a user agent). Messages are processed to completion
// in the goroutine that received them; every transaction keeps one timer
// set to its earliest deadline; the user is called with no lock held.
//
// Timer values come from the Timers the Layer is configured with (T1,
// T2, T4; defaults 500 ms, 4 s, 5 s), never from package variables.
package transaction
