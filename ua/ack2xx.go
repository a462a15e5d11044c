package ua

import (
	"time"

	"github.com/sipkit/sipkit/dialog"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transaction"
)

// A 2xx to an INVITE, the first or a re-INVITE, is the UA's to
// retransmit until the ACK comes (RFC 3261 §13.3.1.4, and §14.2 for
// re-INVITEs): the server transaction stops when it sends a 2xx, so a
// lost 200 would otherwise leave the peer's INVITE unanswered until its
// Timer B. With no ACK after 64·T1 the session ends with BYE, as
// §13.3.1.4 says and PJSIP's invite session does.

// pending2xx is the 2xx a dialog waits to have ACKed: at most one, as a
// UA answers an INVITE in a dialog only after the previous one.
type pending2xx struct {
	seq   uint32 // the INVITE's CSeq number, which its ACK carries
	timer *time.Timer
}

// send2xx sends resp, the 2xx to the INVITE numbered seq in dialog d,
// and keeps sending it, T1 doubling to T2, until HandleAck takes its ACK,
// the dialog ends, or 64·T1 pass and s.ackTimeout ends the session.
func (u *UA) send2xx(tx *transaction.ServerTx, d *dialog.Dialog, seq uint32, resp *sip.Response, s session) error {
	// Waiting before sending: on loopback the ACK can come back before
	// Respond returns.
	p := &pending2xx{seq: seq}
	u.mu.Lock()
	if old := u.acks[d]; old != nil {
		old.timer.Stop()
	}
	u.acks[d] = p
	u.arm2xx(p, d, tx, resp, s, u.Timers().T1, 0)
	u.mu.Unlock()
	err := tx.Respond(resp)
	if err != nil {
		u.stop2xx(d, seq)
	}
	return err
}

// arm2xx arms p's next retransmission after interval, elapsed into the
// 64·T1 the UA keeps trying; u.mu is held.
func (u *UA) arm2xx(p *pending2xx, d *dialog.Dialog, tx *transaction.ServerTx, resp *sip.Response, s session, interval, elapsed time.Duration) {
	p.timer = time.AfterFunc(interval, func() {
		u.mu.Lock()
		if u.acks[d] != p {
			u.mu.Unlock()
			return // ACKed, or the dialog ended
		}
		t := u.Timers()
		elapsed := elapsed + interval
		if elapsed >= 64*t.T1 {
			delete(u.acks, d)
			u.mu.Unlock()
			if s != nil { // nil: the dialog lost its session meanwhile
				s.ackTimeout(d)
			}
			return
		}
		// T1 doubling up to T2, and a last wait that ends at 64·T1.
		u.arm2xx(p, d, tx, resp, s, min(2*interval, t.T2, 64*t.T1-elapsed), elapsed)
		u.mu.Unlock()
		tx.Respond(resp)
	})
}

// stop2xx ends the retransmission of the 2xx to INVITE seq in d, and
// reports whether there was one.
func (u *UA) stop2xx(d *dialog.Dialog, seq uint32) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	p := u.acks[d]
	if p == nil || p.seq != seq {
		return false
	}
	p.timer.Stop()
	delete(u.acks, d)
	return true
}
