package proxy

import (
	"hash/maphash"
	"strconv"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transaction"
)

// forwardStateless forwards the ACK for a 2xx, which has no transaction
// (§16.11, §13.2.2.4), by its Route and Request-URI. Its branch is a hash
// of the incoming one, so every retransmission leaves with the same
// branch, as a stateless proxy's must.
func (p *Proxy) forwardStateless(in *sip.Request) {
	p.stats.Stateless.Add(1)
	if mf, ok := in.MaxForwards(); ok && mf == 0 {
		return
	}
	if p.preprocessRoute(in) != 0 {
		return
	}
	if !in.Has("Route") && p.IsLocal(in.RequestURI()) {
		return // an ACK for the proxy itself: it sent no 2xx
	}
	if _, err := in.DecrementMaxForwards(); err != nil {
		return
	}
	r, hop, err := p.prepare(&respContext{in: in}, &branch{})
	if err != nil {
		return
	}
	branch := sip.MagicCookie + "sl" + strconv.FormatUint(maphash.String(p.seed, in.Branch()), 16)
	p.soon(Target{}, hop, func() { p.sendStateless(r, hop, branch) })
}

func (p *Proxy) sendStateless(r *sip.Request, hop sip.URI, branch string) {
	next, err := p.nextHop(Target{}, hop)
	if err != nil {
		return
	}
	if r.PrependVia(p.via(next, branch)) != nil {
		return
	}
	if err := p.layer.SendACK(bg, r, next); err != nil {
		p.log.Debug("proxy: ACK not forwarded", "call-id", r.CallID(), "err", err)
	}
}

// forwardCancel handles a CANCEL that matched no transaction (§16.10).
// It is routed as its INVITE would have been, to one target (a stateless
// proxy does not fork, §16.11), in a transaction of its own whose final
// response goes back on the CANCEL's: RFC 6026 §7.3 has a proxy drop
// stray responses, so a CANCEL forwarded with no transaction at all
// would never be answered.
func (p *Proxy) forwardCancel(stx *transaction.ServerTx, req *sip.Request) {
	in := sip.Clone(req)
	if _, err := in.DecrementMaxForwards(); err != nil {
		p.reply(stx, 483, "")
		return
	}
	if code := p.preprocessRoute(in); code != 0 {
		p.reply(stx, code, "")
		return
	}
	// The Reason trust policy holds here too (DESIGN.md).
	reason := p.cancelReason(in, stx.Source())
	in.RemoveHeader("Reason")
	if reason != "" {
		if err := in.AppendHeader("Reason", reason); err != nil {
			p.reply(stx, 400, "Bad Reason")
			return
		}
	}
	targets, resp, err := p.targets(stx, in)
	if err != nil || resp != nil || len(targets) == 0 {
		p.reply(stx, 481, "")
		return
	}
	b := &branch{target: targets[0]}
	r, hop, err := p.prepare(&respContext{in: in}, b)
	if err != nil {
		p.reply(stx, 481, "")
		return
	}
	send := func() {
		next, err := p.nextHop(b.target, hop)
		if err == nil {
			err = r.PrependVia(p.via(next, sip.NewBranch()))
		}
		if err == nil {
			_, err = p.layer.Request(bg, r, next, relay{stx})
		}
		if err != nil {
			p.reply(stx, 481, "")
		}
	}
	p.soon(b.target, hop, send)
}

// relay passes the final response of a forwarded CANCEL back upstream.
type relay struct{ stx *transaction.ServerTx }

func (r relay) HandleResponse(_ *transaction.ClientTx, resp *sip.Response) {
	if resp.StatusCode() < 200 {
		return
	}
	resp.RemoveTopVia()
	r.stx.Respond(resp)
}

func (r relay) HandleError(_ *transaction.ClientTx, err error) {
	r.stx.Respond(newResponse(r.stx.Request(), statusOf(err), ""))
}
