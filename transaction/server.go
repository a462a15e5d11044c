package transaction

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// ServerTx is a server transaction: INVITE (RFC 3261 §17.2.1 with RFC
// 6026 §7.1) or non-INVITE (§17.2.2).
type ServerTx struct {
	l        *Layer
	key      serverKey
	req      *sip.Request
	src      transport.Source
	invite   bool
	reliable bool

	mu        sync.Mutex
	state     State
	last      *sip.Response    // the response to resend on a retransmitted request
	toTag     string           // To tag of the final response, for RFC 2543 ACK matching
	g         time.Duration    // the next Timer G interval
	d         deadlines        //
	out       []*sip.Response  // to send once the lock is released
	delivered bool             // HandleRequest has returned
	cancel    *sip.Request     // the CANCEL that matched, if any
	cancelSrc transport.Source // where it came from
	value     any              // the TU's, see SetValue
	tuTag     string           // the To tag the TU gives its responses, see SetToTag
}

// SetToTag tells the transaction the To tag its user puts on its
// responses (a UAS's dialog tag), so that the 200 the transaction sends
// to a CANCEL carries it even before a tagged response went out: §9.2
// asks for the same To tag on both, and the INVITE's 487 will have it.
func (tx *ServerTx) SetToTag(tag string) {
	tx.mu.Lock()
	tx.tuTag = tag
	tx.mu.Unlock()
}

// SetValue keeps v with the transaction for its user, such as a proxy's
// response context, so HandleCancel and HandleError find it without a
// table of their own.
func (tx *ServerTx) SetValue(v any) {
	tx.mu.Lock()
	tx.value = v
	tx.mu.Unlock()
}

// Value returns what SetValue stored, or nil.
func (tx *ServerTx) Value() any {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.value
}

// Request returns the request that created the transaction.
func (tx *ServerTx) Request() *sip.Request { return tx.req }

// Source returns where the request came from.
func (tx *ServerTx) Source() transport.Source { return tx.src }

// State returns the current state.
func (tx *ServerTx) State() State {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.state
}

// Cancelled returns the CANCEL that matched the transaction before its
// final response (§9.2), or nil. A TU that is still setting up the
// request can check it: HandleCancel comes only after HandleRequest has
// returned.
func (tx *ServerTx) Cancelled() *sip.Request {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.cancel
}

// CancelSource returns where the CANCEL that Cancelled returns came
// from: a proxy trusts its Reason by that address (DESIGN.md), which
// need not be the INVITE's.
func (tx *ServerTx) CancelSource() transport.Source {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.cancelSrc
}

func (l *Layer) serverShard(k serverKey) *serverShard {
	if k.legacy.callID != "" {
		return &l.servers[l.shard(k.legacy.callID)]
	}
	return &l.servers[l.shard(k.branch)]
}

// receiveRequest matches a request to a server transaction (§17.2.3) or
// starts one.
func (l *Layer) receiveRequest(req *sip.Request, src transport.Source) {
	method := req.Method()
	switch method {
	case sip.ACK:
		k := serverKeyOf(req, sip.INVITE)
		if tx := l.findServer(k); tx != nil && (k.legacy.callID == "" || tx.ackMatches(req)) {
			tx.receiveAck(req)
			return
		}
		if l.handler != nil {
			l.handler.HandleAck(req, src)
		}
		return
	case sip.CANCEL:
		l.receiveCancel(req, src)
		return
	}
	if l.handler == nil {
		return
	}
	k := serverKeyOf(req, method)
	tx, isNew := l.findOrAddServer(k, func() *ServerTx { return l.newServer(k, req, src) })
	if !isNew {
		tx.receiveRetransmission()
		return
	}
	l.handler.HandleRequest(tx, req)
	// A CANCEL processed meanwhile on another goroutine waited for this,
	// so the TU never hears of a CANCEL before its request.
	tx.mu.Lock()
	tx.delivered = true
	cancel := tx.cancel
	pending := tx.state == Proceeding || tx.state == Trying
	tx.mu.Unlock()
	if cancel != nil && pending {
		l.handler.HandleCancel(tx, cancel)
	}
}

// cancellable lists the methods whose pending transactions a CANCEL may
// match (§9.2: any method but CANCEL and ACK), tried after INVITE. An
// extension method not listed gets 481; cancelling a non-INVITE request
// has no effect anyway but the 200 (§9.2).
var cancellable = [...]string{sip.INVITE, sip.OPTIONS, sip.REGISTER, sip.SUBSCRIBE, sip.NOTIFY,
	sip.MESSAGE, sip.INFO, sip.UPDATE, sip.PRACK, sip.REFER, sip.PUBLISH, sip.BYE}

// receiveCancel answers a CANCEL itself (§9.2): 200 when it matches a
// server transaction, 481 when it matches none (or, with
// Config.ForwardUnmatchedCancel, hands it to the TU as a request), and
// tells the TU when the transaction it matched has no final response yet.
func (l *Layer) receiveCancel(req *sip.Request, src transport.Source) {
	k := serverKeyOf(req, sip.CANCEL)
	ctx, isNew := l.findOrAddServer(k, func() *ServerTx { return l.newServer(k, req, src) })
	if !isNew {
		ctx.receiveRetransmission()
		return
	}
	var target *ServerTx
	for _, m := range cancellable {
		tk := k
		tk.method = m
		if target = l.findServer(tk); target != nil {
			break
		}
	}
	if target == nil || k.legacy.callID != "" && req.ToTag() != target.req.ToTag() {
		if l.forwardCancel && l.handler != nil {
			// §16.10: a proxy forwards a CANCEL it has no context for.
			l.handler.HandleRequest(ctx, req)
			return
		}
		ctx.Respond(sip.NewResponse(req, 481, ""))
		return
	}
	target.mu.Lock()
	pending := target.state == Proceeding || target.state == Trying
	if pending && target.cancel == nil {
		target.cancel, target.cancelSrc = req, src
	}
	tell := pending && target.delivered && target.cancel == req
	// The 200 takes the To tag of the request's response, if one has
	// gone out, else the one its user will give it (§9.2); a CANCEL has
	// none of its own.
	tag := target.toTag
	if tag == "" && target.last != nil {
		tag = target.last.ToTag()
	}
	if tag == "" {
		tag = target.tuTag
	}
	target.mu.Unlock()
	ok := sip.NewResponse(req, 200, "")
	if tag != "" && ok.ToTag() == "" {
		ok.SetToTag(tag)
	}
	ctx.Respond(ok)
	if tell && l.handler != nil {
		l.handler.HandleCancel(target, req)
	}
}

func (l *Layer) newServer(k serverKey, req *sip.Request, src transport.Source) *ServerTx {
	tx := &ServerTx{
		l: l, key: k, req: req, src: src,
		invite:   req.Method() == sip.INVITE,
		reliable: transport.Reliable(src.Transport),
		state:    Trying,
	}
	tx.mu.Lock() // the timer's callback must see the timer it calls
	defer tx.mu.Unlock()
	if tx.invite {
		// §17.2.1: an INVITE server transaction starts in Proceeding,
		// and sends 100 Trying unless the TU answers within 200 ms.
		tx.state = Proceeding
		tx.d.start(timer100, trying100)
		tx.d.start(timerLifetime, l.inviteLifetime)
	} else {
		tx.d.start(timerLifetime, l.nonInviteLifetime)
	}
	tx.d.arm(tx.onTimer)
	return tx
}

func (l *Layer) findServer(k serverKey) *ServerTx {
	sh := l.serverShard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.m[k]
}

func (l *Layer) findOrAddServer(k serverKey, create func() *ServerTx) (*ServerTx, bool) {
	sh := l.serverShard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if tx := sh.m[k]; tx != nil {
		return tx, false
	}
	tx := create()
	sh.m[k] = tx
	return tx, true
}

// ackMatches applies the RFC 2543 rule for ACK: its To tag is the one of
// the response the transaction sent (§17.2.3).
func (tx *ServerTx) ackMatches(ack *sip.Request) bool {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return ack.ToTag() == tx.toTag
}

// receiveRetransmission absorbs a retransmitted request, resending the
// last response where the state machine says so.
func (tx *ServerTx) receiveRetransmission() {
	tx.mu.Lock()
	switch tx.state {
	case Proceeding, Completed:
		// §17.2.1, §17.2.2: the most recent provisional, or the final.
		if tx.last != nil {
			tx.out = append(tx.out, tx.last)
		}
	}
	// Trying (non-INVITE: nothing to resend), Confirmed, and Accepted
	// (RFC 6026 §7.1: the TU retransmits 2xx itself) absorb it.
	tx.unlock(nil)
}

// receiveAck handles an ACK matched to this INVITE transaction.
func (tx *ServerTx) receiveAck(ack *sip.Request) {
	tx.mu.Lock()
	switch tx.state {
	case Completed:
		// §17.2.1: to Confirmed; Timer I absorbs further ACKs.
		tx.state = Confirmed
		tx.d.stop(timerG, timerH)
		tx.after(timerI, unreliableOnly(tx.l.timers.T4, tx.reliable))
	case Accepted:
		// RFC 6026 §7.1: an ACK in Accepted goes to the TU.
		tx.unlock(func() {
			if tx.l.handler != nil {
				tx.l.handler.HandleAck(ack, tx.src)
			}
		})
		return
	}
	tx.unlock(nil)
}

// Respond sends resp on the transaction. The state machine decides what
// follows: a 2xx to an INVITE moves it to Accepted (RFC 6026), another
// final response to Completed, where it is retransmitted on unreliable
// transports until ACKed. A transport error is returned, and also given
// to the TU's HandleError like one on a retransmission.
func (tx *ServerTx) Respond(resp *sip.Response) error {
	tx.mu.Lock()
	if err := tx.respond(resp); err != nil {
		tx.mu.Unlock()
		return err
	}
	return tx.unlock(nil)
}

// respond runs the state machine for a response from the TU and queues
// it; the lock is held.
func (tx *ServerTx) respond(resp *sip.Response) error {
	code := resp.StatusCode()
	switch tx.state {
	case Terminated:
		return ErrTerminated
	case Trying, Proceeding:
	case Accepted:
		// RFC 6026 §7.1: the TU's 2xx retransmissions pass through.
		if code/100 != 2 {
			return ErrBadResponse
		}
		tx.out = append(tx.out, resp)
		return nil
	default:
		return ErrBadResponse
	}
	tx.d.stop(timer100)
	tx.last = resp
	tx.out = append(tx.out, resp)
	if code < 200 {
		tx.state = Proceeding
		return nil
	}
	tx.d.stop(timerLifetime)
	tx.toTag = resp.ToTag()
	t := tx.l.timers
	switch {
	case !tx.invite:
		// §17.2.2: Completed absorbs retransmissions for Timer J.
		tx.state = Completed
		tx.after(timerJ, unreliableOnly(t.timeout64(), tx.reliable))
	case code/100 == 2:
		tx.state = Accepted
		tx.after(timerL, t.timeout64())
	default:
		tx.state = Completed
		if !tx.reliable {
			tx.g = t.T1
			tx.d.start(timerG, tx.g)
		}
		tx.d.start(timerH, t.timeout64())
		tx.d.arm(tx.onTimer)
	}
	return nil
}

// after starts timer id, or terminates at once when its duration is zero
// (Timers I, J on reliable transports).
func (tx *ServerTx) after(id timerID, d time.Duration) {
	if d <= 0 {
		tx.terminate()
		return
	}
	tx.d.start(id, d)
	tx.d.arm(tx.onTimer)
}

// unlock releases the lock, then sends what the state machine queued and
// makes the TU notification, if any: neither a slow transport nor the TU
// runs under the lock (a reader waiting for this transaction would stall
// every message behind it). It returns the first send error, after the
// transaction has handled it (§17.2.4).
func (tx *ServerTx) unlock(notify func()) error {
	out := tx.out
	tx.out = nil
	tx.mu.Unlock()
	var first error
	for _, resp := range out {
		if err := tx.l.sender.SendResponse(context.Background(), resp, tx.src); err != nil {
			err = fmt.Errorf("%w: %w", ErrTransport, err)
			tx.failed(err)
			if first == nil {
				first = err
			}
		}
	}
	if notify != nil {
		notify()
	}
	return first
}

// failed handles a transport error (§17.2.4): the transaction ends and
// the TU is told. In Accepted the TU keeps retransmitting its 2xx, so
// only the error is reported (RFC 6026 §7.1 gives Accepted no
// transport-error transition).
func (tx *ServerTx) failed(err error) {
	tx.mu.Lock()
	if tx.state != Accepted {
		tx.terminate()
	}
	tx.mu.Unlock()
	if tx.l.handler != nil {
		tx.l.handler.HandleError(tx, err)
	}
}

func (tx *ServerTx) onTimer() {
	tx.mu.Lock()
	notify := tx.d.fireDue(tx.alive, tx.fire)
	if tx.alive() {
		tx.d.arm(tx.onTimer)
	}
	tx.unlock(notify)
}

func (tx *ServerTx) alive() bool { return tx.state != Terminated }

// fire runs timer id with the lock held; it returns a TU notification,
// if any.
func (tx *ServerTx) fire(id timerID) func() {
	t := tx.l.timers
	switch id {
	case timer100:
		if tx.state == Proceeding && tx.last == nil {
			trying := sip.NewResponse(tx.req, 100, "")
			tx.last = trying
			tx.out = append(tx.out, trying)
		}
	case timerG:
		// §17.2.1: retransmit, doubling up to T2.
		if tx.state == Completed {
			tx.g = min(2*tx.g, t.T2)
			tx.d.start(timerG, tx.g)
			tx.out = append(tx.out, tx.last)
		}
	case timerH:
		if tx.state == Completed {
			tx.terminate()
			return tx.tell(ErrNoACK)
		}
	case timerLifetime:
		return tx.expire()
	case timerI, timerJ, timerL:
		tx.terminate()
	}
	return nil
}

// expire ends a transaction the TU never answered. RFC 3261 sets no
// limit there, and without one a TU that drops requests leaks a
// transaction each time; like Kamailio's max_inv_lifetime and
// max_noninv_lifetime, an INVITE gets 408 (its client has no timer in
// Proceeding) and a non-INVITE, whose client gave up at Timer F, just
// ends.
func (tx *ServerTx) expire() func() {
	if tx.state != Trying && tx.state != Proceeding {
		return nil
	}
	if tx.invite {
		timeout := sip.NewResponse(tx.req, 408, "")
		if tx.req.ToTag() == "" {
			timeout.SetToTag(sip.NewTag()) // a final response needs one (§8.2.6.2)
		}
		if err := tx.respond(timeout); err == nil {
			return tx.tell(ErrTimeout)
		}
	}
	tx.terminate()
	return tx.tell(ErrTimeout)
}

func (tx *ServerTx) tell(err error) func() {
	return func() {
		if tx.l.handler != nil {
			tx.l.handler.HandleError(tx, err)
		}
	}
}

// terminate ends the transaction and removes it from the table; the lock
// is held.
func (tx *ServerTx) terminate() {
	if tx.state == Terminated {
		return
	}
	tx.state = Terminated
	tx.d.stopAll()
	sh := tx.l.serverShard(tx.key)
	sh.mu.Lock()
	if sh.m[tx.key] == tx {
		delete(sh.m, tx.key)
	}
	sh.mu.Unlock()
}
