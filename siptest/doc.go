// Package siptest is sipkit's test kit, in the spirit of net/http/httptest:
// an in-memory SIP network for tests under testing/synctest, and builders
// for requests and responses.
//
// A Network carries messages between Endpoints. An Endpoint has an
// address and a transport (UDP retransmits in the layers above, TCP does
// not) and implements what a transaction layer needs from the transport:
// SendRequest and SendResponse, which write the message as bytes and
// deliver a freshly parsed copy to the transport.Handler of the endpoint
// at the destination, with a transport.Source as transport.Layer would
// fill it. Delivery is asynchronous and in order: each endpoint has one
// goroutine reading an unbounded queue, so a handler is never called on
// the sender's goroutine, and idle goroutines are durably blocked, so
// synctest.Wait returns and fake time advances. Latency delays delivery;
// Drop loses chosen messages; Log records every message with its
// (fake) send time, so a test can check retransmission intervals exactly.
//
// A sketch, with a UAC transaction layer on one endpoint and a UAS on
// another (RFC 3261 §17.1.1.2: Timer A doubles from T1 = 500 ms):
//
//	synctest.Test(t, func(t *testing.T) {
//		n := siptest.NewNetwork()
//		defer n.Close()
//		uas := n.Endpoint("UDP", "127.0.0.1:5070", nil) // never answers
//		uac := n.Endpoint("UDP", "127.0.0.1:5060", nil)
//		txl, _ := transaction.New(transaction.Config{Sender: uac})
//		uac.SetHandler(txl)
//
//		req := siptest.Request(t, "INVITE", "sip:bob@127.0.0.1:5070")
//		txl.Request(ctx, req, transport.Target{Transport: "UDP", Addr: uas.Addr()}, tu)
//		time.Sleep(2 * time.Second)
//		synctest.Wait()
//		for i, ev := range n.Sent(siptest.IsRequest("INVITE")) {
//			// sent at 0, 500 ms, 1.5 s ...
//		}
//	})
//
// Create the Network inside the bubble that uses it, and Close it before
// the bubble ends.
//
// SIPp runs the SIPp traffic generator (Debian package sip-tester) on
// loopback for end-to-end tests against a real peer: a scenario file, a
// scenario shipped in testdata/sipp (UASs that check a CANCEL against
// its INVITE per RFC 3261 §9.1, answer, or reject) or a built-in one,
// and its result: exit status, successful and failed calls, and logs.
package siptest
