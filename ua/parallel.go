package ua

import (
	"context"
	"errors"
	"sync"

	"github.com/sipkit/sipkit/sip"
)

// Fork is one destination of a parallel call.
type Fork struct {
	To      sip.URI
	Options CallOptions
}

// Parallel is a set of calls placed at once, as a PBX or B2BUA rings
// several phones: the first to answer wins and the others are cancelled
// with `Reason: SIP;cause=200;text="Call completed elsewhere"` (RFC
// 3326), so they do not show a missed call.
type Parallel struct {
	mu      sync.Mutex
	calls   []*Call
	pending int
	winner  *Call
	done    chan struct{}
}

// ErrNoAnswer is returned by Parallel.Wait when every call ended
// unanswered.
var ErrNoAnswer = errors.New("ua: no call was answered")

// CallParallel places one call per fork. Events of every call reach
// Config.OnEvent as usual.
func (u *UA) CallParallel(ctx context.Context, forks []Fork) (*Parallel, error) {
	p := &Parallel{done: make(chan struct{}), pending: len(forks)}
	for _, f := range forks {
		c, err := u.call(ctx, f.To, f.Options, p.event)
		if err != nil {
			p.Cancel("")
			return nil, err
		}
		p.mu.Lock()
		p.calls = append(p.calls, c)
		late := p.winner != nil && p.winner != c
		p.mu.Unlock()
		if late {
			// Another answered while this INVITE was being sent.
			stopLoser(c)
		}
	}
	return p, nil
}

// stopLoser ends a call that lost the race: CANCEL with "Call completed
// elsewhere" while it is unanswered, and BYE with the same Reason if its
// 2xx came in the meantime.
func stopLoser(c *Call) {
	reason := sip.ReasonCompletedElsewhere().String()
	if errors.Is(c.Cancel(reason), ErrAnswered) {
		c.hangupWithReason(reason)
	}
}

// event follows the calls: the first confirmed wins, the rest are
// cancelled; when all have ended unanswered, Wait returns.
func (p *Parallel) event(c *Call, ev Event) {
	p.mu.Lock()
	switch ev.Kind {
	case Confirmed:
		if p.winner != nil {
			// A loser answered before its CANCEL could go: end it.
			p.mu.Unlock()
			if p.winner != c {
				stopLoser(c)
			}
			return
		}
		p.winner = c
		losers := make([]*Call, 0, len(p.calls))
		for _, o := range p.calls {
			if o != c {
				losers = append(losers, o)
			}
		}
		p.mu.Unlock()
		close(p.done)
		for _, o := range losers {
			stopLoser(o)
		}
		return
	case Terminated:
		if ev.ID == c.first.ID() || ev.ID.RemoteTag == "" {
			if p.pending--; p.pending == 0 && p.winner == nil {
				close(p.done)
			}
		}
	}
	p.mu.Unlock()
}

// Wait returns the call that was answered, or ErrNoAnswer when none was.
func (p *Parallel) Wait(ctx context.Context) (*Call, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.winner == nil {
		return nil, ErrNoAnswer
	}
	return p.winner, nil
}

// Cancel cancels every call not yet answered, with an optional Reason.
func (p *Parallel) Cancel(reason string) {
	p.mu.Lock()
	calls := append([]*Call(nil), p.calls...)
	p.mu.Unlock()
	for _, c := range calls {
		c.Cancel(reason)
	}
}
