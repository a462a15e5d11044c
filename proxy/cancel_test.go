package proxy

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

const callerReason = `SIP;cause=200;text="Call completed elsewhere"`

// DESIGN.md, RFC 3261 §16.10: the caller's CANCEL cancels every pending
// branch; its Reason goes downstream only when it comes from a trusted
// network, else it is removed (or replaced by the configured default).
func TestCallerCancelReasonPolicy(t *testing.T) {
	tests := []struct {
		name    string
		trusted []netip.Prefix
		deflt   string
		sent    string // Reason in the caller's CANCEL
		want    string // Reason in the downstream CANCELs
	}{
		{"trusted caller's Reason copied", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "", callerReason, callerReason},
		{"untrusted caller's Reason removed", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "", callerReason, ""},
		{"no one trusted by default", nil, "", callerReason, ""},
		{"untrusted gets the default", nil, `SIP;cause=487;text="Cancelled"`, callerReason, `SIP;cause=487;text="Cancelled"`},
		{"trusted caller without Reason", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, transport.TCP, func(c *Config) { c.Trusted, c.CancelReason = tc.trusted, tc.deflt })
				a, b, inv := e.callTwoPhones()
				a.answer(0, 180)
				b.answer(0, 180)
				synctest.Wait()
				e.caller.cancel(inv, tc.sent)
				synctest.Wait()
				for _, ph := range []*phone{a, b} {
					cancels := e.sent(sip.CANCEL, ph)
					if len(cancels) != 1 {
						t.Fatalf("phone %v got %d CANCELs, want 1", ph.ep.Addr(), len(cancels))
					}
					checkCancelOf(t, cancels[0], e.sent(sip.INVITE, ph)[0], tc.want)
				}
				if f := e.caller.final(); f == nil || f.StatusCode() != 487 {
					t.Errorf("caller's final %v, want 487", f)
				}
			})
		})
	}
}

// §16.10: a CANCEL gets 200 at once, and the INVITE 487 once the
// branches have ended; a branch that never rang is cancelled when it
// does (§9.1), and the 487 waits for it.
func TestCallerCancelWaitsForBranches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a := e.phone("127.0.0.1:5071")
		e.register("bob", a)
		inv := e.caller.invite("bob")
		wait(50 * time.Millisecond)
		e.caller.cancel(inv, "")
		wait(50 * time.Millisecond)
		var cancel200 bool
		for _, r := range e.caller.resps {
			cancel200 = cancel200 || r.CSeq().Method == sip.CANCEL && r.StatusCode() == 200
		}
		if !cancel200 {
			t.Error("CANCEL not answered 200 at once")
		}
		if n := len(e.sent(sip.CANCEL, a)); n != 0 {
			t.Fatalf("CANCEL went to a branch with no provisional (%d)", n)
		}
		if f := e.caller.final(); f != nil {
			t.Fatalf("final %d before the branch ended", f.StatusCode())
		}
		wait(time.Second) // the phone's 100 arrives at 200 ms
		if n := len(e.sent(sip.CANCEL, a)); n != 1 {
			t.Fatalf("branch got %d CANCELs after its 100, want 1", n)
		}
		if f := e.caller.final(); f == nil || f.StatusCode() != 487 {
			t.Errorf("caller's final %v, want 487", f)
		}
	})
}

// DESIGN.md: a cancelled branch that never answers is given up 64·T1
// after its CANCEL, and the caller gets 487, not a 408.
func TestCancelledLocalTimeoutIs487(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a := e.phone("127.0.0.1:5071")
		e.register("bob", a)
		inv := e.caller.invite("bob")
		synctest.Wait()
		a.answer(0, 180)
		synctest.Wait()
		// The phone hears nothing more: its CANCEL is lost.
		e.n.SetDrop(func(ev siptest.Event) bool { return ev.To == a.ep.Addr() })
		e.caller.cancel(inv, "")
		wait(31 * time.Second)
		if f := e.caller.final(); f != nil {
			t.Fatalf("final %d before 64·T1", f.StatusCode())
		}
		wait(2 * time.Second)
		if f := e.caller.final(); f == nil || f.StatusCode() != 487 {
			t.Errorf("caller's final %v, want 487", f)
		}
	})
}

// §16.8: Timer C fires on a branch that rang and then went quiet: it is
// cancelled with a Reason naming the timer, and its end is a 408.
func TestTimerCCancelsBranch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP, func(c *Config) {
			c.TimerC = 4 * time.Minute
			c.NoAnswerTimeout = 10 * time.Minute
		})
		a := e.phone("127.0.0.1:5071")
		e.register("bob", a)
		e.caller.invite("bob")
		synctest.Wait()
		a.answer(0, 180)
		wait(3 * time.Minute)
		a.answer(0, 183) // §16.7 step 2: resets Timer C
		wait(3*time.Minute + 59*time.Second)
		if n := len(e.sent(sip.CANCEL, a)); n != 0 {
			t.Fatalf("CANCEL %d before Timer C, which the 183 reset", n)
		}
		wait(2 * time.Second)
		cancels := e.sent(sip.CANCEL, a)
		if len(cancels) != 1 {
			t.Fatalf("got %d CANCELs at Timer C, want 1", len(cancels))
		}
		checkCancelOf(t, cancels[0], e.sent(sip.INVITE, a)[0], ReasonTimerC)
		if f := e.caller.final(); f == nil || f.StatusCode() != 408 {
			t.Errorf("caller's final %v, want 408", f)
		}
	})
}

// Kamailio's fr_inv_timer: a branch that rings for NoAnswerTimeout is
// cancelled with a Reason naming the timeout; every branch ending so
// gives the caller 408.
func TestNoAnswerTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP, func(c *Config) { c.NoAnswerTimeout = 30 * time.Second })
		a, b := e.phone("127.0.0.1:5071"), e.phone("127.0.0.1:5072")
		e.register("bob", a, b)
		// b's own 100 is lost, so its first provisional is its 180.
		e.n.SetDrop(func(ev siptest.Event) bool {
			r, ok := ev.Msg.(*sip.Response)
			return ok && ev.From == b.ep.Addr() && r.StatusCode() == 100
		})
		e.caller.invite("bob")
		synctest.Wait()
		a.answer(0, 180)
		wait(5 * time.Second)
		b.answer(0, 180)
		wait(26 * time.Second)
		if n, m := len(e.sent(sip.CANCEL, a)), len(e.sent(sip.CANCEL, b)); n != 1 || m != 0 {
			t.Fatalf("at 31 s: %d and %d CANCELs, want 1 for the branch that rang first", n, m)
		}
		checkCancelOf(t, e.sent(sip.CANCEL, a)[0], e.sent(sip.INVITE, a)[0], ReasonNoAnswer)
		if f := e.caller.final(); f != nil {
			t.Fatalf("final %d while a branch still rings", f.StatusCode())
		}
		wait(5 * time.Second)
		if f := e.caller.final(); f == nil || f.StatusCode() != 408 {
			t.Errorf("caller's final %v, want 408", f)
		}
	})
}

// §16.10: a CANCEL that matches no transaction is forwarded as its INVITE
// would have been, and its answer comes back.
func TestUnmatchedCancelForwarded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a := e.phone("127.0.0.1:5071")
		e.register("bob", a)
		inv := siptest.Request(t, sip.INVITE, "sip:bob@"+proxyAddr)
		e.caller.cancel(inv, "")
		synctest.Wait()
		cancels := e.sent(sip.CANCEL, a)
		if len(cancels) != 1 {
			t.Fatalf("phone got %d CANCELs, want 1", len(cancels))
		}
		if cancels[0].RequestURI().String() != "sip:bob@127.0.0.1:5071" {
			t.Errorf("forwarded to %s", cancels[0].RequestURI())
		}
		// The phone has no INVITE for it: its layer answers 481, which
		// goes back to the caller.
		var got []int
		for _, r := range e.caller.resps {
			got = append(got, r.StatusCode())
		}
		if len(got) != 1 || got[0] != 481 {
			t.Errorf("caller got %v, want the phone's 481", got)
		}
	})
}
