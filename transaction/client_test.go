package transaction

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

var (
	isInvite = siptest.IsRequest(sip.INVITE)
)

// RFC 3261 §17.1.1.2: Timer A starts at T1 and doubles with no cap;
// Timer B (64·T1) ends the transaction with a timeout.
func TestInviteClientTimerARetransmitsUntilTimerB(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		tu := &clientTU{}
		tx := e.request(siptest.Request(t, sip.INVITE, "sip:bob@127.0.0.2"), tu)
		e.at(31999 * time.Millisecond)
		checkState(t, tx, Calling)
		if len(tu.errors()) != 0 {
			t.Fatalf("timed out early: %v", tu.errors())
		}
		e.at(32 * time.Second)
		checkTimes(t, "INVITE", e.sentTimes(isInvite), ms(0, 500, 1500, 3500, 7500, 15500, 31500))
		if errs := tu.errors(); len(errs) != 1 || !errors.Is(errs[0], ErrTimeout) {
			t.Errorf("TU errors %v, want one ErrTimeout at 32 s", errs)
		}
		checkState(t, tx, Terminated)
		checkEmpty(t, e.layer)
	})
}

// §17.1.1.2: on a reliable transport Timer A does not run; Timer B does.
func TestInviteClientNoRetransmissionOverTCP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		tu := &clientTU{}
		e.request(siptest.Request(t, sip.INVITE, "sip:bob@127.0.0.2"), tu)
		e.at(32 * time.Second)
		checkTimes(t, "INVITE", e.sentTimes(isInvite), ms(0))
		if errs := tu.errors(); len(errs) != 1 || !errors.Is(errs[0], ErrTimeout) {
			t.Errorf("TU errors %v, want one ErrTimeout", errs)
		}
	})
}

// §17.1.1.2: a provisional moves Calling to Proceeding, which neither
// retransmits nor times out.
func TestInviteClientProvisionalStopsTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		tu := &clientTU{}
		tx := e.request(siptest.Request(t, sip.INVITE, "sip:bob@127.0.0.2"), tu)
		e.at(time.Second)
		e.peer.respond(t, e.peer.requests(sip.INVITE)[0], 180, "To: <sip:bob@127.0.0.2>;tag=b1")
		e.at(time.Second)
		checkState(t, tx, Proceeding)
		e.at(100 * time.Second)
		checkTimes(t, "INVITE", e.sentTimes(isInvite), ms(0, 500))
		if !slices.Equal(tu.codes(), []int{180}) || len(tu.errors()) != 0 {
			t.Errorf("TU saw %v, errors %v; want the 180 only", tu.codes(), tu.errors())
		}
		checkState(t, tx, Proceeding)
	})
}

// §17.1.1.3: the ACK for a non-2xx final has the INVITE's Request-URI,
// Call-ID, From, CSeq number and Route, exactly one Via equal to the
// INVITE's top Via, and the response's To with its tag. A retransmitted
// final gets the ACK again and does not reach the TU; Timer D (32 s on
// UDP) ends Completed.
func TestInviteClientNon2xxIsACKedInCompleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		tu := &clientTU{}
		inv := siptest.Request(t, sip.INVITE, "sip:bob@127.0.0.2", "Route: <sip:127.0.0.2;lr>", "Route: <sip:127.0.0.3;lr>")
		tx := e.request(inv, tu)
		e.at(time.Second)
		got := e.peer.requests(sip.INVITE)[0]
		e.peer.respond(t, got, 486, "To: <sip:bob@127.0.0.2>;tag=uas1")
		e.at(time.Second)
		checkState(t, tx, Completed)

		acks := e.peer.requests(sip.ACK)
		if len(acks) != 1 {
			t.Fatalf("%d ACKs, want 1", len(acks))
		}
		ack, sent := acks[0].msg.(*sip.Request), got.msg.(*sip.Request)
		vias := ack.Vias()
		top, _ := sent.TopVia()
		if len(vias) != 1 || vias[0].String() != top.String() {
			t.Errorf("ACK Vias %v, want exactly the INVITE's top Via %q", vias, top.String())
		}
		if ack.ToTag() != "uas1" {
			t.Errorf("ACK To tag %q, want uas1", ack.ToTag())
		}
		if ack.RequestURI() != sent.RequestURI() || ack.CallID() != sent.CallID() || ack.FromTag() != sent.FromTag() ||
			ack.CSeq() != (sip.CSeq{Seq: sent.CSeq().Seq, Method: sip.ACK}) {
			t.Errorf("ACK %q does not match the INVITE %q", ack.String(), sent.String())
		}
		routes := slices.Collect(ack.Values("Route"))
		if !slices.Equal(routes, []string{"<sip:127.0.0.2;lr>", "<sip:127.0.0.3;lr>"}) {
			t.Errorf("ACK Routes %q, want the INVITE's", routes)
		}

		e.at(2 * time.Second)
		e.peer.respond(t, got, 486, "To: <sip:bob@127.0.0.2>;tag=uas1")
		e.at(2 * time.Second)
		if n := len(e.peer.requests(sip.ACK)); n != 2 {
			t.Errorf("%d ACKs after the retransmitted 486, want 2", n)
		}
		if !slices.Equal(tu.codes(), []int{486}) {
			t.Errorf("TU saw %v, want one 486", tu.codes())
		}
		e.at(32999 * time.Millisecond)
		checkState(t, tx, Completed)
		e.at(33 * time.Second)
		checkState(t, tx, Terminated)
		checkEmpty(t, e.layer)
	})
}

// §17.1.1.2: Timer D is zero on a reliable transport.
func TestInviteClientTimerDZeroOverTCP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		tx := e.request(siptest.Request(t, sip.INVITE, "sip:bob@127.0.0.2"), &clientTU{})
		e.at(time.Second)
		e.peer.respond(t, e.peer.requests(sip.INVITE)[0], 603, "To: <sip:bob@127.0.0.2>;tag=x")
		e.at(time.Second)
		checkState(t, tx, Terminated)
		if n := len(e.peer.requests(sip.ACK)); n != 1 {
			t.Errorf("%d ACKs, want 1", n)
		}
		checkEmpty(t, e.layer)
	})
}

// RFC 6026 §8.4: a 2xx moves the INVITE client transaction to Accepted,
// where every 2xx, retransmitted or from another fork, reaches the TU,
// and no ACK is sent by the transaction; Timer M (64·T1) ends it.
func TestInviteClientAcceptedPasses2xxRetransmissions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		tu := &clientTU{}
		tx := e.request(siptest.Request(t, sip.INVITE, "sip:bob@127.0.0.2"), tu)
		e.at(time.Second)
		inv := e.peer.requests(sip.INVITE)[0]
		e.peer.respond(t, inv, 200, "To: <sip:bob@127.0.0.2>;tag=fork1")
		e.at(time.Second)
		checkState(t, tx, Accepted)
		e.at(1500 * time.Millisecond)
		e.peer.respond(t, inv, 200, "To: <sip:bob@127.0.0.2>;tag=fork1")
		e.peer.respond(t, inv, 200, "To: <sip:bob@127.0.0.2>;tag=fork2")
		e.at(1500 * time.Millisecond)
		if !slices.Equal(tu.codes(), []int{200, 200, 200}) {
			t.Errorf("TU saw %v, want all three 2xx", tu.codes())
		}
		if n := len(e.peer.requests(sip.ACK)); n != 0 {
			t.Errorf("the transaction sent %d ACKs for 2xx; that is the TU's job", n)
		}
		checkTimes(t, "INVITE", e.sentTimes(isInvite), ms(0, 500))
		e.at(32999 * time.Millisecond)
		checkState(t, tx, Accepted)
		e.at(33 * time.Second)
		checkState(t, tx, Terminated)
		checkEmpty(t, e.layer)
	})
}

// §17.1.2.2: Timer E starts at T1 and doubles up to T2; Timer F (64·T1)
// times out.
func TestNonInviteClientTimerECapsAtT2(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		tu := &clientTU{}
		tx := e.request(siptest.Request(t, sip.OPTIONS, "sip:bob@127.0.0.2"), tu)
		e.at(32 * time.Second)
		checkTimes(t, "OPTIONS", e.sentTimes(siptest.IsRequest(sip.OPTIONS)),
			ms(0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500))
		if errs := tu.errors(); len(errs) != 1 || !errors.Is(errs[0], ErrTimeout) {
			t.Errorf("TU errors %v, want one ErrTimeout at 32 s", errs)
		}
		checkState(t, tx, Terminated)
		checkEmpty(t, e.layer)
	})
}

// §17.1.2.2: in Proceeding, Timer E fires every T2.
func TestNonInviteClientTimerEIsT2AfterProvisional(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		tu := &clientTU{}
		tx := e.request(siptest.Request(t, sip.REGISTER, "sip:127.0.0.2"), tu)
		e.at(time.Second)
		e.peer.respond(t, e.peer.requests(sip.REGISTER)[0], 100)
		e.at(time.Second)
		checkState(t, tx, Proceeding)
		e.at(32 * time.Second)
		checkTimes(t, "REGISTER", e.sentTimes(siptest.IsRequest(sip.REGISTER)),
			ms(0, 500, 1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500))
		if !slices.Equal(tu.codes(), []int{100}) {
			t.Errorf("TU saw %v", tu.codes())
		}
		if errs := tu.errors(); len(errs) != 1 || !errors.Is(errs[0], ErrTimeout) {
			t.Errorf("TU errors %v, want Timer F's timeout", errs)
		}
	})
}

// §17.1.2.2: no Timer E on TCP; Timer F still runs.
func TestNonInviteClientNoRetransmissionOverTCP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		tu := &clientTU{}
		e.request(siptest.Request(t, sip.OPTIONS, "sip:bob@127.0.0.2"), tu)
		e.at(32 * time.Second)
		checkTimes(t, "OPTIONS", e.sentTimes(siptest.IsRequest(sip.OPTIONS)), ms(0))
		if errs := tu.errors(); len(errs) != 1 || !errors.Is(errs[0], ErrTimeout) {
			t.Errorf("TU errors %v, want one ErrTimeout", errs)
		}
	})
}

// §17.1.2.2: a final response moves to Completed, which absorbs
// retransmissions for Timer K (T4 on UDP, zero on TCP).
func TestNonInviteClientTimerK(t *testing.T) {
	for _, tc := range []struct {
		tr   string
		live time.Duration
	}{{transport.UDP, 5 * time.Second}, {transport.TCP, 0}} {
		t.Run(tc.tr, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, tc.tr)
				tu := &clientTU{}
				tx := e.request(siptest.Request(t, sip.BYE, "sip:bob@127.0.0.2"), tu)
				e.at(time.Second)
				bye := e.peer.requests(sip.BYE)[0]
				e.peer.respond(t, bye, 200)
				e.at(time.Second)
				if tc.live == 0 {
					checkState(t, tx, Terminated)
					checkEmpty(t, e.layer)
					return
				}
				checkState(t, tx, Completed)
				e.peer.respond(t, bye, 200) // absorbed
				e.at(time.Second + tc.live - time.Millisecond)
				checkState(t, tx, Completed)
				e.at(time.Second + tc.live)
				checkState(t, tx, Terminated)
				if !slices.Equal(tu.codes(), []int{200}) {
					t.Errorf("TU saw %v, want one 200", tu.codes())
				}
				checkTimes(t, "BYE", e.sentTimes(siptest.IsRequest(sip.BYE)), ms(0, 500))
				checkEmpty(t, e.layer)
			})
		})
	}
}

// §17.1.3: responses match by branch and CSeq method, so the 200 to a
// CANCEL does not reach the INVITE with the same branch.
func TestClientMatchesOnCSeqMethod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		invTU, cancelTU := &clientTU{}, &clientTU{}
		inv := siptest.Request(t, sip.INVITE, "sip:bob@127.0.0.2")
		e.request(inv, invTU)
		v, _ := inv.TopVia()
		cancel := siptest.Request(t, sip.CANCEL, "sip:bob@127.0.0.2", "Via: "+v.String(),
			"Call-ID: "+inv.CallID(), "CSeq: 1 CANCEL")
		e.request(cancel, cancelTU)
		e.at(100 * time.Millisecond)
		e.peer.respond(t, e.peer.requests(sip.CANCEL)[0], 200)
		e.at(100 * time.Millisecond)
		if !slices.Equal(cancelTU.codes(), []int{200}) || len(invTU.codes()) != 0 {
			t.Errorf("CANCEL TU saw %v, INVITE TU saw %v", cancelTU.codes(), invTU.codes())
		}
	})
}

// RFC 6026 §7.3: a response matching no transaction goes to the stray
// handler, not to any TU.
func TestStrayResponseGoesToStrayHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := siptest.NewNetwork()
		defer n.Close()
		var strays []*sip.Response
		ep := n.Endpoint(transport.UDP, uacAddr, nil)
		l, _ := New(Config{Sender: ep, Stray: func(r *sip.Response, _ transport.Source) { strays = append(strays, r) }})
		ep.SetHandler(l)
		p := &peer{}
		p.Endpoint = n.Endpoint(transport.UDP, uasAddr, p)
		req := siptest.Request(t, sip.OPTIONS, "sip:bob@127.0.0.2", "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnobody")
		if err := p.SendResponse(context.Background(), siptest.Response(t, req, 200), transport.Source{Transport: transport.UDP, Remote: mustAddr(uacAddr)}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if len(strays) != 1 || strays[0].Branch() != "z9hG4bKnobody" {
			t.Errorf("stray handler got %d responses", len(strays))
		}
	})
}

// A request that cannot be sent at all is an error from Request, and no
// transaction stays behind (§8.1.3.1: the TU answers 503).
func TestClientTransportErrorLeavesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		_, err := e.layer.Request(context.Background(), siptest.Request(t, sip.OPTIONS, "sip:bob@127.0.0.9"),
			transport.Target{Transport: transport.TCP, Addr: mustAddr("127.0.0.9:5060")}, &clientTU{})
		if !errors.Is(err, ErrTransport) || !errors.Is(err, siptest.ErrUnreachable) {
			t.Errorf("err = %v, want ErrTransport wrapping the transport's error", err)
		}
		checkEmpty(t, e.layer)
	})
}

// §8.1.1.7: a request needs a branch with the magic cookie.
func TestClientNeedsRFC3261Branch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		_, err := e.layer.Request(context.Background(),
			siptest.Request(t, sip.OPTIONS, "sip:bob@127.0.0.2", "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=old2543"),
			transport.Target{Transport: transport.UDP, Addr: mustAddr(uasAddr)}, &clientTU{})
		if !errors.Is(err, ErrNoBranch) {
			t.Errorf("err = %v, want ErrNoBranch", err)
		}
	})
}

// §17.1.1.3: the ACK for a 2xx is passed to the transport as it is, in
// no transaction and with no retransmission; only ACKs are accepted.
func TestSendACK(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		target := transport.Target{Transport: transport.UDP, Addr: mustAddr(uasAddr)}
		ack := siptest.Request(t, sip.ACK, "sip:bob@127.0.0.2")
		if err := e.layer.SendACK(context.Background(), ack, target); err != nil {
			t.Fatal(err)
		}
		if err := e.layer.SendACK(context.Background(), siptest.Request(t, sip.BYE, "sip:bob@127.0.0.2"), target); err == nil {
			t.Error("SendACK sent a BYE")
		}
		e.at(10 * time.Second)
		if n := len(e.peer.requests(sip.ACK)); n != 1 || len(e.peer.requests(sip.BYE)) != 0 {
			t.Errorf("peer got %d ACKs", n)
		}
		checkEmpty(t, e.layer)
	})
}
