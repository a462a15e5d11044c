package proxy

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

// Found in review: serial forking across q-groups outlives the server
// transaction's InviteLifetime (max(TimerC, NoAnswerTimeout) + 2·64·T1 +
// 5 s = 254 s with the defaults): each group may ring for the no-answer
// timeout (120 s), so three groups need ~360 s. The transaction layer
// then answers the caller 408 on its own and calls Proxy.HandleError,
// which only logs: the third group keeps ringing, and when it answers,
// the 200 cannot go upstream (the server transaction is gone).
func TestSerialForkOutlivesServerTx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		p1, p2, p3 := e.phone("127.0.0.1:5071"), e.phone("127.0.0.1:5072"), e.phone("127.0.0.1:5073")
		p1.q, p2.q, p3.q = 1000, 700, 300
		e.register("bob", p1, p2, p3)
		e.caller.invite("bob")
		synctest.Wait()
		p1.answer(0, 180)
		// The no-answer timeout (120 s) cancels p1; the phone answers 487
		// and the second group starts; the same again for p2.
		wait(121 * time.Second)
		if p2.received() != 1 {
			t.Fatalf("second group not started: p2 got %d requests", p2.received())
		}
		p2.answer(0, 180)
		wait(121 * time.Second)
		if p3.received() != 1 {
			t.Fatalf("third group not started: p3 got %d requests", p3.received())
		}
		p3.answer(0, 180)
		wait(30 * time.Second) // t ≈ 272 s: p3 has rung for 30 s of its 120 s
		if f := e.caller.final(); f != nil {
			t.Errorf("caller got final %d while a branch is still ringing (p3 got %d CANCELs)",
				f.StatusCode(), len(e.sent(sip.CANCEL, p3)))
		}
		p3.answer(0, 200)
		wait(time.Second)
		if got := e.caller.codes(); !slices.Contains(got, 200) {
			t.Errorf("caller got %v: the answered call's 200 never reached it", got)
		}
	})
}

// Found in review: RFC 3261 §9.2 — a CANCEL has no effect on a non-INVITE request
// (beyond its own 200). The proxy marks the context cancelled anyway, so
// the MESSAGE's real final response (here 404 from the only branch) is
// replaced by a 487 the proxy made up.
func TestCancelOfNonInviteKeepsRealAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a := e.phone("127.0.0.1:5071")
		e.register("bob", a)
		msg := siptest.Request(t, sip.MESSAGE, "sip:bob@"+proxyAddr)
		e.caller.send(msg)
		synctest.Wait()
		e.caller.cancel(msg, "")
		synctest.Wait()
		a.answer(0, 404)
		synctest.Wait()
		f := e.caller.final()
		if f == nil || f.StatusCode() != 404 {
			t.Errorf("caller's final for the MESSAGE %v, want the branch's 404 (CANCEL does not apply to non-INVITE)", f)
		}
	})
}

// Found in review: DESIGN.md — "a Reason header the caller put in its CANCEL is
// copied into the downstream CANCELs only when the CANCEL came from a
// trusted source; from anyone else it is removed". A CANCEL that matches
// no transaction (forwardCancel) is cloned and forwarded with its Reason
// intact, from an untrusted caller.
func TestUnmatchedCancelDropsUntrustedReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP) // no one trusted
		a := e.phone("127.0.0.1:5071")
		e.register("bob", a)
		inv := siptest.Request(t, sip.INVITE, "sip:bob@"+proxyAddr)
		e.caller.cancel(inv, ReasonCompletedElsewhere)
		synctest.Wait()
		cancels := e.sent(sip.CANCEL, a)
		if len(cancels) != 1 {
			t.Fatalf("phone got %d CANCELs, want 1", len(cancels))
		}
		var got []string
		for v := range cancels[0].Values("Reason") {
			got = append(got, v)
		}
		if len(got) != 0 {
			t.Errorf("untrusted CANCEL forwarded with Reason %q, want it removed", got)
		}
	})
}

// MaxCallSetup (Kamailio's max_inv_lifetime) ends a call being set up:
// the caller gets 408 and the branch still ringing a CANCEL with a
// Reason saying so.
func TestMaxCallSetupCancelsPendingBranches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP, func(c *Config) { c.MaxCallSetup = 5 * time.Minute; c.NoAnswerTimeout = time.Hour })
		a := e.phone("127.0.0.1:5071")
		e.register("bob", a)
		e.caller.invite("bob")
		synctest.Wait()
		for i := 0; i < 6 && e.caller.final() == nil; i++ {
			a.answer(0, 180) // keeps Timer C from firing
			wait(time.Minute)
		}
		if f := e.caller.final(); f == nil || f.StatusCode() != 408 {
			t.Fatalf("caller's final %v, want 408 at MaxCallSetup", f)
		}
		cancels := e.sent(sip.CANCEL, a)
		if len(cancels) != 1 {
			t.Fatalf("ringing branch got %d CANCELs, want 1", len(cancels))
		}
		checkCancelOf(t, cancels[0], e.sent(sip.INVITE, a)[0], ReasonTimeout)
	})
}
