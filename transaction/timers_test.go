package transaction

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

// retransmits is the schedule of a message sent at 0 and again after
// intervals starting at first and doubling up to limit (0: no limit),
// until end: Timers A, E and G (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1).
func retransmits(first, limit, end time.Duration) []time.Duration {
	out := []time.Duration{0}
	for at, iv := first, first; at < end; at += iv {
		out = append(out, at)
		if iv *= 2; limit > 0 && iv > limit {
			iv = limit
		}
	}
	return out
}

// Every timer of the four machines follows the configured T1, T2 and T4,
// to the millisecond, with its retransmissions on UDP and none on TCP;
// each is checked 1 ms before it fires and when it fires.
func TestTimersFollowConfig(t *testing.T) {
	configs := []Timers{
		{}, // RFC 3261 defaults: 500 ms, 4 s, 5 s
		{T1: 100 * time.Millisecond, T2: time.Second, T4: 2 * time.Second},
	}
	type scenario struct {
		name string
		run  func(t *testing.T, e *env, T Timers, reliable bool)
	}
	const ms1 = time.Millisecond
	scenarios := []scenario{
		{"A and B", func(t *testing.T, e *env, T Timers, reliable bool) {
			tu := &clientTU{}
			tx := e.request(siptest.Request(t, sip.INVITE, "sip:bob@127.0.0.2"), tu)
			e.at(64*T.T1 - ms1)
			checkState(t, tx, Calling)
			e.at(64 * T.T1)
			want := retransmits(T.T1, 0, 64*T.T1)
			if reliable {
				want = want[:1]
			}
			checkTimes(t, "INVITE", e.sentTimes(isInvite), want)
			checkState(t, tx, Terminated)
			if errs := tu.errors(); len(errs) != 1 || !errors.Is(errs[0], ErrTimeout) {
				t.Errorf("errors %v, want Timer B's ErrTimeout", errs)
			}
		}},
		{"E and F", func(t *testing.T, e *env, T Timers, reliable bool) {
			tu := &clientTU{}
			tx := e.request(siptest.Request(t, sip.OPTIONS, "sip:bob@127.0.0.2"), tu)
			e.at(64*T.T1 - ms1)
			checkState(t, tx, Trying)
			e.at(64 * T.T1)
			want := retransmits(T.T1, T.T2, 64*T.T1)
			if reliable {
				want = want[:1]
			}
			checkTimes(t, "OPTIONS", e.sentTimes(siptest.IsRequest(sip.OPTIONS)), want)
			checkState(t, tx, Terminated)
			if errs := tu.errors(); len(errs) != 1 || !errors.Is(errs[0], ErrTimeout) {
				t.Errorf("errors %v, want Timer F's ErrTimeout", errs)
			}
		}},
		{"D", func(t *testing.T, e *env, T Timers, reliable bool) {
			tx := e.request(siptest.Request(t, sip.INVITE, "sip:bob@127.0.0.2"), &clientTU{})
			synctest.Wait()
			e.peer.respond(t, e.peer.requests(sip.INVITE)[0], 486, "To: <sip:bob@127.0.0.2>;tag=x")
			e.at(0)
			d := T.timerD(reliable)
			if want := max(32*time.Second, 64*T.T1); !reliable && d != want {
				t.Fatalf("Timer D = %v, want %v", d, want)
			}
			if d > 0 {
				e.at(d - ms1)
				checkState(t, tx, Completed)
			}
			e.at(d)
			checkState(t, tx, Terminated)
		}},
		{"K", func(t *testing.T, e *env, T Timers, reliable bool) {
			tx := e.request(siptest.Request(t, sip.OPTIONS, "sip:bob@127.0.0.2"), &clientTU{})
			synctest.Wait()
			e.peer.respond(t, e.peer.requests(sip.OPTIONS)[0], 200)
			e.at(0)
			if !reliable {
				e.at(T.T4 - ms1)
				checkState(t, tx, Completed)
				e.at(T.T4)
			}
			checkState(t, tx, Terminated)
		}},
		{"M", func(t *testing.T, e *env, T Timers, reliable bool) {
			// RFC 6026 §8.4: Timer M is 64·T1 on every transport.
			tx := e.request(siptest.Request(t, sip.INVITE, "sip:bob@127.0.0.2"), &clientTU{})
			synctest.Wait()
			e.peer.respond(t, e.peer.requests(sip.INVITE)[0], 200, "To: <sip:bob@127.0.0.2>;tag=x")
			e.at(64*T.T1 - ms1)
			checkState(t, tx, Accepted)
			e.at(64 * T.T1)
			checkState(t, tx, Terminated)
		}},
		{"G and H", func(t *testing.T, e *env, T Timers, reliable bool) {
			e.server.respond = func(tx *ServerTx, req *sip.Request) {
				tx.Respond(siptest.Response(t, req, 486, "To: <sip:a@127.0.0.1>;tag=u"))
			}
			e.invite()
			tx := e.serverTx(0)
			e.at(64*T.T1 - ms1)
			checkState(t, tx, Completed)
			e.at(64 * T.T1)
			want := retransmits(T.T1, T.T2, 64*T.T1)
			if reliable {
				want = want[:1]
			}
			checkTimes(t, "486", e.sentTimes(isCode(486)), want)
			checkState(t, tx, Terminated)
		}},
		{"I", func(t *testing.T, e *env, T Timers, reliable bool) {
			e.server.respond = func(tx *ServerTx, req *sip.Request) {
				tx.Respond(siptest.Response(t, req, 486, "To: <sip:a@127.0.0.1>;tag=u"))
			}
			inv := e.invite()
			tx := e.serverTx(0)
			e.peer.send(t, ackFor(t, inv, "u"), e.tr, uacAddr)
			e.at(0)
			if !reliable {
				checkState(t, tx, Confirmed)
				e.at(T.T4 - ms1)
				checkState(t, tx, Confirmed)
				e.at(T.T4)
			}
			checkState(t, tx, Terminated)
		}},
		{"J", func(t *testing.T, e *env, T Timers, reliable bool) {
			e.server.respond = func(tx *ServerTx, req *sip.Request) { tx.Respond(siptest.Response(t, req, 200)) }
			e.peer.send(t, siptest.Request(t, sip.OPTIONS, "sip:a@127.0.0.1"), e.tr, uacAddr)
			e.at(0)
			tx := e.serverTx(0)
			if !reliable {
				e.at(64*T.T1 - ms1)
				checkState(t, tx, Completed)
				e.at(64 * T.T1)
			}
			checkState(t, tx, Terminated)
		}},
		{"L", func(t *testing.T, e *env, T Timers, reliable bool) {
			// RFC 6026 §7.1: Timer L is 64·T1 on every transport.
			e.server.respond = func(tx *ServerTx, req *sip.Request) {
				tx.Respond(siptest.Response(t, req, 200, "To: <sip:a@127.0.0.1>;tag=u"))
			}
			e.invite()
			tx := e.serverTx(0)
			e.at(64*T.T1 - ms1)
			checkState(t, tx, Accepted)
			e.at(64 * T.T1)
			checkState(t, tx, Terminated)
		}},
	}
	for _, T := range configs {
		for _, sc := range scenarios {
			for _, tr := range []string{transport.UDP, transport.TCP} {
				T := T.withDefaults()
				t.Run(fmt.Sprintf("%s/T1=%v/%s", sc.name, T.T1, tr), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						e := newEnv(t, tr, func(c *Config) { c.Timers = T })
						sc.run(t, e, T, tr == transport.TCP)
						checkEmpty(t, e.layer)
					})
				})
			}
		}
	}
}

// RFC 3261 §17.1.1.2: in Proceeding further provisionals reach the TU,
// and a final response moves on: non-2xx to Completed (with ACK), 2xx to
// Accepted (RFC 6026).
func TestInviteClientFromProceeding(t *testing.T) {
	for _, tc := range []struct {
		final int
		state State
		acks  int
	}{{486, Completed, 1}, {200, Accepted, 0}} {
		t.Run(fmt.Sprint(tc.final), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, transport.UDP)
				tu := &clientTU{}
				tx := e.request(siptest.Request(t, sip.INVITE, "sip:bob@127.0.0.2"), tu)
				synctest.Wait()
				inv := e.peer.requests(sip.INVITE)
				e.peer.respond(t, inv[0], 180, "To: <sip:bob@127.0.0.2>;tag=b")
				e.peer.respond(t, inv[0], 183, "To: <sip:bob@127.0.0.2>;tag=b")
				e.at(0)
				checkState(t, tx, Proceeding)
				e.peer.respond(t, inv[0], tc.final, "To: <sip:bob@127.0.0.2>;tag=b")
				e.at(0)
				checkState(t, tx, tc.state)
				if !slices.Equal(tu.codes(), []int{180, 183, tc.final}) {
					t.Errorf("TU saw %v", tu.codes())
				}
				if n := len(e.peer.requests(sip.ACK)); n != tc.acks {
					t.Errorf("%d ACKs, want %d", n, tc.acks)
				}
			})
		})
	}
}

// §17.1.2.2: Proceeding → Completed on a final response.
func TestNonInviteClientProceedingToCompleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		tu := &clientTU{}
		tx := e.request(siptest.Request(t, sip.SUBSCRIBE, "sip:bob@127.0.0.2"), tu)
		synctest.Wait()
		sub := e.peer.requests(sip.SUBSCRIBE)[0]
		e.peer.respond(t, sub, 100)
		e.at(0)
		checkState(t, tx, Proceeding)
		e.peer.respond(t, sub, 202)
		e.at(0)
		checkState(t, tx, Completed)
		if !slices.Equal(tu.codes(), []int{100, 202}) {
			t.Errorf("TU saw %v", tu.codes())
		}
	})
}

// §17.2.2: Trying → Completed on a final response with no provisional.
func TestNonInviteServerTryingToCompleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		e.peer.send(t, siptest.Request(t, sip.MESSAGE, "sip:a@127.0.0.1"), e.tr, uacAddr)
		e.at(0)
		tx := e.serverTx(0)
		checkState(t, tx, Trying)
		e.respond(tx, 202)
		checkState(t, tx, Completed)
	})
}

// §17.2.1: Confirmed absorbs ACKs and INVITE retransmissions: nothing is
// sent and the TU hears nothing.
func TestInviteServerConfirmedAbsorbs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		inv := e.invite()
		tx := e.serverTx(0)
		e.respond(tx, 480, "To: <sip:a@127.0.0.1>;tag=u")
		ack := ackFor(t, inv, "u")
		e.peer.send(t, ack, e.tr, uacAddr)
		e.at(0)
		checkState(t, tx, Confirmed)
		e.peer.send(t, ack, e.tr, uacAddr)
		e.peer.send(t, inv, e.tr, uacAddr)
		e.at(0)
		if n := len(e.sentTimes(isCode(480))); n != 1 {
			t.Errorf("480 sent %d times, want once", n)
		}
		if reqs, _, acks, errs := e.server.snapshot(); len(reqs) != 1 || len(acks) != 0 || len(errs) != 0 {
			t.Errorf("TU got %d requests, %d ACKs, errors %v", len(reqs), len(acks), errs)
		}
		checkState(t, tx, Confirmed)
	})
}

// §17.2.1: the 100 Trying the transaction sends keeps it in Proceeding,
// and the TU answers as usual afterwards.
func TestInviteServerAnswersAfterAuto100(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		e.invite()
		tx := e.serverTx(0)
		e.at(200 * time.Millisecond)
		checkState(t, tx, Proceeding)
		e.at(300 * time.Millisecond)
		e.respond(tx, 180, "To: <sip:a@127.0.0.1>;tag=u")
		e.respond(tx, 200, "To: <sip:a@127.0.0.1>;tag=u")
		checkState(t, tx, Accepted)
		checkTimes(t, "100", e.sentTimes(isCode(100)), ms(200))
		checkTimes(t, "180", e.sentTimes(isCode(180)), ms(300))
	})
}

// A TU that never answers does not leak the transaction: like Kamailio's
// max_inv_lifetime, the INVITE gets 408 after InviteLifetime (180 s);
// a non-INVITE ends after 64·T1, when its client has given up.
func TestServerLifetimeForSilentTU(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		inv := e.invite()
		e.peer.send(t, siptest.Request(t, sip.OPTIONS, "sip:a@127.0.0.1"), e.tr, uacAddr)
		e.at(0)
		invTx, optTx := e.serverTx(0), e.serverTx(1)
		e.at(32*time.Second - time.Millisecond)
		checkState(t, optTx, Trying)
		e.at(32 * time.Second)
		checkState(t, optTx, Terminated)
		if n := len(e.sentTimes(isCode(408))); n != 0 {
			t.Errorf("408 sent before the INVITE lifetime")
		}
		e.at(180 * time.Second)
		checkTimes(t, "408", e.sentTimes(isCode(408))[:1], ms(180000))
		checkState(t, invTx, Completed)
		var tag string
		for _, r := range e.peer.responses() {
			if r.StatusCode() == 408 {
				tag = r.ToTag()
			}
		}
		if tag == "" {
			t.Fatal("the 408 has no To tag (RFC 3261 §8.2.6.2)")
		}
		e.peer.send(t, ackFor(t, inv, tag), e.tr, uacAddr)
		e.at(180*time.Second + 5*time.Second)
		checkState(t, invTx, Terminated)
		if _, _, _, errs := e.server.snapshot(); len(errs) != 2 || !errors.Is(errs[0], ErrTimeout) || !errors.Is(errs[1], ErrTimeout) {
			t.Errorf("TU errors %v, want two ErrTimeout", errs)
		}
		checkEmpty(t, e.layer)
	})
}

// §17.1.4: a transport error on a retransmission ends the client
// transaction and reaches the TU as ErrTransport.
func TestClientTransportErrorOnRetransmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		tu := &clientTU{}
		tx := e.request(siptest.Request(t, sip.INVITE, "sip:bob@127.0.0.2"), tu)
		e.at(100 * time.Millisecond)
		e.sender.fail.Store(true)
		e.at(500 * time.Millisecond)
		checkState(t, tx, Terminated)
		if errs := tu.errors(); len(errs) != 1 || !errors.Is(errs[0], ErrTransport) || !errors.Is(errs[0], errFlaky) {
			t.Errorf("TU errors %v, want ErrTransport", errs)
		}
		checkEmpty(t, e.layer)
	})
}

// §17.2.4: a transport error sending a response ends the server
// transaction and reaches the TU; in Accepted (RFC 6026 §7.1) the
// transaction stays, for the TU's next 2xx retransmission.
func TestServerTransportError(t *testing.T) {
	for _, tc := range []struct {
		first, failing int
		state          State
	}{{0, 486, Terminated}, {200, 200, Accepted}} {
		t.Run(fmt.Sprint(tc.first), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, transport.UDP)
				e.invite()
				tx := e.serverTx(0)
				if tc.first != 0 {
					e.respond(tx, tc.first, "To: <sip:a@127.0.0.1>;tag=u")
				}
				e.sender.fail.Store(true)
				err := tx.Respond(siptest.Response(t, tx.Request(), tc.failing, "To: <sip:a@127.0.0.1>;tag=u"))
				if !errors.Is(err, ErrTransport) {
					t.Errorf("Respond: %v, want ErrTransport", err)
				}
				checkState(t, tx, tc.state)
				if _, _, _, errs := e.server.snapshot(); len(errs) != 1 || !errors.Is(errs[0], ErrTransport) {
					t.Errorf("TU errors %v", errs)
				}
			})
		})
	}
}

// §9.2 and DESIGN.md: a CANCEL processed while the TU is still in
// HandleRequest (on another reader goroutine) is answered 200 at once,
// but the TU hears of it only after HandleRequest has returned.
func TestCancelNeverOvertakesItsRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		var early int
		e.server.respond = func(tx *ServerTx, req *sip.Request) {
			cancel := cancelFor(t, req)
			done := make(chan struct{})
			go func() { e.layer.HandleMessage(cancel, tx.Source()); close(done) }()
			<-done
			_, cancels, _, _ := e.server.snapshot()
			early = len(cancels)
			if tx.Cancelled() == nil {
				t.Error("Cancelled() is nil while the CANCEL is known")
			}
		}
		e.invite()
		if early != 0 {
			t.Errorf("HandleCancel ran %d times inside HandleRequest", early)
		}
		if _, cancels, _, _ := e.server.snapshot(); len(cancels) != 1 {
			t.Errorf("HandleCancel ran %d times after HandleRequest, want 1", len(cancels))
		}
		if got := e.cancelResponses(); len(got) != 1 || got[0] != 200 {
			t.Errorf("CANCEL answered %v, want 200", got)
		}
	})
}

// §9.2: a CANCEL matches a pending transaction of any method but ACK and
// CANCEL: 200, and the TU is told.
func TestCancelPendingNonInvite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		sub := siptest.Request(t, sip.SUBSCRIBE, "sip:a@127.0.0.1")
		e.peer.send(t, sub, e.tr, uacAddr)
		e.at(0)
		v, _ := sub.TopVia()
		cancel := siptest.Request(t, sip.CANCEL, "sip:a@127.0.0.1", "Via: "+v.String(), "Call-ID: "+sub.CallID(),
			"From: "+must(sub.Get("From")), fmt.Sprintf("CSeq: %d CANCEL", sub.CSeq().Seq))
		e.peer.send(t, cancel, e.tr, uacAddr)
		e.at(0)
		if got := e.cancelResponses(); len(got) != 1 || got[0] != 200 {
			t.Errorf("CANCEL answered %v, want 200", got)
		}
		if _, cancels, _, _ := e.server.snapshot(); len(cancels) != 1 {
			t.Errorf("TU told of %d CANCELs, want 1", len(cancels))
		}
	})
}

// An INVITE in Proceeding has no timer (§17.1.1.2); the TU ends it with
// Terminate when its own timer runs out.
func TestClientTerminate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		tx := e.request(siptest.Request(t, sip.INVITE, "sip:bob@127.0.0.2"), &clientTU{})
		synctest.Wait()
		e.peer.respond(t, e.peer.requests(sip.INVITE)[0], 180, "To: <sip:bob@127.0.0.2>;tag=b")
		e.at(time.Hour)
		checkState(t, tx, Proceeding)
		tx.Terminate()
		checkState(t, tx, Terminated)
		checkEmpty(t, e.layer)
	})
}
