package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/sipkit/sipkit/sip"
)

// udpSizeLimit is the size above which a request does not go over UDP
// when the path MTU is unknown (RFC 3261 §18.1.1).
const udpSizeLimit = 1300

// ErrNoRoute is wrapped by send errors where the layer has no socket or
// usable address for the destination. Every send error means the
// message did not leave: the transaction layer treats it as a 503
// (RFC 3261 §8.1.3.1, §18.1.1).
var ErrNoRoute = errors.New("transport: no route to destination")

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// SendRequest sends req to t and returns the target it went to. The top
// Via (which the caller wrote, with its branch) gets the transport and
// sent-by of the socket or connection the request leaves on. A UDP
// request larger than 1300 bytes goes over TCP instead (RFC 3261
// §18.1.1); when no TCP connection can be opened it goes over UDP after
// all, as PJSIP does, since a fragmented datagram may still arrive and a
// refused connection certainly does not. Opening a connection blocks for
// up to Config.DialTimeout; writing to one never blocks.
func (l *Layer) SendRequest(ctx context.Context, req *sip.Request, t Target) (Target, error) {
	t.Transport = canonical(t.Transport)
	if t.Transport == "" || !t.Addr.IsValid() {
		return t, fmt.Errorf("%w: bad target %v", ErrNoRoute, t)
	}
	t.Addr = unmap(t.Addr)
	if t.Transport == UDP {
		err := l.sendRequestUDP(req, t, true)
		if !errors.Is(err, errTooBig) {
			return t, err
		}
		tcp := Target{Transport: TCP, Addr: t.Addr, Host: t.Host}
		c, err := l.connFor(ctx, tcp)
		if err != nil {
			return t, l.sendRequestUDP(req, t, false)
		}
		return tcp, l.sendOnConn(c, req)
	}
	c, err := l.connFor(ctx, t)
	if err != nil {
		l.count(t.Transport).sendErrors.Add(1)
		return t, fmt.Errorf("transport: send to %v: %w", t, err)
	}
	return t, l.sendOnConn(c, req)
}

func (l *Layer) sendOnConn(c *conn, req *sip.Request) error {
	if err := setSentBy(req, c.key.transport, l.streamSentBy(c)); err != nil {
		return err
	}
	return l.writeConn(c, req)
}

var errTooBig = errors.New("transport: request too large for UDP")

// sendRequestUDP sends req from the UDP socket of t's address family, or
// returns errTooBig (and sends nothing) when it may and should go over
// TCP.
func (l *Layer) sendRequestUDP(req *sip.Request, t Target, mayTCP bool) error {
	s := l.udpFor(t.Addr.Addr())
	if s == nil {
		l.count(UDP).sendErrors.Add(1)
		return fmt.Errorf("%w: no UDP socket for %v", ErrNoRoute, t.Addr)
	}
	if err := setSentBy(req, UDP, l.udpSentBy(s, t.Addr)); err != nil {
		return err
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	b := req.AppendTo((*bp)[:0])
	*bp = b
	if len(b) > udpSizeLimit && mayTCP {
		return errTooBig
	}
	return l.writeUDP(s, b, t.Addr)
}

// SendResponse sends resp, the answer to a request that came from src
// (the zero Source if unknown, e.g. for a response a stateless element
// forwards), where RFC 3261 §18.2.2 and RFC 3581 §4 say: over the
// connection the request came on while it is open; else, from the top
// Via, to maddr, to received (and rport on UDP), or to the sent-by,
// resolved per RFC 3263 §5. A connection that must be opened for it is
// opened on a goroutine of its own (see reconnectResponse): SendResponse
// then returns nil, and a failure only shows in Stats and the log.
func (l *Layer) SendResponse(ctx context.Context, resp *sip.Response, src Source) error {
	if c := src.conn; c != nil && !c.closed.Load() {
		return l.writeConn(c, resp)
	}
	v, ok := resp.TopVia()
	if !ok {
		return fmt.Errorf("%w: response has no Via", ErrNoRoute)
	}
	d, ok := viaResponseDest(v)
	if !ok {
		return fmt.Errorf("%w: cannot send a response to Via %q", ErrNoRoute, v.String())
	}
	if d.transport != UDP {
		return l.reconnectResponse(resp, d, v)
	}
	addr := d.addr
	if !addr.IsValid() {
		ts, err := l.resolver().ResolveSentBy(ctx, d.transport, d.host, d.port)
		if err != nil {
			return fmt.Errorf("transport: response to %s: %w", v.SentBy(), err)
		}
		addr = ts[0].Addr
	}
	s := src.udp // RFC 3581 §4: from where the request arrived
	if s == nil {
		s = l.udpFor(addr.Addr())
	} else if addr.Addr() == src.Remote.Addr().WithZone("") {
		addr = netip.AddrPortFrom(src.Remote.Addr(), addr.Port()) // keep a link-local zone
	}
	if s == nil {
		return fmt.Errorf("%w: no UDP socket for %v", ErrNoRoute, addr)
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	b := resp.AppendTo((*bp)[:0])
	*bp = b
	return l.writeUDP(s, b, addr)
}

// reconnectResponse sends a response whose request's connection is gone
// over a connection to the same place (§18.2.2), found by the sent-by
// when it is a name (RFC 3263 §5). One already open is used at once.
// Otherwise opening it takes up to DialTimeout against a silent peer
// (and a name a DNS lookup), while the caller is usually the goroutine
// reading a socket, such as a proxy forwarding a response upstream: the
// response then goes from a goroutine of its own, as Kamailio's
// tcp_async sends it, and a failure is counted and logged, not returned.
func (l *Layer) reconnectResponse(resp *sip.Response, d responseDest, v sip.Via) error {
	t := Target{Transport: d.transport, Addr: d.addr, Host: d.host}
	if c := l.openConn(t); c != nil {
		return l.writeConn(c, resp)
	}
	b := resp.AppendTo(nil) // the caller keeps resp
	go func() {
		err := l.dialAndWrite(t, d, b)
		if err != nil {
			l.count(t.Transport).sendErrors.Add(1)
			l.cfg.Logger.Debug("transport: response not sent", "to", v.SentBy(), "err", err)
		}
	}()
	return nil
}

// dialAndWrite resolves the sent-by if need be, opens a connection and
// writes b on it.
func (l *Layer) dialAndWrite(t Target, d responseDest, b []byte) error {
	if !t.Addr.IsValid() {
		ctx, cancel := context.WithTimeout(l.ctx, 10*time.Second)
		ts, err := l.resolver().ResolveSentBy(ctx, d.transport, d.host, d.port)
		cancel()
		if err != nil {
			return err
		}
		t.Addr = ts[0].Addr
	}
	c, err := l.connFor(l.ctx, t)
	if err != nil {
		return err
	}
	return l.writeBytes(c, b)
}

func (l *Layer) writeUDP(s *udpSocket, b []byte, to netip.AddrPort) error {
	c := l.count(UDP)
	if err := s.write(b, to); err != nil {
		c.sendErrors.Add(1)
		return fmt.Errorf("transport: send to UDP:%v: %w", to, err)
	}
	c.out.Add(1)
	l.trace(Out, UDP, s.local, to, b)
	return nil
}

func (l *Layer) writeConn(c *conn, m sip.Message) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	b := m.AppendTo((*bp)[:0])
	*bp = b
	return l.writeBytes(c, b)
}

// writeBytes writes a serialised message on c.
func (l *Layer) writeBytes(c *conn, b []byte) error {
	cnt := l.count(c.key.transport)
	if err := c.write(b); err != nil {
		cnt.sendErrors.Add(1)
		return fmt.Errorf("transport: send on %v: %w", c, err)
	}
	cnt.out.Add(1)
	l.trace(Out, c.key.transport, c.local, c.key.remote, b)
	return nil
}

func (l *Layer) trace(dir Direction, transport string, local, remote netip.AddrPort, b []byte) {
	if l.cfg.Trace != nil {
		l.cfg.Trace(TraceEvent{Dir: dir, Transport: transport, Local: local, Remote: remote, Data: b})
	}
}

// setSentBy writes the transport and sent-by of the top Via, keeping its
// parameters (RFC 3261 §18.1.1).
func setSentBy(req *sip.Request, transport string, at netip.AddrPort) error {
	v, ok := req.TopVia()
	if !ok {
		return errors.New("transport: request has no Via to send with")
	}
	host := at.Addr().String()
	if at.Addr().Is6() {
		host = "[" + host + "]"
	}
	if v.Transport == transport && v.Host == host && v.Port == int(at.Port()) {
		return nil // a retransmission, or a caller that knew
	}
	v.Transport, v.Host, v.Port = transport, host, int(at.Port())
	return req.SetTopVia(v)
}

// udpSentBy is the address responses should come back to: the socket's,
// or for a wildcard socket the interface the kernel would send to dst
// from (a connected UDP socket asks the routing table and sends nothing).
func (l *Layer) udpSentBy(s *udpSocket, dst netip.AddrPort) netip.AddrPort {
	if !s.local.Addr().IsUnspecified() {
		return s.local
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst))
	if err != nil {
		return s.local
	}
	defer c.Close()
	return netip.AddrPortFrom(addrPortOf(c.LocalAddr()).Addr(), s.local.Port())
}

// streamSentBy prefers a listener of the connection's transport and
// address family, so a response can open a new connection if this one
// closes (§18.2.2); without one, the connection's own local address.
func (l *Layer) streamSentBy(c *conn) netip.AddrPort {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.streams {
		la := s.local.Addr()
		if s.transport == c.key.transport && !la.IsUnspecified() && la.Is4() == c.key.remote.Addr().Is4() {
			return s.local
		}
	}
	return c.local
}

func (l *Layer) resolver() *Resolver {
	if l.cfg.Resolver != nil {
		return l.cfg.Resolver
	}
	return &defaultResolver
}

var defaultResolver Resolver
