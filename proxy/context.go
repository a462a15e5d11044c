package proxy

import (
	"errors"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transaction"
	"github.com/sipkit/sipkit/transport"
)

// Reasons of the CANCELs the proxy sends on its own (RFC 3326).
const (
	// ReasonCompletedElsewhere is what the losing branches of a call that
	// was answered are cancelled with, so phones do not list a missed
	// call (DESIGN.md).
	ReasonCompletedElsewhere = `SIP;cause=200;text="Call completed elsewhere"`
	// ReasonNoAnswer cancels a branch that rang for NoAnswerTimeout.
	ReasonNoAnswer = `SIP;cause=408;text="No answer timeout"`
	// ReasonTimerC cancels a branch that went quiet for Timer C.
	ReasonTimerC = `SIP;cause=408;text="Timer C expired"`
	// ReasonTimeout cancels what is pending when the call reached
	// MaxCallSetup, or the caller could no longer be answered.
	ReasonTimeout = `SIP;cause=408;text="Request Timeout"`
)

// reasonFor is the Reason that cancels the other branches after a 6xx
// (DESIGN.md): the 6xx's own code and phrase.
func reasonFor(resp *sip.Response) string {
	return "SIP;cause=" + strconv.Itoa(resp.StatusCode()) + ";text=" + sip.Quote(resp.Reason())
}

// respContext is the response context of RFC 3261 §16.7: one server
// transaction and the client transactions (branches) it forked. All its
// state is under mu; sends and other transactions are touched only after
// mu is released (DESIGN.md: no locks held across callbacks), through
// the actions the locked methods return.
type respContext struct {
	p       *Proxy
	stx     *transaction.ServerTx
	in      *sip.Request // the request after §16.4 and the changes every branch shares
	loop    string       // loop-detection hash for the branches' Via
	invite  bool
	rr      bool // record-route the branches
	started time.Time

	mu        sync.Mutex
	groups    [][]Target // by q, highest first (serial forking)
	next      int        // the next group to start
	branches  []*branch
	pending   int // branches without a final response
	breadth   int // Max-Breadth to share among parallel branches (RFC 5393)
	finals    []*sip.Response
	stopped   bool // no new branches: a 2xx, a 6xx or a CANCEL came
	answered  bool // a final response went upstream
	cancelled bool // the caller cancelled (§16.10)
	listed    bool // in the proxy's call table
}

type stage uint8

const (
	trying  stage = iota // sent, or being sent; no provisional yet
	ringing              // a provisional came: a CANCEL may go (§9.1)
	done                 // a final response, or the branch ended without one
)

// branch is one client transaction of a response context.
type branch struct {
	rc      *respContext
	target  Target
	breadth int // its Max-Breadth, 0 when none is set

	// Under rc.mu:
	prepared     *sip.Request       // the request for this target, before its Via
	alts         []transport.Target // the next hop's other addresses (RFC 3263 §4.3)
	req          *sip.Request       // as sent, on the current attempt
	tx           *transaction.ClientTx
	stage        stage
	cancelWanted bool
	cancelReason string // chosen when the decision was made, kept for a late CANCEL
	cancelSent   bool
	timedOut     bool // cancelled by Timer C or the no-answer timeout: its end is a 408
	timerC       *time.Timer
	noAnswer     *time.Timer
	cancelWait   *time.Timer
}

type actions []func()

func (a actions) run() {
	for _, f := range a {
		f()
	}
}

// fork starts the response context for a request with its targets.
func (p *Proxy) fork(stx *transaction.ServerTx, in *sip.Request, targets []Target, loop string) {
	rc := &respContext{
		p: p, stx: stx, in: in, loop: loop,
		invite: in.Method() == sip.INVITE,
		groups: groupByQ(targets),
	}
	rc.breadth = p.cfg.MaxBreadth
	if v, ok := in.Get("Max-Breadth"); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			rc.breadth = n
		}
	}
	// §16.6 step 3: Max-Forwards; step 4: Record-Route (the inbound
	// side; a branch leaving on another transport adds its own, RFC
	// 5658). Every branch shares these changes.
	if _, err := in.DecrementMaxForwards(); err != nil {
		p.reply(stx, 483, "")
		return
	}
	if *p.cfg.RecordRoute && in.ToTag() == "" {
		switch in.Method() {
		case sip.INVITE, sip.SUBSCRIBE, sip.REFER:
			rc.rr = true
			src := stx.Source()
			if l, ok := p.listenerFor(src.Transport, src.Local); ok {
				in.PrependRecordRoute(p.rr[l])
			}
		}
	}
	rc.started = time.Now()
	stx.SetValue(rc)
	rc.listed = true
	p.calls.add(rc)
	rc.mu.Lock()
	acts := rc.settle()
	acts = append(acts, rc.unlist()...)
	rc.mu.Unlock()
	acts.run()
}

// unlist takes the context out of the call table once a final response
// went up and no branch is pending. Locked.
func (rc *respContext) unlist() actions {
	if !rc.listed || !rc.answered || rc.pending > 0 {
		return nil
	}
	rc.listed = false
	return actions{func() { rc.p.calls.remove(rc) }}
}

// groupByQ splits targets into groups of equal q, highest first, keeping
// the router's order inside a group.
func groupByQ(ts []Target) [][]Target {
	s := make([]Target, len(ts))
	copy(s, ts)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Q > s[j].Q })
	var groups [][]Target
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && s[j].Q == s[i].Q {
			j++
		}
		groups = append(groups, s[i:j])
		i = j
	}
	return groups
}

// settle moves the context on when no branch is pending: the next group
// of targets (serial forking, §16.7 step 10 is the other way round: a
// negative final from every branch of a group), or the best response
// upstream (§16.7 step 6). Locked.
func (rc *respContext) settle() actions {
	if rc.pending > 0 {
		return nil
	}
	for !rc.stopped && rc.next < len(rc.groups) {
		g := rc.groups[rc.next]
		rc.next++
		if len(g) > rc.breadth && len(g) > 1 {
			// RFC 5393 §5.3: not enough breadth to fork this group.
			resp := newResponse(rc.stx.Request(), 440, "")
			rc.finals = append(rc.finals, resp)
			continue
		}
		var acts actions
		for i, t := range g {
			b := &branch{rc: rc, target: t}
			if len(g) > 1 || rc.in.Has("Max-Breadth") {
				// Parallel branches share the breadth (RFC 5393 §5.3.2).
				b.breadth = rc.breadth / len(g)
				if i < rc.breadth%len(g) {
					b.breadth++
				}
			}
			rc.branches = append(rc.branches, b)
			rc.pending++
			acts = append(acts, b.start)
		}
		rc.p.stats.Branches.Add(uint64(len(g)))
		return acts
	}
	if rc.answered {
		return nil
	}
	rc.answered = true
	if !rc.invite && len(rc.finals) == 0 {
		// RFC 4320 §4.2: no 408 for a non-INVITE request; the client
		// times out on its own.
		return nil
	}
	best := rc.best()
	stx := rc.stx
	return actions{func() { stx.Respond(best) }}
}

// best chooses the response to send upstream when every branch has ended
// without a 2xx (§16.7 step 6): a 6xx if there is one; else the lowest
// class, preferring 401, 407, 415, 420 and 484 among 4xx; 503 goes up as
// 500; no response at all is a 408. A cancelled INVITE ends 487, even
// when a branch ended by a timeout of its own (DESIGN.md). Locked.
func (rc *respContext) best() *sip.Response {
	req := rc.stx.Request()
	if rc.cancelled {
		return newResponse(req, 487, "")
	}
	var chosen *sip.Response
	for _, r := range rc.finals {
		if r.StatusCode() >= 600 {
			chosen = r
			break
		}
	}
	if chosen == nil {
		for _, r := range rc.finals {
			if chosen == nil || better(r.StatusCode(), chosen.StatusCode()) {
				chosen = r
			}
		}
	}
	switch {
	case chosen == nil:
		return newResponse(req, 408, "")
	case chosen.StatusCode() == 503:
		return newResponse(req, 500, "")
	case chosen.StatusCode() == 401 || chosen.StatusCode() == 407:
		// §16.7 step 7: the challenges of every 401 and 407 go up in
		// one response, so the caller answers them all at once.
		for _, r := range rc.finals {
			if r == chosen || (r.StatusCode() != 401 && r.StatusCode() != 407) {
				continue
			}
			for _, h := range [...]string{"WWW-Authenticate", "Proxy-Authenticate"} {
				for v := range r.Values(h) {
					chosen.AppendHeader(h, v)
				}
			}
		}
	}
	return chosen
}

// better reports whether status a beats b under §16.7 step 6 (6xx
// handled before): a lower class wins; within 4xx the codes that let the
// caller try again (401, 407, 415, 420, 484) win over the rest.
func better(a, b int) bool {
	if a/100 != b/100 {
		return a/100 < b/100
	}
	if a/100 == 4 {
		return preferred4xx(a) && !preferred4xx(b)
	}
	return false
}

func preferred4xx(c int) bool {
	switch c {
	case 401, 407, 415, 420, 484:
		return true
	}
	return false
}

// cancelBranch decides to cancel a branch with reason. A branch that has
// had a provisional response is cancelled at once; one that has not is
// cancelled when its first provisional arrives, never before (§9.1), with
// the reason chosen now. The first decision's reason stands. Locked.
func (rc *respContext) cancelBranch(b *branch, reason string) actions {
	if !rc.invite || b.stage == done || b.cancelWanted {
		return nil // §9.1: no CANCEL for non-INVITE requests
	}
	b.cancelWanted, b.cancelReason = true, reason
	if b.stage == ringing && b.tx != nil {
		return actions{b.sendCancel()}
	}
	return nil // sent when the first provisional arrives
}

// cancelByCaller is §16.10: the caller's CANCEL cancels every pending
// branch and stops new ones; the INVITE is answered 487 once they end.
func (rc *respContext) cancelByCaller(reason string) bool {
	rc.mu.Lock()
	if rc.answered || rc.cancelled {
		rc.mu.Unlock()
		return false
	}
	rc.cancelled, rc.stopped = true, true
	acts := rc.cancelAllBut(nil, reason)
	acts = append(acts, rc.settle()...)
	acts = append(acts, rc.unlist()...)
	rc.mu.Unlock()
	acts.run()
	return true
}

// abandon cancels the pending branches of a context that can no longer
// answer upstream, and stops new ones.
func (rc *respContext) abandon(reason string) {
	rc.mu.Lock()
	rc.answered, rc.stopped = true, true
	acts := rc.cancelAllBut(nil, reason)
	acts = append(acts, rc.unlist()...)
	rc.mu.Unlock()
	acts.run()
}

// cancelAllBut cancels every branch but b (nil: every branch). Locked.
func (rc *respContext) cancelAllBut(b *branch, reason string) actions {
	var acts actions
	for _, o := range rc.branches {
		if o != b {
			acts = append(acts, rc.cancelBranch(o, reason)...)
		}
	}
	return acts
}

// HandleResponse is §16.7 for one branch (transaction.ClientHandler).
func (b *branch) HandleResponse(tx *transaction.ClientTx, resp *sip.Response) {
	rc := b.rc
	code := resp.StatusCode()
	resp.RemoveTopVia() // §16.7 step 3
	var acts actions
	rc.mu.Lock()
	if b.tx == nil && tx.Request() == b.req {
		b.tx = tx
	}
	if tx != b.tx {
		// An attempt failed over from (RFC 3263 §4.3): only a late 2xx
		// still matters. It goes up like any 2xx and answers the call:
		// every branch still pending, this one's current attempt
		// included, is cancelled.
		if code >= 200 && code < 300 {
			acts = append(acts, rc.forward(resp))
			if !rc.answered {
				rc.answered, rc.stopped = true, true
				acts = append(acts, rc.cancelAllBut(nil, ReasonCompletedElsewhere)...)
			}
		}
		rc.mu.Unlock()
		acts.run()
		return
	}
	if code == 503 && b.stage != done && !b.cancelWanted && len(b.alts) > 0 {
		rc.mu.Unlock()
		b.failOver(503)
		return
	}
	switch {
	case code < 200:
		if b.stage == done {
			break
		}
		if b.stage == trying {
			b.stage = ringing
			if rc.invite {
				b.noAnswer = time.AfterFunc(rc.p.cfg.NoAnswerTimeout, b.onNoAnswer)
			}
			if b.cancelWanted && !b.cancelSent {
				acts = append(acts, b.sendCancel())
			}
		}
		if code > 100 {
			if b.timerC != nil {
				b.timerC.Reset(rc.p.cfg.TimerC) // §16.7 step 2
			}
			// §16.7 step 5: provisional responses other than 100 go
			// up at once, while no final has.
			// RFC 4320 §4.1: never for a non-INVITE request.
			if rc.invite && !rc.answered && !rc.cancelled {
				acts = append(acts, rc.forward(resp))
			}
		}
	case code < 300:
		// §16.7 step 5: every 2xx goes up at once, also after the first
		// and after a 2xx retransmission the Accepted state passes up.
		acts = append(acts, rc.forward(resp))
		if b.stage != done {
			b.end()
			rc.answered, rc.stopped = true, true
			acts = append(acts, rc.cancelAllBut(b, ReasonCompletedElsewhere)...)
		}
	default:
		if b.stage == done {
			break
		}
		b.end()
		final := resp
		if b.timedOut && code == 487 {
			final = newResponse(rc.stx.Request(), 408, "")
		}
		rc.finals = append(rc.finals, final)
		if code >= 600 && !rc.stopped {
			// A 6xx is held until the others end, and ends the search.
			rc.stopped = true
			acts = append(acts, rc.cancelAllBut(b, reasonFor(resp))...)
		}
		acts = append(acts, rc.settle()...)
	}
	acts = append(acts, rc.unlist()...)
	rc.mu.Unlock()
	acts.run()
}

// HandleError is a branch that ended without a final response: Timer B
// or F (a 408, §16.7 step 4 via §8.1.3.1), or a transport error (503).
func (b *branch) HandleError(tx *transaction.ClientTx, err error) {
	b.rc.mu.Lock()
	current := tx == b.tx || (b.tx == nil && tx.Request() == b.req)
	b.rc.mu.Unlock()
	if !current {
		return // an attempt already failed over from
	}
	b.failOver(statusOf(err))
}

// statusOf is the status a client transaction's error stands for
// (§8.1.3.1): a timeout is a 408, a transport error a 503.
func statusOf(err error) int {
	if errors.Is(err, transaction.ErrTimeout) {
		return 408
	}
	return 503
}

// fail ends a branch with a status of the proxy's own.
func (b *branch) fail(code int) {
	rc := b.rc
	rc.mu.Lock()
	if b.stage == done {
		rc.mu.Unlock()
		return
	}
	b.end()
	if b.timedOut {
		code = 408
	}
	if rc.invite || code != 408 { // RFC 4320 §4.2: no 408 for a non-INVITE
		rc.finals = append(rc.finals, newResponse(rc.stx.Request(), code, ""))
	}
	acts := rc.settle()
	acts = append(acts, rc.unlist()...)
	rc.mu.Unlock()
	acts.run()
}

// end marks the branch done and stops its timers. Locked.
func (b *branch) end() {
	b.stage = done
	b.rc.pending--
	for _, t := range [...]*time.Timer{b.timerC, b.noAnswer, b.cancelWait} {
		if t != nil {
			t.Stop()
		}
	}
}

// forward sends a response upstream on the server transaction. Locked:
// returns the send.
func (rc *respContext) forward(resp *sip.Response) func() {
	stx := rc.stx
	return func() { stx.Respond(resp) }
}

// sendCancel returns the sending of the branch's CANCEL, built from the
// INVITE as sent on it (§9.1), and starts the wait for its final
// response: 64·T1 later the branch is given up (§9.1, DESIGN.md).
// Locked.
func (b *branch) sendCancel() func() {
	b.cancelSent = true
	rc := b.rc
	inv, tx, reason := b.req, b.tx, b.cancelReason
	wait := 64 * rc.p.layer.Timers().T1
	b.cancelWait = time.AfterFunc(wait, b.onCancelWait)
	return func() {
		cancel, err := transaction.NewCancel(inv, reason)
		if err != nil {
			rc.p.log.Warn("proxy: cannot build CANCEL", "call-id", inv.CallID(), "err", err)
			return
		}
		if _, err := rc.p.layer.Request(bg, cancel, tx.Target(), ignore{}); err != nil {
			rc.p.log.Debug("proxy: CANCEL not sent", "call-id", inv.CallID(), "err", err)
		}
	}
}

// onCancelWait gives up a cancelled branch that never answered.
func (b *branch) onCancelWait() {
	b.rc.mu.Lock()
	tx := b.tx
	pending := b.stage != done
	b.rc.mu.Unlock()
	if pending {
		if tx != nil {
			tx.Terminate()
		}
		b.fail(487)
	}
}

// onTimerC is §16.8: a branch that has rung is cancelled; one that never
// had a provisional ends as a 408.
func (b *branch) onTimerC() {
	rc := b.rc
	rc.mu.Lock()
	var acts actions
	switch b.stage {
	case done:
	case ringing:
		b.timedOut = true
		acts = rc.cancelBranch(b, ReasonTimerC)
	case trying:
		b.timedOut = true
		tx := b.tx
		rc.mu.Unlock()
		if tx != nil {
			tx.Terminate()
		}
		b.fail(408)
		return
	}
	rc.mu.Unlock()
	acts.run()
}

// onNoAnswer cancels a branch that has rung for NoAnswerTimeout.
func (b *branch) onNoAnswer() {
	rc := b.rc
	rc.mu.Lock()
	var acts actions
	if b.stage == ringing && !b.cancelWanted {
		b.timedOut = true
		acts = rc.cancelBranch(b, ReasonNoAnswer)
	}
	rc.mu.Unlock()
	acts.run()
}

// ignore is the transaction user of a CANCEL the proxy sends: its
// response ends it, and the INVITE's answers what matters.
type ignore struct{}

func (ignore) HandleResponse(*transaction.ClientTx, *sip.Response) {}
func (ignore) HandleError(*transaction.ClientTx, error)            {}
