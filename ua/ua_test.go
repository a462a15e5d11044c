package ua

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/dialog"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

// The tests run under testing/synctest on a siptest network.

const (
	uacAddr = "127.0.0.1:5060"
	uasAddr = "127.0.0.2:5060"
)

// recorder keeps every event, and checks at each one that its ID finds
// the dialog (while the dialog lives).
type recorder struct {
	t      *testing.T
	u      *UA
	mu     sync.Mutex
	events []Event
}

func (r *recorder) OnEvent(ev Event) {
	if ev.Kind != Terminated {
		if _, ok := r.u.Dialogs().Get(ev.ID); !ok {
			r.t.Errorf("%v event: its ID %v finds no dialog", ev.Kind, ev.ID)
		}
	}
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) kinds() []string {
	var out []string
	for _, ev := range r.all() {
		s := ev.Kind.String()
		if ev.Kind == Terminated {
			s += ":" + ev.Cause.String()
		}
		out = append(out, s)
	}
	return out
}

func (r *recorder) last() Event {
	evs := r.all()
	if len(evs) == 0 {
		return Event{}
	}
	return evs[len(evs)-1]
}

// peer is a raw SIP node the test drives by hand.
type peer struct {
	*siptest.Endpoint
	mu   sync.Mutex
	msgs []delivered
}

type delivered struct {
	msg sip.Message
	src transport.Source
}

func (p *peer) HandleMessage(m sip.Message, src transport.Source) {
	p.mu.Lock()
	p.msgs = append(p.msgs, delivered{m, src})
	p.mu.Unlock()
}

func (p *peer) requests(method string) []delivered {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []delivered
	for _, d := range p.msgs {
		if r, ok := d.msg.(*sip.Request); ok && r.Method() == method {
			out = append(out, d)
		}
	}
	return out
}

func (p *peer) respond(t *testing.T, d delivered, code int, headers ...string) {
	t.Helper()
	if err := p.SendResponse(context.Background(), siptest.Response(t, d.msg.(*sip.Request), code, headers...), d.src); err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
}

// uacEnv is a UA placing calls to a raw peer.
type uacEnv struct {
	n    *siptest.Network
	u    *UA
	rec  *recorder
	peer *peer
}

func newUAC(t *testing.T) *uacEnv {
	n := siptest.NewNetwork()
	t.Cleanup(func() { n.Close() })
	e := &uacEnv{n: n, peer: &peer{}}
	ep := n.Endpoint(transport.UDP, uacAddr, nil)
	e.rec = &recorder{t: t}
	u, err := New(Config{Sender: ep, Contact: "<sip:alice@" + uacAddr + ">", OnEvent: e.rec.OnEvent})
	if err != nil {
		t.Fatal(err)
	}
	e.rec.u = u
	ep.SetHandler(u)
	e.u = u
	e.peer.Endpoint = n.Endpoint(transport.UDP, uasAddr, e.peer)
	return e
}

func (e *uacEnv) call(t *testing.T, opts CallOptions) *Call {
	t.Helper()
	to, _ := sip.ParseURI("sip:bob@" + uasAddr)
	if !opts.Target.Addr.IsValid() {
		opts.Target = transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(uasAddr)}
	}
	c, err := e.u.Call(context.Background(), to, opts)
	if err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
	return c
}

const tagged = "To: <sip:bob@127.0.0.2:5060>;tag="

// RFC 3261 §9.1: the CANCEL is built from the INVITE as sent: same
// Request-URI, Call-ID, From, To byte for byte (no tag), CSeq number,
// one Via equal to the INVITE's top Via, the INVITE's Route headers, a
// Reason when asked, and Content-Length 0.
func TestCancelIsBuiltFromTheInvite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		c := e.call(t, CallOptions{Route: []string{"<sip:127.0.0.2:5060;lr>"}})
		inv := e.peer.requests(sip.INVITE)[0]
		e.peer.respond(t, inv, 180, tagged+"callee1")
		if err := c.Cancel(`SIP;cause=200;text="Call completed elsewhere"`); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		cancels := e.peer.requests(sip.CANCEL)
		if len(cancels) != 1 {
			t.Fatalf("%d CANCELs, want 1", len(cancels))
		}
		got, sent := cancels[0].msg.(*sip.Request), inv.msg.(*sip.Request)
		gotTo, _ := got.Get("To")
		sentTo, _ := sent.Get("To")
		if gotTo != sentTo || strings.Contains(gotTo, "tag") {
			t.Errorf("CANCEL To %q, want the INVITE's %q exactly", gotTo, sentTo)
		}
		if got.StartLine() != "CANCEL "+strings.Fields(sent.StartLine())[1]+" SIP/2.0" {
			t.Errorf("CANCEL line %q for INVITE line %q", got.StartLine(), sent.StartLine())
		}
		vias := got.Vias()
		top, _ := sent.TopVia()
		if len(vias) != 1 || vias[0].String() != top.String() {
			t.Errorf("CANCEL Vias %v, want exactly %q", vias, top.String())
		}
		if got.CSeq() != (sip.CSeq{Seq: sent.CSeq().Seq, Method: sip.CANCEL}) || got.CallID() != sent.CallID() {
			t.Errorf("CANCEL CSeq %v Call-ID %q", got.CSeq(), got.CallID())
		}
		gotFrom, _ := got.Get("From")
		sentFrom, _ := sent.Get("From")
		if gotFrom != sentFrom {
			t.Errorf("CANCEL From %q, want %q", gotFrom, sentFrom)
		}
		if r := slices.Collect(got.Values("Route")); !slices.Equal(r, []string{"<sip:127.0.0.2:5060;lr>"}) {
			t.Errorf("CANCEL Route %q", r)
		}
		if r, _ := got.Get("Reason"); r != `SIP;cause=200;text="Call completed elsewhere"` {
			t.Errorf("CANCEL Reason %q", r)
		}
		if _, ok := got.Get("Require"); ok || got.ContentLength() != 0 {
			t.Errorf("CANCEL has Require or a body")
		}
		// The peer ends the INVITE with 487; the transaction ACKs it.
		e.peer.respond(t, cancels[0], 200)
		e.peer.respond(t, inv, 487, tagged+"callee1")
		if n := len(e.peer.requests(sip.ACK)); n != 1 {
			t.Errorf("%d ACKs for the 487, want 1", n)
		}
		if ev := e.rec.last(); ev.Kind != Terminated || ev.Cause != CauseCancelled || ev.Status != 487 {
			t.Errorf("last event %+v, want terminated: cancelled 487", ev.Kind)
		}
	})
}

// §9.1: a CANCEL may follow a 100 Trying alone.
func TestCancelAfter100Only(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		c := e.call(t, CallOptions{})
		e.peer.respond(t, e.peer.requests(sip.INVITE)[0], 100)
		c.Cancel("")
		synctest.Wait()
		if n := len(e.peer.requests(sip.CANCEL)); n != 1 {
			t.Errorf("%d CANCELs after a 100, want 1", n)
		}
		if got := e.rec.kinds(); !slices.Equal(got, []string{"calling", "proceeding"}) {
			t.Errorf("events %v", got)
		}
	})
}

// §9.1: a cancel asked for before any response is held, and sent the
// moment the first provisional response arrives.
func TestCancelBeforeResponseIsDeferred(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		c := e.call(t, CallOptions{})
		if err := c.Cancel(""); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n := len(e.peer.requests(sip.CANCEL)); n != 0 {
			t.Fatalf("CANCEL sent before any provisional response")
		}
		inv := e.peer.requests(sip.INVITE)[0]
		e.peer.respond(t, inv, 180, tagged+"x")
		cancels := e.peer.requests(sip.CANCEL)
		if len(cancels) != 1 {
			t.Fatalf("%d CANCELs after the 180, want 1", len(cancels))
		}
		e.peer.respond(t, cancels[0], 200)
		e.peer.respond(t, inv, 487, tagged+"x")
		if got := e.rec.kinds(); !slices.Equal(got, []string{"calling", "early", "terminated:cancelled"}) {
			t.Errorf("events %v", got)
		}
	})
}

// §9.1: if a final response comes before any provisional, the held
// cancel is dropped and the call ends with that response.
func TestCancelBeforeResponseFinalFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		c := e.call(t, CallOptions{})
		c.Cancel("")
		e.peer.respond(t, e.peer.requests(sip.INVITE)[0], 486, tagged+"x")
		if n := len(e.peer.requests(sip.CANCEL)); n != 0 {
			t.Errorf("CANCEL sent after the final response")
		}
		if ev := e.rec.last(); ev.Cause != CauseRejected || ev.Status != 486 {
			t.Errorf("ended %v %d, want rejected 486", ev.Cause, ev.Status)
		}
	})
}

// A 200 that crosses the CANCEL is ACKed, then the dialog is ended with
// BYE (§9.1, §15); the call ends as cancelled.
func TestCancelRacing200(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		c := e.call(t, CallOptions{})
		inv := e.peer.requests(sip.INVITE)[0]
		e.peer.respond(t, inv, 180, tagged+"x")
		c.Cancel("")
		synctest.Wait()
		e.peer.respond(t, inv, 200, tagged+"x", "Contact: <sip:bob@127.0.0.2:5060>")
		acks, byes := e.peer.requests(sip.ACK), e.peer.requests(sip.BYE)
		if len(acks) != 1 || len(byes) != 1 {
			t.Fatalf("%d ACKs and %d BYEs, want one of each", len(acks), len(byes))
		}
		if acks[0].msg.(*sip.Request).ToTag() != "x" || byes[0].msg.(*sip.Request).ToTag() != "x" {
			t.Errorf("ACK or BYE not in the answered dialog")
		}
		if ev := e.rec.last(); ev.Kind != Terminated || ev.Cause != CauseCancelled {
			t.Errorf("last event %v %v, want terminated: cancelled", ev.Kind, ev.Cause)
		}
		if err := c.Cancel(""); err != ErrCallEnded {
			t.Errorf("Cancel after the end: %v", err)
		}
	})
}

// §9.1: 64·T1 after the CANCEL with no final response, the call ends as
// cancelled.
func TestCancelWithoutFinalEndsAfter64T1(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		c := e.call(t, CallOptions{})
		e.peer.respond(t, e.peer.requests(sip.INVITE)[0], 180, tagged+"x")
		start := time.Now()
		c.Cancel("")
		time.Sleep(32*time.Second - time.Millisecond)
		synctest.Wait()
		if ev := e.rec.last(); ev.Kind == Terminated {
			t.Fatalf("ended after %v", time.Since(start))
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if ev := e.rec.last(); ev.Kind != Terminated || ev.Cause != CauseCancelled {
			t.Errorf("last event %v %v at 64·T1, want terminated: cancelled", ev.Kind, ev.Cause)
		}
		if s, cl := e.u.Transactions().Len(); cl != 0 {
			t.Errorf("%d client transactions left (%d server)", cl, s)
		}
	})
}

// §12.1.2, §13.2.2.4: a forked INVITE makes one early dialog per remote
// tag, each found by its ID and all by the Call-ID; the first 2xx
// confirms the call and ends the others; a 2xx from another fork is
// ACKed and ended with BYE; a retransmitted 2xx is ACKed again.
func TestForkedEarlyDialogs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		c := e.call(t, CallOptions{})
		inv := e.peer.requests(sip.INVITE)[0]
		calling := e.rec.all()[0].ID
		e.peer.respond(t, inv, 180, tagged+"a", "Contact: <sip:a@127.0.0.2:5060>")
		e.peer.respond(t, inv, 183, tagged+"b", "Contact: <sip:b@127.0.0.2:5060>")
		var early []dialog.ID
		for _, ev := range e.rec.all() {
			if ev.Kind == Early {
				early = append(early, ev.ID)
			}
		}
		if len(early) != 2 || early[0].RemoteTag != "a" || early[1].RemoteTag != "b" {
			t.Fatalf("early dialogs %v", early)
		}
		for _, id := range append(early, calling) {
			if _, ok := e.u.Dialogs().Get(id); !ok {
				t.Errorf("ID %v finds nothing", id)
			}
		}
		if ds := e.u.Dialogs().ByCallID(calling.CallID); len(ds) != 2 {
			t.Errorf("Call-ID finds %d dialogs, want 2", len(ds))
		}
		e.peer.respond(t, inv, 200, tagged+"a", "Contact: <sip:a@127.0.0.2:5060>")
		e.peer.respond(t, inv, 200, tagged+"a", "Contact: <sip:a@127.0.0.2:5060>") // retransmitted
		e.peer.respond(t, inv, 200, tagged+"b", "Contact: <sip:b@127.0.0.2:5060>") // another fork
		var ackTags, byeTags []string
		for _, d := range e.peer.requests(sip.ACK) {
			ackTags = append(ackTags, d.msg.(*sip.Request).ToTag())
		}
		for _, d := range e.peer.requests(sip.BYE) {
			byeTags = append(byeTags, d.msg.(*sip.Request).ToTag())
		}
		if !slices.Equal(ackTags, []string{"a", "a", "b"}) || !slices.Equal(byeTags, []string{"b"}) {
			t.Errorf("ACKs to %v and BYEs to %v, want ACKs a, a, b and a BYE to b", ackTags, byeTags)
		}
		if c.ID().RemoteTag != "a" {
			t.Errorf("call ID %v, want the answered dialog", c.ID())
		}
		if ds := e.u.Dialogs().ByCallID(calling.CallID); len(ds) != 1 {
			t.Errorf("%d dialogs left, want the confirmed one", len(ds))
		}
		// The ID from the Calling event still finds the answered call.
		if err := e.u.Hangup(calling); err != nil {
			t.Errorf("Hangup by the Calling ID: %v", err)
		}
		synctest.Wait()
		if err := e.u.Hangup(early[0]); err != ErrCallEnded {
			t.Errorf("second Hangup: %v, want ErrCallEnded", err)
		}
		if n := len(e.peer.requests(sip.BYE)); n != 2 {
			t.Errorf("%d BYEs after hanging up, want 2", n)
		}
	})
}

// Cancel by dialog ID and by Call-ID find the call in every state the
// application was told of.
func TestCancelByIDAndCallID(t *testing.T) {
	for _, by := range []string{"calling-id", "early-id", "call-id"} {
		t.Run(by, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newUAC(t)
				e.call(t, CallOptions{})
				inv := e.peer.requests(sip.INVITE)[0]
				e.peer.respond(t, inv, 180, tagged+"x")
				evs := e.rec.all()
				var err error
				switch by {
				case "calling-id":
					err = e.u.Cancel(evs[0].ID, "")
				case "early-id":
					err = e.u.Cancel(evs[1].ID, "")
				case "call-id":
					err = e.u.CancelCallID(evs[0].ID.CallID, "")
				}
				if err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				if n := len(e.peer.requests(sip.CANCEL)); n != 1 {
					t.Errorf("%d CANCELs", n)
				}
			})
		})
	}
}

// CallOptions.Headers go into the INVITE as given; a malformed one is
// refused before anything is sent.
func TestCallExtraHeaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		e.call(t, CallOptions{Headers: []string{"Subject:  hello ", "X-Campaign: 42"}})
		inv := e.peer.requests(sip.INVITE)[0].msg.(*sip.Request)
		if s, _ := inv.Get("Subject"); s != "hello" {
			t.Errorf("Subject %q", s)
		}
		if x, _ := inv.Get("X-Campaign"); x != "42" {
			t.Errorf("X-Campaign %q", x)
		}
		to, _ := sip.ParseURI("sip:bob@" + uasAddr)
		for _, h := range []string{"no colon", ": empty name"} {
			if _, err := e.u.Call(context.Background(), to, CallOptions{Target: transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(uasAddr)}, Headers: []string{h}}); err == nil {
				t.Errorf("header %q accepted", h)
			}
		}
	})
}
