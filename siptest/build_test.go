package siptest

import (
	"slices"
	"testing"

	"github.com/sipkit/sipkit/sip"
)

// RFC 3261 §8.1.1: a request has Via (with an RFC 3261 branch),
// Max-Forwards, From with a tag, To, Call-ID and CSeq; an INVITE also
// has Contact (§8.1.1.8).
func TestRequestDefaults(t *testing.T) {
	req := Request(t, "INVITE", "sip:bob@127.0.0.1:5070")
	if req.Method() != "INVITE" || req.RequestURI().String() != "sip:bob@127.0.0.1:5070" {
		t.Errorf("start line = %q", req.StartLine())
	}
	v, ok := req.TopVia()
	if !ok || !v.RFC3261Branch() {
		t.Errorf("top Via = %q, want an RFC 3261 branch", v.String())
	}
	if mf, ok := req.MaxForwards(); !ok || mf != 70 {
		t.Errorf("Max-Forwards = %d, %v", mf, ok)
	}
	if req.FromTag() == "" || req.ToTag() != "" || req.CallID() == "" {
		t.Errorf("From tag %q, To tag %q, Call-ID %q", req.FromTag(), req.ToTag(), req.CallID())
	}
	if to := req.To(); to.URI.String() != "sip:bob@127.0.0.1:5070" {
		t.Errorf("To = %q", to.String())
	}
	if cs := req.CSeq(); cs.Seq != 1 || cs.Method != "INVITE" {
		t.Errorf("CSeq = %v", cs)
	}
	if len(req.Contacts()) != 1 || req.ContentLength() != 0 {
		t.Errorf("Contacts %v, Content-Length %d", req.Contacts(), req.ContentLength())
	}
	if opts := Request(t, "OPTIONS", "sip:bob@127.0.0.1:5070"); opts.Has("Contact") {
		t.Error("OPTIONS has a default Contact")
	}

	other := Request(t, "INVITE", "sip:bob@127.0.0.1:5070")
	if other.Branch() == req.Branch() || other.CallID() == req.CallID() || other.FromTag() == req.FromTag() {
		t.Error("two requests share a branch, Call-ID or From tag")
	}
}

func TestRequestHeaderOverrides(t *testing.T) {
	req := Request(t, "INVITE", "sip:bob@127.0.0.1:5070",
		"v: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK-mine", // compact name replaces Via
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-second",
		"CSeq: 7 INVITE",
		"Contact:", // removes the default
		"Route: <sip:p1.example;lr>",
		"route: <sip:p2.example;lr>",
		"X-Test: yes",
	)
	if vias := req.Vias(); len(vias) != 2 || vias[0].Branch != "z9hG4bK-mine" || vias[1].Branch != "z9hG4bK-second" {
		t.Errorf("Vias = %v, want the two given, in order", vias)
	}
	if req.CSeq().Seq != 7 {
		t.Errorf("CSeq = %v, want 7 INVITE", req.CSeq())
	}
	if req.Has("Contact") {
		t.Error("Contact was not removed")
	}
	if routes, err := req.Routes(); err != nil || len(routes) != 2 {
		t.Errorf("Routes = %v, %v; want two", routes, err)
	}
	if v, _ := req.Get("X-Test"); v != "yes" {
		t.Errorf("X-Test = %q", v)
	}
	if _, ok := req.MaxForwards(); !ok {
		t.Error("an untouched default (Max-Forwards) is missing")
	}
}

// RFC 3261 §8.2.6.2: the response copies Via, From, To, Call-ID and
// CSeq; the To tag is the caller's to give.
func TestResponseCopiesRequestAndSetsHeaders(t *testing.T) {
	req := Request(t, "INVITE", "sip:bob@127.0.0.1:5070", "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-r")
	resp := Response(t, req, 180, "To: <sip:bob@127.0.0.1:5070>;tag=b1",
		"Record-Route: <sip:p1.example;lr>", "Record-Route: <sip:p2.example;lr>")
	if resp.StatusCode() != 180 || resp.Reason() != "Ringing" {
		t.Errorf("status line = %q", resp.StartLine())
	}
	if resp.Branch() != "z9hG4bK-r" || resp.CallID() != req.CallID() || resp.FromTag() != req.FromTag() || resp.CSeq() != req.CSeq() {
		t.Errorf("response does not match its request:\n%s", resp)
	}
	if resp.ToTag() != "b1" {
		t.Errorf("To tag = %q, want b1", resp.ToTag())
	}
	if rr, err := resp.RecordRoutes(); err != nil || len(rr) != 2 {
		t.Errorf("Record-Routes = %v, %v; want two", rr, err)
	}
	if m, err := sip.Parse([]byte(resp.String())); err != nil {
		t.Errorf("response does not parse: %v\n%s", err, resp)
	} else if got := slices.Collect(m.Values("Record-Route")); len(got) != 2 {
		t.Errorf("parsed Record-Route = %v", got)
	}
	if plain := Response(t, req, 100); plain.ToTag() != "" {
		t.Errorf("a response with no headers given has To tag %q", plain.ToTag())
	}
}
