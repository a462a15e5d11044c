package transport

import (
	"errors"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// udpSocket is one listening UDP socket. Several goroutines read it, each
// parsing and handing up in place (DESIGN.md: no goroutine per message);
// requests and responses to UDP peers leave from it, so their source
// address is the one our Via names (RFC 3261 §18.1.1, RFC 3581 §4).
type udpSocket struct {
	l     *Layer
	pc    *net.UDPConn
	local netip.AddrPort
}

// udpSocketBuffer is the receive and send buffer asked of the kernel for
// each UDP socket (Kamailio and SIPp use a few MiB too).
const udpSocketBuffer = 4 << 20

func (l *Layer) listenUDP(ap netip.AddrPort) (netip.AddrPort, error) {
	pc, err := net.ListenUDP(network("udp", ap.Addr()), net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return netip.AddrPort{}, err
	}
	// A burst of datagrams while the readers are busy must not overflow
	// the kernel's queue; the kernel caps the size at its rmem_max.
	pc.SetReadBuffer(udpSocketBuffer)
	pc.SetWriteBuffer(udpSocketBuffer)
	s := &udpSocket{l: l, pc: pc, local: addrPortOf(pc.LocalAddr())}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		pc.Close()
		return netip.AddrPort{}, net.ErrClosed
	}
	l.udp = append(l.udp, s)
	l.wg.Add(l.cfg.UDPReaders)
	l.mu.Unlock()
	for range l.cfg.UDPReaders {
		go s.read()
	}
	return s.local, nil
}

// udpBatch is how many datagrams one read takes from the kernel
// (recvmmsg on Linux): under load the readers wake up once for several
// messages instead of once for each.
const udpBatch = 16

// batchReader is what ipv4.PacketConn and ipv6.PacketConn share.
type batchReader interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
}

func (s *udpSocket) read() {
	defer s.l.wg.Done()
	max := s.l.cfg.MaxUDPMessage
	var br batchReader = ipv4.NewPacketConn(s.pc)
	if !s.local.Addr().Is4() {
		br = ipv6.NewPacketConn(s.pc)
	}
	// One set of buffers per reader, reused for every batch; the message
	// gets a copy of exactly its bytes, so a handler may keep it.
	ms := make([]ipv4.Message, udpBatch)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, max+1)}
	}
	c := s.l.count(UDP)
	for {
		n, err := br.ReadBatch(ms, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Linux reports an ICMP port unreachable for an earlier send
			// as a read error on the socket; it says nothing about this
			// socket's health.
			continue
		}
		for i := range ms[:n] {
			m := &ms[i]
			if m.N > max {
				c.dropped.Add(1)
				continue
			}
			buf := m.Buffers[0][:m.N]
			if keepAlive(buf) {
				continue
			}
			from := addrPortOf(m.Addr)
			data := make([]byte, m.N)
			copy(data, buf)
			s.l.deliver(data, Source{Transport: UDP, Local: s.local, Remote: from, udp: s}, max)
		}
	}
}

// keepAlive reports a datagram of only CR and LF: some phones send it to
// keep a NAT binding open (RFC 5626 §4.4.1 uses STUN, the field uses
// CRLF). It is not a message and gets no answer.
func keepAlive(b []byte) bool {
	for _, c := range b {
		if c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

func (s *udpSocket) write(b []byte, to netip.AddrPort) error {
	_, err := s.pc.WriteToUDPAddrPort(b, to)
	return err
}

// udpFor returns the UDP socket to send to a, preferring one bound to
// the same address family.
func (l *Layer) udpFor(a netip.Addr) *udpSocket {
	l.mu.Lock()
	defer l.mu.Unlock()
	var any *udpSocket
	for _, s := range l.udp {
		la := s.local.Addr()
		if la.IsUnspecified() {
			if any == nil {
				any = s
			}
			continue
		}
		if la.Is4() == a.Is4() {
			return s
		}
	}
	return any
}

// network is the Go network name for listening on a: "udp4" or "tcp4"
// for IPv4, "udp6"/"tcp6" for IPv6, and the dual-stack name for "::".
func network(proto string, a netip.Addr) string {
	switch {
	case a.Is4():
		return proto + "4"
	case a.Is6() && !a.IsUnspecified():
		return proto + "6"
	}
	return proto
}

func addrPortOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return unmap(a.AddrPort())
	case *net.TCPAddr:
		return unmap(a.AddrPort())
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return unmap(ap)
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
