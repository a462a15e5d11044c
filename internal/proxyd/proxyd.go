// Package proxyd assembles the `sipkit proxy` daemon: transport,
// registrar, location store and proxy core, with the default router
// (DESIGN.md "Programs").
package proxyd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sipkit/sipkit/auth"
	"github.com/sipkit/sipkit/internal/agent"
	"github.com/sipkit/sipkit/location"
	"github.com/sipkit/sipkit/proxy"
	"github.com/sipkit/sipkit/registrar"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transaction"
	"github.com/sipkit/sipkit/transport"
)

// Listen is one --listen value, as the user agents take it.
type Listen = agent.Listen

// ParseListen parses TRANSPORT:HOST:PORT ("udp:127.0.0.1:5060").
var ParseListen = agent.ParseListen

// Config is the daemon's configuration. Every zero field takes the
// default it names.
type Config struct {
	// Listen: zero means UDP and TCP on 127.0.0.1:5060.
	Listen []Listen
	// TLSCert and TLSKey are the PEM files of the certificate a TLS or
	// WSS listener presents; required when there is one. Outbound TLS
	// verifies servers against the system roots; registered phones are
	// reached over the connection they registered on.
	TLSCert, TLSKey string
	// Domains the proxy serves besides its listen addresses.
	Domains []string
	// Trusted networks, whose CANCEL Reason goes downstream.
	Trusted []netip.Prefix
	// CancelReason replaces an untrusted CANCEL's Reason ("": none).
	CancelReason string
	// NoAnswerTimeout: zero is 120 s.
	NoAnswerTimeout time.Duration
	// TimerC: zero is 185 s (RFC 3261 §16.6: more than 3 minutes).
	TimerC time.Duration
	// MaxCallSetup: zero is 10 minutes.
	MaxCallSetup time.Duration
	// Location is the location store: "" or "memory", or
	// "redis://HOST:PORT/DB" for one shared by several proxies.
	Location string
	// Users, if set, makes the registrar authenticate every REGISTER
	// (digest, RFC 3261 §22 with RFC 8760): user name to password.
	Users map[string]string
	// Realm is the digest realm. Empty: the first domain, else the first
	// listen address.
	Realm string
	// Metrics, if set, is the address of the HTTP server for Prometheus
	// metrics and the admin API (see admin.go).
	Metrics string
	// NoRecordRoute turns Record-Route off.
	NoRecordRoute bool
	// Timers are the transaction timers (defaults of RFC 3261).
	Timers transaction.Timers
	// Logger: nil is slog.Default().
	Logger *slog.Logger
}

// Server is a running proxy.
type Server struct {
	tl        *transport.Layer
	p         *proxy.Proxy
	reg       *registrar.Registrar
	store     location.Store
	closeLoc  func() error
	admin     *http.Server
	adminAddr string
	listeners []proxy.Listener
	log       *slog.Logger
	canonical string // the AOR host for every host of ours
	auth      *auth.Server
	trusted   []netip.Prefix
	ownHosts  map[string]bool
}

// Start listens and serves until Close.
func Start(cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if len(cfg.Listen) == 0 {
		a := netip.MustParseAddrPort("127.0.0.1:5060")
		cfg.Listen = []Listen{{Transport: transport.UDP, Addr: a}, {Transport: transport.TCP, Addr: a}}
	}
	s := &Server{log: log, ownHosts: map[string]bool{}}
	switch {
	case cfg.Location == "" || cfg.Location == "memory":
		m := location.NewMemory(0)
		s.store, s.closeLoc = m, m.Close
	case strings.HasPrefix(cfg.Location, "redis://"):
		r, err := location.NewRedis(cfg.Location)
		if err != nil {
			return nil, err
		}
		s.store, s.closeLoc = r, r.Close
	default:
		return nil, fmt.Errorf("--location %q: want memory or redis://HOST:PORT/DB", cfg.Location)
	}
	var serverTLS *tls.Config
	if i := slices.IndexFunc(cfg.Listen, Listen.Secure); i >= 0 {
		l := cfg.Listen[i]
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			s.closeLoc()
			return nil, fmt.Errorf("listen %s:%s needs --tls-cert and --tls-key", strings.ToLower(l.Transport), l.Addr)
		}
		c, err := transport.LoadCertificate(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			s.closeLoc()
			return nil, err
		}
		serverTLS = c
	}
	var p *proxy.Proxy
	ready := make(chan struct{})
	tl, err := transport.New(transport.Config{
		TLS:    serverTLS,
		Logger: log,
		Handler: transport.HandlerFunc(func(m sip.Message, src transport.Source) {
			<-ready
			p.HandleMessage(m, src)
		}),
		BadMessage: s.badMessage,
	})
	if err != nil {
		s.closeLoc()
		return nil, err
	}
	s.tl = tl
	for _, l := range cfg.Listen {
		bound, err := tl.Listen(l.Transport, l.Addr.String())
		if err != nil {
			s.close()
			return nil, err
		}
		s.listeners = append(s.listeners, proxy.Listener{Transport: l.Transport, Addr: bound})
		s.ownHosts[hostString(bound.Addr())] = true
	}
	for _, d := range cfg.Domains {
		s.ownHosts[strings.ToLower(d)] = true
	}
	s.canonical = hostString(s.listeners[0].Addr.Addr())
	if len(cfg.Domains) > 0 {
		s.canonical = strings.ToLower(cfg.Domains[0])
	}
	var authSrv *auth.Server
	if len(cfg.Users) > 0 {
		realm := cfg.Realm
		if realm == "" {
			realm = s.canonical
		}
		users := cfg.Users
		authSrv = &auth.Server{Realm: realm, Credentials: func(u string) (string, bool) {
			p, ok := users[u]
			return p, ok
		}}
	}
	s.auth, s.trusted = authSrv, cfg.Trusted
	s.reg, err = registrar.New(registrar.Config{Store: s.store, AOR: s.aor, Auth: authSrv})
	if err != nil {
		s.close()
		return nil, err
	}
	p, err = proxy.New(proxy.Config{
		Sender:          tl,
		Listeners:       s.listeners,
		Domains:         cfg.Domains,
		Router:          proxy.RouterFunc(s.route),
		RecordRoute:     boolPtr(!cfg.NoRecordRoute),
		Trusted:         cfg.Trusted,
		CancelReason:    cfg.CancelReason,
		NoAnswerTimeout: cfg.NoAnswerTimeout,
		TimerC:          cfg.TimerC,
		MaxCallSetup:    cfg.MaxCallSetup,
		Timers:          cfg.Timers,
		Logger:          log,
	})
	if err != nil {
		s.close()
		return nil, err
	}
	s.p = p
	close(ready)
	if cfg.Metrics != "" {
		a, err := s.serveAdmin(cfg.Metrics)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("--metrics %q: %w", cfg.Metrics, err)
		}
		s.adminAddr = a.String()
	}
	return s, nil
}

// AdminAddr is where the metrics and admin API listen ("" if off).
func (s *Server) AdminAddr() string { return s.adminAddr }

func boolPtr(b bool) *bool { return &b }

// Listeners are the addresses bound.
func (s *Server) Listeners() []proxy.Listener { return s.listeners }

// Proxy returns the proxy core, for its counters.
func (s *Server) Proxy() *proxy.Proxy { return s.p }

// Close stops listening and closes every connection.
func (s *Server) Close() error { return s.close() }

func (s *Server) close() error {
	if s.admin != nil {
		s.admin.Close()
	}
	err := s.tl.Close()
	s.closeLoc()
	return err
}

// Run serves until ctx ends (SIGINT, SIGTERM in the command).
func Run(ctx context.Context, cfg Config) error {
	s, err := Start(cfg)
	if err != nil {
		return err
	}
	log := s.log
	for _, l := range s.listeners {
		log.Info("sipkit proxy listening", "transport", l.Transport, "addr", l.Addr.String())
	}
	if s.adminAddr != "" {
		log.Info("sipkit proxy metrics and admin API", "addr", "http://"+s.adminAddr)
	}
	<-ctx.Done()
	log.Info("sipkit proxy stopping")
	return s.Close()
}

// aor is the location key of a URI: the hosts of this proxy (listen
// addresses and domains, any port) are one domain, so a phone that
// registers as bob@127.0.0.1 is found for sip:bob@127.0.0.1:5060.
func (s *Server) aor(u sip.URI) (string, bool) {
	if !s.ownHost(u.Host) {
		return "", false
	}
	u.Host, u.Port = s.canonical, 0
	return location.Key(u), true
}

// ownHost reports whether a URI host is one of ours, at any port: a
// domain, or a listen address however it is spelled ("[::1]",
// "[0:0:0:0:0:0:0:1]").
func (s *Server) ownHost(host string) bool {
	if a, ok := transport.HostAddr(host); ok {
		return s.ownHosts[hostString(a)]
	}
	return s.ownHosts[strings.ToLower(host)]
}

// route is the default router (DESIGN.md): a request for one of our
// hosts goes to the registered contacts of its AOR (REGISTER to the
// registrar), anything else to its Request-URI.
func (s *Server) route(ctx context.Context, req *sip.Request, src transport.Source) (proxy.Decision, error) {
	ruri := req.RequestURI()
	if req.Method() == sip.REGISTER && s.ownHost(ruri.Host) {
		// A REGISTER's Request-URI names the registrar's domain (§10.2),
		// usually without a port.
		return proxy.Decision{Response: s.reg.Register(ctx, req, src)}, nil
	}
	local := s.p.IsLocal(ruri)
	if resp, err := s.authorize(req, src, local); resp != nil || err != nil {
		return proxy.Decision{Response: resp}, err
	}
	if !local {
		return proxy.Decision{Targets: []proxy.Target{{URI: ruri}}}, nil
	}
	if ruri.User == "" {
		return proxy.Decision{}, proxy.Reject(484, "") // as Kamailio's stock config
	}
	key, ok := s.aor(ruri)
	if !ok {
		return proxy.Decision{}, proxy.Reject(404, "")
	}
	bs, err := s.store.Lookup(ctx, key, time.Now())
	if err != nil {
		return proxy.Decision{}, err
	}
	if len(bs) == 0 {
		return proxy.Decision{}, proxy.Reject(404, "")
	}
	ts := make([]proxy.Target, 0, len(bs))
	for _, b := range bs {
		u, err := sip.ParseURI(b.Contact)
		if err != nil {
			continue
		}
		ts = append(ts, proxy.Target{URI: u, Q: b.Q, Path: b.Path, Next: via(u, b)})
	}
	if len(ts) == 0 {
		return proxy.Decision{}, errors.New("proxyd: no usable contact")
	}
	return proxy.Decision{Targets: ts}, nil
}

// authorize is the proxy side of --users, as Kamailio's stock config
// does it: a request from one of our users (its From is one of our
// hosts), and any request to relay elsewhere, must carry credentials
// (407, RFC 3261 §22.3) unless it comes from a trusted network; so the
// proxy is no open relay, and nobody calls as our users. Calls from
// outside to our users need none. CANCEL and ACK cannot be challenged
// (§22.1) and in-dialog requests follow the dialog. A challenge or a
// refusal ends the request; neither: go on.
func (s *Server) authorize(req *sip.Request, src transport.Source, local bool) (*sip.Response, error) {
	if s.auth == nil || req.ToTag() != "" {
		return nil, nil
	}
	switch req.Method() {
	case sip.ACK, sip.CANCEL, sip.REGISTER:
		return nil, nil
	}
	from := req.From().URI
	fromOurs := s.ownHost(from.Host)
	if !fromOurs && local {
		return nil, nil
	}
	a := src.Remote.Addr().Unmap()
	for _, n := range s.trusted {
		if n.Contains(a) {
			return nil, nil
		}
	}
	user, err := s.auth.Verify(req, true)
	if err != nil {
		return s.auth.ChallengeResponse(req, true, errors.Is(err, auth.ErrStale)), nil
	}
	if fromOurs && user != sip.Unescape(from.User) {
		return nil, proxy.Reject(403, "Auth ID does not match From")
	}
	return nil, nil
}

// via is where to reach a registered contact when its URI does not say:
// a WebSocket client's Contact host is made up (RFC 7118 §5: ".invalid"),
// and a phone registered over a stream is reached over that connection,
// which the transport still holds, not by opening one to its Contact (as
// Kamailio does with TCP connection reuse). Otherwise the Contact is
// resolved (the zero Target).
func via(contact sip.URI, b location.Binding) transport.Target {
	tr, addr, ok := strings.Cut(b.Received, ":")
	if !ok || (strings.EqualFold(tr, transport.UDP) && !strings.HasSuffix(strings.ToLower(contact.Host), ".invalid")) {
		return transport.Target{}
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return transport.Target{}
	}
	return transport.Target{Transport: strings.ToUpper(tr), Addr: ap}
}

// badMessage answers a request that did not parse with 400 and the
// parser's reason phrase naming the problem (an ACK gets nothing). It
// goes straight to the transport, statelessly: the transaction layer
// cannot match what did not parse, and a retransmission is answered
// again the same way.
func (s *Server) badMessage(msg sip.Message, err error, src transport.Source) {
	req, ok := msg.(*sip.Request)
	if !ok || req.Method() == sip.ACK {
		return
	}
	reason := "Bad Request"
	var pe *sip.ParseError
	if errors.As(err, &pe) {
		reason = pe.Reason()
	}
	if err := s.tl.SendResponse(context.Background(), sip.NewResponse(req, 400, reason), src); err != nil {
		s.log.Debug("proxyd: 400 not sent", "err", err)
	}
}

func hostString(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}
