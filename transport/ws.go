package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"

	"github.com/coder/websocket"
)

// subprotocol is the WebSocket subprotocol of SIP (RFC 7118 §4.1).
const subprotocol = "sip"

// newHTTPServer returns the HTTP server that upgrades WS and WSS
// connections on s.
func (s *streamListener) newHTTPServer() *http.Server {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.l.cfg.DialTimeout,
		IdleTimeout:       s.l.cfg.IdleTimeout,
		// WebSocket upgrades are HTTP/1.1 (RFC 6455); an empty
		// TLSNextProto keeps HTTP/2 off, and the server would otherwise
		// write its protocols into a TLS configuration we share.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		// TLS handshake failures and the like are the peer's problem.
		ErrorLog: slog.NewLogLogger(s.l.cfg.Logger.Handler(), slog.LevelDebug),
	}
	if s.l.cfg.TLS != nil {
		srv.TLSConfig = s.l.cfg.TLS.Clone()
	}
	// A connection is upgraded or closed: an HTTP keep-alive would hold
	// it outside the connection limits.
	srv.SetKeepAlivesEnabled(false)
	return srv
}

// serveHTTP runs the WebSocket listener's HTTP server until it closes.
func (s *streamListener) serveHTTP() {
	defer s.l.wg.Done()
	var err error
	if s.transport == WSS {
		err = s.http.ServeTLS(s.ln, "", "")
	} else {
		err = s.http.Serve(s.ln)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		s.l.cfg.Logger.Debug("transport: WebSocket server stopped", "listener", s.local, "err", err)
	}
}

// ServeHTTP upgrades one connection and reads SIP messages from it until
// it ends.
func (s *streamListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	remote, _ := netip.ParseAddrPort(r.RemoteAddr)
	local := s.local
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		local = addrPortOf(a)
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols: []string{subprotocol},
		// SIP clients in web pages come from any origin, and SIP
		// authenticates requests itself; Kamailio's websocket module
		// does not check Origin either.
		InsecureSkipVerify: true,
	})
	if err != nil {
		return // Accept has answered the bad upgrade
	}
	if ws.Subprotocol() != subprotocol {
		// RFC 7118 §4.1: the client must ask for "sip".
		ws.Close(websocket.StatusPolicyViolation, "subprotocol sip required")
		return
	}
	c := newConn(s.l, s.transport, unmap(remote), true)
	c.ws, c.local = ws, local
	if err := s.l.addConn(c); err != nil {
		ws.Close(websocket.StatusTryAgainLater, "too many connections")
		return
	}
	c.serve()
}

func (c *conn) serveWS() {
	max := c.l.cfg.MaxStreamMessage
	c.ws.SetReadLimit(int64(max))
	src := c.source()
	for {
		typ, data, err := c.ws.Read(c.l.ctx)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) && !c.closed.Load() && !errors.Is(err, net.ErrClosed) {
				c.l.count(c.key.transport).dropped.Add(1)
			}
			return
		}
		c.touch()
		if typ != websocket.MessageText && typ != websocket.MessageBinary {
			continue
		}
		c.l.deliver(data, src, max)
	}
}

// dialWS opens a WS or WSS connection to t with the sip subprotocol.
func (l *Layer) dialWS(ctx context.Context, c *conn, t Target) error {
	scheme := "ws://"
	if t.Transport == WSS {
		scheme = "wss://"
	}
	host := t.Addr.String()
	// The HTTP client hides the socket; dialling through our own
	// function tells us the local address for the Via.
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			nc, err := d.DialContext(ctx, network, addr)
			if err == nil {
				c.local = addrPortOf(nc.LocalAddr())
			}
			return nc, err
		},
		TLSClientConfig:     l.clientTLS(t),
		TLSHandshakeTimeout: l.cfg.DialTimeout,
	}
	// A failed upgrade leaves its connection idle in the pool of a
	// Transport nobody will use again.
	defer tr.CloseIdleConnections()
	ws, _, err := websocket.Dial(ctx, scheme+host+"/", &websocket.DialOptions{
		Subprotocols: []string{subprotocol},
		HTTPClient:   &http.Client{Transport: tr},
	})
	if err != nil {
		return err
	}
	if ws.Subprotocol() != subprotocol {
		ws.Close(websocket.StatusPolicyViolation, "subprotocol sip required")
		return errors.New("transport: WebSocket server did not accept subprotocol sip")
	}
	c.ws = ws
	return nil
}
