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

func isCode(code int) func(siptest.Event) bool { return siptest.IsResponse(code) }

// serverTx returns the i-th transaction the TU was given.
func (e *env) serverTx(i int) *ServerTx {
	e.t.Helper()
	reqs, _, _, _ := e.server.snapshot()
	if len(reqs) <= i {
		e.t.Fatalf("the TU got %d requests, want more than %d", len(reqs), i)
	}
	return reqs[i]
}

func (e *env) respond(tx *ServerTx, code int, headers ...string) {
	e.t.Helper()
	if err := tx.Respond(siptest.Response(e.t, tx.Request(), code, headers...)); err != nil {
		e.t.Fatal(err)
	}
	synctest.Wait()
}

// invite sends an INVITE from the peer and returns it.
func (e *env) invite(headers ...string) *sip.Request {
	e.t.Helper()
	inv := siptest.Request(e.t, sip.INVITE, "sip:alice@127.0.0.1", headers...)
	e.peer.send(e.t, inv, e.tr, uacAddr)
	synctest.Wait()
	return inv
}

// ackFor builds the ACK a UAC sends for a non-2xx final to inv (same
// branch, §17.1.1.3).
func ackFor(t *testing.T, inv *sip.Request, toTag string) *sip.Request {
	v, _ := inv.TopVia()
	to, _ := inv.Get("To")
	return siptest.Request(t, sip.ACK, "sip:alice@127.0.0.1", "Via: "+v.String(), "Call-ID: "+inv.CallID(),
		"From: "+must(inv.Get("From")), "To: "+to+";tag="+toTag, fmt.Sprintf("CSeq: %d ACK", inv.CSeq().Seq))
}

func must(s string, _ bool) string { return s }

// §17.2.1: the INVITE server transaction sends 100 Trying when the TU
// has not answered within 200 ms, and not when it has.
func TestInviteServerSends100WhenTUIsSilent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		e.invite()
		e.at(199 * time.Millisecond)
		if n := len(e.peer.responses()); n != 0 {
			t.Errorf("%d responses before 200 ms", n)
		}
		e.at(200 * time.Millisecond)
		checkTimes(t, "100", e.sentTimes(isCode(100)), ms(200))
	})
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		e.invite()
		e.at(100 * time.Millisecond)
		e.respond(e.serverTx(0), 180, "To: <sip:alice@127.0.0.1>;tag=u1")
		e.at(time.Second)
		if got := e.sentTimes(isCode(100)); len(got) != 0 {
			t.Errorf("100 sent at %v although the TU answered at 100 ms", got)
		}
	})
}

// §17.2.1: a retransmitted INVITE in Proceeding gets the most recent
// provisional again and does not reach the TU.
func TestInviteServerRetransmissionGetsLastProvisional(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		inv := e.invite()
		e.at(100 * time.Millisecond)
		tx := e.serverTx(0)
		e.respond(tx, 180, "To: <sip:alice@127.0.0.1>;tag=u1")
		e.at(500 * time.Millisecond)
		e.peer.send(t, inv, e.tr, uacAddr)
		e.at(500 * time.Millisecond)
		checkTimes(t, "180", e.sentTimes(isCode(180)), ms(100, 500))
		reqs, _, _, _ := e.server.snapshot()
		if len(reqs) != 1 {
			t.Errorf("the TU got the INVITE %d times", len(reqs))
		}
		checkState(t, tx, Proceeding)
	})
}

// §17.2.1: a non-2xx final is retransmitted by Timer G, from T1 doubling
// to T2, until Timer H (64·T1) gives up and tells the TU; on TCP there
// is no Timer G, but Timer H still runs.
func TestInviteServerTimerGUntilTimerH(t *testing.T) {
	for _, tc := range []struct {
		tr   string
		want []time.Duration
	}{
		{transport.UDP, ms(100, 600, 1600, 3600, 7600, 11600, 15600, 19600, 23600, 27600, 31600)},
		{transport.TCP, ms(100)},
	} {
		t.Run(tc.tr, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, tc.tr)
				e.invite()
				e.at(100 * time.Millisecond)
				tx := e.serverTx(0)
				e.respond(tx, 486, "To: <sip:alice@127.0.0.1>;tag=u1")
				e.at(32099 * time.Millisecond)
				checkState(t, tx, Completed)
				e.at(32100 * time.Millisecond)
				checkTimes(t, "486", e.sentTimes(isCode(486)), tc.want)
				checkState(t, tx, Terminated)
				if _, _, _, errs := e.server.snapshot(); len(errs) != 1 || !errors.Is(errs[0], ErrNoACK) {
					t.Errorf("TU errors %v, want ErrNoACK", errs)
				}
				checkEmpty(t, e.layer)
			})
		})
	}
}

// §17.2.1: the ACK moves Completed to Confirmed, which absorbs ACKs for
// Timer I (T4 on UDP, zero on TCP); a retransmitted INVITE in Completed
// gets the final response again.
func TestInviteServerACKAndTimerI(t *testing.T) {
	for _, tc := range []struct {
		tr string
		i  time.Duration
	}{{transport.UDP, 5 * time.Second}, {transport.TCP, 0}} {
		t.Run(tc.tr, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, tc.tr)
				inv := e.invite()
				e.at(100 * time.Millisecond)
				tx := e.serverTx(0)
				e.respond(tx, 404, "To: <sip:alice@127.0.0.1>;tag=u1")
				e.at(300 * time.Millisecond)
				e.peer.send(t, inv, e.tr, uacAddr)
				e.at(300 * time.Millisecond)
				if n := len(e.sentTimes(isCode(404))); n != 2 {
					t.Errorf("404 sent %d times, want 2 (the retransmitted INVITE gets it again)", n)
				}
				e.peer.send(t, ackFor(t, inv, "u1"), e.tr, uacAddr)
				e.at(300 * time.Millisecond)
				if tc.i == 0 {
					checkState(t, tx, Terminated)
					checkEmpty(t, e.layer)
					return
				}
				checkState(t, tx, Confirmed)
				e.at(5 * time.Second) // Timer G would have fired by now
				if n := len(e.sentTimes(isCode(404))); n != 2 {
					t.Errorf("404 sent %d times after the ACK stopped Timer G", n)
				}
				e.at(300*time.Millisecond + tc.i - time.Millisecond)
				checkState(t, tx, Confirmed)
				e.at(300*time.Millisecond + tc.i)
				checkState(t, tx, Terminated)
				if _, _, acks, errs := e.server.snapshot(); len(acks) != 0 || len(errs) != 0 {
					t.Errorf("TU got %d ACKs and errors %v; the transaction absorbs a non-2xx ACK", len(acks), errs)
				}
				checkEmpty(t, e.layer)
			})
		})
	}
}

// RFC 6026 §7.1: after a 2xx the INVITE server transaction is Accepted:
// INVITE retransmissions are absorbed (the TU retransmits the 2xx), the
// TU's 2xx go out, ACKs reach the TU, and Timer L (64·T1) ends it.
func TestInviteServerAcceptedAbsorbsRetransmissions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		inv := e.invite()
		e.at(100 * time.Millisecond)
		tx := e.serverTx(0)
		e.respond(tx, 200, "To: <sip:alice@127.0.0.1>;tag=u1")
		checkState(t, tx, Accepted)
		e.at(500 * time.Millisecond)
		e.peer.send(t, inv, e.tr, uacAddr)
		e.at(600 * time.Millisecond)
		e.respond(tx, 200, "To: <sip:alice@127.0.0.1>;tag=u1")
		checkTimes(t, "200", e.sentTimes(isCode(200)), ms(100, 600))
		if reqs, _, _, _ := e.server.snapshot(); len(reqs) != 1 {
			t.Errorf("the TU got the INVITE %d times", len(reqs))
		}
		// A 2xx ACK has its own branch; one that reuses the INVITE's
		// matches the transaction. Both reach the TU.
		e.peer.send(t, siptest.Request(t, sip.ACK, "sip:alice@127.0.0.1", "Call-ID: "+inv.CallID()), e.tr, uacAddr)
		e.peer.send(t, ackFor(t, inv, "u1"), e.tr, uacAddr)
		e.at(700 * time.Millisecond)
		if _, _, acks, _ := e.server.snapshot(); len(acks) != 2 {
			t.Errorf("the TU got %d ACKs, want 2", len(acks))
		}
		if err := tx.Respond(siptest.Response(t, inv, 486)); !errors.Is(err, ErrBadResponse) {
			t.Errorf("a 486 after the 200: %v, want ErrBadResponse", err)
		}
		e.at(32099 * time.Millisecond)
		checkState(t, tx, Accepted)
		e.at(32100 * time.Millisecond)
		checkState(t, tx, Terminated)
		checkEmpty(t, e.layer)
	})
}

// §17.2.2: a non-INVITE server transaction absorbs retransmissions in
// Trying, resends the provisional in Proceeding and the final in
// Completed, and leaves Completed after Timer J (64·T1 on UDP, zero on
// TCP).
func TestNonInviteServer(t *testing.T) {
	for _, tc := range []struct {
		tr string
		j  time.Duration
	}{{transport.UDP, 32 * time.Second}, {transport.TCP, 0}} {
		t.Run(tc.tr, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, tc.tr)
				reg := siptest.Request(t, sip.REGISTER, "sip:127.0.0.1")
				resend := func(at time.Duration) {
					e.at(at)
					e.peer.send(t, reg, e.tr, uacAddr)
					synctest.Wait()
				}
				resend(0)
				tx := e.serverTx(0)
				checkState(t, tx, Trying)
				resend(100 * time.Millisecond) // Trying: absorbed, nothing sent
				if n := len(e.peer.responses()); n != 0 {
					t.Errorf("%d responses in Trying", n)
				}
				e.respond(tx, 100)
				checkState(t, tx, Proceeding)
				resend(200 * time.Millisecond) // Proceeding: the 100 again
				e.respond(tx, 200)
				resend(300 * time.Millisecond) // Completed: the 200 again
				checkTimes(t, "100", e.sentTimes(isCode(100)), ms(100, 200))
				if tc.j == 0 {
					// Terminated at once: the retransmission was a new
					// transaction (over TCP none would come).
					checkTimes(t, "200", e.sentTimes(isCode(200)), ms(200))
					e.at(33 * time.Second) // the unanswered one ends by its lifetime
					checkEmpty(t, e.layer)
					return
				}
				checkTimes(t, "200", e.sentTimes(isCode(200)), ms(200, 300))
				if reqs, _, _, _ := e.server.snapshot(); len(reqs) != 1 {
					t.Errorf("the TU got the REGISTER %d times", len(reqs))
				}
				e.at(200*time.Millisecond + tc.j - time.Millisecond)
				checkState(t, tx, Completed)
				e.at(200*time.Millisecond + tc.j)
				checkState(t, tx, Terminated)
				checkEmpty(t, e.layer)
			})
		})
	}
}

// §17.2.2: a provisional after the final, or a second final, is refused.
func TestNonInviteServerRefusesResponseAfterFinal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		e.peer.send(t, siptest.Request(t, sip.OPTIONS, "sip:127.0.0.1"), e.tr, uacAddr)
		synctest.Wait()
		tx := e.serverTx(0)
		e.respond(tx, 200)
		for _, code := range []int{180, 200, 500} {
			if err := tx.Respond(siptest.Response(t, tx.Request(), code)); !errors.Is(err, ErrBadResponse) {
				t.Errorf("%d after the final: %v, want ErrBadResponse", code, err)
			}
		}
	})
}

// §17.2.3: the same branch from another sent-by, or with another
// method, is another transaction.
func TestServerMatchesSentByAndMethod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		via := "Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKsame"
		e.peer.send(t, siptest.Request(t, sip.OPTIONS, "sip:127.0.0.1", via), e.tr, uacAddr)
		e.peer.send(t, siptest.Request(t, sip.OPTIONS, "sip:127.0.0.1", via), e.tr, uacAddr) // a retransmission
		other := &peer{}
		other.Endpoint = e.n.Endpoint(e.tr, "127.0.0.3:5060", other)
		other.send(t, siptest.Request(t, sip.OPTIONS, "sip:127.0.0.1", via), e.tr, uacAddr)
		e.peer.send(t, siptest.Request(t, sip.INFO, "sip:127.0.0.1", via), e.tr, uacAddr)
		synctest.Wait()
		reqs, _, _, _ := e.server.snapshot()
		var got []string
		for _, tx := range reqs {
			v, _ := tx.Request().TopVia()
			got = append(got, tx.Request().Method()+" "+v.SentBy())
		}
		want := []string{"OPTIONS 127.0.0.2:5060", "OPTIONS 127.0.0.3:5060", "INFO 127.0.0.2:5060"}
		if !slices.Equal(got, want) {
			t.Errorf("transactions %q, want %q", got, want)
		}
	})
}
