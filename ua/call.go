package ua

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sipkit/sipkit/dialog"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transaction"
	"github.com/sipkit/sipkit/transport"
)

// CallOptions shape an outgoing INVITE.
type CallOptions struct {
	// Target is where the INVITE goes. Zero: resolved from the first
	// Route, or the Request-URI (RFC 3263).
	Target transport.Target
	// From overrides Config.From.
	From string
	// Route is a preloaded route set, e.g. an outbound proxy
	// ("<sip:127.0.0.1:5060;lr>").
	Route []string
	// Body and ContentType are the offer, if any.
	Body        []byte
	ContentType string
	// Headers are added as they are, each "Name: value".
	Headers []string
}

// Call is an outgoing call: one INVITE, and the dialogs its responses
// make (one per remote tag when it forks).
type Call struct {
	u      *UA
	invite *sip.Request
	callID string
	hook   func(*Call, Event) // sees the call's events after the application (Parallel)

	mu           sync.Mutex
	tx           *transaction.ClientTx
	first        *dialog.Dialog            // made with the INVITE; the ID without a remote tag finds it
	byTag        map[string]*dialog.Dialog // every dialog, by remote tag
	acks         map[string]*sip.Request   // the ACK of each 2xx, resent on its retransmissions
	confirmed    *dialog.Dialog
	heard        bool // a provisional response arrived
	final        bool // the INVITE transaction has its final response (or gave up)
	cancelWanted bool
	cancelSent   bool
	cancelReason string
	ended        bool
	authTries    int
	firstUsed    bool      // first has taken a remote tag (a tagless 2xx counts)
	box          mailbox   // events made under the lock, not yet delivered
	callingID    dialog.ID // the ID of the Calling event
}

// Call places a call to the Request-URI to. The Calling event is given
// before it returns.
func (u *UA) Call(ctx context.Context, to sip.URI, opts CallOptions) (*Call, error) {
	return u.call(ctx, to, opts, nil)
}

// call is Call with a hook that sees the call's events before the
// application does, with no lock held.
func (u *UA) call(ctx context.Context, to sip.URI, opts CallOptions, hook func(*Call, Event)) (*Call, error) {
	if u.cfg.Contact == "" {
		return nil, errors.New("ua: Config.Contact is required to place calls")
	}
	inv, err := u.newInvite(to, opts)
	if err != nil {
		return nil, err
	}
	target := opts.Target
	if !target.Addr.IsValid() {
		if target, err = u.targetOf(ctx, inv, ""); err != nil {
			return nil, err
		}
	}
	c := &Call{u: u, invite: inv, callID: inv.CallID(), hook: hook,
		byTag: make(map[string]*dialog.Dialog), acks: make(map[string]*sip.Request)}
	c.first = dialog.NewUAC(inv)
	c.callingID = c.first.ID()
	u.addDialog(c.first, c)
	u.mu.Lock()
	u.calls[c.callID] = c
	u.mu.Unlock()
	c.mu.Lock()
	c.box.add(Event{Kind: Calling, ID: c.first.ID(), Call: c, Request: inv})
	c.mu.Unlock()
	c.flush()

	// Not under the call's lock: opening a connection may take a while,
	// and Cancel or ID must not wait for it. A response that comes first
	// records the transaction itself (HandleResponse).
	tx, err := u.tx.Request(ctx, inv, target, c)
	c.mu.Lock()
	if c.tx == nil {
		c.tx = tx
	}
	c.mu.Unlock()
	if err != nil {
		c.end(Event{Kind: Terminated, Cause: CauseTransportError})
		return nil, err
	}
	return c, nil
}

func (u *UA) newInvite(to sip.URI, opts CallOptions) (*sip.Request, error) {
	from := opts.From
	if from == "" {
		from = u.cfg.From
	}
	inv := sip.NewRequest(sip.INVITE, to)
	hs := []string{"Via", "SIP/2.0/UDP 0.0.0.0;rport;branch=" + sip.NewBranch()}
	for _, r := range opts.Route {
		hs = append(hs, "Route", r)
	}
	hs = append(hs,
		"Max-Forwards", "70",
		"From", from+";tag="+sip.NewTag(),
		"To", "<"+to.String()+">",
		"Call-ID", sip.NewCallID(callIDHost(u.cfg.Contact)),
		"CSeq", "1 INVITE",
		"Contact", u.cfg.Contact,
	)
	for i := 0; i < len(hs); i += 2 {
		if err := inv.AppendHeader(hs[i], hs[i+1]); err != nil {
			return nil, fmt.Errorf("ua: %s: %w", hs[i], err)
		}
	}
	for _, h := range opts.Headers {
		name, value, ok := strings.Cut(h, ":")
		name, value = strings.Trim(name, " \t"), strings.Trim(value, " \t")
		if !ok || name == "" {
			return nil, fmt.Errorf("ua: bad header %q", h)
		}
		if err := inv.AppendHeader(name, value); err != nil {
			return nil, fmt.Errorf("ua: %s: %w", name, err)
		}
	}
	if err := inv.SetBody(opts.Body, opts.ContentType); err != nil {
		return nil, err
	}
	return inv, nil
}

// ID returns the current ID of the call's first dialog.
func (c *Call) ID() dialog.ID {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.confirmed != nil {
		return c.confirmed.ID()
	}
	return c.first.ID()
}

// Invite returns the INVITE last sent (after a challenge, the one with
// credentials).
func (c *Call) Invite() *sip.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.invite
}

// HandleResponse runs the call on a response to its INVITE
// (transaction.ClientHandler).
func (c *Call) HandleResponse(tx *transaction.ClientTx, resp *sip.Response) {
	code := resp.StatusCode()
	var evs []Event
	var sends []func()
	c.mu.Lock()
	if tx.Request() == c.invite {
		// A response can beat resend's bookkeeping after a challenge.
		c.tx = tx
	}
	switch {
	case c.ended:
		// §13.2.2.4: a 2xx is ACKed whatever became of the call, and a
		// dialog nobody is on is ended with BYE.
		if code/100 == 2 {
			sends = c.lateAnswer(resp)
		}
	case tx.Request() != c.invite:
		// A late response of an INVITE sent before a challenge: only a
		// 2xx matters (it made a dialog), and it is ended.
		if code/100 == 2 {
			sends = c.lateAnswer(resp)
		}
	case code < 200:
		c.heard = true
		if tag := resp.ToTag(); tag != "" {
			d := c.dialogFor(tag, resp)
			evs = append(evs, Event{Kind: Early, ID: d.ID(), Call: c, Response: resp})
		} else {
			evs = append(evs, Event{Kind: Proceeding, ID: c.first.ID(), Call: c, Response: resp})
		}
		// §9.1: a held cancel goes out with the first provisional.
		if c.cancelWanted && !c.cancelSent {
			c.cancelSent = true
			sends = append(sends, c.sendCancel)
		}
	case code < 300:
		c.final = true
		evs, sends = c.answered(resp)
	case (code == 401 || code == 407) && c.u.cfg.Auth != nil && c.authTries < maxAuthTries && !c.cancelWanted:
		// §22.2: send the INVITE again with credentials. The
		// transaction has ACKed the challenge; the call goes on, and a
		// cancel waits for a provisional to the new INVITE (§9.1).
		c.authTries++
		if inv, err := c.authorized(resp); err == nil {
			c.invite = inv
			c.heard = false
			c.first.SetLocalSeq(inv.CSeq().Seq)
			sends = append(sends, func() { c.resend(inv) })
			break
		}
		fallthrough
	default:
		c.final = true
		cause := CauseRejected
		if c.cancelSent && code == 487 {
			cause = CauseCancelled
		}
		evs = c.endAll(Event{Kind: Terminated, Cause: cause, Status: code, Response: resp})
	}
	c.box.add(evs...)
	c.mu.Unlock()
	for _, f := range sends {
		f()
	}
	c.flush()
}

// lateAnswer ACKs a 2xx that came after the call ended (again, for a
// retransmission whose first ACK was lost) and ends a dialog it never
// knew with BYE; the lock is held.
func (c *Call) lateAnswer(resp *sip.Response) []func() {
	tag := resp.ToTag()
	if ack := c.acks[tag]; ack != nil {
		return []func(){func() { c.sendACK(ack) }}
	}
	d := dialog.NewUACFromResponse(c.invite, resp)
	ack := d.NewACK(resp.CSeq().Seq)
	c.acks[tag] = ack
	bye := d.NewRequest(sip.BYE, "")
	return []func(){func() { c.sendACK(ack) }, func() { c.u.sendInDialog(bye, c.transportTarget().Transport, nil) }}
}

// maxAuthTries bounds the challenges one call answers: a server that
// keeps challenging has refused the credentials.
const maxAuthTries = 2

// authorized returns the INVITE again with credentials for resp's
// challenges, the next CSeq and a new branch; the lock is held.
func (c *Call) authorized(resp *sip.Response) (*sip.Request, error) {
	inv, err := c.u.cfg.Auth.Authorize(c.invite, resp)
	if err != nil {
		return nil, err
	}
	v, _ := inv.TopVia()
	v.Params = v.Params.Set("branch", sip.NewBranch())
	if err := inv.SetTopVia(v); err != nil {
		return nil, err
	}
	return inv, nil
}

// resend starts the INVITE transaction again (after a challenge).
func (c *Call) resend(inv *sip.Request) {
	tx, err := c.u.tx.Request(context.Background(), inv, c.transportTarget(), c)
	c.mu.Lock()
	if err != nil {
		c.final = true
		c.box.add(c.endAll(Event{Kind: Terminated, Cause: CauseTransportError})...)
		c.mu.Unlock()
		c.flush()
		return
	}
	c.tx = tx
	c.mu.Unlock()
}

// dialogFor returns the dialog of remote tag, making it on the first
// response that carries the tag: the first dialog takes the first tag,
// each further tag (a fork) gets a dialog of its own (§12.1.2).
func (c *Call) dialogFor(tag string, resp *sip.Response) *dialog.Dialog {
	d, ok := c.byTag[tag]
	if !ok {
		if !c.firstUsed {
			d, c.firstUsed = c.first, true
		} else {
			d = c.first.Fork()
			c.u.addDialog(d, c)
		}
		c.byTag[tag] = d
	}
	d.Update(resp)
	c.u.dialogs.Rekey(d)
	return d
}

// answered handles a 2xx (§13.2.2.4): ACK it (again, for a
// retransmission); the first confirms the call and ends the other early
// dialogs; a 2xx from another fork, or one that raced a cancel, is ACKed
// and ended with BYE.
func (c *Call) answered(resp *sip.Response) (evs []Event, sends []func()) {
	tag := resp.ToTag()
	if ack := c.acks[tag]; ack != nil {
		return nil, []func(){func() { c.sendACK(ack) }}
	}
	d := c.dialogFor(tag, resp)
	ack := d.NewACK(c.invite.CSeq().Seq)
	c.acks[tag] = ack
	sends = append(sends, func() { c.sendACK(ack) })
	if c.confirmed != nil || c.cancelWanted {
		bye := d.NewRequest(sip.BYE, "")
		if c.cancelReason != "" {
			bye.AppendHeader("Reason", c.cancelReason)
		}
		sends = append(sends, func() { c.u.sendInDialog(bye, c.transportTarget().Transport, nil) })
		if c.confirmed != nil {
			c.u.removeDialog(d)
			return []Event{{Kind: Terminated, ID: d.ID(), Call: c, Response: resp, Cause: CauseAnsweredElsewhere}}, sends
		}
		// The cancel lost the race with this 2xx: the call ends as
		// cancelled all the same.
		return c.endAll(Event{Kind: Terminated, Cause: CauseCancelled, Status: resp.StatusCode(), Response: resp}), sends
	}
	c.confirmed = d
	evs = append(evs, Event{Kind: Confirmed, ID: d.ID(), Call: c, Response: resp})
	for t, other := range c.byTag {
		if other != d {
			delete(c.byTag, t)
			c.u.removeDialog(other)
			evs = append(evs, Event{Kind: Terminated, ID: other.ID(), Call: c, Cause: CauseAnsweredElsewhere})
		}
	}
	if c.first != d {
		if c.first.State() != dialog.Terminated {
			c.u.removeDialog(c.first) // never had a response of its own
		}
		// The ID the Calling event gave keeps finding the call.
		c.u.dialogs.Alias(c.callingID, d)
	}
	return evs, sends
}

func (c *Call) sendACK(ack *sip.Request) {
	t, err := c.u.targetOf(context.Background(), ack, c.transportTarget().Transport)
	if err == nil {
		c.u.tx.SendACK(context.Background(), ack, t)
	}
}

// HandleError ends the call when its INVITE transaction fails
// (transaction.ClientHandler): Timer B, or a transport error.
func (c *Call) HandleError(_ *transaction.ClientTx, err error) {
	cause := CauseTransportError
	if errors.Is(err, transaction.ErrTimeout) {
		cause = CauseTimeout
	}
	c.mu.Lock()
	if c.cancelWanted {
		cause = CauseCancelled // even held: the application asked for it
	}
	c.final = true
	c.box.add(c.endAll(Event{Kind: Terminated, Cause: cause})...)
	c.mu.Unlock()
	c.flush()
}

// Cancel cancels the call if it is not answered yet, with an optional
// Reason header value (RFC 3326), from any goroutine. Before any
// provisional response the CANCEL is held and sent when one arrives
// (§9.1); if a final response comes first, nothing is sent and the call
// ends with it. Without a final response 64·T1 after the CANCEL the
// call ends as cancelled.
func (c *Call) Cancel(reason string) error {
	c.mu.Lock()
	switch {
	case c.ended:
		c.mu.Unlock()
		return ErrCallEnded
	case c.confirmed != nil:
		c.mu.Unlock()
		return ErrAnswered
	case c.cancelWanted || c.final:
		c.mu.Unlock()
		return nil
	}
	c.cancelWanted, c.cancelReason = true, reason
	send := c.heard
	c.cancelSent = send
	c.mu.Unlock()
	if send {
		c.sendCancel()
	}
	return nil
}

// sendCancel sends the CANCEL and starts the 64·T1 wait for the final
// response (§9.1).
func (c *Call) sendCancel() {
	c.mu.Lock()
	reason, tx := c.cancelReason, c.tx
	c.mu.Unlock()
	cancel, err := transaction.NewCancel(c.invite, reason)
	if err == nil {
		_, err = c.u.tx.Request(context.Background(), cancel, tx.Target(), finalFunc(nil))
	}
	wait := 64 * c.u.Timers().T1
	if err != nil {
		wait = 0 // the CANCEL cannot go: the call is over as far as we can tell
	}
	time.AfterFunc(wait, func() {
		c.mu.Lock()
		if c.final || c.ended {
			c.mu.Unlock()
			return
		}
		c.final = true
		c.box.add(c.endAll(Event{Kind: Terminated, Cause: CauseCancelled})...)
		c.mu.Unlock()
		tx.Terminate()
		c.flush()
	})
}

// hangup ends the call: BYE when it is confirmed, CANCEL while it is
// unanswered.
func (c *Call) hangup() error { return c.hangupWithReason("") }

// hangupWithReason is hangup with a Reason header (RFC 3326) on the BYE
// or CANCEL.
func (c *Call) hangupWithReason(reason string) error {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return ErrCallEnded
	}
	if c.confirmed == nil {
		c.mu.Unlock()
		return c.Cancel(reason)
	}
	bye := c.confirmed.NewRequest(sip.BYE, "")
	c.mu.Unlock()
	if reason != "" {
		bye.AppendHeader("Reason", reason)
	}
	err := c.u.sendInDialog(bye, c.transportTarget().Transport, nil)
	c.mu.Lock()
	c.box.add(c.endAll(Event{Kind: Terminated, Cause: CauseLocalHangup})...)
	c.mu.Unlock()
	c.flush()
	return err
}

// Hangup hangs up the call: BYE if answered, CANCEL if not.
func (c *Call) Hangup() error { return c.hangup() }

// peerBye answers a BYE from the peer in a dialog of the call.
func (c *Call) peerBye(d *dialog.Dialog, bye *sip.Request) {
	c.mu.Lock()
	c.box.add(c.endAll(Event{Kind: Terminated, Cause: CauseRemoteBye, Request: bye, Reason: reasonOf(bye)})...)
	c.mu.Unlock()
	c.flush()
}

func (c *Call) acked(*dialog.Dialog, *sip.Request) {}

func (c *Call) ackTimeout(d *dialog.Dialog) {
	c.mu.Lock()
	ended := c.ended
	c.mu.Unlock()
	if ended {
		return
	}
	c.u.sendInDialog(d.NewRequest(sip.BYE, ""), c.transportTarget().Transport, nil)
	c.mu.Lock()
	c.box.add(c.endAll(Event{Kind: Terminated, Cause: CauseTimeout})...)
	c.mu.Unlock()
	c.flush()
}

// endAll ends every dialog of the call with ev (one event per dialog,
// each with its own ID) and forgets the call; the lock is held.
func (c *Call) endAll(ev Event) []Event {
	if c.ended {
		return nil
	}
	c.ended = true
	ds := []*dialog.Dialog{c.first}
	for _, d := range c.byTag {
		if d != c.first {
			ds = append(ds, d)
		}
	}
	var evs []Event
	for _, d := range ds {
		if d.State() == dialog.Terminated {
			continue // ended already, with its own event
		}
		e := ev
		e.ID, e.Call = d.ID(), c
		evs = append(evs, e)
		c.u.removeDialog(d)
	}
	c.u.mu.Lock()
	delete(c.u.calls, c.callID)
	c.u.mu.Unlock()
	return evs
}

// end ends the call from outside its lock.
func (c *Call) end(ev Event) {
	c.mu.Lock()
	c.box.add(c.endAll(ev)...)
	c.mu.Unlock()
	c.flush()
}

// callIDHost is the host part of a Contact, for Call-IDs.
func callIDHost(contact string) string {
	if na, err := sip.ParseNameAddr(contact); err == nil && na.URI.Host != "" {
		return na.URI.Host
	}
	return "sipkit.invalid"
}

// flush delivers the call's pending events to the application, then to
// the hook (whose reaction, a Parallel ending a loser, follows them).
func (c *Call) flush() {
	c.box.flush(&c.mu, func(evs []Event) {
		c.u.emit(evs)
		if c.hook != nil {
			for _, ev := range evs {
				c.hook(c, ev)
			}
		}
	})
}

// transportTarget is where the INVITE went; the lock must not be held.
func (c *Call) transportTarget() transport.Target {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tx.Target()
}
