package transaction

import (
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

// cancelFor builds the CANCEL a UAC sends for inv (RFC 3261 §9.1): same
// branch, Call-ID, From, To and CSeq number.
func cancelFor(t *testing.T, inv *sip.Request, headers ...string) *sip.Request {
	v, _ := inv.TopVia()
	to, _ := inv.Get("To")
	h := append([]string{"Via: " + v.String(), "Call-ID: " + inv.CallID(), "From: " + must(inv.Get("From")),
		"To: " + to, fmt.Sprintf("CSeq: %d CANCEL", inv.CSeq().Seq)}, headers...)
	return siptest.Request(t, sip.CANCEL, "sip:alice@127.0.0.1", h...)
}

// cancelResponses returns the status codes the peer got for CANCELs.
func (e *env) cancelResponses() []int {
	var out []int
	for _, r := range e.peer.responses() {
		if r.CSeq().Method == sip.CANCEL {
			out = append(out, r.StatusCode())
		}
	}
	return out
}

// §9.2: a CANCEL matching an INVITE server transaction with no final
// response is answered 200 by the layer, and the TU is told, with the
// CANCEL so it can read the Reason (RFC 3326). A retransmitted CANCEL
// gets the 200 again and does not reach the TU twice.
func TestCancelPendingInvite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		inv := e.invite()
		e.at(100 * time.Millisecond)
		tx := e.serverTx(0)
		e.respond(tx, 180, "To: <sip:alice@127.0.0.1>;tag=u1")
		cancel := cancelFor(t, inv, `Reason: SIP;cause=200;text="Call completed elsewhere"`)
		e.peer.send(t, cancel, e.tr, uacAddr)
		e.peer.send(t, cancel, e.tr, uacAddr)
		synctest.Wait()
		if got := e.cancelResponses(); len(got) != 2 || got[0] != 200 || got[1] != 200 {
			t.Fatalf("CANCEL answered %v, want 200 twice", got)
		}
		for _, r := range e.peer.responses() {
			if r.CSeq().Method == sip.CANCEL && r.ToTag() != "u1" {
				t.Errorf("200 to CANCEL has To tag %q, want the INVITE response's u1 (§9.2)", r.ToTag())
			}
		}
		_, cancels, _, _ := e.server.snapshot()
		if len(cancels) != 1 {
			t.Fatalf("TU told of %d CANCELs, want 1", len(cancels))
		}
		reasons, err := cancels[0].Reasons()
		if err != nil || len(reasons) != 1 || reasons[0].Cause != 200 || reasons[0].Text != "Call completed elsewhere" {
			t.Errorf("TU read Reason %+v, %v", reasons, err)
		}
		// The TU ends the INVITE with 487; the INVITE transaction goes on.
		e.respond(tx, 487, "To: <sip:alice@127.0.0.1>;tag=u1")
		checkState(t, tx, Completed)
	})
}

// §9.2: a CANCEL that matches no transaction gets 481.
func TestCancelMatchingNothingGets481(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		e.peer.send(t, cancelFor(t, siptest.Request(t, sip.INVITE, "sip:alice@127.0.0.1")), e.tr, uacAddr)
		synctest.Wait()
		if got := e.cancelResponses(); len(got) != 1 || got[0] != 481 {
			t.Errorf("CANCEL answered %v, want 481", got)
		}
		if _, cancels, _, _ := e.server.snapshot(); len(cancels) != 0 {
			t.Errorf("TU told of %d CANCELs", len(cancels))
		}
	})
}

// §16.10: a proxy forwards a CANCEL it has no response context for, so
// with ForwardUnmatchedCancel the layer hands it up as a request, in a
// server transaction the TU answers, instead of answering 481.
func TestUnmatchedCancelGoesToTheProxy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP, func(c *Config) { c.ForwardUnmatchedCancel = true })
		cancel := cancelFor(t, siptest.Request(t, sip.INVITE, "sip:alice@127.0.0.1"))
		e.peer.send(t, cancel, e.tr, uacAddr)
		synctest.Wait()
		if got := e.cancelResponses(); len(got) != 0 {
			t.Errorf("layer answered the CANCEL itself: %v", got)
		}
		reqs, cancels, _, _ := e.server.snapshot()
		if len(reqs) != 1 || reqs[0].Request().Method() != sip.CANCEL || len(cancels) != 0 {
			t.Fatalf("TU got %d requests, %d cancels; want the CANCEL as one request", len(reqs), len(cancels))
		}
		// A retransmission is absorbed by the CANCEL's own transaction.
		e.peer.send(t, cancel, e.tr, uacAddr)
		synctest.Wait()
		if reqs, _, _, _ := e.server.snapshot(); len(reqs) != 1 {
			t.Errorf("retransmitted CANCEL reached the TU again (%d requests)", len(reqs))
		}
		if err := reqs[0].Respond(siptest.Response(t, reqs[0].Request(), 200)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := e.cancelResponses(); len(got) != 1 || got[0] != 200 {
			t.Errorf("CANCEL answered %v, want the TU's 200", got)
		}
	})
}

// The TU can tell where a CANCEL came from, to decide whether to trust
// its Reason.
func TestCancelSource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		inv := e.invite()
		tx := e.serverTx(0)
		if got := tx.CancelSource(); got.Remote.IsValid() {
			t.Fatalf("CancelSource before any CANCEL = %v", got)
		}
		e.peer.send(t, cancelFor(t, inv), e.tr, uacAddr)
		synctest.Wait()
		if got := tx.CancelSource(); got.Remote.String() != uasAddr || got.Transport != e.tr {
			t.Errorf("CancelSource = %+v, want %s %s", got, e.tr, uasAddr)
		}
	})
}

// SetValue keeps the TU's value with the transaction.
func TestServerTxValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		e.invite()
		tx := e.serverTx(0)
		if tx.Value() != nil {
			t.Fatal("a new transaction has a value")
		}
		tx.SetValue(42)
		if v, _ := tx.Value().(int); v != 42 {
			t.Errorf("Value() = %v, want 42", tx.Value())
		}
	})
}

// §9.2: a CANCEL for an INVITE that already has its final response gets
// 200 and changes nothing.
func TestCancelAfterFinalChangesNothing(t *testing.T) {
	for _, code := range []int{200, 486} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, transport.UDP)
				inv := e.invite()
				tx := e.serverTx(0)
				e.respond(tx, code, "To: <sip:alice@127.0.0.1>;tag=u1")
				before := tx.State()
				e.peer.send(t, cancelFor(t, inv), e.tr, uacAddr)
				synctest.Wait()
				if got := e.cancelResponses(); len(got) != 1 || got[0] != 200 {
					t.Errorf("CANCEL answered %v, want 200", got)
				}
				if _, cancels, _, _ := e.server.snapshot(); len(cancels) != 0 {
					t.Errorf("TU told of a CANCEL after the final response")
				}
				checkState(t, tx, before)
			})
		})
	}
}

// §17.2.3: a request whose branch lacks the magic cookie (RFC 2543) is
// matched by Request-URI, From tag, Call-ID, CSeq and top Via; its ACK
// by the To tag of the response the transaction sent.
func TestRFC2543FallbackMatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		inv := e.invite("Via: SIP/2.0/UDP 127.0.0.2:5060")
		e.peer.send(t, inv, e.tr, uacAddr) // a retransmission
		synctest.Wait()
		if reqs, _, _, _ := e.server.snapshot(); len(reqs) != 1 {
			t.Fatalf("the TU got %d INVITEs, want 1 (the copy is a retransmission)", len(reqs))
		}
		// Another INVITE differing only in CSeq is a new transaction.
		other := siptest.Request(t, sip.INVITE, "sip:alice@127.0.0.1", "Via: SIP/2.0/UDP 127.0.0.2:5060",
			"Call-ID: "+inv.CallID(), "From: "+must(inv.Get("From")), "CSeq: 2 INVITE")
		e.peer.send(t, other, e.tr, uacAddr)
		synctest.Wait()
		if reqs, _, _, _ := e.server.snapshot(); len(reqs) != 2 {
			t.Fatalf("the TU got %d INVITEs, want 2", len(reqs))
		}
		tx := e.serverTx(0)
		e.respond(tx, 486, "To: <sip:alice@127.0.0.1>;tag=u1")

		// An ACK with another To tag does not match: it goes to the TU.
		ack := ackFor(t, inv, "other")
		e.peer.send(t, ack, e.tr, uacAddr)
		synctest.Wait()
		checkState(t, tx, Completed)
		if _, _, acks, _ := e.server.snapshot(); len(acks) != 1 {
			t.Errorf("an ACK with a foreign To tag did not go to the TU")
		}
		e.peer.send(t, ackFor(t, inv, "u1"), e.tr, uacAddr)
		synctest.Wait()
		checkState(t, tx, Confirmed)
		if _, _, acks, _ := e.server.snapshot(); len(acks) != 1 {
			t.Errorf("the matching ACK reached the TU")
		}
		// And a CANCEL matches the same way.
		e.peer.send(t, cancelFor(t, other), e.tr, uacAddr)
		synctest.Wait()
		if got := e.cancelResponses(); len(got) != 1 || got[0] != 200 {
			t.Errorf("RFC 2543 CANCEL answered %v, want 200", got)
		}
	})
}

// RFC 3261 §9.1: NewCancel copies the INVITE's Request-URI, To (no tag
// added), From, Call-ID, CSeq number, top Via alone and Route set, and
// adds the Reason.
func TestNewCancel(t *testing.T) {
	inv := siptest.Request(t, sip.INVITE, "sip:bob@127.0.0.2;user=phone",
		"Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKc1", "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKold",
		"Route: <sip:p1;lr>", "Route: <sip:p2;lr>", "Require: 100rel")
	c, err := NewCancel(inv, `SIP;cause=200;text="Call completed elsewhere"`)
	if err != nil {
		t.Fatal(err)
	}
	top, _ := inv.TopVia()
	invTo, _ := inv.Get("To")
	cTo, _ := c.Get("To")
	vias := c.Vias()
	if c.StartLine() != "CANCEL sip:bob@127.0.0.2;user=phone SIP/2.0" || cTo != invTo || len(vias) != 1 ||
		vias[0].String() != top.String() || c.CSeq() != (sip.CSeq{Seq: inv.CSeq().Seq, Method: sip.CANCEL}) ||
		c.CallID() != inv.CallID() || c.FromTag() != inv.FromTag() {
		t.Errorf("CANCEL:\n%s", c.String())
	}
	if r := slices.Collect(c.Values("Route")); !slices.Equal(r, []string{"<sip:p1;lr>", "<sip:p2;lr>"}) {
		t.Errorf("Routes %q", r)
	}
	if _, ok := c.Get("Require"); ok {
		t.Error("Require copied into the CANCEL")
	}
	if r, _ := c.Get("Reason"); r != `SIP;cause=200;text="Call completed elsewhere"` || c.ContentLength() != 0 {
		t.Errorf("Reason %q, Content-Length %d", r, c.ContentLength())
	}
}

// §9.2: the 200 to a CANCEL that comes before any tagged response (only
// the automatic 100 went out) carries the To tag the TU said it will
// put on its responses, the one its 487 then has.
func TestCancelBeforeTaggedResponseGetsTUTag(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		inv := e.invite()
		e.at(300 * time.Millisecond) // the 100 Trying has gone out
		e.serverTx(0).SetToTag("uas7")
		e.peer.send(t, cancelFor(t, inv), e.tr, uacAddr)
		synctest.Wait()
		var tags []string
		for _, r := range e.peer.responses() {
			if r.CSeq().Method == sip.CANCEL {
				tags = append(tags, r.ToTag())
			}
		}
		if len(tags) != 1 || tags[0] != "uas7" {
			t.Errorf("200 to CANCEL has To tags %q, want the TU's uas7", tags)
		}
	})
}
