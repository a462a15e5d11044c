package proxy

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

// Found in review: targets() treats any request with a To tag as in-dialog and
// answers 404 "Not Here" when its Request-URI is the proxy, before the
// Router is asked. A REGISTER refresh is never in a dialog, but UAs that
// copy the To tag of the 200 into refreshes exist; with the registrar
// behind the Router (internal/proxyd) their refreshes get 404 and the
// registration expires.
func TestRegisterWithToTagReachesRouter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		routed := 0
		e := newEnv(t, transport.TCP, func(c *Config) {
			c.Router = RouterFunc(func(_ context.Context, req *sip.Request, _ transport.Source) (Decision, error) {
				routed++
				return Decision{Response: newResponse(req, 200, "")}, nil
			})
		})
		reg := siptestRequest(t, sip.REGISTER, "sip:"+proxyAddr,
			"To: <sip:bob@127.0.0.1>;tag=from-last-200", "From: <sip:bob@127.0.0.1>;tag=x")
		e.caller.send(reg)
		wait(time.Second)
		if f := e.caller.final(); f == nil || f.StatusCode() != 200 || routed != 1 {
			t.Errorf("REGISTER with a To tag: final %v, router called %d times; want the registrar's 200", f, routed)
		}
	})
}

// Found in review: a Router that returns a provisional Response (or Reject with a
// code < 200) leaves the request with no final response: nothing checks
// the class, so the caller waits for the server transaction's lifetime.
func TestRouterProvisionalResponseIsNotFinal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP, func(c *Config) {
			c.Router = RouterFunc(func(_ context.Context, req *sip.Request, _ transport.Source) (Decision, error) {
				return Decision{Response: newResponse(req, 183, "")}, nil
			})
		})
		e.caller.invite("bob")
		wait(10 * time.Second)
		if f := e.caller.final(); f == nil {
			t.Errorf("no final response 10 s after the router answered 183 (caller got %v)", e.caller.codes())
		}
	})
}

// Found in review: an OPTIONS ping to the proxy from a phone whose outbound proxy
// is this proxy carries Route: <sip:proxy;lr>. check() answers OPTIONS
// itself only without a Route; preprocessRoute then takes the
// strict-router branch (Request-URI is ours, no user, a Route), the
// Router sees a user-less local URI and rejects it (proxyd: 484; here
// 404) instead of the 200 the same ping gets without the Route.
func TestOptionsPingWithOwnRoute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		opt := siptestRequest(t, sip.OPTIONS, "sip:"+proxyAddr, "Route: <sip:"+proxyAddr+";transport=tcp;lr>")
		e.caller.send(opt)
		wait(time.Second)
		if f := e.caller.final(); f == nil || f.StatusCode() != 200 {
			t.Errorf("OPTIONS to the proxy via its own Route: final %v, want 200 as without the Route", f)
		}
	})
}

// RFC 4320 §4.1 and §4.2: for a non-INVITE request the proxy forwards no
// provisional response but 100, and sends no 408 of its own when no
// branch answers: the client's own Timer F ends it.
func TestNonInviteNoProvisionalNo408(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		a := e.phone("127.0.0.1:5071")
		e.register("bob", a)
		e.caller.send(siptestRequest(t, sip.MESSAGE, "sip:bob@"+proxyAddr))
		synctest.Wait()
		a.answer(0, 180)
		e.n.SetDrop(func(ev siptest.Event) bool { return ev.To == a.ep.Addr() || ev.From == a.ep.Addr() })
		wait(40 * time.Second)
		for _, ev := range e.n.Sent(nil) {
			if r, ok := ev.Msg.(*sip.Response); ok && ev.To.String() == callerAddr && r.StatusCode() != 100 {
				t.Errorf("caller was sent %d for its MESSAGE", r.StatusCode())
			}
		}
	})
}
