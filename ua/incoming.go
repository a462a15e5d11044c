package ua

import (
	"errors"
	"sync"

	"github.com/sipkit/sipkit/dialog"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transaction"
	"github.com/sipkit/sipkit/transport"
)

// IncomingCall is an INVITE received: answer it with Ring, Answer or
// Reject, from any goroutine.
type IncomingCall struct {
	u      *UA
	tx     *transaction.ServerTx
	invite *sip.Request
	d      *dialog.Dialog

	mu          sync.Mutex
	awaitACK    bool   // the 2xx went out and its ACK has not come
	body        []byte // our last session description
	ctype       string
	final       bool
	ended       bool
	byeAfterACK bool    // hung up before the ACK: BYE when it comes (§15)
	box         mailbox // events in the order they happened
}

// Invite returns the INVITE.
func (ic *IncomingCall) Invite() *sip.Request { return ic.invite }

// ID returns the dialog's ID.
func (ic *IncomingCall) ID() dialog.ID { return ic.d.ID() }

// response builds a response to the INVITE with the dialog's To tag:
// the same on every response of this INVITE (§12.1.1).
func (ic *IncomingCall) response(code int) *sip.Response {
	resp := sip.NewResponse(ic.invite, code, "")
	resp.SetToTag(ic.d.ID().LocalTag)
	if code < 300 && code > 100 {
		resp.AppendHeader("Contact", ic.u.cfg.Contact)
	}
	return resp
}

// Ring sends 180 Ringing.
func (ic *IncomingCall) Ring() error {
	ic.mu.Lock()
	final := ic.final
	ic.mu.Unlock()
	if final {
		return ErrCallEnded
	}
	// Responding without the lock: a transport error comes back through
	// HandleError, which takes it.
	return ic.tx.Respond(ic.response(180))
}

// Answer sends 200 OK with an optional body (the answer to the offer)
// and retransmits it, T1 doubling to T2, until the ACK arrives; without
// one after 64·T1 the call ends with BYE (RFC 3261 §13.3.1.4).
func (ic *IncomingCall) Answer(body []byte, contentType string) error {
	ic.mu.Lock()
	if ic.final {
		ic.mu.Unlock()
		return ErrCallEnded
	}
	ic.final = true
	resp := ic.response(200)
	if len(body) > 0 {
		resp.SetBody(body, contentType)
	}
	ic.awaitACK, ic.body, ic.ctype = true, body, contentType
	ic.mu.Unlock()
	err := ic.u.send2xx(ic.tx, ic.d, ic.invite.CSeq().Seq, resp, ic)
	if err != nil {
		ic.end(Event{Kind: Terminated, Cause: CauseTransportError})
	}
	return err
}

// Reject ends the call with a final status (300–699).
func (ic *IncomingCall) Reject(code int) error {
	if code < 300 || code > 699 {
		return errors.New("ua: Reject needs a status from 300 to 699")
	}
	if !ic.finish() {
		return ErrCallEnded
	}
	err := ic.tx.Respond(ic.response(code))
	ic.end(Event{Kind: Terminated, Cause: CauseRejected, Status: code})
	return err
}

// Hangup ends the call: BYE once answered, 480 before. Answered but not
// yet ACKed, the BYE waits for the ACK or the end of the 2xx
// retransmissions (RFC 3261 §15).
func (ic *IncomingCall) Hangup() error {
	ic.mu.Lock()
	answered := ic.final && !ic.ended
	if answered && ic.awaitACK {
		ic.byeAfterACK = true
		ic.mu.Unlock()
		return nil
	}
	ic.mu.Unlock()
	if !answered {
		return ic.Reject(480)
	}
	err := ic.u.sendInDialog(ic.d.NewRequest(sip.BYE, ""), ic.tx.Source().Transport, nil)
	ic.end(Event{Kind: Terminated, Cause: CauseLocalHangup})
	return err
}

// peerBye ends the call on the caller's BYE. In the early dialog (§15
// allows it) the INVITE gets 487 as well (§15.1.2).
func (ic *IncomingCall) peerBye(_ *dialog.Dialog, bye *sip.Request) {
	if ic.finish() {
		ic.tx.Respond(ic.response(487))
	}
	ic.end(Event{Kind: Terminated, Cause: CauseRemoteBye, Request: bye, Reason: reasonOf(bye)})
}

func (ic *IncomingCall) acked(_ *dialog.Dialog, ack *sip.Request) {
	ic.mu.Lock()
	first := ic.awaitACK // not an ACK again, nor a re-INVITE's
	ic.awaitACK = false
	bye := ic.byeAfterACK
	if first && !ic.ended {
		ic.d.Confirm()
		ic.box.add(Event{Kind: Confirmed, ID: ic.d.ID(), Incoming: ic, Request: ack})
	}
	ic.mu.Unlock()
	ic.flush()
	if first && bye {
		ic.Hangup()
	}
}

// ackTimeout ends the call with BYE when a 2xx was never ACKed
// (§13.3.1.4); a hangup waiting for the first ACK is one.
func (ic *IncomingCall) ackTimeout(*dialog.Dialog) {
	ic.mu.Lock()
	if ic.ended {
		ic.mu.Unlock()
		return
	}
	ic.awaitACK = false
	cause := CauseTimeout
	if ic.byeAfterACK {
		cause = CauseLocalHangup
	}
	ic.mu.Unlock()
	ic.u.sendInDialog(ic.d.NewRequest(sip.BYE, ""), ic.tx.Source().Transport, nil)
	ic.end(Event{Kind: Terminated, Cause: cause})
}

func (ic *IncomingCall) end(ev Event) {
	ic.mu.Lock()
	if ic.ended {
		ic.mu.Unlock()
		return
	}
	ic.ended = true
	ev.ID, ev.Incoming = ic.d.ID(), ic
	ic.box.add(ev)
	ic.mu.Unlock()
	ic.u.removeDialog(ic.d)
	ic.u.mu.Lock()
	delete(ic.u.incoming, ic.tx)
	ic.u.mu.Unlock()
	ic.flush()
}

// flush delivers the call's pending events in the order they were made.
func (ic *IncomingCall) flush() { ic.box.flush(&ic.mu, ic.u.emit) }

// uasHandler is the UA as the transaction layer's server-side user.
type uasHandler UA

func (h *uasHandler) HandleRequest(tx *transaction.ServerTx, req *sip.Request) {
	u := (*UA)(h)
	if req.ToTag() != "" {
		u.inDialog(tx, req)
		return
	}
	switch req.Method() {
	case sip.INVITE:
		u.newIncoming(tx, req)
	case sip.OPTIONS:
		resp := sip.NewResponse(req, 200, "")
		resp.AppendHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE")
		tx.Respond(resp)
	case sip.BYE:
		tx.Respond(sip.NewResponse(req, 481, ""))
	default:
		tx.Respond(sip.NewResponse(req, 501, ""))
	}
}

func (u *UA) newIncoming(tx *transaction.ServerTx, req *sip.Request) {
	ic := &IncomingCall{u: u, tx: tx, invite: req, d: dialog.NewUAS(req, sip.NewTag())}
	tx.SetToTag(ic.d.ID().LocalTag) // for the 200 to a CANCEL before we ring
	u.addDialog(ic.d, ic)
	u.mu.Lock()
	u.incoming[tx] = ic
	u.mu.Unlock()
	ic.mu.Lock()
	ic.box.add(Event{Kind: Incoming, ID: ic.d.ID(), Incoming: ic, Request: req})
	ic.mu.Unlock()
	ic.flush()
	if u.cfg.OnIncoming == nil {
		ic.Reject(480)
		return
	}
	u.cfg.OnIncoming(ic)
}

// inDialog handles a request within a dialog (§12.2.2).
func (u *UA) inDialog(tx *transaction.ServerTx, req *sip.Request) {
	d, ok := u.dialogs.Get(dialog.ID{CallID: req.CallID(), LocalTag: req.ToTag(), RemoteTag: req.FromTag()})
	if !ok {
		tx.Respond(sip.NewResponse(req, 481, ""))
		return
	}
	if !d.ReceiveCSeq(req.CSeq().Seq) {
		tx.Respond(sip.NewResponse(req, 500, "CSeq out of order"))
		return
	}
	u.mu.Lock()
	s := u.sessions[d]
	u.mu.Unlock()
	switch req.Method() {
	case sip.BYE:
		tx.Respond(sip.NewResponse(req, 200, ""))
		if s != nil {
			s.peerBye(d, req)
		}
	case sip.INVITE, sip.UPDATE:
		// A refresh or a new offer: accept it, answering with our
		// current session description (RFC 3264 §8 lets it stay); the
		// Contact is the new remote target (§12.2.2).
		if cs := req.Contacts(); len(cs) > 0 {
			d.SetRemoteTarget(cs[0].URI)
		}
		resp := sip.NewResponse(req, 200, "")
		resp.AppendHeader("Contact", u.cfg.Contact)
		if ic, ok := s.(*IncomingCall); ok && len(req.Body()) > 0 {
			ic.mu.Lock()
			resp.SetBody(ic.body, ic.ctype)
			ic.mu.Unlock()
		}
		if req.Method() == sip.INVITE {
			u.send2xx(tx, d, req.CSeq().Seq, resp, s)
			return
		}
		tx.Respond(resp)
	default:
		tx.Respond(sip.NewResponse(req, 200, ""))
	}
}

// HandleCancel ends an incoming call the caller cancelled (§9.2): 487
// to the INVITE, and the event tells whether it was answered elsewhere.
func (h *uasHandler) HandleCancel(tx *transaction.ServerTx, cancel *sip.Request) {
	ic := (*UA)(h).incomingOf(tx)
	if ic == nil || !ic.finish() {
		return
	}
	tx.Respond(ic.response(487))
	reason := reasonOf(cancel)
	elsewhere := reason != nil && reason.CompletedElsewhere()
	cause := CauseCancelled
	if elsewhere {
		cause = CauseAnsweredElsewhere
	}
	ic.end(Event{Kind: Terminated, Cause: cause, Status: 487, Request: cancel, Reason: reason, Missed: !elsewhere})
}

// incomingOf returns the incoming call of an INVITE server transaction.
func (u *UA) incomingOf(tx *transaction.ServerTx) *IncomingCall {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.incoming[tx]
}

// finish marks the INVITE as answered with a final response; it reports
// false if one was already sent.
func (ic *IncomingCall) finish() bool {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if ic.final {
		return false
	}
	ic.final = true
	return true
}

// HandleAck takes the ACK for a 2xx (§13.3.1.4).
func (h *uasHandler) HandleAck(ack *sip.Request, _ transport.Source) {
	u := (*UA)(h)
	d, ok := u.dialogs.Get(dialog.ID{CallID: ack.CallID(), LocalTag: ack.ToTag(), RemoteTag: ack.FromTag()})
	if !ok {
		return
	}
	u.stop2xx(d, ack.CSeq().Seq)
	u.mu.Lock()
	s := u.sessions[d]
	u.mu.Unlock()
	if s != nil {
		s.acked(d, ack)
	}
}

// HandleError ends an incoming call whose transaction failed.
func (h *uasHandler) HandleError(tx *transaction.ServerTx, err error) {
	ic := (*UA)(h).incomingOf(tx)
	if ic == nil {
		return
	}
	ic.mu.Lock()
	answered := ic.awaitACK || (ic.final && ic.d.State() == dialog.Confirmed)
	ic.mu.Unlock()
	if answered {
		return // the UA's own 2xx retransmission decides
	}
	cause := CauseTransportError
	if errors.Is(err, transaction.ErrTimeout) || errors.Is(err, transaction.ErrNoACK) {
		cause = CauseTimeout
	}
	ic.end(Event{Kind: Terminated, Cause: cause})
}
