package transport

import (
	"net/netip"
	"strings"
)

// Transport names as they appear in a Via header's sent-protocol
// (RFC 3261 §20.42, RFC 7118 §5.1).
const (
	UDP = "UDP"
	TCP = "TCP"
	TLS = "TLS"
	WS  = "WS"
	WSS = "WSS"
)

// Target is one place to send a message: a transport and an address.
type Target struct {
	Transport string // UDP, TCP, TLS, WS or WSS
	Addr      netip.AddrPort
	// Host is the name the target was resolved from ("" for a numeric
	// host): TLS and WSS verify the server's certificate against it.
	Host string
}

func (t Target) String() string { return t.Transport + ":" + t.Addr.String() }

// Reliable reports whether the transport is a stream, where SIP does not
// retransmit (RFC 3261 §17).
func Reliable(transport string) bool {
	return !strings.EqualFold(transport, UDP)
}

// Secure reports whether the transport is TLS or WSS.
func Secure(transport string) bool {
	return strings.EqualFold(transport, TLS) || strings.EqualFold(transport, WSS)
}

// DefaultPort is the port a transport uses when a URI or Via names none
// (RFC 3261 §19.1.2, RFC 7118 §5: WS and WSS have no SIP default; the
// HTTP ones are used).
func DefaultPort(transport string) uint16 {
	switch strings.ToUpper(transport) {
	case TLS:
		return 5061
	case WS:
		return 80
	case WSS:
		return 443
	}
	return 5060
}

// canonical returns the upper-case name of a known transport, or "".
func canonical(transport string) string {
	for _, t := range [...]string{UDP, TCP, TLS, WS, WSS} {
		if strings.EqualFold(transport, t) {
			return t
		}
	}
	return ""
}
