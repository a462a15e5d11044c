package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/sipkit/sipkit/sip"
)

// connKey finds a connection to reuse: the same transport to the same
// remote address (RFC 3261 §18: responses return on the connection the
// request came on; requests to a peer reuse one that is open).
type connKey struct {
	transport string
	remote    netip.AddrPort
}

// conn is one stream connection, inbound or outbound. One goroutine
// reads it and one writes it: senders only queue, so a peer that stops
// reading cannot block the reader goroutine that is sending to it (and
// with it every other peer that reader serves).
type conn struct {
	l       *Layer
	key     connKey
	local   netip.AddrPort
	inbound bool

	nc net.Conn        // TCP and TLS
	ws *websocket.Conn // WS and WSS; set before the conn is shared

	sendq  chan []byte   // messages waiting for the writer
	queued atomic.Int32  // messages queued and not yet written
	done   chan struct{} // closed by close
	active atomic.Int64  // time of the last message read or written, unix ns
	idle   atomic.Pointer[time.Timer]
	closed atomic.Bool
}

// sendQueue bounds the messages waiting on one connection. A peer that
// lets this many pile up is not reading, and the connection is closed
// (Kamailio does the same past tcp_conn_wq_max).
const sendQueue = 256

func newConn(l *Layer, transport string, remote netip.AddrPort, inbound bool) *conn {
	return &conn{l: l, key: connKey{transport, remote}, inbound: inbound,
		sendq: make(chan []byte, sendQueue), done: make(chan struct{})}
}

func (c *conn) String() string {
	return c.key.transport + " " + c.local.String() + "<->" + c.key.remote.String()
}

// touch records a whole message read or written. Bytes alone do not
// count, so a peer that trickles a message byte by byte is still idle.
func (c *conn) touch() { c.active.Store(time.Now().UnixNano()) }

// startIdle arms the watchdog that closes the connection after
// IdleTimeout without a message either way: one timer per connection,
// re-armed only when it fires, costs nothing per message.
func (c *conn) startIdle() {
	idle := c.l.cfg.IdleTimeout
	c.touch()

	check := func() {
		if c.closed.Load() {
			return
		}
		left := idle - time.Since(time.Unix(0, c.active.Load()))
		if left <= 0 {
			c.l.cfg.Logger.Debug("transport: closing idle connection", "conn", c.String())
			c.close()
			return
		}
		c.idle.Load().Reset(left)
	}
	c.idle.Store(time.AfterFunc(idle, check))
}

func (c *conn) close() {
	if !c.closed.CompareAndSwap(false, true) {
		return
	}
	if t := c.idle.Load(); t != nil {
		t.Stop()
	}
	close(c.done)
	if c.nc != nil {
		c.nc.Close()
	}
	if c.ws != nil {
		c.ws.CloseNow()
	}
	c.l.removeConn(c)
}

// errQueueFull closes a connection whose peer stopped reading.
var errQueueFull = errors.New("transport: peer is not reading, connection closed")

// write queues one message (or a keep-alive pong) for the writer; b is
// copied. It never blocks.
func (c *conn) write(b []byte) error {
	if c.closed.Load() {
		return net.ErrClosed
	}
	c.queued.Add(1)
	select {
	case c.sendq <- append([]byte(nil), b...):
		c.touch()
		return nil
	default:
		c.queued.Add(-1)
		c.close()
		return errQueueFull
	}
}

// drain waits until the writer has taken every queued message, the
// connection closed, or the deadline passed.
func (c *conn) drain(deadline time.Time) {
	for c.queued.Load() > 0 && !c.closed.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// writeLoop writes queued messages until the connection closes; a write
// that fails or takes longer than WriteTimeout closes it.
func (c *conn) writeLoop() {
	defer c.l.wg.Done()
	timeout := c.l.cfg.WriteTimeout
	for {
		var b []byte
		select {
		case b = <-c.sendq:
		case <-c.done:
			return
		}
		var err error
		if c.ws != nil {
			// RFC 7118 §5: one SIP message per WebSocket message, as text.
			ctx, cancel := context.WithTimeout(c.l.ctx, timeout)
			err = c.ws.Write(ctx, websocket.MessageText, b)
			cancel()
		} else {
			c.nc.SetWriteDeadline(time.Now().Add(timeout))
			_, err = c.nc.Write(b)
		}
		c.queued.Add(-1)
		if err != nil {
			c.l.cfg.Logger.Debug("transport: write failed, closing", "conn", c.String(), "err", err)
			c.l.count(c.key.transport).sendErrors.Add(1)
			c.close()
			return
		}
	}
}

func (c *conn) source() Source {
	return Source{Transport: c.key.transport, Local: c.local, Remote: c.key.remote, conn: c}
}

// serve reads messages until the connection ends.
func (c *conn) serve() {
	defer c.l.wg.Done()
	defer c.close()
	c.l.wg.Add(1) // serve's own count keeps the group above zero
	go c.writeLoop()
	c.startIdle()
	if c.ws != nil {
		c.serveWS()
		return
	}
	if tc, ok := c.nc.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(c.l.ctx, c.l.cfg.DialTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			c.l.cfg.Logger.Debug("transport: TLS handshake failed", "conn", c.String(), "err", err)
			return
		}
	}
	max := c.l.cfg.MaxStreamMessage
	sr := sip.NewStreamReader(c.nc, sip.Limits{MaxMessageSize: max})
	// RFC 5626 §3.5.1: a CRLFCRLF ping is answered with a CRLF pong.
	sr.OnPing = func() { c.write([]byte("\r\n")) }
	src := c.source()
	for {
		data, err := sr.ReadFrame()
		if err != nil {
			if errors.Is(err, sip.ErrFraming) {
				// The peer sent something that cannot be framed: the
				// boundary of the next message is lost with it.
				c.l.count(c.key.transport).dropped.Add(1)
				c.l.cfg.Logger.Debug("transport: closing connection", "conn", c.String(), "err", err)
			}
			return
		}
		c.touch()
		c.l.deliver(data, src, max)
	}
}

// A streamListener accepts TCP, TLS, WS or WSS connections.
type streamListener struct {
	l         *Layer
	transport string
	ln        net.Listener
	local     netip.AddrPort
	http      *http.Server // WS and WSS only
}

func (s *streamListener) close() {
	if s.http != nil {
		s.http.Close()
	}
	s.ln.Close()
}

func (l *Layer) listenStream(transport string, ap netip.AddrPort) (netip.AddrPort, error) {
	ln, err := net.ListenTCP(network("tcp", ap.Addr()), net.TCPAddrFromAddrPort(ap))
	if err != nil {
		return netip.AddrPort{}, err
	}
	s := &streamListener{l: l, transport: transport, ln: ln, local: addrPortOf(ln.Addr())}
	if transport == WS || transport == WSS {
		s.http = s.newHTTPServer()
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		ln.Close()
		return netip.AddrPort{}, net.ErrClosed
	}
	l.streams = append(l.streams, s)
	l.wg.Add(1)
	l.mu.Unlock()
	if s.http != nil {
		go s.serveHTTP()
	} else {
		go s.accept()
	}
	return s.local, nil
}

func (s *streamListener) accept() {
	defer s.l.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait a little
			// instead of spinning, as net/http does.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if s.transport == TLS {
			nc = tls.Server(nc, s.l.cfg.TLS)
		}
		c := newConn(s.l, s.transport, addrPortOf(nc.RemoteAddr()), true)
		c.nc, c.local = nc, addrPortOf(nc.LocalAddr())
		if err := s.l.addConn(c); err != nil {
			nc.Close()
			continue
		}
		go c.serve()
	}
}

// errConnLimit is why a connection over a limit was refused.
var errConnLimit = errors.New("transport: connection limit reached")

// addConn enters c in the table, enforcing the limits, and counts it as
// a goroutine of the layer (c.serve must run). A newer connection to the
// same peer replaces an older one for reuse; the older stays open until
// it ends on its own.
func (l *Layer) addConn(c *conn) error {
	cnt := l.count(c.key.transport)
	ip := c.key.remote.Addr()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return net.ErrClosed
	}
	if l.nconns >= l.cfg.MaxConns || c.inbound && l.perIP[ip] >= l.cfg.MaxConnsPerIP {
		cnt.connsRejected.Add(1)
		return errConnLimit
	}
	l.nconns++
	if c.inbound {
		l.perIP[ip]++
	}
	l.conns[c.key] = c
	cnt.connsOpen.Add(1)
	l.wg.Add(1)
	return nil
}

func (l *Layer) removeConn(c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nconns--
	if c.inbound {
		ip := c.key.remote.Addr()
		if l.perIP[ip]--; l.perIP[ip] <= 0 {
			delete(l.perIP, ip)
		}
	}
	if l.conns[c.key] == c {
		delete(l.conns, c.key)
	}
	l.count(c.key.transport).connsOpen.Add(-1)
}

// WouldDial reports whether sending a request to t would first open a
// connection (a stream transport with none open to t), which takes up
// to Config.DialTimeout when the peer is silent: a caller that must not
// wait, such as a proxy on the goroutine reading a socket, sends from a
// goroutine of its own then.
func (l *Layer) WouldDial(t Target) bool {
	tr := canonical(t.Transport)
	return tr != "" && tr != UDP && l.openConn(Target{Transport: tr, Addr: unmap(t.Addr)}) == nil
}

// openConn returns the open connection to t, or nil.
func (l *Layer) openConn(t Target) *conn {
	l.mu.Lock()
	c := l.conns[connKey{t.Transport, t.Addr}]
	l.mu.Unlock()
	if c == nil || c.closed.Load() {
		return nil
	}
	return c
}

// connFor returns an open connection to t, dialling one if there is
// none.
func (l *Layer) connFor(ctx context.Context, t Target) (*conn, error) {
	if c := l.openConn(t); c != nil {
		return c, nil
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.DialTimeout)
	defer cancel()
	c, err := l.dial(ctx, t)
	if err != nil {
		return nil, err
	}
	if err := l.addConn(c); err != nil {
		c.closeUnregistered()
		return nil, err
	}
	go c.serve()
	return c, nil
}

// closeUnregistered closes a dialled connection that never entered the
// table.
func (c *conn) closeUnregistered() {
	c.closed.Store(true)
	if c.nc != nil {
		c.nc.Close()
	}
	if c.ws != nil {
		c.ws.CloseNow()
	}
}

func (l *Layer) dial(ctx context.Context, t Target) (*conn, error) {
	c := newConn(l, t.Transport, t.Addr, false)
	var d net.Dialer
	switch t.Transport {
	case TCP:
		nc, err := d.DialContext(ctx, "tcp", t.Addr.String())
		if err != nil {
			return nil, err
		}
		c.nc = nc
	case TLS:
		td := tls.Dialer{NetDialer: &d, Config: l.clientTLS(t)}
		nc, err := td.DialContext(ctx, "tcp", t.Addr.String())
		if err != nil {
			return nil, err
		}
		c.nc = nc
	case WS, WSS:
		return c, l.dialWS(ctx, c, t)
	default:
		return nil, fmt.Errorf("transport: cannot dial %q", t.Transport)
	}
	c.local = addrPortOf(c.nc.LocalAddr())
	return c, nil
}

// clientTLS is the client configuration for t: the host name the target
// was resolved from is what the certificate must name (RFC 5922 §7.1),
// or the IP address for a numeric target.
func (l *Layer) clientTLS(t Target) *tls.Config {
	var cfg *tls.Config
	if l.cfg.ClientTLS != nil {
		cfg = l.cfg.ClientTLS.Clone()
	} else {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = t.Host
		if cfg.ServerName == "" {
			cfg.ServerName = t.Addr.Addr().String()
		}
	}
	return cfg
}
