package ua

import (
	"context"
	"errors"
	"sync"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transaction"
)

// Reinvite sends a re-INVITE in the confirmed call (RFC 3261 §14) with
// an optional new offer, ACKs its 2xx, and returns the final status;
// the call goes on whatever it is (§14.1: a failed re-INVITE leaves the
// session as it was).
func (c *Call) Reinvite(ctx context.Context, body []byte, contentType string) (int, error) {
	c.mu.Lock()
	d := c.confirmed
	ended := c.ended
	c.mu.Unlock()
	if d == nil || ended {
		return 0, ErrCallEnded
	}
	req := d.NewRequest(sip.INVITE, c.u.cfg.Contact)
	if len(body) > 0 {
		if err := req.SetBody(body, contentType); err != nil {
			return 0, err
		}
	}
	t, err := c.u.targetOf(ctx, req, c.transportTarget().Transport)
	if err != nil {
		return 0, err
	}
	h := &reinvite{c: c, final: make(chan int, 1)}
	if _, err := c.u.tx.Request(ctx, req, t, h); err != nil {
		return 0, err
	}
	select {
	case code := <-h.final:
		if code == 0 {
			return 0, errors.New("ua: re-INVITE timed out or could not be sent")
		}
		return code, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// reinvite follows one re-INVITE transaction.
type reinvite struct {
	c     *Call
	once  sync.Once
	final chan int
}

func (r *reinvite) HandleResponse(tx *transaction.ClientTx, resp *sip.Response) {
	code := resp.StatusCode()
	if code < 200 {
		return
	}
	if code < 300 {
		// §13.2.2.4 applies to re-INVITEs too: the UA ACKs every 2xx.
		r.c.mu.Lock()
		d := r.c.confirmed
		r.c.mu.Unlock()
		if d != nil {
			// §12.2.1.2: a 2xx to a re-INVITE refreshes the target.
			if cs := resp.Contacts(); len(cs) > 0 {
				d.SetRemoteTarget(cs[0].URI)
			}
			r.c.sendACK(d.NewACK(tx.Request().CSeq().Seq))
		}
	}
	r.once.Do(func() { r.final <- code })
}

func (r *reinvite) HandleError(*transaction.ClientTx, error) {
	r.once.Do(func() { r.final <- 0 })
}
