package ua

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transaction"
	"github.com/sipkit/sipkit/transport"
)

// RegisterOptions describe a binding to keep at a registrar.
type RegisterOptions struct {
	// Registrar is the Request-URI ("sip:example.com").
	Registrar sip.URI
	// AOR is the address of record, as a name-addr for To and From
	// ("<sip:alice@example.com>").
	AOR string
	// Target is where the REGISTERs go. Zero: resolved from Registrar.
	Target transport.Target
	// Expires is the lifetime asked for (zero: 3600 s).
	Expires time.Duration
	// OnChange, if set, is told of every outcome: the lifetime granted
	// (0 when unregistered) or an error. No lock is held.
	OnChange func(granted time.Duration, err error)
}

// Registration keeps one binding refreshed (RFC 3261 §10.2.4) until
// Close.
type Registration struct {
	u      *UA
	o      RegisterOptions
	callID string
	tag    string
	target transport.Target

	mu      sync.Mutex
	seq     uint32
	last    *sip.Request // the REGISTER last sent, for credentials
	tries   int          // challenges answered for the current refresh
	timer   *time.Timer
	closed  bool
	granted time.Duration
	backoff time.Duration // the next retry after a failure
}

// Retries after a failed REGISTER start at retryFirst and double up to
// retryMax, so a registrar that is down is not hammered and a binding
// comes back soon after it is up (PJSIP retries every 300 s).
const (
	retryFirst = 30 * time.Second
	retryMax   = 300 * time.Second
)

// refreshMargin is how long before expiry a binding is refreshed, as
// PJSIP's delay_before_refresh; short bindings refresh at half-life.
const refreshMargin = 5 * time.Second

// Register registers the UA's Contact for o.AOR and keeps refreshing it.
// The first REGISTER is sent before it returns.
func (u *UA) Register(ctx context.Context, o RegisterOptions) (*Registration, error) {
	if u.cfg.Contact == "" {
		return nil, errors.New("ua: Config.Contact is required to register")
	}
	if o.Expires <= 0 {
		o.Expires = time.Hour
	}
	r := &Registration{u: u, o: o, callID: sip.NewCallID(callIDHost(u.cfg.Contact)), tag: sip.NewTag(), target: o.Target}
	if !r.target.Addr.IsValid() {
		req := sip.NewRequest(sip.REGISTER, o.Registrar)
		t, err := u.targetOf(ctx, req, "")
		if err != nil {
			return nil, err
		}
		r.target = t
	}
	return r, r.send(o.Expires)
}

// Granted returns the lifetime the registrar granted last (0 if none).
func (r *Registration) Granted() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.granted
}

// Close removes the binding (a REGISTER with expires 0) and stops the
// refreshes.
func (r *Registration) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Unlock()
	return r.send(0)
}

// send sends a REGISTER for expires (0: remove the binding).
func (r *Registration) send(expires time.Duration) error {
	r.mu.Lock()
	r.seq++
	r.tries = 0
	req, err := r.build(expires)
	r.last = req
	r.mu.Unlock()
	if err != nil {
		return err
	}
	_, err = r.u.tx.Request(context.Background(), req, r.target, &registerTx{r: r, expires: expires})
	return err
}

func (r *Registration) build(expires time.Duration) (*sip.Request, error) {
	req := sip.NewRequest(sip.REGISTER, r.o.Registrar)
	secs := strconv.Itoa(int(expires / time.Second))
	for _, h := range [][2]string{
		{"Via", "SIP/2.0/UDP 0.0.0.0;rport;branch=" + sip.NewBranch()},
		{"Max-Forwards", "70"},
		{"From", r.o.AOR + ";tag=" + r.tag},
		{"To", r.o.AOR},
		{"Call-ID", r.callID}, // the same for every refresh (§10.2)
		{"CSeq", strconv.FormatUint(uint64(r.seq), 10) + " REGISTER"},
		{"Contact", r.u.cfg.Contact},
		{"Expires", secs},
		{"Content-Length", "0"},
	} {
		if err := req.AppendHeader(h[0], h[1]); err != nil {
			return nil, fmt.Errorf("ua: REGISTER %s: %w", h[0], err)
		}
	}
	return req, nil
}

// registerTx follows one REGISTER transaction.
type registerTx struct {
	r       *Registration
	expires time.Duration
}

func (h *registerTx) HandleResponse(_ *transaction.ClientTx, resp *sip.Response) {
	r := h.r
	code := resp.StatusCode()
	switch {
	case code < 200:
		return
	case code < 300:
		granted := grantedExpiry(resp, r.u.cfg.Contact, h.expires)
		r.mu.Lock()
		r.granted, r.backoff = granted, 0
		if !r.closed && granted > 0 {
			r.schedule(max(granted-refreshMargin, granted/2))
		}
		r.mu.Unlock()
		r.tell(granted, nil)
	case (code == 401 || code == 407) && r.u.cfg.Auth != nil:
		r.mu.Lock()
		r.tries++
		retry, err := r.u.cfg.Auth.Authorize(r.last, resp)
		if err == nil && r.tries <= maxAuthTries {
			v, _ := retry.TopVia()
			v.Params = v.Params.Set("branch", sip.NewBranch())
			err = retry.SetTopVia(v)
			r.seq = retry.CSeq().Seq
			r.last = retry
		} else if err == nil {
			err = errors.New("ua: registrar keeps refusing the credentials")
		}
		r.mu.Unlock()
		if err == nil {
			_, err = r.u.tx.Request(context.Background(), retry, r.target, h)
		}
		if err != nil {
			r.failed(fmt.Errorf("ua: REGISTER: %w", err))
		}
	case code == 423:
		// §10.2.8: ask again for at least Min-Expires.
		if v, ok := resp.Get("Min-Expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 && time.Duration(n)*time.Second > h.expires {
				r.mu.Lock()
				r.o.Expires = time.Duration(n) * time.Second
				expires := r.o.Expires
				r.mu.Unlock()
				r.send(expires)
				return
			}
		}
		fallthrough
	default:
		r.failed(fmt.Errorf("ua: REGISTER: %d %s", code, resp.Reason()))
	}
}

func (h *registerTx) HandleError(_ *transaction.ClientTx, err error) {
	h.r.failed(fmt.Errorf("ua: REGISTER: %w", err))
}

// schedule sends the next REGISTER after wait; the lock is held.
func (r *Registration) schedule(wait time.Duration) {
	r.timer = time.AfterFunc(wait, func() {
		r.mu.Lock()
		expires, closed := r.o.Expires, r.closed
		r.mu.Unlock()
		if closed {
			return
		}
		if err := r.send(expires); err != nil {
			r.failed(fmt.Errorf("ua: REGISTER: %w", err))
		}
	})
}

// failed reports a failed REGISTER and, unless the registration was
// closed, tries again after a backoff: a binding must not lapse for good
// because a registrar was down once.
func (r *Registration) failed(err error) {
	r.mu.Lock()
	if !r.closed {
		r.backoff = min(max(2*r.backoff, retryFirst), retryMax)
		r.schedule(r.backoff)
	}
	r.mu.Unlock()
	r.tell(0, err)
}

func (r *Registration) tell(granted time.Duration, err error) {
	if r.o.OnChange != nil {
		r.o.OnChange(granted, err)
	}
}

// grantedExpiry reads the lifetime the registrar gave our Contact
// (§10.2.4): its expires parameter, else the Expires header, else what
// we asked for.
func grantedExpiry(resp *sip.Response, contact string, asked time.Duration) time.Duration {
	ours, err := sip.ParseNameAddr(contact)
	for _, c := range resp.Contacts() {
		if err == nil && c.URI.Equal(ours.URI) {
			if e, ok := c.Expires(); ok {
				return time.Duration(e) * time.Second
			}
		}
	}
	if e, err := resp.Expires(); err == nil {
		return time.Duration(e) * time.Second
	}
	return asked
}
