// Package ua places, cancels, answers and hangs up calls for
// applications (RFC 3261 §13–15, RFC 3326), over the transaction layer.
//
// Every event carries the current ID of its dialog, and every ID an
// application was given keeps finding the dialog (see package dialog),
// so a call can be cancelled or hung up from any goroutine, by handle,
// dialog ID or Call-ID, in any state. A CANCEL is built from the INVITE
// as sent (§9.1): the To header exactly as in the INVITE, never with a
// tag; a cancel asked for before any provisional response is held until
// one arrives.
package ua

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/sipkit/sipkit/auth"
	"github.com/sipkit/sipkit/dialog"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transaction"
	"github.com/sipkit/sipkit/transport"
)

// Config configures a UA. Every zero field takes the default it names.
type Config struct {
	// Sender sends through the transport. Required. The transport's
	// Handler must be the UA (UA.HandleMessage).
	Sender transaction.Sender
	// Timers are T1, T2, T4 (defaults 500 ms, 4 s, 5 s).
	Timers transaction.Timers
	// Contact is this UA's Contact, as a name-addr
	// ("<sip:alice@127.0.0.1:5060>"). Required to place or answer calls.
	Contact string
	// From is the default From of calls ("<sip:alice@127.0.0.1>").
	// Zero: the Contact.
	From string
	// Resolver finds where in-dialog requests go when their target is a
	// name (RFC 3263). Nil: a Resolver using /etc/resolv.conf; numeric
	// targets need none.
	Resolver *transport.Resolver
	// Auth, if set, answers 401 and 407 challenges to the UA's requests
	// with digest credentials (RFC 3261 §22.2): the request is sent again
	// with them, a new branch and the next CSeq.
	Auth *auth.Client
	// OnEvent receives every call event. It is called with no lock
	// held, in the goroutine that received the message or fired the
	// timer: it must return quickly.
	OnEvent func(Event)
	// OnIncoming is given every new incoming call; the application
	// answers it with Ring, Answer or Reject, now or later, from any
	// goroutine. Nil rejects incoming calls with 480.
	OnIncoming func(*IncomingCall)
}

// UA is a user agent: client and server, for calls.
type UA struct {
	cfg     Config
	tx      *transaction.Layer
	dialogs *dialog.Table

	mu       sync.Mutex
	calls    map[string]*Call           // outgoing calls by Call-ID
	sessions map[*dialog.Dialog]session // who owns each dialog
	incoming map[*transaction.ServerTx]*IncomingCall
	acks     map[*dialog.Dialog]*pending2xx // 2xx retransmitted until ACKed
}

// session is a call that owns dialogs: an outgoing Call or an
// IncomingCall.
type session interface {
	peerBye(d *dialog.Dialog, bye *sip.Request)
	acked(d *dialog.Dialog, ack *sip.Request)
	// ackTimeout ends the session with BYE when the ACK of a 2xx in
	// dialog d never came (RFC 3261 §13.3.1.4).
	ackTimeout(d *dialog.Dialog)
}

var (
	// ErrCallEnded is returned by operations on a call that has ended,
	// or for an ID that finds no live dialog.
	ErrCallEnded = errors.New("ua: no such call, or it has ended")
	// ErrAnswered is returned by Cancel once the call was answered: hang
	// it up instead.
	ErrAnswered = errors.New("ua: the call was answered; hang up instead")
)

// New returns a UA.
func New(cfg Config) (*UA, error) {
	if cfg.Sender == nil {
		return nil, errors.New("ua: Config.Sender is required")
	}
	if cfg.From == "" {
		cfg.From = cfg.Contact
	}
	u := &UA{
		cfg:      cfg,
		dialogs:  dialog.NewTable(),
		calls:    make(map[string]*Call),
		sessions: make(map[*dialog.Dialog]session),
		incoming: make(map[*transaction.ServerTx]*IncomingCall),
		acks:     make(map[*dialog.Dialog]*pending2xx),
	}
	tx, err := transaction.New(transaction.Config{Sender: cfg.Sender, Timers: cfg.Timers, Handler: (*uasHandler)(u)})
	if err != nil {
		return nil, err
	}
	u.tx = tx
	return u, nil
}

// HandleMessage takes a message from the transport (transport.Handler).
func (u *UA) HandleMessage(msg sip.Message, src transport.Source) { u.tx.HandleMessage(msg, src) }

// Dialogs returns the dialog table: every dialog the UA has told the
// application about, by any ID it was given, and by Call-ID.
func (u *UA) Dialogs() *dialog.Table { return u.dialogs }

// Transactions returns the transaction layer (for its table sizes).
func (u *UA) Transactions() *transaction.Layer { return u.tx }

// Timers returns the timer values in use.
func (u *UA) Timers() transaction.Timers { return u.tx.Timers() }

// Active returns the number of calls and incoming calls in progress.
func (u *UA) Active() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.calls) + len(u.incoming)
}

func (u *UA) emit(evs []Event) {
	if u.cfg.OnEvent == nil {
		return
	}
	for _, ev := range evs {
		u.cfg.OnEvent(ev)
	}
}

// Cancel cancels the outgoing call that has the dialog id (any ID an
// event gave), with an optional Reason header value (RFC 3326).
func (u *UA) Cancel(id dialog.ID, reason string) error {
	c, err := u.callOf(id)
	if err != nil {
		return err
	}
	return c.Cancel(reason)
}

// CancelCallID cancels the outgoing call with that Call-ID.
func (u *UA) CancelCallID(callID, reason string) error {
	u.mu.Lock()
	c := u.calls[callID]
	u.mu.Unlock()
	if c == nil {
		return ErrCallEnded
	}
	return c.Cancel(reason)
}

// Hangup ends the call that has the dialog id: BYE when confirmed,
// CANCEL while an outgoing call is unanswered, a rejection while an
// incoming one is.
func (u *UA) Hangup(id dialog.ID) error {
	d, ok := u.dialogs.Get(id)
	if !ok {
		return ErrCallEnded
	}
	u.mu.Lock()
	s := u.sessions[d]
	u.mu.Unlock()
	switch s := s.(type) {
	case *Call:
		return s.hangup()
	case *IncomingCall:
		return s.Hangup()
	}
	return ErrCallEnded
}

func (u *UA) callOf(id dialog.ID) (*Call, error) {
	d, ok := u.dialogs.Get(id)
	if !ok {
		return nil, ErrCallEnded
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if c, ok := u.sessions[d].(*Call); ok {
		return c, nil
	}
	return nil, ErrCallEnded
}

// addDialog files d for lookups and as owned by s.
func (u *UA) addDialog(d *dialog.Dialog, s session) {
	u.dialogs.Add(d)
	u.mu.Lock()
	u.sessions[d] = s
	u.mu.Unlock()
}

func (u *UA) removeDialog(d *dialog.Dialog) {
	d.Terminate()
	u.dialogs.Remove(d)
	u.mu.Lock()
	delete(u.sessions, d)
	if p := u.acks[d]; p != nil {
		p.timer.Stop()
		delete(u.acks, d)
	}
	u.mu.Unlock()
}

// targetOf returns where an in-dialog request goes: its first Route, or
// its Request-URI (RFC 3261 §12.2.1.1, §8.1.2), resolved per RFC 3263
// (numeric hosts need no DNS); fallback's transport is used when the URI
// names none.
func (u *UA) targetOf(ctx context.Context, req *sip.Request, fallback string) (transport.Target, error) {
	uri := req.RequestURI()
	if routes, err := req.Routes(); err == nil && len(routes) > 0 {
		uri = routes[0].URI
	}
	r := u.cfg.Resolver
	if r == nil {
		r = &defaultResolver
	}
	ts, err := r.ResolveOn(ctx, uri, fallback)
	if err != nil {
		return transport.Target{}, err
	}
	return ts[0], nil
}

var defaultResolver transport.Resolver

// sendInDialog sends an in-dialog request in a client transaction; done
// is called with the final status (0 for a timeout or transport error).
func (u *UA) sendInDialog(req *sip.Request, fallback string, done func(code int)) error {
	ctx := context.Background()
	t, err := u.targetOf(ctx, req, fallback)
	if err != nil {
		return fmt.Errorf("ua: %s target: %w", req.Method(), err)
	}
	_, err = u.tx.Request(ctx, req, t, finalFunc(done))
	return err
}

// finalFunc adapts a function of the final status to a
// transaction.ClientHandler.
type finalFunc func(code int)

func (f finalFunc) HandleResponse(_ *transaction.ClientTx, r *sip.Response) {
	if r.StatusCode() >= 200 && f != nil {
		f(r.StatusCode())
	}
}

func (f finalFunc) HandleError(*transaction.ClientTx, error) {
	if f != nil {
		f(0)
	}
}
