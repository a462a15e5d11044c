package ua

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

// uasEnv is a UA answering calls from a raw peer.
type uasEnv struct {
	n     *siptest.Network
	u     *UA
	rec   *recorder
	peer  *peer
	start time.Time
}

func newUAS(t *testing.T, onIncoming func(*IncomingCall)) *uasEnv {
	n := siptest.NewNetwork()
	t.Cleanup(func() { n.Close() })
	e := &uasEnv{n: n, peer: &peer{}, rec: &recorder{t: t}}
	ep := n.Endpoint(transport.UDP, uasAddr, nil)
	u, err := New(Config{Sender: ep, Contact: "<sip:bob@" + uasAddr + ">", OnEvent: e.rec.OnEvent, OnIncoming: onIncoming})
	if err != nil {
		t.Fatal(err)
	}
	e.rec.u, e.u = u, u
	ep.SetHandler(u)
	e.peer.Endpoint = n.Endpoint(transport.UDP, uacAddr, e.peer)
	e.start = time.Now()
	return e
}

func (e *uasEnv) invite(t *testing.T) *sip.Request {
	inv := siptest.Request(t, sip.INVITE, "sip:bob@"+uasAddr, "Via: SIP/2.0/UDP "+uacAddr+";branch=z9hG4bK"+fmt.Sprint(time.Now().UnixNano()))
	if _, err := e.peer.SendRequest(context.Background(), inv, transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(uasAddr)}); err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
	return inv
}

func (e *uasEnv) responses(code int) (times []time.Duration, tags []string) {
	for _, ev := range e.n.Sent(siptest.IsResponse(code)) {
		if ev.From == netip.MustParseAddrPort(uasAddr) {
			times = append(times, ev.At.Sub(e.start))
			tags = append(tags, ev.Msg.ToTag())
		}
	}
	return times, tags
}

// RFC 3261 §12.1.1, §13.3.1.4: every response to one INVITE carries the
// same To tag; the 2xx is retransmitted from T1, doubling to T2, until
// the ACK comes, which confirms the call.
func TestIncomingAnswerRetransmitsUntilACK(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAS(t, func(ic *IncomingCall) {
			ic.Ring()
			time.AfterFunc(time.Second, func() { ic.Answer([]byte("v=0\r\n"), "application/sdp") })
		})
		inv := e.invite(t)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		ringAt, ringTags := e.responses(180)
		okAt, okTags := e.responses(200)
		want := []time.Duration{1000, 1500, 2500, 4500}
		for i := range want {
			want[i] *= time.Millisecond
		}
		if !slices.Equal(okAt, want) {
			t.Errorf("200 sent at %v, want %v", okAt, want)
		}
		if len(ringAt) != 1 || ringTags[0] == "" || slices.ContainsFunc(okTags, func(s string) bool { return s != ringTags[0] }) {
			t.Errorf("To tags: 180 %v, 200 %v; want one tag on all", ringTags, okTags)
		}
		e.ack(t, inv, okTags[0], 1)
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if okAt, _ := e.responses(200); len(okAt) != 4 {
			t.Errorf("200 retransmitted after the ACK: %v", okAt)
		}
		if got := e.rec.kinds(); !slices.Equal(got, []string{"incoming", "confirmed"}) {
			t.Errorf("events %v", got)
		}
	})
}

func first(s string, _ bool) string { return s }

// §13.3.1.4: with no ACK after 64·T1 the UAS ends the call with BYE.
func TestIncomingAnswerWithoutACKSendsBYE(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAS(t, func(ic *IncomingCall) { ic.Answer(nil, "") })
		e.invite(t)
		time.Sleep(40 * time.Second)
		synctest.Wait()
		okAt, _ := e.responses(200)
		want := []time.Duration{0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}
		for i := range want {
			want[i] *= time.Millisecond
		}
		if !slices.Equal(okAt, want) {
			t.Errorf("200 sent at %v, want %v", okAt, want)
		}
		var byeAt []time.Duration
		for _, ev := range e.n.Sent(siptest.IsRequest(sip.BYE)) {
			byeAt = append(byeAt, ev.At.Sub(e.start))
		}
		if !slices.Equal(byeAt[:1], []time.Duration{32 * time.Second}) {
			t.Errorf("BYE sent at %v, want 32s", byeAt)
		}
		if ev := e.rec.last(); ev.Cause != CauseTimeout {
			t.Errorf("ended %v, want timeout", ev.Cause)
		}
	})
}

// §9.2, RFC 3326: an incoming CANCEL ends the call with 487 (the same
// To tag) and the event tells its Reason, and that "completed elsewhere"
// (SIP cause 200) is no missed call.
func TestIncomingCancelReason(t *testing.T) {
	for _, tc := range []struct {
		reason string
		cause  Cause
		missed bool
	}{
		{`SIP;cause=200;text="Call completed elsewhere"`, CauseAnsweredElsewhere, false},
		{`SIP;cause=487;text="Request terminated"`, CauseCancelled, true},
		{"", CauseCancelled, true},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newUAS(t, func(ic *IncomingCall) { ic.Ring() })
				inv := e.invite(t)
				var extra []string
				if tc.reason != "" {
					extra = append(extra, "Reason: "+tc.reason)
				}
				e.cancel(t, inv, extra...)
				_, ringTags := e.responses(180)
				_, tags487 := e.responses(487)
				if len(tags487) != 1 || tags487[0] != ringTags[0] {
					t.Errorf("487 tags %v, want the 180's %v", tags487, ringTags)
				}
				ev := e.rec.last()
				if ev.Kind != Terminated || ev.Cause != tc.cause || ev.Missed != tc.missed {
					t.Errorf("event %v %v missed=%v, want %v missed=%v", ev.Kind, ev.Cause, ev.Missed, tc.cause, tc.missed)
				}
				if tc.reason != "" && (ev.Reason == nil || ev.Reason.String() != tc.reason) {
					t.Errorf("event Reason %v, want %q", ev.Reason, tc.reason)
				}
			})
		})
	}
}

// §9.2: a CANCEL before the callee rang (only the 100 went out) gets a
// 200 with the To tag the 487 then carries.
func TestCancelBeforeRingSameToTag(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAS(t, func(*IncomingCall) {}) // neither rings nor answers
		inv := e.invite(t)
		time.Sleep(300 * time.Millisecond) // the transaction's 100 Trying
		synctest.Wait()
		e.cancel(t, inv)
		var okTag, tag487 []string
		for _, ev := range e.n.Sent(func(ev siptest.Event) bool { return ev.From == netip.MustParseAddrPort(uasAddr) }) {
			if r, ok := ev.Msg.(*sip.Response); ok && r.StatusCode() == 200 && r.CSeq().Method == sip.CANCEL {
				okTag = append(okTag, r.ToTag())
			} else if ok && r.StatusCode() == 487 {
				tag487 = append(tag487, r.ToTag())
			}
		}
		if len(okTag) != 1 || len(tag487) != 1 || okTag[0] == "" || okTag[0] != tag487[0] {
			t.Errorf("200 to CANCEL with To tags %q, 487 with %q: want one same tag", okTag, tag487)
		}
	})
}

// pairEnv is two UAs calling each other.
type pairEnv struct {
	n          *siptest.Network
	alice, bob *UA
	arec, brec *recorder
	bobAddr    netip.AddrPort
}

func newPair(t *testing.T, bobIncoming func(*IncomingCall), aliceExtra func(*UA, Event)) *pairEnv {
	n := siptest.NewNetwork()
	t.Cleanup(func() { n.Close() })
	p := &pairEnv{n: n, arec: &recorder{t: t}, brec: &recorder{t: t}, bobAddr: netip.MustParseAddrPort(uasAddr)}
	ea := n.Endpoint(transport.UDP, uacAddr, nil)
	eb := n.Endpoint(transport.UDP, uasAddr, nil)
	var err error
	p.alice, err = New(Config{Sender: ea, Contact: "<sip:alice@" + uacAddr + ">", OnEvent: func(ev Event) {
		p.arec.OnEvent(ev)
		if aliceExtra != nil {
			aliceExtra(p.alice, ev)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	p.bob, err = New(Config{Sender: eb, Contact: "<sip:bob@" + uasAddr + ">", OnEvent: p.brec.OnEvent, OnIncoming: bobIncoming})
	if err != nil {
		t.Fatal(err)
	}
	p.arec.u, p.brec.u = p.alice, p.bob
	ea.SetHandler(p.alice)
	eb.SetHandler(p.bob)
	return p
}

func (p *pairEnv) call(t testing.TB) *Call {
	to, _ := sip.ParseURI("sip:bob@" + uasAddr)
	c, err := p.alice.Call(context.Background(), to, CallOptions{Target: transport.Target{Transport: transport.UDP, Addr: p.bobAddr},
		Body: []byte("v=0\r\n"), ContentType: "application/sdp"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// §15: the callee hangs up; both sides end, with the right causes.
func TestHangupByEitherSide(t *testing.T) {
	for _, who := range []string{"caller", "callee"} {
		t.Run(who, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPair(t, func(ic *IncomingCall) { ic.Answer([]byte("v=0\r\n"), "application/sdp") }, nil)
				c := p.call(t)
				synctest.Wait()
				if got := p.arec.kinds(); !slices.Equal(got, []string{"calling", "confirmed"}) {
					t.Fatalf("caller events %v", got)
				}
				if who == "caller" {
					c.Hangup()
				} else {
					p.bob.Hangup(p.brec.all()[0].ID)
				}
				synctest.Wait()
				wantA, wantB := "terminated:local-hangup", "terminated:remote-bye"
				if who == "callee" {
					wantA, wantB = wantB, wantA
				}
				if a, b := p.arec.kinds(), p.brec.kinds(); a[len(a)-1] != wantA || b[len(b)-1] != wantB {
					t.Errorf("caller %v, callee %v", a, b)
				}
			})
		})
	}
}

// Dialogs leave the table when they end: after 10 000 calls answered
// and hung up, both UAs' tables are empty, and so are their
// transaction tables once the timers have run.
func TestTablesEmptyAfter10000Calls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, func(ic *IncomingCall) { ic.Answer(nil, "") }, func(u *UA, ev Event) {
			if ev.Kind == Confirmed {
				go ev.Call.Hangup()
			}
		})
		const calls = 10000
		for range calls {
			p.call(t)
		}
		synctest.Wait()
		ended := 0
		for _, ev := range p.arec.all() {
			if ev.Kind == Terminated && ev.Cause == CauseLocalHangup {
				ended++
			}
		}
		if ended != calls {
			t.Fatalf("%d calls hung up, want %d", ended, calls)
		}
		time.Sleep(64*p.alice.Timers().T1 + time.Second)
		synctest.Wait()
		for name, u := range map[string]*UA{"caller": p.alice, "callee": p.bob} {
			s, c := u.Transactions().Len()
			if n := u.Dialogs().Len(); n != 0 || u.Active() != 0 || s != 0 || c != 0 {
				t.Errorf("%s: %d dialogs, %d calls, %d+%d transactions left", name, n, u.Active(), s, c)
			}
		}
	})
}

// RFC 3261 §14: a re-INVITE in a confirmed call is answered by the peer
// with its current session description, ACKed, and leaves the call up.
func TestReinvite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, func(ic *IncomingCall) { ic.Answer([]byte("v=0\r\n"), "application/sdp") }, nil)
		c := p.call(t)
		synctest.Wait()
		code, err := c.Reinvite(context.Background(), []byte("v=0\r\no=new\r\n"), "application/sdp")
		if err != nil || code != 200 {
			t.Fatalf("re-INVITE: %d, %v", code, err)
		}
		synctest.Wait()
		if ev := p.arec.last(); ev.Kind != Confirmed {
			t.Errorf("caller's last event %v after the re-INVITE", ev.Kind)
		}
		if got := p.brec.kinds(); !slices.Equal(got, []string{"incoming", "confirmed"}) {
			t.Errorf("callee events %v", got)
		}
		if err := c.Hangup(); err != nil {
			t.Fatal(err)
		}
	})
}

// §12.2: requests within an early dialog are answered in it: an INFO
// from the caller while the callee rings gets 200, not 481; a BYE for
// an unknown dialog gets 481.
func TestInDialogRequestDuringEarlyDialog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAS(t, func(ic *IncomingCall) { ic.Ring() })
		inv := e.invite(t)
		_, tags := e.responses(180)
		send := func(method, toTag string) {
			req := siptest.Request(t, method, "sip:bob@"+uasAddr, "Call-ID: "+inv.CallID(), "From: "+first(inv.Get("From")),
				"To: <sip:bob@"+uasAddr+">;tag="+toTag, "CSeq: 2 "+method)
			e.peer.SendRequest(context.Background(), req, transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(uasAddr)})
			synctest.Wait()
		}
		send(sip.INFO, tags[0])
		send(sip.BYE, "unknown")
		var got []int
		for _, ev := range e.n.Sent(func(ev siptest.Event) bool {
			r, ok := ev.Msg.(*sip.Response)
			return ok && r.CSeq().Seq == 2
		}) {
			got = append(got, ev.Msg.(*sip.Response).StatusCode())
		}
		if !slices.Equal(got, []int{200, 481}) {
			t.Errorf("INFO and stray BYE answered %v, want 200 and 481", got)
		}
		if got := e.rec.kinds(); !slices.Equal(got, []string{"incoming"}) {
			t.Errorf("events %v: the INFO changed the call", got)
		}
	})
}

// §12.2.1.2: the 2xx to a re-INVITE refreshes the remote target: the
// next request goes to its Contact.
func TestReinviteRefreshesTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		c := e.call(t, CallOptions{})
		inv := e.peer.requests(sip.INVITE)[0]
		e.peer.respond(t, inv, 200, tagged+"x", "Contact: <sip:bob@127.0.0.2:5060>")
		done := make(chan int, 1)
		go func() {
			code, _ := c.Reinvite(context.Background(), nil, "")
			done <- code
		}()
		synctest.Wait()
		re := e.peer.requests(sip.INVITE)[1]
		e.peer.respond(t, re, 200, tagged+"x", "Contact: <sip:moved@127.0.0.2:5060>")
		if code := <-done; code != 200 {
			t.Fatalf("re-INVITE %d", code)
		}
		c.Hangup()
		synctest.Wait()
		byes := e.peer.requests(sip.BYE)
		if len(byes) != 1 || byes[0].msg.(*sip.Request).RequestURI().User != "moved" {
			t.Errorf("BYE went to %v, want the refreshed target", byes)
		}
	})
}

// reinvitedCall answers a call, ACKed, and receives a re-INVITE in it;
// it returns the INVITE, the call's To tag and when the re-INVITE went.
func reinvitedCall(t *testing.T) (e *uasEnv, inv *sip.Request, tag string, at time.Duration) {
	e = newUAS(t, func(ic *IncomingCall) { ic.Answer([]byte("v=0\r\n"), "application/sdp") })
	inv = e.invite(t)
	_, tags := e.responses(200)
	e.ack(t, inv, tags[0], 1)
	return e, inv, tags[0], e.reinvite(t, inv, tags[0])
}

// reinvite sends a re-INVITE (CSeq 2) in the call inv set up, whose 200
// carried tag, and returns when it was sent.
func (e *uasEnv) reinvite(t *testing.T, inv *sip.Request, tag string) time.Duration {
	re := siptest.Request(t, sip.INVITE, "sip:bob@"+uasAddr, "Via: SIP/2.0/UDP "+uacAddr+";branch=z9hG4bKre"+fmt.Sprint(time.Now().UnixNano()),
		"Call-ID: "+inv.CallID(), "From: "+first(inv.Get("From")), "To: <sip:bob@"+uasAddr+">;tag="+tag, "CSeq: 2 INVITE")
	at := time.Since(e.start)
	e.peer.SendRequest(context.Background(), re, transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(uasAddr)})
	synctest.Wait()
	return at
}

// cancel sends the CANCEL of inv (§9.1), with extra headers.
func (e *uasEnv) cancel(t *testing.T, inv *sip.Request, extra ...string) {
	v, _ := inv.TopVia()
	hs := append([]string{"Via: " + v.String(), "Call-ID: " + inv.CallID(), "From: " + first(inv.Get("From")),
		"To: " + first(inv.Get("To")), "CSeq: 1 CANCEL"}, extra...)
	cancel := siptest.Request(t, sip.CANCEL, "sip:bob@"+uasAddr, hs...)
	e.peer.SendRequest(context.Background(), cancel, transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(uasAddr)})
	synctest.Wait()
}

// ack sends the ACK for the 2xx to the INVITE with CSeq seq.
func (e *uasEnv) ack(t *testing.T, inv *sip.Request, tag string, seq int) {
	ack := siptest.Request(t, sip.ACK, "sip:bob@"+uasAddr, "Call-ID: "+inv.CallID(), "From: "+first(inv.Get("From")),
		"To: <sip:bob@"+uasAddr+">;tag="+tag, fmt.Sprintf("CSeq: %d ACK", seq))
	e.peer.SendRequest(context.Background(), ack, transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(uasAddr)})
	synctest.Wait()
}

// okTimes returns when the UA sent 200s to the request with CSeq seq,
// from since.
func (e *uasEnv) okTimes(seq uint32, since time.Duration) []time.Duration {
	var at []time.Duration
	for _, ev := range e.n.Sent(func(ev siptest.Event) bool {
		r, ok := ev.Msg.(*sip.Response)
		return ok && r.StatusCode() == 200 && r.CSeq().Seq == seq && ev.From == netip.MustParseAddrPort(uasAddr)
	}) {
		at = append(at, ev.At.Sub(e.start)-since)
	}
	return at
}

func millis(ms ...int) []time.Duration {
	d := make([]time.Duration, len(ms))
	for i, m := range ms {
		d[i] = time.Duration(m) * time.Millisecond
	}
	return d
}

// RFC 3261 §14.2, §13.3.1.4: the 2xx to a re-INVITE is retransmitted by
// the UA, T1 doubling to T2, until its ACK; the call stays up.
func TestReinviteAnswerRetransmitsUntilACK(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, inv, tag, at := reinvitedCall(t)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got, want := e.okTimes(2, at), millis(0, 500, 1500); !slices.Equal(got, want) {
			t.Errorf("200 to the re-INVITE sent at %v, want %v", got, want)
		}
		e.ack(t, inv, tag, 2)
		time.Sleep(40 * time.Second)
		synctest.Wait()
		if got := e.okTimes(2, at); len(got) != 3 {
			t.Errorf("200 to the re-INVITE retransmitted after its ACK: %v", got)
		}
		if byes := e.n.Sent(siptest.IsRequest(sip.BYE)); len(byes) != 0 {
			t.Errorf("%d BYE sent after an ACKed re-INVITE", len(byes))
		}
		if got := e.rec.kinds(); !slices.Equal(got, []string{"incoming", "confirmed"}) {
			t.Errorf("events %v", got)
		}
		e.u.mu.Lock()
		defer e.u.mu.Unlock()
		if len(e.u.acks) != 0 {
			t.Errorf("%d 2xx still awaiting ACK", len(e.u.acks))
		}
	})
}

// §13.3.1.4: with no ACK for the re-INVITE's 2xx after 64·T1 the UA
// ends the call with BYE.
func TestReinviteAnswerWithoutACKSendsBYE(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, _, _, at := reinvitedCall(t)
		time.Sleep(40 * time.Second)
		synctest.Wait()
		if got, want := e.okTimes(2, at), millis(0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500); !slices.Equal(got, want) {
			t.Errorf("200 to the re-INVITE sent at %v, want %v", got, want)
		}
		var byeAt []time.Duration
		branches := map[string]bool{}
		for _, ev := range e.n.Sent(siptest.IsRequest(sip.BYE)) {
			byeAt = append(byeAt, ev.At.Sub(e.start)-at)
			v, _ := ev.Msg.TopVia()
			branches[v.Branch] = true
		}
		// The BYE's own retransmissions follow: the raw peer never answers.
		if len(byeAt) == 0 || byeAt[0] != 32*time.Second || len(branches) != 1 {
			t.Errorf("BYE sent at %v in %d transactions, want one from 32s", byeAt, len(branches))
		}
		if ev := e.rec.last(); ev.Kind != Terminated || ev.Cause != CauseTimeout {
			t.Errorf("last event %v %v, want terminated by timeout", ev.Kind, ev.Cause)
		}
	})
}

// §14.2, §13.3.1.4 for the caller: a re-INVITE from the callee is
// answered, the 200 retransmitted, and the call ended with BYE in that
// dialog when no ACK comes.
func TestReinviteFromCalleeWithoutACKSendsBYE(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		c := e.call(t, CallOptions{})
		inv := e.peer.requests(sip.INVITE)[0]
		e.peer.respond(t, inv, 200, tagged+"x", "Contact: <sip:bob@"+uasAddr+">")
		req := inv.msg.(*sip.Request)
		from, _ := req.Get("From")
		re := siptest.Request(t, sip.INVITE, "sip:alice@"+uacAddr, "Via: SIP/2.0/UDP "+uasAddr+";branch=z9hG4bKcallee",
			"Call-ID: "+req.CallID(), "From: <sip:bob@"+uasAddr+">;tag=x", "To: "+from, "CSeq: 7 INVITE", "Contact: <sip:bob@"+uasAddr+">")
		start := time.Now()
		e.peer.SendRequest(context.Background(), re, transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(uacAddr)})
		time.Sleep(40 * time.Second)
		synctest.Wait()
		var okAt, byeAt []time.Duration
		for _, ev := range e.n.Sent(func(ev siptest.Event) bool { return ev.From == netip.MustParseAddrPort(uacAddr) }) {
			switch m := ev.Msg.(type) {
			case *sip.Response:
				if m.StatusCode() == 200 && m.CSeq().Seq == 7 {
					okAt = append(okAt, ev.At.Sub(start))
				}
			case *sip.Request:
				if m.Method() == sip.BYE && m.ToTag() == "x" {
					byeAt = append(byeAt, ev.At.Sub(start))
				}
			}
		}
		if want := millis(0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500); !slices.Equal(okAt, want) {
			t.Errorf("200 to the callee's re-INVITE sent at %v, want %v", okAt, want)
		}
		if len(byeAt) == 0 || byeAt[0] != 32*time.Second {
			t.Errorf("BYE sent at %v, want from 32s", byeAt)
		}
		if ev := e.rec.last(); ev.Kind != Terminated || ev.Cause != CauseTimeout || ev.Call != c {
			t.Errorf("last event %v %v, want the call terminated by timeout", ev.Kind, ev.Cause)
		}
	})
}
