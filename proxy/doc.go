// Package proxy is a transaction-stateful SIP proxy (RFC 3261 §16) that
// forks: the tm module of Kamailio and OpenSIPS, as a library.
//
// A Proxy owns a transaction layer and sits on a transport: give it to
// transport.Layer as the Handler. For each new request it checks what
// §16.3 asks (URI scheme, Max-Forwards, loops per RFC 5393, Proxy-Require),
// removes its own Route (§16.4), and asks the Router for the targets of a
// request that does not carry its route. It forwards to every target of
// the highest q-value group in parallel, then to the next group if all of
// them fail (§16.6), each branch in a client transaction of its own, with
// Record-Route, a Via whose branch carries a loop-detection hash, and the
// Max-Breadth shared among the branches (RFC 5393).
//
// Responses meet in a response context (§16.7): provisional responses and
// every 2xx go upstream at once, a 6xx is held until the other branches
// end, and the best final response goes up when all have ended (503 as
// 500, 401 and 407 challenges merged, 408 when no branch answered). When
// a branch answers, the others are cancelled with
//
//	Reason: SIP;cause=200;text="Call completed elsewhere"
//
// (RFC 3326), so phones do not list a missed call; after a 6xx with the
// 6xx's own cause. A CANCEL goes only to a branch that has had a
// provisional response, as soon as it has one (§9.1), built from the
// INVITE as sent on that branch. The caller's CANCEL is answered at once
// and cancels every branch; its Reason is passed on only when it comes
// from Config.Trusted. Timer C (§16.8), a no-answer timeout per branch
// (Kamailio's fr_inv_timer) and a bound on the whole call set-up cancel
// branches that ring too long. A next hop with several addresses (DNS
// SRV) is failed over per RFC 3263 §4.3. The ACK for a 2xx is forwarded
// statelessly; stray responses are dropped (RFC 6026).
//
// A sketch, with a router that sends every request for bob to two phones:
//
//	tl, _ := transport.New(transport.Config{Handler: h})
//	local, _ := tl.Listen(transport.UDP, "127.0.0.1:5060")
//	p, _ := proxy.New(proxy.Config{
//		Sender:    tl,
//		Listeners: []proxy.Listener{{Transport: transport.UDP, Addr: local}},
//		Router: proxy.RouterFunc(func(ctx context.Context, req *sip.Request, src transport.Source) (proxy.Decision, error) {
//			if req.RequestURI().User != "bob" {
//				return proxy.Decision{}, proxy.Reject(404, "")
//			}
//			return proxy.Decision{Targets: []proxy.Target{{URI: desk}, {URI: mobile}}}, nil
//		}),
//	})
//	h.Set(p) // the transport's handler passes messages to p.HandleMessage
//
// cmd/sipkit's `proxy` command (internal/proxyd) wires it to the
// registrar and a location store.
//
// RFCs: 3261 (§16, §9, §17 through package transaction), 3326, 3327,
// 3263 §4.3, 4320, 5393, 5658, 6026.
package proxy
