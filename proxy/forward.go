package proxy

import (
	"context"
	"net/netip"
	"strconv"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

var bg = context.Background()

// start builds the branch's request and sends it (§16.6).
func (b *branch) start() {
	rc := b.rc
	r, hop, err := rc.p.prepare(rc, b)
	if err != nil {
		// The target's own data (a Path the router gave) is wrong: the
		// proxy's fault, not the caller's.
		rc.p.log.Warn("proxy: cannot forward", "call-id", rc.in.CallID(), "err", err)
		b.fail(500)
		return
	}
	rc.p.soon(b.target, hop, func() { b.send(r, hop) })
}

// soon runs f at once when sending toward the next hop cannot wait on
// the network, else on a goroutine of its own, so the reader that is
// running the proxy never does (DESIGN.md): a host name needs DNS, and a
// TCP, TLS or WebSocket target with no connection open needs one opened,
// which a silent peer stretches to the dial timeout (Kamailio's
// tcp_async does this for the same reason).
func (p *Proxy) soon(t Target, hop sip.URI, f func()) {
	next, ok := t.Next, t.Next.Addr.IsValid()
	if !ok {
		next, ok = transport.NumericTarget(hop)
	}
	if ok && !p.wouldDial(next) {
		f()
		return
	}
	go f()
}

// wouldDial reports whether sending to t opens a connection first. A
// Sender that cannot tell is assumed to, for streams.
func (p *Proxy) wouldDial(t transport.Target) bool {
	if d, ok := p.cfg.Sender.(interface{ WouldDial(transport.Target) bool }); ok {
		return d.WouldDial(t)
	}
	return t.Transport != transport.UDP
}

// send resolves the next hop and sends the branch's request there.
func (b *branch) send(r *sip.Request, hop sip.URI) {
	rc := b.rc
	p := rc.p
	hops, err := p.nextHops(b.target, hop)
	if err != nil {
		// Nowhere to send it: a 503 from this branch, which the best
		// response rule sends up as 500 when it is the only one.
		p.log.Debug("proxy: next hop not resolved", "uri", hop.String(), "err", err)
		b.fail(503)
		return
	}
	rc.mu.Lock()
	b.prepared, b.alts = r, hops[1:]
	rc.mu.Unlock()
	b.sendTo(hops[0])
}

// sendTo starts the branch's client transaction toward next: the first
// address of its next hop, or the next one after a failure (RFC 3263
// §4.3). Every attempt has a Via and branch of its own, on a copy of the
// prepared request while another address remains.
func (b *branch) sendTo(next transport.Target) {
	rc := b.rc
	p := rc.p
	rc.mu.Lock()
	r := b.prepared
	if len(b.alts) > 0 {
		// Keep the prepared request as it is for the next attempt.
		r = sip.Clone(r)
	}
	rc.mu.Unlock()
	// Record-Route of the outbound side when it is another listener
	// (RFC 5658 double record-routing).
	if rc.rr {
		src := rc.stx.Source()
		in, _ := p.listenerFor(src.Transport, src.Local)
		if out, ok := p.listenerFor(next.Transport, netip.AddrPort{}); ok && out != in {
			r.PrependRecordRoute(p.rr[out])
		}
	}
	if err := r.PrependVia(p.via(next, branchID(rc.loop))); err != nil {
		b.fail(500)
		return
	}
	rc.mu.Lock()
	switch {
	case b.stage == done:
		// Ended meanwhile (Timer C, the CANCEL's wait): nothing to send.
		rc.mu.Unlock()
		return
	case b.cancelWanted:
		// Cancelled before this attempt left: it need not leave at all.
		rc.mu.Unlock()
		b.fail(487)
		return
	}
	b.req, b.tx = r, nil
	rc.mu.Unlock()
	tx, err := p.layer.Request(bg, r, next, b)
	if err != nil {
		p.log.Debug("proxy: branch not sent", "call-id", rc.in.CallID(), "to", next.String(), "err", err)
		b.failOver(503)
		return
	}
	rc.mu.Lock()
	if b.req == r && b.tx == nil {
		b.tx = tx
	}
	if rc.invite && b.stage != done {
		if b.timerC == nil {
			b.timerC = time.AfterFunc(p.cfg.TimerC, b.onTimerC) // §16.6 step 11
		} else {
			b.timerC.Reset(p.cfg.TimerC)
		}
	}
	rc.mu.Unlock()
}

// failOver tries the branch's next address after a failure RFC 3263
// §4.3 fails over on (no response, a transport error, a 503), unless the
// branch is being cancelled or has no address left; then the branch ends
// with code, as Kamailio's DNS failover does.
func (b *branch) failOver(code int) {
	rc := b.rc
	rc.mu.Lock()
	if b.stage == done || b.cancelWanted || len(b.alts) == 0 {
		rc.mu.Unlock()
		b.fail(code)
		return
	}
	next := b.alts[0]
	b.alts = b.alts[1:]
	// The next address starts afresh: no provisional from it yet (a
	// CANCEL waits for one, §9.1), and its own no-answer time.
	b.stage, b.req, b.tx = trying, nil, nil
	if b.noAnswer != nil {
		b.noAnswer.Stop()
		b.noAnswer = nil
	}
	rc.mu.Unlock()
	rc.p.log.Debug("proxy: failing over", "call-id", rc.in.CallID(), "to", next.String(), "after", code)
	b.sendTo(next)
}

// prepare copies the shared request for one target (§16.6 steps 1, 2,
// 5, 6) and returns the URI to resolve for the next hop (step 7).
func (p *Proxy) prepare(rc *respContext, b *branch) (*sip.Request, sip.URI, error) {
	r := sip.Clone(rc.in)
	t := b.target
	if t.URI.Scheme != "" {
		r.SetRequestURI(t.URI) // step 2
	}
	// Step 5: the target's Path (RFC 3327 §5.3) in front of the route.
	for i := len(t.Path) - 1; i >= 0; i-- {
		na, err := sip.ParseNameAddr(t.Path[i])
		if err != nil {
			return nil, sip.URI{}, err
		}
		if err := r.PrependRoute(na); err != nil {
			return nil, sip.URI{}, err
		}
	}
	if b.breadth > 0 {
		if err := r.SetHeader("Max-Breadth", strconv.Itoa(b.breadth)); err != nil {
			return nil, sip.URI{}, err
		}
	}
	hop := r.RequestURI()
	if r.Has("Route") {
		routes, err := r.Routes()
		if err != nil {
			return nil, sip.URI{}, err
		}
		top := routes[0]
		if !top.URI.Params.Has("lr") {
			// Step 6: a strict router next: it gets the Request-URI
			// from the top Route, and the Request-URI goes last.
			old := r.RequestURI()
			r.SetRequestURI(top.URI)
			r.RemoveTopRoute()
			if err := r.AppendHeader("Route", "<"+old.String()+">"); err != nil {
				return nil, sip.URI{}, err
			}
			return r, top.URI, nil
		}
		hop = top.URI
	}
	return r, hop, nil
}

// nextHops is §16.6 step 7: the target's fixed next hop, or the
// addresses RFC 3263 gives for hop (the top Route, else the
// Request-URI), in the order to try them.
func (p *Proxy) nextHops(t Target, hop sip.URI) ([]transport.Target, error) {
	if t.Next.Addr.IsValid() {
		return []transport.Target{t.Next}, nil
	}
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	ts, err := p.cfg.Resolve(ctx, hop)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, transport.ErrNoTargets
	}
	return ts, nil
}

// nextHop is the first of nextHops, for what is sent once (an ACK).
func (p *Proxy) nextHop(t Target, hop sip.URI) (transport.Target, error) {
	ts, err := p.nextHops(t, hop)
	if err != nil {
		return transport.Target{}, err
	}
	return ts[0], nil
}

// via is the proxy's Via for a request leaving to next (§16.6 step 8);
// the transport writes the socket's own sent-by into it.
func (p *Proxy) via(next transport.Target, branch string) sip.Via {
	v := sip.Via{Protocol: "SIP", Version: "2.0", Transport: next.Transport, Branch: branch}
	l, ok := p.listenerFor(next.Transport, netip.AddrPort{})
	if !ok {
		l = p.cfg.Listeners[0]
	}
	v.Host, v.Port = hostOf(l.Addr), int(l.Addr.Port())
	return v
}

func hostOf(a netip.AddrPort) string {
	if a.Addr().Is6() {
		return "[" + a.Addr().String() + "]"
	}
	return a.Addr().String()
}
