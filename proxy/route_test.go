package proxy

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// §16.3: requests the proxy refuses before routing, with the status and
// the header that tells the caller why.
func TestRequestValidation(t *testing.T) {
	tests := []struct {
		name   string
		method string
		ruri   string
		hdrs   []string
		want   int
		header string // a header the response must have
	}{
		{"Max-Forwards 0 is 483", sip.INVITE, "sip:bob@" + proxyAddr, []string{"Max-Forwards: 0"}, 483, ""},
		{"Max-Forwards 0 OPTIONS answered here", sip.OPTIONS, "sip:bob@" + proxyAddr, []string{"Max-Forwards: 0"}, 200, "Allow"},
		{"OPTIONS to the proxy answered here", sip.OPTIONS, "sip:" + proxyAddr, nil, 200, "Allow"},
		{"unknown scheme is 416", sip.INVITE, "tel:+15551234567", nil, 416, ""},
		{"Proxy-Require is 420", sip.INVITE, "sip:bob@" + proxyAddr, []string{"Proxy-Require: foo, bar"}, 420, "Unsupported"},
		{"unknown user is the router's 404", sip.INVITE, "sip:nobody@" + proxyAddr, nil, 404, ""},
		{"in-dialog request for the proxy is 404", sip.BYE, "sip:" + proxyAddr, []string{"To: <sip:bob@" + proxyAddr + ">;tag=x"}, 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, transport.TCP)
				a := e.phone("127.0.0.1:5071")
				e.register("bob", a)
				req := siptestRequest(t, tc.method, tc.ruri, tc.hdrs...)
				e.caller.send(req)
				synctest.Wait()
				f := e.caller.final()
				if f == nil || f.StatusCode() != tc.want {
					t.Fatalf("final %v, want %d", f, tc.want)
				}
				if f.ToTag() == "" {
					t.Error("the proxy's response has no To tag (§8.2.6.2)")
				}
				if tc.header != "" && !f.Has(tc.header) {
					t.Errorf("%d has no %s header", tc.want, tc.header)
				}
				if tc.want == 420 {
					if u, _ := f.Get("Unsupported"); u != "foo, bar" {
						t.Errorf("Unsupported %q, want the Proxy-Require tags", u)
					}
				}
				if a.received() != 0 {
					t.Error("the request was forwarded")
				}
			})
		})
	}
}

// §16.3 step 4, RFC 5393 §4.2: a request that comes back to the proxy
// unchanged is a loop (482); one that comes back with another
// Request-URI is a spiral and is forwarded.
func TestLoopDetection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		// bob is served by the proxy itself: the request loops.
		self, _ := sip.ParseURI("sip:bob@" + proxyAddr)
		e.targets["bob"] = []Target{{URI: self}}
		// carol spirals to dave, who is a phone.
		spiral, _ := sip.ParseURI("sip:dave@" + proxyAddr)
		e.targets["carol"] = []Target{{URI: spiral}}
		d := e.phone("127.0.0.1:5074")
		e.register("dave", d)

		e.caller.invite("bob")
		synctest.Wait()
		var loops int
		for _, ev := range e.n.Sent(nil) {
			if r, ok := ev.Msg.(*sip.Response); ok && r.StatusCode() == 482 {
				loops++
			}
		}
		if loops == 0 {
			t.Error("looping INVITE not answered 482")
		}
		e.caller.invite("carol")
		synctest.Wait()
		if d.received() != 1 {
			t.Errorf("spiral reached the phone %d times, want 1", d.received())
		}
	})
}

// RFC 5393 §5: the Max-Breadth of a request is shared among its parallel
// branches; a request that cannot fork as wide as asked gets 440.
func TestMaxBreadth(t *testing.T) {
	t.Run("shared among branches", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newEnv(t, transport.TCP)
			a, b, c := e.phone("127.0.0.1:5071"), e.phone("127.0.0.1:5072"), e.phone("127.0.0.1:5073")
			e.register("bob", a, b, c)
			e.caller.invite("bob", "Max-Breadth: 10")
			synctest.Wait()
			var got []int
			sum := 0
			for _, ph := range []*phone{a, b, c} {
				v, _ := ph.tx(0).Request().Get("Max-Breadth")
				n := atoi(t, v)
				got = append(got, n)
				sum += n
			}
			if sum > 10 || slices.Min(got) < 3 {
				t.Errorf("Max-Breadth of the branches %v, want a share of 10", got)
			}
		})
	})
	t.Run("440 when not enough", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newEnv(t, transport.TCP)
			a, b := e.phone("127.0.0.1:5071"), e.phone("127.0.0.1:5072")
			e.register("bob", a, b)
			e.caller.invite("bob", "Max-Breadth: 1")
			synctest.Wait()
			if f := e.caller.final(); f == nil || f.StatusCode() != 440 {
				t.Errorf("final %v, want 440", f)
			}
			if a.received()+b.received() != 0 {
				t.Error("forked beyond Max-Breadth")
			}
		})
	})
	t.Run("default when absent", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newEnv(t, transport.TCP, func(c *Config) { c.MaxBreadth = 4 })
			a, b, _ := e.callTwoPhones()
			for _, ph := range []*phone{a, b} {
				if v, _ := ph.tx(0).Request().Get("Max-Breadth"); v != "2" {
					t.Errorf("branch Max-Breadth %q, want 2", v)
				}
			}
		})
	})
}

// §16.6: what each branch's request looks like: the target's URI, one
// Max-Forwards less, the proxy's Record-Route (lr) and a Via with a
// branch that carries the loop hash.
func TestForwardedRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a := e.phone("127.0.0.1:5071")
		e.register("bob", a)
		e.caller.invite("bob", "Max-Forwards: 10")
		synctest.Wait()
		r := a.tx(0).Request()
		if got := r.RequestURI().String(); got != "sip:bob@127.0.0.1:5071" {
			t.Errorf("Request-URI %s", got)
		}
		if mf, _ := r.MaxForwards(); mf != 9 {
			t.Errorf("Max-Forwards %d, want 9", mf)
		}
		rr, _ := r.Get("Record-Route")
		if rr != "<sip:127.0.0.1:5060;transport=tcp;lr>" {
			t.Errorf("Record-Route %q", rr)
		}
		vias := r.Vias()
		if len(vias) != 2 || vias[0].Host != "127.0.0.1" || vias[0].Port != 5060 ||
			!strings.HasPrefix(vias[0].Branch, sip.MagicCookie) || !strings.Contains(vias[0].Branch, ".") {
			t.Errorf("Vias %v, want the proxy's with a loop-hash branch on top of the caller's", vias)
		}
	})
}

// §16.4 and §16.12: an in-dialog request with the proxy's Route is
// routed by the rest of its route and its Request-URI; the ACK for a
// 2xx goes statelessly; the Route naming the proxy is removed.
func TestInDialogRequestsFollowTheRoute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a := e.phone("127.0.0.1:5071")
		// No location entry: in-dialog requests must not need one.
		hdrs := []string{
			"To: <sip:bob@" + proxyAddr + ">;tag=ph5071",
			"Route: <sip:127.0.0.1:5060;transport=tcp;lr>",
			"CSeq: 2 BYE",
		}
		bye := siptestRequest(t, sip.BYE, "sip:ph@127.0.0.1:5071", hdrs...)
		e.caller.send(bye)
		synctest.Wait()
		if a.received() != 1 {
			t.Fatalf("BYE reached the phone %d times, want 1", a.received())
		}
		got := a.tx(0).Request()
		if got.Has("Route") {
			t.Error("the proxy's own Route was not removed")
		}
		a.answer(0, 200)
		synctest.Wait()
		if f := e.caller.final(); f == nil || f.StatusCode() != 200 {
			t.Errorf("BYE's final %v, want the phone's 200", f)
		}

		hdrs[2] = "CSeq: 1 ACK"
		ack := siptestRequest(t, sip.ACK, "sip:ph@127.0.0.1:5071", hdrs...)
		e.caller.ep.SendRequest(t.Context(), ack, transport.Target{Transport: transport.TCP, Addr: mustAddrPort(proxyAddr)})
		synctest.Wait()
		a.mu.Lock()
		acks := len(a.acks)
		a.mu.Unlock()
		if acks != 1 {
			t.Errorf("ACK reached the phone %d times, want 1", acks)
		}
	})
}

// §16.4: the previous hop was a strict router: the Request-URI is the
// proxy's Record-Route, and the real one is the last Route.
func TestStrictRouterRequestURI(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a := e.phone("127.0.0.1:5071")
		req := siptestRequest(t, sip.BYE, "sip:127.0.0.1:5060;transport=tcp;lr",
			"To: <sip:bob@"+proxyAddr+">;tag=x", "CSeq: 2 BYE",
			"Route: <sip:ph@127.0.0.1:5071;transport=tcp>")
		e.caller.send(req)
		synctest.Wait()
		if a.received() != 1 {
			t.Fatalf("phone got %d requests, want 1", a.received())
		}
		if got := a.tx(0).Request().RequestURI().String(); got != "sip:ph@127.0.0.1:5071;transport=tcp" {
			t.Errorf("Request-URI %s, want the last Route", got)
		}
	})
}

// §16.6 step 6: toward a strict router (no lr), the Request-URI goes to
// the end of the Route set and the router's URI becomes the Request-URI.
func TestForwardToStrictRouter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		sr := e.phone("127.0.0.1:5075")
		u, _ := sip.ParseURI("sip:bob@192.0.2.1")
		e.targets["bob"] = []Target{{URI: u, Path: []string{"<sip:127.0.0.1:5075;transport=tcp>"}}}
		e.caller.invite("bob")
		synctest.Wait()
		if sr.received() != 1 {
			t.Fatalf("strict router got %d requests, want 1", sr.received())
		}
		r := sr.tx(0).Request()
		route, _ := r.Get("Route")
		if r.RequestURI().String() != "sip:127.0.0.1:5075;transport=tcp" || route != "<sip:bob@192.0.2.1>" {
			t.Errorf("Request-URI %s, Route %q", r.RequestURI(), route)
		}
	})
}

// RFC 3327: a target's Path becomes the Route of its branch.
func TestPathBecomesRoute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		edge := e.phone("127.0.0.1:5076")
		u, _ := sip.ParseURI("sip:bob@192.0.2.7:5070")
		e.targets["bob"] = []Target{{URI: u, Path: []string{"<sip:127.0.0.1:5076;transport=tcp;lr>", "<sip:192.0.2.9;lr>"}}}
		e.caller.invite("bob")
		synctest.Wait()
		if edge.received() != 1 {
			t.Fatalf("edge proxy got %d requests, want 1", edge.received())
		}
		var routes []string
		for v := range edge.tx(0).Request().Values("Route") {
			routes = append(routes, v)
		}
		if !slices.Equal(routes, []string{"<sip:127.0.0.1:5076;transport=tcp;lr>", "<sip:192.0.2.9;lr>"}) {
			t.Errorf("Route %q, want the Path in order", routes)
		}
	})
}

// RFC 6026 §7.3: a response that matches no transaction is dropped.
func TestStrayResponseDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a := e.phone("127.0.0.1:5071")
		req := siptestRequest(t, sip.INVITE, "sip:bob@"+proxyAddr,
			"Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKstray",
			"Via: SIP/2.0/TCP 127.0.0.1:5080;branch=z9hG4bKcaller")
		resp := respond(req, 200)
		resp.SetToTag("x")
		a.ep.SendResponse(t.Context(), resp, transport.Source{Transport: transport.TCP, Remote: mustAddrPort(proxyAddr)})
		synctest.Wait()
		for _, ev := range e.n.Sent(nil) {
			if ev.To.String() == callerAddr {
				t.Errorf("stray response forwarded: %v", ev)
			}
		}
	})
}
