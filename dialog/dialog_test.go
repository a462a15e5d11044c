package dialog

import (
	"slices"
	"testing"

	"github.com/sipkit/sipkit/sip"
)

func parseReq(t *testing.T, s string) *sip.Request {
	t.Helper()
	m, err := sip.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*sip.Request)
}

func parseResp(t *testing.T, s string) *sip.Response {
	t.Helper()
	m, err := sip.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*sip.Response)
}

const invite = "INVITE sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n" +
	"Max-Forwards: 70\r\nFrom: Alice <sip:alice@192.0.2.1>;tag=a1\r\nTo: <sip:bob@192.0.2.2>\r\n" +
	"Call-ID: c1\r\nCSeq: 7 INVITE\r\nContact: <sip:alice@192.0.2.1>\r\nContent-Length: 0\r\n\r\n"

func ringing(tag string, rr string) string {
	return "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n" + rr +
		"From: Alice <sip:alice@192.0.2.1>;tag=a1\r\nTo: <sip:bob@192.0.2.2>;tag=" + tag + "\r\n" +
		"Call-ID: c1\r\nCSeq: 7 INVITE\r\nContact: <sip:bob@192.0.2.9>\r\nContent-Length: 0\r\n\r\n"
}

// RFC 3261 §12.1.2: the UAC dialog takes the To tag, the route set from
// Record-Route reversed, and the Contact as remote target; the table
// keeps finding it by the ID it had before, and forks get their own.
func TestUACDialogAndTable(t *testing.T) {
	tab := NewTable()
	d := NewUAC(parseReq(t, invite))
	tab.Add(d)
	calling := d.ID()
	if calling != (ID{CallID: "c1", LocalTag: "a1"}) || d.State() != Calling {
		t.Fatalf("new UAC dialog %v %v", calling, d.State())
	}
	d.Update(parseResp(t, ringing("b1", "Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n")))
	tab.Rekey(d)
	if d.State() != Early || d.ID().RemoteTag != "b1" {
		t.Errorf("after 180: %v %v", d.State(), d.ID())
	}
	if got := d.Routes(); !slices.Equal(got, []string{"<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"}) {
		t.Errorf("route set %q, want Record-Route reversed", got)
	}
	fork := d.Fork()
	tab.Add(fork)
	fork.Update(parseResp(t, ringing("b2", "")))
	tab.Rekey(fork)
	for _, id := range []ID{calling, d.ID()} {
		if got, ok := tab.Get(id); !ok || got != d {
			t.Errorf("Get(%v) = %v, %v; want the first dialog", id, got, ok)
		}
	}
	if got, ok := tab.Get(fork.ID()); !ok || got != fork {
		t.Errorf("fork not found by %v", fork.ID())
	}
	if n := len(tab.ByCallID("c1")); n != 2 {
		t.Errorf("ByCallID: %d dialogs, want 2", n)
	}
	tab.Remove(d)
	tab.Remove(fork)
	if _, ok := tab.Get(calling); ok || tab.Len() != 0 || len(tab.ByCallID("c1")) != 0 {
		t.Errorf("table not empty after Remove: %d", tab.Len())
	}
}

// §12.2.1.1: in-dialog requests go to the remote target through the
// route set, with the next CSeq; a strict router (no lr) takes the
// Request-URI and the remote target goes last.
func TestNewRequestRouting(t *testing.T) {
	for _, tc := range []struct {
		rr, ruri string
		routes   []string
	}{
		{"", "sip:bob@192.0.2.9", nil},
		{"Record-Route: <sip:p1.example.com;lr>\r\n", "sip:bob@192.0.2.9", []string{"<sip:p1.example.com;lr>"}},
		{"Record-Route: <sip:p1.example.com>\r\n", "sip:p1.example.com", []string{"<sip:bob@192.0.2.9>"}},
	} {
		d := NewUAC(parseReq(t, invite))
		resp := parseResp(t, ringing("b1", tc.rr))
		d.Update(resp)
		bye := d.NewRequest(sip.BYE, "")
		if got := bye.RequestURI().String(); got != tc.ruri {
			t.Errorf("%q: Request-URI %s, want %s", tc.rr, got, tc.ruri)
		}
		if got := slices.Collect(bye.Values("Route")); !slices.Equal(got, tc.routes) {
			t.Errorf("%q: Route %q, want %q", tc.rr, got, tc.routes)
		}
		if bye.CSeq().Seq != 8 || bye.FromTag() != "a1" || bye.ToTag() != "b1" || bye.CallID() != "c1" {
			t.Errorf("BYE %s", bye.String())
		}
		if ack := d.NewACK(7); ack.CSeq() != (sip.CSeq{Seq: 7, Method: sip.ACK}) {
			t.Errorf("ACK CSeq %v", ack.CSeq())
		}
	}
}

// §12.1.1: the UAS dialog takes the route set in order and the
// caller's Contact; §12.2.2: a lower CSeq is refused.
func TestUASDialog(t *testing.T) {
	inv := parseReq(t, "INVITE sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"+
		"Record-Route: <sip:p1.example.com;lr>\r\nRecord-Route: <sip:p2.example.com;lr>\r\n"+
		"From: <sip:alice@192.0.2.1>;tag=a1\r\nTo: <sip:bob@192.0.2.2>\r\nCall-ID: c2\r\nCSeq: 3 INVITE\r\n"+
		"Contact: <sip:alice@192.0.2.1:5070>\r\nContent-Length: 0\r\n\r\n")
	d := NewUAS(inv, "b9")
	if d.ID() != (ID{CallID: "c2", LocalTag: "b9", RemoteTag: "a1"}) || d.State() != Early {
		t.Errorf("UAS dialog %v %v", d.ID(), d.State())
	}
	if got := d.Routes(); !slices.Equal(got, []string{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"}) {
		t.Errorf("route set %q", got)
	}
	if d.RemoteTarget().String() != "sip:alice@192.0.2.1:5070" {
		t.Errorf("remote target %s", d.RemoteTarget())
	}
	if !d.ReceiveCSeq(4) || d.ReceiveCSeq(2) {
		t.Errorf("CSeq ordering not enforced")
	}
	bye := d.NewRequest(sip.BYE, "")
	if to, _ := bye.Get("To"); to != "<sip:alice@192.0.2.1>;tag=a1" {
		t.Errorf("UAS BYE To %q", to)
	}
}
