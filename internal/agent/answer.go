package agent

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/ua"
)

// AnswerOptions are the flags of `sipkit answer`.
type AnswerOptions struct {
	Listen Listen
	// AnswerAfter answers that long after ringing; Decline rejects with
	// that status instead; RingForever only rings.
	AnswerAfter time.Duration
	Decline     int
	RingForever bool
	// Calls stops after that many calls have ended (0: run until ctx is
	// done).
	Calls int
	// Register, if set, is the address of record to register at
	// Registrar (a SIP URI with a numeric host, or resolved per RFC
	// 3263), refreshed until the agent stops.
	Register, Registrar string
	// Username and Password answer digest challenges.
	Username, Password string
	JSON               bool
	// Ready, if set, is told the address the agent listens on.
	Ready func(Listen)
}

// Answer answers calls until ctx is done or Calls calls have ended. It
// returns 0 when every call went as asked (answered, or declined with
// Decline), 1 otherwise, 2 for a setup error.
func Answer(ctx context.Context, o AnswerOptions, out, errOut io.Writer) int {
	ended := make(chan ua.Event, 1024)
	p := &printer{out: out, json: o.JSON}
	s, err := newStack(o.Listen, "sipkit", credentials(o.Username, o.Password), p, func(ev ua.Event) {
		if ev.Kind == ua.Terminated {
			select { // never block the stack
			case ended <- ev:
			default:
			}
		}
	}, func(s *stack, ic *ua.IncomingCall) {
		ic.Ring()
		switch {
		case o.Decline != 0:
			ic.Reject(o.Decline)
		case o.RingForever:
		default:
			time.AfterFunc(o.AnswerAfter, func() { ic.Answer(sdp(s.local.Addr()), "application/sdp") })
		}
	})
	if err != nil {
		fmt.Fprintf(errOut, "sipkit answer: %v\n", err)
		return 2
	}
	defer s.close()
	if o.Register != "" {
		reg, err := sip.ParseURI(o.Registrar)
		if err != nil {
			fmt.Fprintf(errOut, "sipkit answer: registrar: %v\n", err)
			return 2
		}
		ro := ua.RegisterOptions{Registrar: reg, AOR: "<" + o.Register + ">",
			OnChange: func(granted time.Duration, err error) {
				if err != nil {
					fmt.Fprintf(errOut, "sipkit answer: %v\n", err)
				} else {
					fmt.Fprintf(errOut, "sipkit answer: registered %s for %v\n", o.Register, granted)
				}
			}}
		if t, err := firstTarget(ctx, reg, s.tr); err == nil {
			ro.Target = t
		}
		r, err := s.u.Register(ctx, ro)
		if err != nil {
			fmt.Fprintf(errOut, "sipkit answer: register: %v\n", err)
			return 2
		}
		defer r.Close()
	}
	if o.Ready != nil {
		o.Ready(Listen{Transport: s.tr, Addr: s.local})
	}
	fmt.Fprintf(errOut, "sipkit answer: listening on %s:%s\n", s.tr, s.local)
	status, n := 0, 0
	for {
		select {
		case ev := <-ended:
			ok := ev.Cause == ua.CauseRemoteBye || ev.Cause == ua.CauseLocalHangup ||
				o.Decline != 0 && ev.Cause == ua.CauseRejected && ev.Status == o.Decline ||
				ev.Cause == ua.CauseCancelled || ev.Cause == ua.CauseAnsweredElsewhere
			if !ok {
				status = 1
			}
			if n++; o.Calls > 0 && n >= o.Calls {
				return status
			}
		case <-ctx.Done():
			return status
		}
	}
}
