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

	mu    sync.Mutex
	state State
	last  *sip.Response // the response to resend on a retransmitted request
	toTag string        // To tag of the final response, for RFC 2543 ACK matching
	g     time.Duration // the next Timer G interval
	d     deadlines
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
		tx.receiveRetransmission(req)
		return
	}
	l.handler.HandleRequest(tx, req)
}

// receiveCancel answers a CANCEL itself (§9.2): 200 when it matches an
// INVITE server transaction, 481 when it matches none, and tells the TU
// only when that INVITE has no final response yet.
func (l *Layer) receiveCancel(req *sip.Request, src transport.Source) {
	k := serverKeyOf(req, sip.CANCEL)
	ctx, isNew := l.findOrAddServer(k, func() *ServerTx { return l.newServer(k, req, src) })
	if !isNew {
		ctx.receiveRetransmission(req)
		return
	}
	ik := k
	ik.method = sip.INVITE
	inv := l.findServer(ik)
	if inv == nil || k.legacy.callID != "" && req.ToTag() != inv.req.ToTag() {
		ctx.Respond(sip.NewResponse(req, 481, ""))
		return
	}
	// The 200 to a CANCEL takes the To tag the INVITE's response has, if
	// any, as the CANCEL itself has none (§9.2).
	ok := sip.NewResponse(req, 200, "")
	inv.mu.Lock()
	pending := inv.state == Proceeding
	tag := inv.toTag
	if tag == "" && inv.last != nil {
		tag = inv.last.ToTag()
	}
	inv.mu.Unlock()
	if tag != "" && ok.ToTag() == "" {
		ok.SetToTag(tag)
	}
	ctx.Respond(ok)
	if pending && l.handler != nil {
		l.handler.HandleCancel(inv, req)
	}
}

func (l *Layer) newServer(k serverKey, req *sip.Request, src transport.Source) *ServerTx {
	tx := &ServerTx{
		l: l, key: k, req: req, src: src,
		invite:   req.Method() == sip.INVITE,
		reliable: transport.Reliable(src.Transport),
		state:    Trying,
	}
	if tx.invite {
		// §17.2.1: an INVITE server transaction starts in Proceeding,
		// and sends 100 Trying unless the TU answers within 200 ms.
		tx.state = Proceeding
		tx.mu.Lock() // the timer's callback must see the timer it calls
		tx.d.start(timer100, trying100)
		tx.d.arm(tx.onTimer)
		tx.mu.Unlock()
	}
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
func (tx *ServerTx) receiveRetransmission(req *sip.Request) {
	tx.mu.Lock()
	var err error
	switch tx.state {
	case Proceeding, Completed:
		// §17.2.1, §17.2.2: the most recent provisional, or the final.
		if tx.last != nil {
			err = tx.send(tx.last)
		}
	}
	// Trying (non-INVITE: nothing to resend), Confirmed, and Accepted
	// (RFC 6026 §7.1: the TU retransmits 2xx itself) absorb it.
	notify := tx.failed(err)
	tx.mu.Unlock()
	notify()
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
		tx.mu.Unlock()
		return
	case Accepted:
		// RFC 6026 §7.1: an ACK in Accepted goes to the TU.
		tx.mu.Unlock()
		if tx.l.handler != nil {
			tx.l.handler.HandleAck(ack, tx.src)
		}
		return
	}
	tx.mu.Unlock()
}

// Respond sends resp on the transaction. The state machine decides what
// follows: a 2xx to an INVITE moves it to Accepted (RFC 6026), another
// final response to Completed, where it is retransmitted on unreliable
// transports until ACKed.
func (tx *ServerTx) Respond(resp *sip.Response) error {
	code := resp.StatusCode()
	tx.mu.Lock()
	err := tx.respond(resp, code)
	var notify func()
	if err != nil && err != ErrTerminated && err != ErrBadResponse {
		notify = tx.failed(err)
	}
	tx.mu.Unlock()
	if notify != nil {
		notify()
	}
	return err
}

func (tx *ServerTx) respond(resp *sip.Response, code int) error {
	final := code >= 200
	switch tx.state {
	case Terminated:
		return ErrTerminated
	case Trying, Proceeding:
	case Accepted:
		// RFC 6026 §7.1: the TU's 2xx retransmissions pass through.
		if code/100 != 2 {
			return ErrBadResponse
		}
		return tx.send(resp)
	default:
		return ErrBadResponse
	}
	tx.d.stop(timer100)
	tx.last = resp
	if err := tx.send(resp); err != nil {
		return err
	}
	if !final {
		tx.state = Proceeding
		tx.d.arm(tx.onTimer)
		return nil
	}
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

func (tx *ServerTx) send(resp *sip.Response) error {
	if err := tx.l.sender.SendResponse(context.Background(), resp, tx.src); err != nil {
		return fmt.Errorf("%w: %w", ErrTransport, err)
	}
	return nil
}

// failed ends the transaction after a transport error (§17.2.4) and
// returns the TU notification to make once the lock is released. In
// Accepted the TU keeps retransmitting its 2xx, so only the error is
// reported (RFC 6026 §7.1 gives Accepted no transport-error transition).
func (tx *ServerTx) failed(err error) func() {
	if err == nil {
		return func() {}
	}
	if tx.state != Accepted {
		tx.terminate()
	}
	return func() {
		if tx.l.handler != nil {
			tx.l.handler.HandleError(tx, err)
		}
	}
}

func (tx *ServerTx) onTimer() {
	tx.mu.Lock()
	var notify func()
	now := time.Now()
	for tx.state != Terminated {
		id, ok := tx.d.next(now)
		if !ok {
			break
		}
		if n := tx.fire(id); n != nil {
			notify = n
		}
	}
	if tx.state != Terminated {
		tx.d.arm(tx.onTimer)
	}
	tx.mu.Unlock()
	if notify != nil {
		notify()
	}
}

// fire runs timer id; it returns a TU notification, if any.
func (tx *ServerTx) fire(id timerID) func() {
	t := tx.l.timers
	switch id {
	case timer100:
		if tx.state == Proceeding && tx.last == nil {
			trying := sip.NewResponse(tx.req, 100, "")
			tx.last = trying
			return tx.failed(tx.send(trying))
		}
	case timerG:
		// §17.2.1: retransmit, doubling up to T2.
		if tx.state == Completed {
			tx.g = min(2*tx.g, t.T2)
			tx.d.start(timerG, tx.g)
			return tx.failed(tx.send(tx.last))
		}
	case timerH:
		if tx.state == Completed {
			tx.terminate()
			return func() {
				if tx.l.handler != nil {
					tx.l.handler.HandleError(tx, ErrNoACK)
				}
			}
		}
	case timerI, timerJ, timerL:
		tx.terminate()
	}
	return nil
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
