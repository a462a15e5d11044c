package transaction

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// ClientHandler is the transaction user of a client transaction. It is
// called with no lock held and must not block.
type ClientHandler interface {
	// HandleResponse receives the responses the TU sees: provisional
	// ones, the final one, and for an INVITE every 2xx, retransmissions
	// and other forks' included, while the transaction is Accepted (RFC
	// 6026 §8.4), so the TU can ACK each.
	HandleResponse(tx *ClientTx, resp *sip.Response)
	// HandleError reports the end of a transaction without a final
	// response: ErrTimeout (Timer B or F), or an error wrapping
	// ErrTransport from a retransmission.
	HandleError(tx *ClientTx, err error)
}

// ClientTx is a client transaction: INVITE (RFC 3261 §17.1.1 with RFC
// 6026 §8.4) or non-INVITE (§17.1.2).
type ClientTx struct {
	l        *Layer
	key      clientKey
	req      *sip.Request
	h        ClientHandler
	target   transport.Target // where the request went, as the transport chose
	invite   bool
	reliable bool

	mu       sync.Mutex
	state    State
	ack      *sip.Request   // the ACK for a non-2xx final, resent on its retransmissions
	interval time.Duration  // the next Timer A or E interval
	d        deadlines      //
	out      []*sip.Request // to send once the lock is released
}

// Request returns the request the transaction sent.
func (tx *ClientTx) Request() *sip.Request { return tx.req }

// Target returns where the request was sent: the transport may have
// changed UDP to TCP for a large request (RFC 3261 §18.1.1).
func (tx *ClientTx) Target() transport.Target { return tx.target }

// State returns the current state.
func (tx *ClientTx) State() State {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.state
}

// Request starts a client transaction: it sends req to target and
// retransmits it on unreliable transports until a response or a timer
// ends that. req must have a top Via with an RFC 3261 branch, unique to
// this transaction; the layer owns req from now on (the transport writes
// the sent-by into it). A failure to send the request at all is
// returned, and no transaction is left behind (the TU answers 503,
// §8.1.3.1).
func (l *Layer) Request(ctx context.Context, req *sip.Request, target transport.Target, h ClientHandler) (*ClientTx, error) {
	v, ok := req.TopVia()
	if !ok || !v.RFC3261Branch() {
		return nil, ErrNoBranch
	}
	if h == nil {
		return nil, errors.New("transaction: Request needs a ClientHandler")
	}
	method := req.Method()
	if method == sip.ACK {
		return nil, errors.New("transaction: an ACK is not sent in a transaction")
	}
	tx := &ClientTx{
		l: l, req: req, h: h,
		key:    clientKey{branch: v.Branch, method: method},
		invite: method == sip.INVITE,
		state:  Trying,
	}
	if tx.invite {
		tx.state = Calling
	}
	sh := &l.clients[l.shard(tx.key.branch)]
	sh.mu.Lock()
	if sh.m[tx.key] != nil {
		sh.mu.Unlock()
		return nil, fmt.Errorf("transaction: branch %q already in use", v.Branch)
	}
	sh.m[tx.key] = tx
	// Responses may arrive before the send returns: they wait for the
	// transaction's lock, taken before the table's is released.
	tx.mu.Lock()
	sh.mu.Unlock()
	defer tx.mu.Unlock()

	used, err := l.sender.SendRequest(ctx, req, target)
	if err != nil {
		tx.terminate()
		return nil, fmt.Errorf("%w: %w", ErrTransport, err)
	}
	tx.target = used
	tx.reliable = transport.Reliable(used.Transport)
	t := l.timers
	if tx.invite {
		// §17.1.1.2: Timer A from T1, doubling without a cap; Timer B.
		if !tx.reliable {
			tx.interval = t.T1
			tx.d.start(timerA, t.T1)
		}
		tx.d.start(timerB, t.timeout64())
	} else {
		// §17.1.2.2: Timer E from T1, doubling up to T2; Timer F.
		if !tx.reliable {
			tx.interval = t.T1
			tx.d.start(timerE, t.T1)
		}
		tx.d.start(timerF, t.timeout64())
	}
	tx.d.arm(tx.onTimer)
	return tx, nil
}

// receiveResponse matches a response to a client transaction (§17.1.3).
func (l *Layer) receiveResponse(resp *sip.Response, src transport.Source) {
	k := clientKey{branch: resp.Branch(), method: resp.CSeq().Method}
	sh := &l.clients[l.shard(k.branch)]
	sh.mu.Lock()
	tx := sh.m[k]
	sh.mu.Unlock()
	if tx == nil {
		if l.stray != nil {
			l.stray(resp, src)
		}
		return
	}
	tx.receive(resp)
}

func (tx *ClientTx) receive(resp *sip.Response) {
	tx.mu.Lock()
	pass := tx.step(resp)
	tx.unlock(func() {
		if pass {
			tx.h.HandleResponse(tx, resp)
		}
	})
}

// step runs the state machine on a response, with the lock held, and
// reports whether the TU sees it.
func (tx *ClientTx) step(resp *sip.Response) (pass bool) {
	code := resp.StatusCode()
	t := tx.l.timers
	switch tx.state {
	case Calling, Trying, Proceeding:
	case Completed:
		// §17.1.1.2: a retransmitted non-2xx final gets the ACK again;
		// non-INVITE Completed absorbs everything (§17.1.2.2).
		if tx.invite && code >= 300 && tx.ack != nil {
			tx.out = append(tx.out, tx.ack)
		}
		return false
	case Accepted:
		// RFC 6026 §8.4: every 2xx goes to the TU, which ACKs it.
		return code/100 == 2
	default:
		return false
	}
	switch {
	case code < 200:
		if tx.invite {
			// No more retransmissions, and no Timer B, once the other
			// side is heard (§17.1.1.2).
			tx.d.stop(timerA, timerB)
		}
		tx.state = Proceeding
	case !tx.invite:
		tx.state = Completed
		tx.d.stop(timerE, timerF)
		tx.after(timerK, unreliableOnly(t.T4, tx.reliable))
	case code/100 == 2:
		// RFC 6026 §8.4: Accepted for Timer M, so 2xx retransmissions
		// and forks still find the transaction.
		tx.state = Accepted
		tx.d.stop(timerA, timerB)
		tx.after(timerM, t.timeout64())
	default:
		tx.state = Completed
		tx.d.stop(timerA, timerB)
		if ack, err := buildACK(tx.req, resp); err == nil {
			tx.ack = ack
			tx.out = append(tx.out, ack)
		}
		tx.after(timerD, t.timerD(tx.reliable))
	}
	return true
}

// after starts timer id, or terminates at once when its duration is zero
// (Timers D and K on reliable transports).
func (tx *ClientTx) after(id timerID, d time.Duration) {
	if d <= 0 {
		tx.terminate()
		return
	}
	tx.d.start(id, d)
	tx.d.arm(tx.onTimer)
}

// unlock releases the lock, then sends what the state machine queued
// (retransmissions, ACKs) and makes the TU notification, if any, so that
// neither a slow transport nor the TU runs under the lock. A send error
// ends the transaction (§17.1.4) and is reported to the TU.
func (tx *ClientTx) unlock(notify func()) {
	out := tx.out
	tx.out = nil
	target := tx.target
	tx.mu.Unlock()
	var err error
	for _, req := range out {
		if _, e := tx.l.sender.SendRequest(context.Background(), req, target); e != nil && err == nil {
			err = fmt.Errorf("%w: %w", ErrTransport, e)
		}
	}
	if notify != nil {
		notify()
	}
	if err != nil {
		tx.mu.Lock()
		tx.terminate()
		tx.mu.Unlock()
		tx.h.HandleError(tx, err)
	}
}

// Terminate ends the transaction at once, without telling the TU: for a
// TU whose own timer ran out, such as a proxy's Timer C, or a UAC that
// gave up 64·T1 after its CANCEL (RFC 3261 §9.1). An INVITE in
// Proceeding has no timer of its own (§17.1.1.2).
func (tx *ClientTx) Terminate() {
	tx.mu.Lock()
	tx.terminate()
	tx.mu.Unlock()
}

func (tx *ClientTx) onTimer() {
	tx.mu.Lock()
	notify := tx.d.fireDue(tx.alive, tx.fire)
	if tx.alive() {
		tx.d.arm(tx.onTimer)
	}
	tx.unlock(notify)
}

func (tx *ClientTx) alive() bool { return tx.state != Terminated }

func (tx *ClientTx) fire(id timerID) func() {
	t := tx.l.timers
	switch id {
	case timerA:
		// §17.1.1.2: retransmit and double, with no cap.
		if tx.state == Calling {
			tx.interval *= 2
			tx.d.start(timerA, tx.interval)
			tx.out = append(tx.out, tx.req)
		}
	case timerE:
		// §17.1.2.2: double up to T2 in Trying; T2 once in Proceeding.
		if tx.state == Trying || tx.state == Proceeding {
			if tx.state == Proceeding {
				tx.interval = t.T2
			} else {
				tx.interval = min(2*tx.interval, t.T2)
			}
			tx.d.start(timerE, tx.interval)
			tx.out = append(tx.out, tx.req)
		}
	case timerB, timerF:
		if tx.state == Calling || tx.state == Trying || tx.state == Proceeding {
			tx.terminate()
			return func() { tx.h.HandleError(tx, ErrTimeout) }
		}
	case timerD, timerK, timerM:
		tx.terminate()
	}
	return nil
}

func (tx *ClientTx) terminate() {
	if tx.state == Terminated {
		return
	}
	tx.state = Terminated
	tx.d.stopAll()
	sh := &tx.l.clients[tx.l.shard(tx.key.branch)]
	sh.mu.Lock()
	if sh.m[tx.key] == tx {
		delete(sh.m, tx.key)
	}
	sh.mu.Unlock()
}

// buildACK builds the ACK for a non-2xx final response to inv (RFC 3261
// §17.1.1.3): the INVITE's Request-URI, Call-ID, From and CSeq number,
// exactly one Via equal to the INVITE's top Via (so the server
// transaction matches it), the response's To (with the tag the server
// chose), and the INVITE's Route headers.
func buildACK(inv *sip.Request, resp *sip.Response) (*sip.Request, error) {
	to, _ := resp.Get("To")
	return fromInvite(inv, sip.ACK, to, "")
}

// NewCancel builds the CANCEL for inv as it was sent (RFC 3261 §9.1):
// the same Request-URI, Call-ID, From, To (exactly: no tag is added, and
// no empty one), CSeq number, one Via equal to the INVITE's top Via and
// its Route headers; no Require or Proxy-Require; Content-Length 0; and
// reason, if not empty, as a Reason header (RFC 3326). Send it with
// Request to the target the INVITE went to (ClientTx.Target).
func NewCancel(inv *sip.Request, reason string) (*sip.Request, error) {
	to, _ := inv.Get("To")
	return fromInvite(inv, sip.CANCEL, to, reason)
}

// fromInvite builds the ACK or CANCEL that shares the INVITE's
// transaction identity: its Request-URI, top Via alone, Route set, From,
// Call-ID and CSeq number, with the given To and optional Reason.
func fromInvite(inv *sip.Request, method, to, reason string) (*sip.Request, error) {
	req := sip.NewRequest(method, inv.RequestURI())
	top, _ := inv.TopVia()
	from, _ := inv.Get("From")
	hs := []string{"Via", top.String()}
	for r := range inv.Values("Route") {
		hs = append(hs, "Route", r)
	}
	hs = append(hs,
		"Max-Forwards", "70",
		"From", from,
		"To", to,
		"Call-ID", inv.CallID(),
		"CSeq", strconv.FormatUint(uint64(inv.CSeq().Seq), 10)+" "+method,
	)
	if reason != "" {
		hs = append(hs, "Reason", reason)
	}
	hs = append(hs, "Content-Length", "0")
	for i := 0; i < len(hs); i += 2 {
		if err := req.AppendHeader(hs[i], hs[i+1]); err != nil {
			return nil, fmt.Errorf("transaction: %s %s: %w", method, hs[i], err)
		}
	}
	return req, nil
}

// SendACK sends the ACK for a 2xx, which is no transaction of its own
// (RFC 3261 §17.1.1.3, §13.2.2.4): the TU builds it, the layer hands it
// to the transport as it is, and nothing retransmits it (the TU sends it
// again for each 2xx retransmission the Accepted state passes up).
func (l *Layer) SendACK(ctx context.Context, ack *sip.Request, target transport.Target) error {
	if ack.Method() != sip.ACK {
		return errors.New("transaction: SendACK needs an ACK")
	}
	if _, err := l.sender.SendRequest(ctx, ack, target); err != nil {
		return fmt.Errorf("%w: %w", ErrTransport, err)
	}
	return nil
}
