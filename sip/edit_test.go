package sip

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
	if _, err := Parse([]byte(got)); err != nil {
		t.Errorf("%s does not parse: %v", name, err)
	}
}

// TestForwardEdits applies what a proxy does to a request (RFC 3261 §16.6:
// Request-URI rewrite, Max-Forwards decrement, Record-Route, Via) and
// checks the untouched headers keep their bytes.
func TestForwardEdits(t *testing.T) {
	m, err := Parse(readTorture(t, "wsinv"))
	if err != nil {
		t.Fatal(err)
	}
	orig := m.(*Request)
	r := Clone(orig)
	u, _ := ParseURI("sip:vivekg@192.0.2.200:5070")
	r.SetRequestURI(u)
	if n, err := r.DecrementMaxForwards(); err != nil || n != 67 {
		t.Fatalf("DecrementMaxForwards = %d, %v", n, err)
	}
	rr, _ := ParseURI("sip:192.0.2.100;lr")
	if err := r.PrependRecordRoute(NameAddr{URI: rr}); err != nil {
		t.Fatal(err)
	}
	if err := r.PrependVia(Via{Transport: "UDP", Host: "192.0.2.100", Port: 5060, Branch: "z9hG4bK-proxy-1"}); err != nil {
		t.Fatal(err)
	}
	eq(t, "top branch", r.Branch(), "z9hG4bK-proxy-1")
	eq(t, "via count", r.ViaCount(), 4)
	mf, _ := r.MaxForwards()
	eq(t, "Max-Forwards", mf, 67)
	golden(t, "forward_wsinv.sip", r.String())
	// The original is untouched by edits on the clone.
	eq(t, "original branch", orig.Branch(), "390skdjuw")
	eq(t, "original written", orig.String(), string(readTorture(t, "wsinv")))
	// Unknown headers keep their exact bytes, folding included.
	if !strings.Contains(r.String(), "NewFangledHeader:   newfangled value\r\n continued newfangled value\r\n") {
		t.Error("unknown folded header not kept byte-exact")
	}
}

// TestResponseBuilding builds a 180 and a 200 the way a UAS does (RFC 3261
// §8.2.6): Via, From, To, Call-ID, CSeq copied, a To tag added.
func TestResponseBuilding(t *testing.T) {
	m, err := Parse(crlf(basicInvite))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*Request)
	resp := NewResponse(req, 180, "")
	if err := resp.SetToTag("as83kd9bs"); err != nil {
		t.Fatal(err)
	}
	eq(t, "reason", resp.Reason(), "Ringing")
	eq(t, "To tag", resp.ToTag(), "as83kd9bs")
	eq(t, "To keeps display", resp.To().Display, "Bob")
	golden(t, "response_180.sip", resp.String())
	// A second SetToTag replaces, never duplicates, the tag.
	if err := resp.SetToTag("other"); err != nil {
		t.Fatal(err)
	}
	eq(t, "To tag replaced", resp.To().String(), "Bob <sip:bob@192.0.2.4>;tag=other")
	if err := resp.SetToTag("bad tag"); err == nil {
		t.Error("a tag with a space was accepted")
	}
}

// TestProxyResponseEdits removes the top Via of a response, even when it
// is the first value of a comma list (RFC 3261 §16.7 step 3).
func TestProxyResponseEdits(t *testing.T) {
	m, err := Parse(crlf(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.100;branch=z9hG4bKp1, SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKu1
Via: SIP/2.0/UDP 192.0.2.50;branch=z9hG4bKu0
To: <sip:b@192.0.2.4>;tag=x
From: <sip:a@192.0.2.1>;tag=y
Call-ID: c1
CSeq: 1 INVITE
Content-Length: 0

`))
	if err != nil {
		t.Fatal(err)
	}
	r := m.(*Response)
	top, ok := r.RemoveTopVia()
	eq(t, "removed", ok, true)
	eq(t, "removed branch", top.Branch, "z9hG4bKp1")
	eq(t, "new top branch", r.Branch(), "z9hG4bKu1")
	eq(t, "via count", r.ViaCount(), 2)
	r.RemoveTopVia()
	eq(t, "after second removal", r.Branch(), "z9hG4bKu0")
	golden(t, "response_via_removed.sip", r.String())
}

// TestEditValidation: edits that would make an unparsable message are
// refused and leave the message as it was.
func TestEditValidation(t *testing.T) {
	m, _ := Parse(crlf(basicInvite))
	r := m.(*Request)
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"bad Via", func() error { return r.PrependHeader("Via", "garbage") }},
		{"second Call-ID", func() error { return r.AppendHeader("Call-ID", "x") }},
		{"bad CSeq", func() error { return r.SetHeader("CSeq", "one INVITE") }},
		{"line break in value", func() error { return r.AppendHeader("X-A", "a\r\nVia: x") }},
		{"bad name", func() error { return r.AppendHeader("X A", "b") }},
	} {
		if err := tc.do(); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	eq(t, "unchanged", r.String(), string(crlf(basicInvite)))
}

// TestMaxForwardsZero: a proxy must not forward a request with
// Max-Forwards 0 (RFC 3261 §16.3 step 3).
func TestMaxForwardsZero(t *testing.T) {
	m, err := Parse(readTorture(t, "zeromf"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.(*Request).DecrementMaxForwards(); err != ErrMaxForwardsExceeded {
		t.Fatalf("err = %v", err)
	}
}

// TestMaxForwardsAdded: a request without Max-Forwards gets 70 - 1 when
// forwarded (RFC 3261 §16.6 step 3).
func TestMaxForwardsAdded(t *testing.T) {
	m, err := Parse(readTorture(t, "inv2543"))
	if err != nil {
		t.Fatal(err)
	}
	r := Clone(m.(*Request))
	n, err := r.DecrementMaxForwards()
	eq(t, "value", n, 69)
	eq(t, "err", err, nil)
	v, _ := r.Get("Max-Forwards")
	eq(t, "header", v, "69")
}

// TestBuildRequest builds a request from nothing and parses it back.
func TestBuildRequest(t *testing.T) {
	u, _ := ParseURI("sip:bob@192.0.2.4")
	r := NewRequest(OPTIONS, u)
	for _, h := range [][2]string{
		{"Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK77"},
		{"Max-Forwards", "70"},
		{"From", "<sip:alice@192.0.2.1>;tag=88"},
		{"To", "<sip:bob@192.0.2.4>"},
		{"Call-ID", "built-1"},
		{"CSeq", "1 OPTIONS"},
	} {
		if err := r.AppendHeader(h[0], h[1]); err != nil {
			t.Fatalf("%s: %v", h[0], err)
		}
	}
	if err := r.AddReason(ReasonCompletedElsewhere()); err != nil {
		t.Fatal(err)
	}
	if err := r.SetBody([]byte("v=0\r\n"), "application/sdp"); err != nil {
		t.Fatal(err)
	}
	golden(t, "built_options.sip", r.String())
	m, err := Parse([]byte(r.String()))
	if err != nil {
		t.Fatal(err)
	}
	reasons, err := m.(*Request).Reasons()
	if err != nil || len(reasons) != 1 || !reasons[0].CompletedElsewhere() {
		t.Errorf("Reasons = %v, %v", reasons, err)
	}
	eq(t, "body", string(m.Body()), "v=0\r\n")
}

func TestParamsSetDelete(t *testing.T) {
	tests := []struct {
		in          Params
		op          string // "set" or "del"
		name, value string
		want        Params
	}{
		// RFC 3581 §4: rport gets its value where it stands.
		{";rport;branch=z9hG4bK1", "set", "rport", "9988", ";rport=9988;branch=z9hG4bK1"},
		{";branch=z9hG4bK1", "set", "received", "192.0.2.1", ";branch=z9hG4bK1;received=192.0.2.1"},
		{" ; RPort ;branch=z9hG4bK1", "set", "rport", "5", ";rport=5;branch=z9hG4bK1"},
		{";lr", "set", "lr", "", ";lr"},
		{"", "set", "lr", "", ";lr"},
		{";received=1.2.3.4;branch=x;received=5.6.7.8", "del", "received", "", ";branch=x"},
		{";branch=x", "del", "received", "", ";branch=x"},
		{";a=\"q;x\";b", "del", "a", "", ";b"},
	}
	for _, tt := range tests {
		var got Params
		if tt.op == "set" {
			got = tt.in.Set(tt.name, tt.value)
		} else {
			got = tt.in.Delete(tt.name)
		}
		if got != tt.want {
			t.Errorf("%q.%s(%q, %q) = %q, want %q", tt.in, tt.op, tt.name, tt.value, got, tt.want)
		}
	}
}

func TestSetTopViaKeepsTheOthers(t *testing.T) {
	m, err := Parse([]byte("OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb\r\n" +
		"From: <sip:b@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*Request)
	v, _ := req.TopVia()
	v.Params = v.Params.Set("rport", "9988")
	if err := req.SetTopVia(v); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range req.Vias() {
		got = append(got, v.String())
	}
	want := []string{"SIP/2.0/UDP 10.1.1.1:4540;rport=9988;branch=z9hG4bKa", "SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb"}
	if !slices.Equal(got, want) {
		t.Errorf("Vias = %q, want %q", got, want)
	}
	if req.Branch() != "z9hG4bKa" {
		t.Errorf("Branch = %q", req.Branch())
	}
}

// No edit can smuggle a header in through a line break, whatever the
// header (a known one the parser does not check eagerly included).
func TestEditRefusesLineBreaks(t *testing.T) {
	for _, name := range []string{"Subject", "Authorization", "X-Custom", "Via", "Contact"} {
		m := NewRequest("OPTIONS", URI{Scheme: "sip", Host: "127.0.0.1"})
		if err := m.AppendHeader(name, "a\r\nX-Injected: 1"); !errors.Is(err, ErrInvalidHeaderEdit) {
			t.Errorf("AppendHeader(%s) with CRLF: %v, want ErrInvalidHeaderEdit", name, err)
		}
		if err := m.SetHeader(name, "a\nb"); !errors.Is(err, ErrInvalidHeaderEdit) {
			t.Errorf("SetHeader(%s) with LF: %v", name, err)
		}
	}
}

func TestNewIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tag, branch, id := NewTag(), NewBranch(), NewCallID("127.0.0.1")
		if len(tag) != 16 || !strings.HasPrefix(branch, MagicCookie) || len(branch) != len(MagicCookie)+20 ||
			!strings.HasSuffix(id, "@127.0.0.1") || seen[tag] || seen[branch] || seen[id] {
			t.Fatalf("tag %q branch %q call-id %q (or a repeat)", tag, branch, id)
		}
		seen[tag], seen[branch], seen[id] = true, true, true
	}
}
