package proxy

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transaction"
	"github.com/sipkit/sipkit/transport"
)

// failoverAfter100Env: the first address answers 100 Trying then 503,
// the usual answer of an overloaded server; the branch fails over to the
// second (RFC 3263 §4.3), which must count as not having rung yet.
func failoverAfter100Env(t *testing.T) (e *env, second *phone, inv func() *sip.Request) {
	first := netip.MustParseAddrPort("127.0.0.1:5091")
	sec := netip.MustParseAddrPort("127.0.0.1:5092")
	e = newEnv(t, transport.TCP, func(c *Config) {
		c.Resolve = func(context.Context, sip.URI) ([]transport.Target, error) {
			return []transport.Target{{Transport: transport.TCP, Addr: first}, {Transport: transport.TCP, Addr: sec}}, nil
		}
	})
	ph1 := e.phone(first.String())
	ph1.onInvite = func(tx *transaction.ServerTx) {
		tx.Respond(respond(tx.Request(), 100))
		tx.Respond(respond(tx.Request(), 503))
	}
	second = e.phone(sec.String())
	u, _ := sip.ParseURI("sip:bob@bob.example.com")
	e.targets["bob"] = []Target{{URI: u}}
	return e, second, func() *sip.Request { return e.caller.invite("bob") }
}

// The caller cancels after the failover, before the second address has
// sent any provisional (its layer sends 100 at 200 ms): §9.1 says the
// CANCEL must wait for one, even though the first address had sent a 100.
func TestCancelAfterFailoverWaitsForProvisional(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, second, invite := failoverAfter100Env(t)
		inv := invite()
		wait(50 * time.Millisecond)
		if second.received() != 1 {
			t.Fatalf("second address got %d INVITEs, want 1", second.received())
		}
		e.caller.cancel(inv, "")
		wait(50 * time.Millisecond)
		if n := len(e.sent(sip.CANCEL, second)); n != 0 {
			t.Errorf("second address got %d CANCELs before sending any provisional, want 0 (RFC 3261 §9.1)", n)
		}
		wait(time.Second)
		if n := len(e.sent(sip.CANCEL, second)); n != 1 {
			t.Errorf("second address got %d CANCELs after its 100, want 1", n)
		}
		if f := e.caller.final(); f == nil || f.StatusCode() != 487 {
			t.Errorf("caller's final %v, want 487", f)
		}
	})
}

// The cancel decision lands while the next attempt's INVITE is being
// sent, from another goroutine (the admin API, the caller's CANCEL, a
// timer): no panic, and the new attempt is cancelled once it rings.
func TestCancelDuringFailoverSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, second, invite := failoverAfter100Env(t)
		var once sync.Once
		var panicked any
		e.n.SetDrop(func(ev siptest.Event) bool {
			req, ok := ev.Msg.(*sip.Request)
			if !ok || ev.To != second.ep.Addr() || req.Method() != sip.INVITE {
				return false
			}
			once.Do(func() {
				defer func() { panicked = recover() }()
				// Another goroutine (the admin API, the caller's CANCEL,
				// Timer C) deciding to cancel right now.
				e.p.CancelCall(req.CallID(), "")
			})
			return false
		})
		invite()
		wait(time.Second)
		if panicked != nil {
			t.Fatalf("cancelling during a failover panicked: %v", fmt.Sprint(panicked))
		}
		if n := len(e.sent(sip.CANCEL, second)); n != 1 {
			t.Errorf("second address got %d CANCELs, want 1 after its 100", n)
		}
		if f := e.caller.final(); f == nil || f.StatusCode() != 487 {
			t.Errorf("caller's final %v, want 487", f)
		}
	})
}
