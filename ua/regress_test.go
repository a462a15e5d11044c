package ua

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/auth"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

// §12.1.2: when a fork other than the first answers, the ID of the
// Calling event keeps finding the call.
func TestSecondForkAnswersCallingIDStillWorks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		e.call(t, CallOptions{})
		inv := e.peer.requests(sip.INVITE)[0]
		calling := e.rec.all()[0].ID
		e.peer.respond(t, inv, 180, tagged+"a", "Contact: <sip:a@127.0.0.2:5060>")
		e.peer.respond(t, inv, 180, tagged+"b", "Contact: <sip:b@127.0.0.2:5060>")
		e.peer.respond(t, inv, 200, tagged+"b", "Contact: <sip:b@127.0.0.2:5060>")
		if ds := e.u.Dialogs().ByCallID(calling.CallID); len(ds) != 1 {
			t.Errorf("ByCallID: %d dialogs, want the answered one", len(ds))
		}
		if err := e.u.Hangup(calling); err != nil {
			t.Errorf("Hangup(Calling ID) after fork b answered: %v", err)
		}
	})
}

// Hanging up after another fork answered ends each dialog once.
func TestDuplicateTerminatedForFirstFork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		c := e.call(t, CallOptions{})
		inv := e.peer.requests(sip.INVITE)[0]
		e.peer.respond(t, inv, 180, tagged+"a", "Contact: <sip:a@127.0.0.2:5060>")
		e.peer.respond(t, inv, 200, tagged+"b", "Contact: <sip:b@127.0.0.2:5060>")
		c.Hangup()
		synctest.Wait()
		var term []string
		for _, ev := range e.rec.all() {
			if ev.Kind == Terminated {
				term = append(term, ev.ID.RemoteTag+":"+ev.Cause.String())
			}
		}
		if !slices.Equal(term, []string{"a:answered-elsewhere", "b:local-hangup"}) {
			t.Errorf("Terminated events %v", term)
		}
	})
}

// §13.2.2.4: a 2xx that arrives after the call ended (a fork answering
// after the local hangup, or a retransmission because our ACK was lost)
// is still ACKed, and a new fork's dialog is ended with BYE.
func Test2xxAfterHangupIsAckedAndByed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		c := e.call(t, CallOptions{})
		inv := e.peer.requests(sip.INVITE)[0]
		e.peer.respond(t, inv, 200, tagged+"a", "Contact: <sip:a@127.0.0.2:5060>")
		c.Hangup()
		synctest.Wait()
		e.peer.respond(t, inv, 200, tagged+"a", "Contact: <sip:a@127.0.0.2:5060>") // retransmission
		e.peer.respond(t, inv, 200, tagged+"b", "Contact: <sip:b@127.0.0.2:5060>") // late fork
		var acks, byes []string
		for _, d := range e.peer.requests(sip.ACK) {
			acks = append(acks, d.msg.(*sip.Request).ToTag())
		}
		for _, d := range e.peer.requests(sip.BYE) {
			byes = append(byes, d.msg.(*sip.Request).ToTag())
		}
		if !slices.Equal(acks, []string{"a", "a", "b"}) || !slices.Equal(byes, []string{"a", "b"}) {
			t.Errorf("ACKs %v BYEs %v; want ACK a,a,b and BYE a,b", acks, byes)
		}
	})
}

// §9.1, §22.2: a proxy answers 100 then 407; the INVITE is resent with
// credentials. A Cancel before any provisional to the *new* INVITE must
// be held (§9.1), not sent at once.
func TestCancelAfterAuthRetryIsHeld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		e.u.cfg.Auth = &auth.Client{Accounts: []auth.Account{{Username: "alice", Password: "secret"}}}
		c := e.call(t, CallOptions{})
		first := e.peer.requests(sip.INVITE)[0]
		e.peer.respond(t, first, 100)
		e.peer.respond(t, first, 407, tagged+"p", `Proxy-Authenticate: Digest realm="r", nonce="abc", algorithm=MD5, qop="auth"`)
		c.Cancel("")
		synctest.Wait()
		if n := len(e.peer.requests(sip.CANCEL)); n != 0 {
			t.Errorf("CANCEL sent before any provisional response to the retried INVITE (%d)", n)
		}
	})
}

// §15: the caller BYEs an early dialog at the UAS (§15 allows it). The
// INVITE must get a final response (§15.1.2: 487) and its server
// transaction must not linger.
func TestUASByeInEarlyDialogAnswersInvite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ic *IncomingCall
		e := newUAS(t, func(i *IncomingCall) { ic = i; i.Ring() })
		inv := e.invite(t)
		_, tags := e.responses(180)
		bye := siptest.Request(t, sip.BYE, "sip:bob@"+uasAddr, "Call-ID: "+inv.CallID(), "From: "+first(inv.Get("From")),
			"To: <sip:bob@"+uasAddr+">;tag="+tags[0], "CSeq: 2 BYE")
		e.peer.SendRequest(context.Background(), bye, transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(uasAddr)})
		synctest.Wait()
		if _, t487 := e.responses(487); len(t487) != 1 {
			t.Errorf("no 487 to the INVITE after BYE in early dialog")
		}
		time.Sleep(time.Minute) // Timers H and J
		synctest.Wait()
		if s, _ := e.u.Transactions().Len(); s != 0 {
			t.Errorf("%d server transactions left", s)
		}
		if err := ic.Answer(nil, ""); err == nil {
			t.Errorf("Answer after the call was ended by BYE succeeded (200 sent on a dead dialog)")
		}
	})
}

// §15: the callee must not send BYE before the ACK of its 2xx
// arrives (or 64·T1 passes).
func TestUASHangupBeforeAckWaitsForAck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ic *IncomingCall
		e := newUAS(t, func(i *IncomingCall) { ic = i })
		e.invite(t)
		ic.Answer(nil, "")
		synctest.Wait()
		ic.Hangup()
		synctest.Wait()
		if n := len(e.n.Sent(siptest.IsRequest(sip.BYE))); n != 0 {
			t.Errorf("BYE sent before the ACK of the 2xx (§15)")
		}
	})
}

// hookSender lets a test run code when a given request is sent.
type hookSender struct {
	*siptest.Endpoint
	mu     sync.Mutex
	onSend func(req *sip.Request)
}

func (h *hookSender) SendRequest(ctx context.Context, req *sip.Request, t transport.Target) (transport.Target, error) {
	h.mu.Lock()
	f := h.onSend
	h.mu.Unlock()
	if f != nil {
		f(req)
	}
	return h.Endpoint.SendRequest(ctx, req, t)
}

// A loser whose 2xx is processed (on another reader goroutine) after
// the winner was chosen but before its CANCEL went out is hung up.
func TestParallelLoserAnsweringInTheWindowIsHungUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := siptest.NewNetwork()
		t.Cleanup(func() { n.Close() })
		hs := &hookSender{Endpoint: n.Endpoint(transport.UDP, uacAddr, nil)}
		rec := &recorder{t: t}
		u, _ := New(Config{Sender: hs, Contact: "<sip:alice@" + uacAddr + ">", OnEvent: rec.OnEvent})
		rec.u = u
		hs.Endpoint.SetHandler(u)
		var peers []*peer
		var forks []Fork
		for _, a := range []string{"127.0.0.2:5060", "127.0.0.3:5060", "127.0.0.4:5060"} {
			p := &peer{}
			p.Endpoint = n.Endpoint(transport.UDP, a, p)
			peers = append(peers, p)
			to, _ := sip.ParseURI("sip:phone@" + a)
			forks = append(forks, Fork{To: to, Options: CallOptions{Target: transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(a)}}})
		}
		par, err := u.CallParallel(context.Background(), forks)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		for i, p := range peers {
			p.respond(t, p.requests(sip.INVITE)[0], 180, "To: <sip:phone@x>;tag=t"+string(rune('0'+i)))
		}
		// Phone 2 answers while the CANCEL to phone 1 is being sent.
		inv2 := peers[2].requests(sip.INVITE)[0].msg.(*sip.Request)
		hs.onSend = func(req *sip.Request) {
			if req.Method() == sip.CANCEL {
				hs.onSend = nil
				ok := siptest.Response(t, inv2, 200, "To: <sip:phone@x>;tag=t2", "Contact: <sip:phone@127.0.0.4:5060>")
				done := make(chan struct{})
				go func() {
					u.HandleMessage(ok, transport.Source{Transport: transport.UDP, Remote: netip.MustParseAddrPort("127.0.0.4:5060")})
					close(done)
				}()
				<-done
			}
		}
		peers[0].respond(t, peers[0].requests(sip.INVITE)[0], 200, "To: <sip:phone@x>;tag=t0", "Contact: <sip:phone@127.0.0.2:5060>")
		par.Wait(context.Background())
		synctest.Wait()
		if n := len(peers[2].requests(sip.BYE)) + len(peers[2].requests(sip.CANCEL)); n == 0 {
			t.Errorf("phone 2 answered in the window and was neither cancelled nor hung up: %d calls still active", u.Active())
		}
	})
}

// When the first call is answered while the next INVITE is being sent,
// the later call is cancelled all the same.
func TestParallelWinnerBeforeAllPlaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := siptest.NewNetwork()
		t.Cleanup(func() { n.Close() })
		hs := &hookSender{Endpoint: n.Endpoint(transport.UDP, uacAddr, nil)}
		u, _ := New(Config{Sender: hs, Contact: "<sip:alice@" + uacAddr + ">"})
		hs.Endpoint.SetHandler(u)
		var peers []*peer
		var forks []Fork
		for _, a := range []string{"127.0.0.2:5060", "127.0.0.3:5060"} {
			p := &peer{}
			p.Endpoint = n.Endpoint(transport.UDP, a, p)
			peers = append(peers, p)
			to, _ := sip.ParseURI("sip:phone@" + a)
			forks = append(forks, Fork{To: to, Options: CallOptions{Target: transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(a)}}})
		}
		var first *sip.Request
		count := 0
		hs.onSend = func(req *sip.Request) {
			if req.Method() != sip.INVITE {
				return
			}
			if count++; count == 1 {
				first = req
				return
			}
			hs.onSend = nil
			ok := siptest.Response(t, first, 200, "To: <sip:phone@x>;tag=w", "Contact: <sip:phone@127.0.0.2:5060>")
			done := make(chan struct{})
			go func() {
				u.HandleMessage(ok, transport.Source{Transport: transport.UDP, Remote: netip.MustParseAddrPort("127.0.0.2:5060")})
				close(done)
			}()
			<-done
		}
		par, err := u.CallParallel(context.Background(), forks)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		par.Wait(context.Background())
		peers[1].respond(t, peers[1].requests(sip.INVITE)[0], 180, "To: <sip:phone@x>;tag=l")
		if len(peers[1].requests(sip.CANCEL)) == 0 {
			t.Errorf("second phone keeps ringing after the first answered")
		}
	})
}

// §10.2.4: a refresh that fails (503, or a timeout) is retried after a
// backoff, so the binding does not lapse for good.
func TestRegisterRetriesAfterFailedRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		reg, _ := sip.ParseURI("sip:127.0.0.2")
		_, err := e.u.Register(t.Context(), RegisterOptions{Registrar: reg, AOR: "<sip:alice@127.0.0.2>",
			Target: transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(uasAddr)}, Expires: 60 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		e.peer.respond(t, e.peer.requests(sip.REGISTER)[0], 200, "Expires: 60")
		time.Sleep(56 * time.Second)
		synctest.Wait()
		e.peer.respond(t, e.peer.requests(sip.REGISTER)[1], 503)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		seqs := map[uint32]bool{}
		for _, d := range e.peer.requests(sip.REGISTER) {
			seqs[d.msg.(*sip.Request).CSeq().Seq] = true
		}
		if len(seqs) == 2 {
			t.Errorf("no REGISTER retried after a failed refresh in 10 min: binding lapsed")
		}
	})
}

// A 2xx without a To tag (a broken peer) confirms the first dialog; a
// later tagged 2xx is another fork, ACKed and ended, and the call and
// its tables stay consistent.
func TestOddPeerInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		c := e.call(t, CallOptions{})
		inv := e.peer.requests(sip.INVITE)[0]
		e.peer.respond(t, inv, 200) // no To tag, no Contact
		e.peer.respond(t, inv, 200, tagged+"x")
		if got := e.rec.kinds(); !slices.Equal(got, []string{"calling", "confirmed", "terminated:answered-elsewhere"}) {
			t.Errorf("events %v", got)
		}
		if c.ID().RemoteTag != "" || e.u.Dialogs().Len() != 1 {
			t.Errorf("call ID %v with %d dialogs", c.ID(), e.u.Dialogs().Len())
		}
		c.Hangup()
		synctest.Wait()
		if e.u.Dialogs().Len() != 0 || e.u.Active() != 0 || len(e.peer.requests(sip.BYE)) != 2 {
			t.Errorf("after hangup: %d dialogs, %d calls, %d BYEs", e.u.Dialogs().Len(), e.u.Active(), len(e.peer.requests(sip.BYE)))
		}
	})
}

// Nothing stays in the tables after a cancelled call, a held cancel
// that meets Timer B, or a challenge followed by a rejection.
func TestTablesEmptyOnCancelAndAuthPaths(t *testing.T) {
	for _, path := range []string{"487", "timerB-held-cancel", "auth-then-486"} {
		t.Run(path, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newUAC(t)
				e.u.cfg.Auth = &auth.Client{Accounts: []auth.Account{{Username: "alice", Password: "secret"}}}
				c := e.call(t, CallOptions{})
				inv := e.peer.requests(sip.INVITE)[0]
				switch path {
				case "487":
					e.peer.respond(t, inv, 180, tagged+"a")
					e.peer.respond(t, inv, 183, tagged+"b")
					c.Cancel("")
					synctest.Wait()
					e.peer.respond(t, inv, 487, tagged+"a")
				case "timerB-held-cancel":
					c.Cancel("")
					time.Sleep(40 * time.Second)
					synctest.Wait()
				case "auth-then-486":
					e.peer.respond(t, inv, 407, tagged+"p", `Proxy-Authenticate: Digest realm="r", nonce="abc", algorithm=MD5, qop="auth"`)
					e.peer.respond(t, e.peer.requests(sip.INVITE)[1], 486, tagged+"q")
				}
				time.Sleep(time.Minute)
				synctest.Wait()
				s, cl := e.u.Transactions().Len()
				if e.u.Dialogs().Len() != 0 || e.u.Active() != 0 || s+cl != 0 {
					t.Errorf("%s: events %v, %d dialogs, %d calls, %d+%d transactions left", path, e.rec.kinds(), e.u.Dialogs().Len(), e.u.Active(), s, cl)
				}
				if ev := e.rec.last(); ev.Kind != Terminated {
					t.Errorf("%s: last event %v", path, ev.Kind)
				}
			})
		})
	}
}
