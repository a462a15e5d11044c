package ua

import (
	"time"

	"github.com/sipkit/sipkit/dialog"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transaction"
)

// The 2xx to a re-INVITE the UA answers is the UA's to retransmit until
// the ACK comes, as for the first INVITE (RFC 3261 §14.2 defers to
// §13.3.1.4): the server transaction stops when it sends a 2xx, so a
// lost 200 would otherwise leave the peer's re-INVITE unanswered until
// its Timer B. With no ACK after 64·T1 the session ends with BYE, as
// §13.3.1.4 says and PJSIP's invite session does.

// ackKey is a 2xx waiting for its ACK: the dialog and the CSeq number
// of the re-INVITE it answers (an ACK carries the INVITE's number).
type ackKey struct {
	d   *dialog.Dialog
	seq uint32
}

// answerReinvite sends the 2xx to a re-INVITE and keeps sending it, T1
// doubling to T2, until HandleAck takes its ACK, the dialog ends, or
// 64·T1 pass.
func (u *UA) answerReinvite(tx *transaction.ServerTx, d *dialog.Dialog, seq uint32, resp *sip.Response, s session) {
	// Waiting before sending: on loopback the ACK can come back before
	// Respond returns.
	key := ackKey{d, seq}
	u.mu.Lock()
	u.await2xx(key, tx, resp, s, u.Timers().T1, 0)
	u.mu.Unlock()
	if err := tx.Respond(resp); err != nil {
		u.stop2xx(key) // the transaction reports the transport error
	}
}

// await2xx arms the next retransmission after interval, elapsed into the
// 64·T1 the UA keeps trying; u.mu is held.
func (u *UA) await2xx(key ackKey, tx *transaction.ServerTx, resp *sip.Response, s session, interval, elapsed time.Duration) {
	var t *time.Timer
	t = time.AfterFunc(interval, func() {
		u.mu.Lock()
		if u.acks[key] != t {
			u.mu.Unlock()
			return // ACKed
		}
		delete(u.acks, key)
		if key.d.State() == dialog.Terminated {
			u.mu.Unlock()
			return
		}
		timers := u.Timers()
		elapsed := elapsed + interval
		if elapsed >= 64*timers.T1 {
			u.mu.Unlock()
			if s != nil {
				s.ackTimeout(key.d)
			}
			return
		}
		u.await2xx(key, tx, resp, s, min(2*interval, timers.T2, 64*timers.T1-elapsed), elapsed)
		u.mu.Unlock()
		tx.Respond(resp)
	})
	u.acks[key] = t
}

// ackedReinvite takes the ACK of a re-INVITE's 2xx and reports whether
// it was one.
func (u *UA) ackedReinvite(d *dialog.Dialog, ack *sip.Request) bool {
	return u.stop2xx(ackKey{d, ack.CSeq().Seq})
}

// stop2xx ends the retransmission of a 2xx, and reports whether there
// was one.
func (u *UA) stop2xx(key ackKey) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, ok := u.acks[key]
	if ok {
		t.Stop()
		delete(u.acks, key)
	}
	return ok
}
