package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
	"github.com/sipkit/sipkit/ua"
)

// CallOptions are the flags of `sipkit call`.
type CallOptions struct {
	Target string // the Request-URI
	Proxy  string // outbound proxy URI: preloaded Route and first hop
	From   string
	Listen Listen
	// CancelAfter cancels the call that long after the INVITE is sent
	// (0: never); Reason goes into the CANCEL.
	CancelAfter time.Duration
	Reason      string
	// HangupAfter hangs up that long after the answer (0: at once).
	HangupAfter time.Duration
	// Timeout bounds the whole run (0: 5 minutes).
	Timeout time.Duration
	JSON    bool
	// Username and Password answer digest challenges.
	Username, Password string
}

// Call places one call and returns the exit status: 0 when the flow
// asked for completed (cancelled with --cancel-after; answered and hung
// up otherwise), 1 when it did not, 2 for a usage or setup error.
func Call(ctx context.Context, o CallOptions, out, errOut io.Writer) int {
	to, err := sip.ParseURI(o.Target)
	if err != nil {
		fmt.Fprintf(errOut, "sipkit call: target: %v\n", err)
		return 2
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	ended := make(chan ua.Event, 1024)
	answered := make(chan *ua.Call, 1)
	p := &printer{out: out, json: o.JSON}
	s, err := newStack(o.Listen, "sipkit", credentials(o.Username, o.Password), p, func(ev ua.Event) {
		switch ev.Kind {
		case ua.Confirmed:
			select {
			case answered <- ev.Call:
			default:
			}
		case ua.Terminated:
			select { // never block the stack: a full queue drops the line's event
			case ended <- ev:
			default:
			}
		}
	}, nil)
	if err != nil {
		fmt.Fprintf(errOut, "sipkit call: %v\n", err)
		return 2
	}
	defer s.close()

	opts := ua.CallOptions{From: o.From, Body: sdp(s.local.Addr()), ContentType: "application/sdp"}
	if o.Proxy != "" {
		proxy, err := sip.ParseURI(o.Proxy)
		if err != nil {
			fmt.Fprintf(errOut, "sipkit call: proxy: %v\n", err)
			return 2
		}
		opts.Route = []string{"<" + proxy.String() + ";lr>"}
		if opts.Target, err = firstTarget(ctx, proxy, s.tr); err != nil {
			fmt.Fprintf(errOut, "sipkit call: proxy: %v\n", err)
			return 2
		}
	} else if opts.Target, err = firstTarget(ctx, to, s.tr); err != nil {
		fmt.Fprintf(errOut, "sipkit call: target: %v\n", err)
		return 2
	}
	if opts.From == "" {
		opts.From = "<sip:sipkit@" + s.local.String() + ">"
	}
	c, err := s.u.Call(ctx, to, opts)
	if err != nil {
		fmt.Fprintf(errOut, "sipkit call: %v\n", err)
		return 1
	}
	var cancelC <-chan time.Time
	if o.CancelAfter > 0 {
		cancelC = time.After(o.CancelAfter)
	}
	for {
		select {
		case <-cancelC:
			cancelC = nil
			if err := c.Cancel(o.Reason); err != nil && !errors.Is(err, ua.ErrAnswered) {
				fmt.Fprintf(errOut, "sipkit call: cancel: %v\n", err)
			}
		case <-answered:
			time.AfterFunc(o.HangupAfter, func() { c.Hangup() })
		case ev := <-ended:
			if ev.ID.RemoteTag != c.ID().RemoteTag && ev.Cause == ua.CauseAnsweredElsewhere {
				continue // a losing fork
			}
			return callStatus(o, ev)
		case <-ctx.Done():
			fmt.Fprintf(errOut, "sipkit call: %v\n", ctx.Err())
			return 1
		}
	}
}

// callStatus says whether the call ended as asked.
func callStatus(o CallOptions, ev ua.Event) int {
	if o.CancelAfter > 0 {
		if ev.Cause == ua.CauseCancelled {
			return 0
		}
		return 1
	}
	if ev.Cause == ua.CauseLocalHangup {
		return 0
	}
	return 1
}

// firstTarget resolves u (RFC 3263; numeric hosts need no DNS) on the
// tool's own transport when u names none, and returns the first target.
func firstTarget(ctx context.Context, u sip.URI, tr string) (transport.Target, error) {
	var r transport.Resolver
	ts, err := r.ResolveOn(ctx, u, tr)
	if err != nil {
		return transport.Target{}, err
	}
	return ts[0], nil
}
