package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/sipkit/sipkit/sip"
)

// Handler receives the messages the layer reads. It is called in the
// goroutine that read the message (run to completion, DESIGN.md): it must
// return quickly and never wait on the network or on an application. The
// message is the handler's to keep.
type Handler interface {
	HandleMessage(msg sip.Message, src Source)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(msg sip.Message, src Source)

// HandleMessage calls f(msg, src).
func (f HandlerFunc) HandleMessage(msg sip.Message, src Source) { f(msg, src) }

// Source tells where a message came from. Responses to a request go back
// through it (RFC 3261 §18.2.2): over the connection the request came on,
// or from the UDP socket that read it (RFC 3581 §4).
type Source struct {
	Transport string
	Local     netip.AddrPort // the listening socket, or the connection's local end
	Remote    netip.AddrPort

	conn *conn      // stream connection, nil for UDP
	udp  *udpSocket // socket that read the datagram, nil for streams
}

// Config configures a Layer. Every zero field takes the default it names.
type Config struct {
	// Handler receives every message that parses. Required.
	Handler Handler

	// BadMessage, if set, is told about every message that failed to
	// parse, after it was counted. msg is non-nil when the message parsed
	// far enough to be answered; for a request the layer above sends the
	// 400 (with err's reason phrase, see sip.ParseError). Same rules as
	// Handler.
	BadMessage func(msg sip.Message, err error, src Source)

	// Trace, if set, sees every message sent and received, as bytes that
	// are valid only during the call. For logs and packet traces.
	Trace func(ev TraceEvent)

	// UDPReaders is the number of goroutines reading each UDP socket.
	// Zero: GOMAXPROCS.
	UDPReaders int

	// MaxUDPMessage bounds a datagram (zero: 65507, the largest UDP
	// payload); MaxStreamMessage bounds a message on TCP, TLS, WS and WSS
	// (zero: 65535). Larger messages are dropped, and on a stream the
	// connection is closed.
	MaxUDPMessage, MaxStreamMessage int

	// MaxConns bounds the stream connections open at once, in and out
	// (zero: 10000). MaxConnsPerIP bounds the inbound ones from one
	// address (zero: 100). Connections over a limit are closed at once.
	MaxConns, MaxConnsPerIP int

	// IdleTimeout closes a stream connection on which nothing was read or
	// written for that long; it also bounds the time one message may take
	// to arrive, so a slow or silent peer cannot hold a connection. Zero:
	// 120 s (Kamailio's tcp_connection_lifetime).
	IdleTimeout time.Duration

	// DialTimeout bounds opening an outbound connection, TLS and
	// WebSocket handshakes included (zero: 5 s). WriteTimeout bounds one
	// write on a stream (zero: 10 s).
	DialTimeout, WriteTimeout time.Duration

	// TLS is the server configuration for TLS and WSS listeners (with
	// the certificate, e.g. from LoadCertificate). ClientTLS is used for
	// outbound TLS and WSS; nil verifies servers against the system
	// roots, with the target's host name.
	TLS, ClientTLS *tls.Config

	// Resolver finds where to send a response whose Via names a host
	// rather than an address (RFC 3263 §5). Nil: a Resolver using
	// /etc/resolv.conf.
	Resolver *Resolver

	// Logger receives connection-level events at debug level. Nil: the
	// default slog logger.
	Logger *slog.Logger
}

// Direction of a traced message.
type Direction uint8

const (
	In Direction = iota
	Out
)

// TraceEvent is one message sent or received.
type TraceEvent struct {
	Dir           Direction
	Transport     string
	Local, Remote netip.AddrPort
	Data          []byte // valid only during the call
}

func (c *Config) withDefaults() Config {
	d := *c
	if d.UDPReaders <= 0 {
		d.UDPReaders = runtime.GOMAXPROCS(0)
	}
	if d.MaxUDPMessage <= 0 {
		d.MaxUDPMessage = 65507
	}
	if d.MaxStreamMessage <= 0 {
		d.MaxStreamMessage = 65535
	}
	if d.MaxConns <= 0 {
		d.MaxConns = 10000
	}
	if d.MaxConnsPerIP <= 0 {
		d.MaxConnsPerIP = 100
	}
	if d.IdleTimeout <= 0 {
		d.IdleTimeout = 120 * time.Second
	}
	if d.DialTimeout <= 0 {
		d.DialTimeout = 5 * time.Second
	}
	if d.WriteTimeout <= 0 {
		d.WriteTimeout = 10 * time.Second
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return d
}

// Layer owns the listening sockets and the stream connections, and is
// where every message enters and leaves the stack.
type Layer struct {
	cfg Config

	mu      sync.Mutex
	udp     []*udpSocket
	streams []*streamListener
	conns   map[connKey]*conn
	perIP   map[netip.Addr]int // inbound connections per source address
	nconns  int
	closed  bool

	wg      sync.WaitGroup
	ctx     context.Context // cancelled by Close
	cancel  context.CancelFunc
	counter [numTransports]counters
}

// New returns a layer with no listeners.
func New(cfg Config) (*Layer, error) {
	if cfg.Handler == nil {
		return nil, errors.New("transport: Config.Handler is required")
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Layer{
		cfg:    cfg.withDefaults(),
		conns:  make(map[connKey]*conn),
		perIP:  make(map[netip.Addr]int),
		ctx:    ctx,
		cancel: cancel,
	}, nil
}

// Listen starts serving transport (UDP, TCP, TLS, WS or WSS) on addr
// ("127.0.0.1:5060", "[::1]:0") and returns the address bound.
func (l *Layer) Listen(transport, addr string) (netip.AddrPort, error) {
	t := canonical(transport)
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("transport: listen address %q: %w", addr, err)
	}
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return netip.AddrPort{}, net.ErrClosed
	}
	switch t {
	case UDP:
		return l.listenUDP(ap)
	case TCP, TLS, WS, WSS:
		if Secure(t) && l.cfg.TLS == nil {
			return netip.AddrPort{}, fmt.Errorf("transport: %s listener needs Config.TLS", t)
		}
		return l.listenStream(t, ap)
	}
	return netip.AddrPort{}, fmt.Errorf("transport: unknown transport %q", transport)
}

// Close stops every listener, closes every connection and waits for the
// layer's goroutines to return. It must not be called from a Handler,
// Trace or BadMessage callback, which runs on one of those goroutines.
func (l *Layer) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	udp, streams := l.udp, l.streams
	conns := make([]*conn, 0, len(l.conns))
	for _, c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, s := range udp {
		s.pc.Close()
	}
	for _, s := range streams {
		s.close()
	}
	// What was queued (a last BYE) goes out before the connections
	// close, for a short while at most.
	deadline := time.Now().Add(closeDrain)
	for _, c := range conns {
		c.drain(deadline)
		c.close()
	}
	l.cancel() // after the drain: WebSocket writes run under this context
	l.wg.Wait()
	return nil
}

// closeDrain bounds how long Close waits for queued stream writes.
const closeDrain = time.Second

// LoadCertificate reads a PEM certificate chain and key into a server
// TLS configuration.
func LoadCertificate(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// deliver parses data and hands the message up. It is the one place a
// message enters the stack.
func (l *Layer) deliver(data []byte, src Source, max int) {
	c := l.count(src.Transport)
	c.in.Add(1)
	l.trace(In, src.Transport, src.Local, src.Remote, data)
	msg, err := sip.ParseWithLimits(data, sip.Limits{MaxMessageSize: max})
	if err == nil {
		if req, ok := msg.(*sip.Request); ok {
			err = stampVia(req, src.Remote)
		}
	}
	if err != nil {
		l.bad(msg, err, src)
		return
	}
	l.cfg.Handler.HandleMessage(msg, src)
}

func (l *Layer) bad(msg sip.Message, err error, src Source) {
	l.count(src.Transport).parseErrors.Add(1)
	if l.cfg.BadMessage != nil {
		l.cfg.BadMessage(msg, err, src)
	}
}
