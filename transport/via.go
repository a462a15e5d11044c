package transport

import (
	"net/netip"
	"strconv"
	"strings"
	"unsafe"

	"github.com/sipkit/sipkit/sip"
)

// stampVia records where a request came from in its top Via (RFC 3261
// §18.2.1): received when the sent-by host is not the source address, and
// rport filled with the source port when the client asked for it, with
// received then added even when equal to the sent-by (RFC 3581 §4).
func stampVia(req *sip.Request, remote netip.AddrPort) error {
	v, ok := req.TopVia()
	if !ok {
		return nil // Parse rejects a request without Via
	}
	// A link-local source keeps its zone in the Source; a Via cannot
	// carry one (RFC 3261 IPv6address has no zone).
	ip := remote.Addr().Unmap().WithZone("")
	_, rport := v.RPort()
	if !rport && hostIs(v.Host, ip) && !v.Params.Has("received") {
		return nil
	}
	// received goes right after the sent-by, where RFC 3581's example
	// shows it; a received the client wrote itself is replaced, and rport
	// gets its value where it stands. Built on the stack: SetTopVia
	// copies it.
	var pb [256]byte
	b := append(pb[:0], ";received="...)
	b = appendReceived(b, ip)
	v.Params.Each(func(name, value string) bool {
		switch {
		case strings.EqualFold(name, "received"):
			return true
		case strings.EqualFold(name, "rport"):
			b = append(b, ";rport="...)
			b = strconv.AppendUint(b, uint64(remote.Port()), 10)
			return true
		}
		b = append(b, ';')
		b = append(b, name...)
		if value != "" {
			b = append(b, '=')
			b = append(b, value...)
		}
		return true
	})
	v.Params = sip.Params(unsafe.String(unsafe.SliceData(b), len(b)))
	return req.SetTopVia(v)
}

// appendReceived writes an IPv6 address as a reference, in brackets, as
// Kamailio does; RFC 5118 §4.5 has receivers accept both forms.
func appendReceived(b []byte, ip netip.Addr) []byte {
	if ip.Is6() {
		b = append(b, '[')
		b = ip.AppendTo(b)
		return append(b, ']')
	}
	return ip.AppendTo(b)
}

// hostIs reports whether a Via or URI host is the numeric address ip.
func hostIs(host string, ip netip.Addr) bool {
	a, ok := HostAddr(host)
	return ok && a == ip
}

// responseDest is where RFC 3261 §18.2.2 and RFC 3581 §4 send a response
// whose request did not come on a connection that is still open.
type responseDest struct {
	transport string
	addr      netip.AddrPort // set when the destination is numeric
	host      string         // otherwise the sent-by host, to resolve (RFC 3263 §5)
	port      int            // and its port, 0 if none
}

func viaResponseDest(v sip.Via) (responseDest, bool) {
	t := canonical(v.Transport)
	if t == "" {
		return responseDest{}, false
	}
	port := v.Port
	if maddr, ok := v.Maddr(); ok && t == UDP {
		// §18.2.2, unreliable transports only: to the maddr address, at
		// the sent-by port or the default one. Only a numeric maddr is
		// honoured: a proxy must not be made to look up names a
		// stranger chose.
		a, ok := HostAddr(maddr)
		if !ok {
			return responseDest{}, false
		}
		return responseDest{transport: t, addr: netip.AddrPortFrom(a, targetPort(port, t))}, true
	}
	if rcv, ok := v.Received(); ok {
		if a, ok := HostAddr(rcv); ok {
			// RFC 3581 §4: on UDP a filled rport wins over the sent-by
			// port; on a stream it was the closed connection's port.
			if rp, ok := v.RPort(); ok && rp > 0 && t == UDP {
				port = rp
			}
			return responseDest{transport: t, addr: netip.AddrPortFrom(a, targetPort(port, t))}, true
		}
	}
	if a, ok := HostAddr(v.Host); ok {
		return responseDest{transport: t, addr: netip.AddrPortFrom(a, targetPort(port, t))}, true
	}
	return responseDest{transport: t, host: v.Host, port: port}, true
}
