package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transaction"
	"github.com/sipkit/sipkit/transport"
)

// Target is one destination of a request: an element of the target set
// of RFC 3261 §16.5.
type Target struct {
	// URI becomes the Request-URI of the request sent to this target.
	URI sip.URI
	// Q is the target's q-value times 1000 (a Contact's q=0.5 is 500).
	// Targets are tried in groups of equal Q, highest first; the targets
	// of one group in parallel (§16.6, RFC 3261 §16.7 step 10, as
	// Kamailio's t_load_contacts/t_next_contacts do).
	Q int
	// Path is the RFC 3327 Path of the registration this target came
	// from: name-addr values that become the first Route headers.
	Path []string
	// Next, if valid, is where to send instead of resolving the top Route
	// or the URI (§16.6 step 7): an outbound proxy, a registration's
	// received address.
	Next transport.Target
}

// Decision is a router's answer for one request.
type Decision struct {
	// Targets are where to forward the request.
	Targets []Target
	// Response, if set, answers the request here instead (a registrar's
	// answer to a REGISTER, a redirect, an OPTIONS ping to the proxy).
	Response *sip.Response
}

// Router chooses the targets of a request that is not routed by its
// Route header set: an initial request for a domain the proxy serves or
// a request the router decides to relay. It is called in the goroutine
// that received the request and must not block for long: a location
// service lookup, not a network round trip per call. Return a
// *StatusError (see Reject) to answer with a status; any other error is
// answered 500.
type Router interface {
	Route(ctx context.Context, req *sip.Request, src transport.Source) (Decision, error)
}

// RouterFunc adapts a function to Router.
type RouterFunc func(ctx context.Context, req *sip.Request, src transport.Source) (Decision, error)

// Route calls f.
func (f RouterFunc) Route(ctx context.Context, req *sip.Request, src transport.Source) (Decision, error) {
	return f(ctx, req, src)
}

// Listener is one of the proxy's own listening points: a Route or Via
// naming it names the proxy, and Record-Route uses it.
type Listener struct {
	Transport string // UDP, TCP, TLS, WS, WSS
	Addr      netip.AddrPort
}

// Config configures a Proxy. Every zero field takes the default it names.
type Config struct {
	// Sender sends what the proxy's transactions send: a
	// *transport.Layer, or a siptest endpoint. Required.
	Sender transaction.Sender
	// Listeners are the proxy's own addresses, at least one. A URI whose
	// host and port are one of them (the port defaulting per transport)
	// is the proxy itself.
	Listeners []Listener
	// Domains are further hosts the proxy is responsible for (any port).
	Domains []string
	// Router chooses targets. Nil: every request goes to its
	// Request-URI.
	Router Router
	// Resolver finds where to send a request (RFC 3263). Nil: a
	// transport.Resolver using /etc/resolv.conf; numeric hosts need no DNS.
	Resolver *transport.Resolver
	// Resolve, if set, is used instead of Resolver.Resolve: the addresses
	// to try for a next hop, in order. A branch moves to the next one
	// when the last times out, fails at the transport or answers 503
	// (RFC 3263 §4.3).
	Resolve func(ctx context.Context, u sip.URI) ([]transport.Target, error)

	// RecordRoute adds a Record-Route header to dialog-creating requests
	// (INVITE, SUBSCRIBE, REFER). Nil: true.
	RecordRoute *bool
	// Trusted are the networks whose CANCEL Reason is passed downstream
	// (DESIGN.md): from anywhere else, the Reason headers of a CANCEL are
	// removed and the downstream CANCELs carry CancelReason. Empty: no one
	// is trusted.
	Trusted []netip.Prefix
	// CancelReason is the Reason of the CANCELs sent downstream for an
	// untrusted caller's CANCEL. Empty: none.
	CancelReason string

	// Timers are the transaction timers (T1, T2, T4).
	Timers transaction.Timers
	// TimerC bounds how long an INVITE branch waits between provisional
	// responses (RFC 3261 §16.6 step 11: more than 3 minutes). Zero: 185 s.
	TimerC time.Duration
	// NoAnswerTimeout cancels a branch that has rung this long since its
	// first provisional response without a final one (Kamailio's
	// fr_inv_timer). Zero: 120 s.
	NoAnswerTimeout time.Duration
	// MaxCallSetup bounds how long the proxy forwards one INVITE: then
	// the caller gets 408 and the branches still pending are cancelled
	// (Kamailio's max_inv_lifetime, 180 s there). Zero: 10 minutes, room
	// for serial forking through several groups that each ring for the
	// no-answer timeout.
	MaxCallSetup time.Duration
	// MaxBreadth is the Max-Breadth of a request that has none (RFC 5393
	// §5.3.1). Zero: 60.
	MaxBreadth int

	// Logger receives the proxy's events. Nil: slog.Default().
	Logger *slog.Logger
}

func (c *Config) validate() error {
	if c.Sender == nil {
		return errors.New("proxy: Config.Sender is required")
	}
	if len(c.Listeners) == 0 {
		return errors.New("proxy: Config.Listeners needs at least one address")
	}
	for _, l := range c.Listeners {
		if !l.Addr.IsValid() || l.Addr.Addr().IsUnspecified() {
			return errors.New("proxy: a listener needs a specific address (not 0.0.0.0 or ::) for Record-Route and Via")
		}
	}
	if c.TimerC != 0 && c.TimerC <= 3*time.Minute {
		return errors.New("proxy: Timer C must be more than 3 minutes (RFC 3261 §16.6)")
	}
	return nil
}

func (c *Config) withDefaults() Config {
	d := *c
	if d.Router == nil {
		d.Router = RouterFunc(func(_ context.Context, req *sip.Request, _ transport.Source) (Decision, error) {
			return Decision{Targets: []Target{{URI: req.RequestURI()}}}, nil
		})
	}
	if d.Resolver == nil {
		d.Resolver = &transport.Resolver{}
	}
	if d.Resolve == nil {
		d.Resolve = d.Resolver.Resolve
	}
	if d.RecordRoute == nil {
		t := true
		d.RecordRoute = &t
	}
	if d.TimerC == 0 {
		d.TimerC = 185 * time.Second
	}
	if d.NoAnswerTimeout == 0 {
		d.NoAnswerTimeout = 120 * time.Second
	}
	if d.MaxBreadth == 0 {
		d.MaxBreadth = 60
	}
	if d.MaxCallSetup == 0 {
		d.MaxCallSetup = 10 * time.Minute
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return d
}
