package proxy

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transaction"
	"github.com/sipkit/sipkit/transport"
)

// Proxy is a transaction-stateful SIP proxy (RFC 3261 §16). It owns a
// transaction layer: give the Proxy to the transport as its Handler.
type Proxy struct {
	cfg   Config
	layer *transaction.Layer
	log   *slog.Logger
	seed  maphash.Seed

	rr    map[Listener]sip.NameAddr // Record-Route value per listener
	stats Stats
	calls callTable
}

// Stats are counters since the proxy started.
type Stats struct {
	Requests, Forwarded, Branches, Cancels, LocalReplies, Stateless atomic.Uint64
}

// New returns a proxy.
func New(cfg Config) (*Proxy, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := cfg.withDefaults()
	p := &Proxy{cfg: c, log: c.Logger, seed: maphash.MakeSeed(), rr: make(map[Listener]sip.NameAddr)}
	for _, l := range c.Listeners {
		p.rr[l] = recordRouteFor(l)
	}
	p.calls.init()
	l, err := transaction.New(transaction.Config{
		Sender:                 c.Sender,
		Handler:                p,
		Timers:                 c.Timers,
		InviteLifetime:         c.MaxCallSetup,
		ForwardUnmatchedCancel: true,
	})
	if err != nil {
		return nil, err
	}
	p.layer = l
	return p, nil
}

// HandleMessage takes a message from the transport (transport.Handler).
func (p *Proxy) HandleMessage(msg sip.Message, src transport.Source) { p.layer.HandleMessage(msg, src) }

// Layer returns the proxy's transaction layer.
func (p *Proxy) Layer() *transaction.Layer { return p.layer }

// Stats returns the proxy's counters.
func (p *Proxy) Stats() *Stats { return &p.stats }

// HandleRequest is the transaction user for a new server transaction
// (transaction.Handler): RFC 3261 §16.3 to §16.6.
func (p *Proxy) HandleRequest(stx *transaction.ServerTx, req *sip.Request) {
	p.stats.Requests.Add(1)
	if req.Method() == sip.CANCEL {
		p.forwardCancel(stx, req)
		return
	}
	in := sip.Clone(req)
	if code, reason, hdrs := p.check(in); code != 0 {
		p.reply(stx, code, reason, hdrs...)
		return
	}
	if in.Method() == sip.INVITE {
		// §16.2: a stateful proxy answers 100 for an INVITE at once, so
		// the caller stops retransmitting (Kamailio's auto_inv_100).
		stx.Respond(sip.NewResponse(req, 100, ""))
	}
	if code := p.preprocessRoute(in); code != 0 {
		p.reply(stx, code, "")
		return
	}
	if ruri := in.RequestURI(); in.Method() == sip.OPTIONS && ruri.User == "" && !in.Has("Route") && p.IsLocal(ruri) {
		// An OPTIONS ping addressed to the proxy itself (§11), also
		// through its own Route (a phone's outbound proxy).
		p.reply(stx, 200, "", "Allow", allow)
		return
	}
	loop := p.loopHash(in)
	if p.looped(in, loop) {
		p.reply(stx, 482, "")
		return
	}
	targets, resp, err := p.targets(stx, in)
	switch {
	case err != nil:
		var se *StatusError
		if errors.As(err, &se) && se.Code >= 300 && se.Code < 700 {
			p.reply(stx, se.Code, se.Reason)
			return
		}
		p.log.Warn("proxy: router failed", "call-id", in.CallID(), "err", err)
		p.reply(stx, 500, "")
		return
	case resp != nil:
		if resp.StatusCode() < 200 {
			// Only a final answer ends the request.
			p.log.Warn("proxy: router answered with a provisional response", "code", resp.StatusCode())
			p.reply(stx, 500, "")
			return
		}
		p.stats.LocalReplies.Add(1)
		stx.Respond(resp)
		return
	case len(targets) == 0:
		p.reply(stx, 480, "")
		return
	}
	p.stats.Forwarded.Add(1)
	p.fork(stx, in, targets, loop)
}

// targets returns the target set (§16.5): the Request-URI alone for a
// request that carries its route (a Route header, or a To tag: an
// in-dialog request is routed by what it says, not by location), the
// router's choice for the rest.
func (p *Proxy) targets(stx *transaction.ServerTx, in *sip.Request) ([]Target, *sip.Response, error) {
	ruri := in.RequestURI()
	if in.Has("Route") {
		return []Target{{URI: ruri}}, nil, nil
	}
	if in.ToTag() != "" && in.Method() != sip.REGISTER { // a REGISTER is never in a dialog
		if p.IsLocal(ruri) {
			// An in-dialog request for the proxy itself with no route
			// to follow: nothing here has a dialog (Kamailio's stock
			// config answers the same).
			return nil, nil, Reject(404, "Not Here")
		}
		return []Target{{URI: ruri}}, nil, nil
	}
	d, err := p.cfg.Router.Route(context.Background(), in, stx.Source())
	return d.Targets, d.Response, err
}

// reply answers a request with a status of the proxy's own (with a To
// tag, §8.2.6.2) and extra headers as name, value pairs.
func (p *Proxy) reply(stx *transaction.ServerTx, code int, reason string, hdrs ...string) {
	p.stats.LocalReplies.Add(1)
	resp := newResponse(stx.Request(), code, reason)
	for i := 0; i+1 < len(hdrs); i += 2 {
		resp.AppendHeader(hdrs[i], hdrs[i+1])
	}
	stx.Respond(resp)
}

func newResponse(req *sip.Request, code int, reason string) *sip.Response {
	resp := sip.NewResponse(req, code, reason)
	if code > 100 && resp.ToTag() == "" {
		resp.SetToTag(sip.NewTag())
	}
	return resp
}

// HandleCancel is called when the caller cancels an INVITE the proxy is
// forwarding (transaction.Handler; the layer has answered the CANCEL 200,
// §16.10).
func (p *Proxy) HandleCancel(stx *transaction.ServerTx, cancel *sip.Request) {
	p.stats.Cancels.Add(1)
	if stx.Request().Method() != sip.INVITE {
		return // §9.2: a CANCEL does not end a non-INVITE request
	}
	rc, _ := stx.Value().(*respContext)
	if rc == nil {
		return // answered before a context existed: nothing to cancel
	}
	rc.cancelByCaller(p.cancelReason(cancel, stx.CancelSource()))
}

// cancelReason applies the trust policy (DESIGN.md): the Reason headers
// of a CANCEL from a trusted network go downstream; anyone else's are
// dropped for the configured default, so a stranger cannot make a phone
// file a call as "completed elsewhere".
func (p *Proxy) cancelReason(cancel *sip.Request, src transport.Source) string {
	if p.trusted(src.Remote.Addr()) {
		var vals []string
		for v := range cancel.Values("Reason") {
			vals = append(vals, v)
		}
		if len(vals) > 0 {
			return strings.Join(vals, ", ")
		}
	}
	return p.cfg.CancelReason
}

func (p *Proxy) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range p.cfg.Trusted {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// HandleAck forwards the ACK for a 2xx, which is no transaction of its
// own, statelessly by its Route and Request-URI (§16.11, §13.2.2.4).
func (p *Proxy) HandleAck(ack *sip.Request, src transport.Source) {
	p.forwardStateless(ack)
}

// HandleError hears of a server transaction that failed. If it gave up
// waiting for the final response (MaxCallSetup: it has answered the
// caller 408 itself) or could not send to the caller, nothing more can
// go upstream: the branches still pending are cancelled.
func (p *Proxy) HandleError(stx *transaction.ServerTx, err error) {
	p.log.Debug("proxy: server transaction failed", "call-id", stx.Request().CallID(), "err", err)
	if rc, _ := stx.Value().(*respContext); rc != nil {
		rc.abandon(ReasonTimeout)
	}
}

// IsLocal reports whether u names the proxy: its host and port are one
// of the listeners (the port defaulting per the URI's transport), or its
// host is one of the configured domains.
func (p *Proxy) IsLocal(u sip.URI) bool {
	for _, d := range p.cfg.Domains {
		if strings.EqualFold(u.Host, d) {
			return true
		}
	}
	port := u.Port
	if port == 0 {
		tr := u.Transport()
		if u.IsSecure() {
			tr = transport.TLS
		}
		port = int(transport.DefaultPort(tr))
	}
	return p.listens(u.Host, port)
}

// ownVia reports whether a Via's sent-by is one of the proxy's
// listeners: the transport writes the socket's address there.
func (p *Proxy) ownVia(v sip.Via) bool { return p.listens(v.Host, v.Port) }

// listens reports whether host (numeric) and port are a listener's.
func (p *Proxy) listens(host string, port int) bool {
	a, ok := transport.HostAddr(host)
	if !ok {
		return false
	}
	for _, l := range p.cfg.Listeners {
		if l.Addr.Addr().Unmap() == a && int(l.Addr.Port()) == port {
			return true
		}
	}
	return false
}

// recordRouteFor is the Record-Route value naming a listener: loose
// routing (lr), and the transport when it is not UDP.
func recordRouteFor(l Listener) sip.NameAddr {
	host := l.Addr.Addr().String()
	if l.Addr.Addr().Is6() {
		host = "[" + host + "]"
	}
	params := ";lr"
	scheme := "sip"
	switch l.Transport {
	case transport.UDP:
	case transport.TLS:
		scheme = "sips"
		params = ";transport=tcp;lr"
	default:
		params = ";transport=" + strings.ToLower(l.Transport) + ";lr"
	}
	return sip.NameAddr{URI: sip.URI{Scheme: scheme, Host: host, Port: int(l.Addr.Port()), Params: sip.Params(params)}, Bracket: true}
}

// listenerFor returns the listener of a transport, the one a message
// came in on when it is of that transport.
func (p *Proxy) listenerFor(tr string, local netip.AddrPort) (Listener, bool) {
	var first Listener
	found := false
	for _, l := range p.cfg.Listeners {
		if l.Transport != tr {
			continue
		}
		if l.Addr == local {
			return l, true
		}
		if !found {
			first, found = l, true
		}
	}
	return first, found
}
