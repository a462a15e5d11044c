package proxy

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// An operator can list the calls being set up, with their branches, and
// cancel one by Call-ID: its branches get a CANCEL with the given Reason
// and the caller a 487, as for the caller's own CANCEL (§16.10).
func TestCallsListedAndCancelledByCallID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a, _, inv := e.callTwoPhones()
		a.answer(0, 180)
		synctest.Wait()
		calls := e.p.Calls()
		if len(calls) != 1 || calls[0].CallID != inv.CallID() || len(calls[0].Branches) != 2 {
			t.Fatalf("Calls() = %+v, want the one call with two branches", calls)
		}
		if calls[0].Branches[0].State != "ringing" && calls[0].Branches[1].State != "ringing" {
			t.Errorf("no branch ringing: %+v", calls[0].Branches)
		}
		if n := e.p.CancelCall("no-such-call", ""); n != 0 {
			t.Errorf("CancelCall of an unknown Call-ID = %d", n)
		}
		const reason = `SIP;cause=480;text="Cancelled by the operator"`
		if n := e.p.CancelCall(inv.CallID(), reason); n != 1 {
			t.Fatalf("CancelCall = %d, want 1", n)
		}
		wait(time.Second)
		checkCancelOf(t, e.sent(sip.CANCEL, a)[0], e.sent(sip.INVITE, a)[0], reason)
		if f := e.caller.final(); f == nil || f.StatusCode() != 487 {
			t.Errorf("caller's final %v, want 487", f)
		}
		if calls := e.p.Calls(); len(calls) != 0 {
			t.Errorf("Calls() after the call ended = %+v", calls)
		}
	})
}

// Nothing stays behind: after many forked calls of every ending, the
// proxy's call table and its transaction tables are empty once the
// transactions' timers have run.
func TestTablesEmptyAfterCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		a, b := e.phone("127.0.0.1:5071"), e.phone("127.0.0.1:5072")
		e.register("bob", a, b)
		for i := range 300 {
			inv := e.caller.invite("bob")
			synctest.Wait()
			switch i % 3 {
			case 0: // answered, the other branch cancelled
				a.answer(i, 180)
				b.answer(i, 180)
				synctest.Wait()
				a.answer(i, 200)
			case 1: // both busy
				a.answer(i, 486)
				b.answer(i, 486)
			case 2: // the caller cancels
				a.answer(i, 180)
				synctest.Wait()
				e.caller.cancel(inv, "")
			}
			synctest.Wait()
		}
		wait(5 * time.Minute)
		if calls := e.p.Calls(); len(calls) != 0 {
			t.Errorf("%d calls still listed", len(calls))
		}
		if s, c := e.p.Layer().Len(); s != 0 || c != 0 {
			t.Errorf("proxy has %d server and %d client transactions left", s, c)
		}
	})
}
