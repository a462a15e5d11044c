package siptest_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipkit/sipkit/siptest"
)

// A test of a UAC's CANCEL: SIPp rings, the UAC under test cancels, and
// uas_cancel_check.xml judges the CANCEL by RFC 3261 §9.1.
func ExampleSIPp() {
	var t *testing.T // in a test, the test's own t

	uas := siptest.SIPp{Scenario: "uas_cancel_check.xml"}.Start(t)
	// Here the UAC under test calls sip:bob@<uas.Addr> and cancels once
	// it rings, e.g. sipkit call sip:bob@127.0.0.1:PORT --cancel-after 200ms.
	if res := uas.Wait(); res.ExitCode != 0 || res.Successful != 1 {
		t.Errorf("SIPp refused the CANCEL: %v; see %s", res, res.ErrorLog)
	}
}

// SIPp against SIPp: the built-in uac calls uas_answer.xml (INVITE, 100,
// 180, 200, ACK, BYE, 200), so the scenario and its ACK and BYE checks
// (RFC 3261 §12.2.1.1, §13.2.2.4) are known good, over UDP and over TCP.
func TestSIPpBuiltinUACAgainstUASAnswer(t *testing.T) {
	for _, tr := range []string{"u1", "t1"} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			uas := siptest.SIPp{Scenario: "uas_answer.xml", Transport: tr, Timeout: 10 * time.Second}.Start(t)
			uac := siptest.SIPp{Scenario: "uac", Remote: uas.Addr.String(), Transport: tr, Timeout: 10 * time.Second}.Start(t)
			wantAllSuccessful(t, "uac", uac.Wait(), 1)
			wantAllSuccessful(t, "uas_answer.xml", uas.Wait(), 1)
		})
	}
}

// Calls, Rate and Service reach SIPp, and the counters add up over
// several calls.
func TestSIPpCountsEveryCall(t *testing.T) {
	t.Parallel()
	uas := siptest.SIPp{Scenario: "uas_answer.xml", Calls: 5, Timeout: 10 * time.Second}.Start(t)
	uac := siptest.SIPp{Scenario: "uac", Remote: uas.Addr.String(), Calls: 5, Rate: 50, Service: "bob", Timeout: 10 * time.Second}.Start(t)
	wantAllSuccessful(t, "uac", uac.Wait(), 5)
	res := wantAllSuccessful(t, "uas_answer.xml", uas.Wait(), 5)
	msgs, err := os.ReadFile(res.MessageLog)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(msgs), "INVITE sip:bob@"+uas.Addr.String()+" SIP/2.0"); n != 5 {
		t.Errorf("message log has %d INVITEs to sip:bob@%s, want 5", n, uas.Addr)
	}
}

// SIPp against SIPp: uac_cancel.xml builds its CANCEL per RFC 3261 §9.1
// and uas_cancel_check.xml accepts it.
func TestSIPpUACCancelAgainstUASCancelCheck(t *testing.T) {
	t.Parallel()
	uas := siptest.SIPp{Scenario: "uas_cancel_check.xml", Timeout: 10 * time.Second}.Start(t)
	uac := siptest.SIPp{Scenario: "uac_cancel.xml", Remote: uas.Addr.String(), Timeout: 10 * time.Second}.Start(t)
	wantAllSuccessful(t, "uac_cancel.xml", uac.Wait(), 1)
	wantAllSuccessful(t, "uas_cancel_check.xml", uas.Wait(), 1)
}

// A failed call is reported with its reason: SIPp's built-in uac expects
// a 200 and gets a 486 (which it ACKs as RFC 3261 §17.1.1.3 says, so
// uas_reject_486.xml passes).
func TestSIPpReportsFailedCall(t *testing.T) {
	t.Parallel()
	uas := siptest.SIPp{Scenario: "uas_reject_486.xml", Timeout: 10 * time.Second}.Start(t)
	uac := siptest.SIPp{Scenario: "uac", Remote: uas.Addr.String(), Timeout: 10 * time.Second}.Start(t)
	res := uac.Wait()
	if res.ExitCode != 1 || res.Successful != 0 || res.Failed != 1 || res.Counters["FailedUnexpectedMessage"] != 1 {
		t.Errorf("uac against uas_reject_486.xml: %v, want exit status 1, 0 successful, 1 failed (FailedUnexpectedMessage 1)", res)
	}
	if res2 := uac.Wait(); res2.String() != res.String() {
		t.Errorf("second Wait: %v, first: %v", res2, res)
	}
	wantAllSuccessful(t, "uas_reject_486.xml", uas.Wait(), 1)
}

// Timeout bounds a run that never ends by itself: a UAS nobody calls
// gives up after 1 s with exit status 255.
func TestSIPpTimeout(t *testing.T) {
	t.Parallel()
	start := time.Now()
	res := siptest.SIPp{Scenario: "uas", Timeout: time.Second}.Start(t).Wait()
	if res.ExitCode != 255 || res.Successful != 0 || res.Failed != 0 {
		t.Errorf("idle UAS with Timeout 1s: %v, want exit status 255, no calls", res)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("idle UAS with Timeout 1s ran %v", d)
	}
}

// Start fails the test, saying why, when SIPp is missing or the
// configuration is wrong.
func TestSIPpStartFailsClearly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sipp    siptest.SIPp
		noSIPp  bool
		wantMsg string
	}{
		{"SIPp not installed", siptest.SIPp{Scenario: "uas"}, true, "sip-tester"},
		{"no scenario", siptest.SIPp{}, false, "Scenario is empty"},
		{"unknown scenario", siptest.SIPp{Scenario: "nosuch.xml"}, false, "uas_cancel_check.xml"},
		{"remote not loopback", siptest.SIPp{Scenario: "uac", Remote: "192.0.2.1:5060"}, false, "loopback"},
		{"remote without port", siptest.SIPp{Scenario: "uac", Remote: "127.0.0.1"}, false, "loopback"},
		{"unknown transport", siptest.SIPp{Scenario: "uas", Transport: "l1"}, false, "u1, un, t1 or tn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.noSIPp {
				t.Setenv("PATH", t.TempDir())
			}
			got := fatalOf(t, func(t testing.TB) { tc.sipp.Start(t) })
			if !strings.Contains(got, tc.wantMsg) {
				t.Errorf("Start failed with %q, want it to mention %q", got, tc.wantMsg)
			}
		})
	}
}

// fatalOf runs f with a testing.TB whose Fatal and Fatalf end f and are
// recorded, and returns what they said.
func fatalOf(t *testing.T, f func(testing.TB)) string {
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(rec)
	}()
	<-done
	if rec.msg == "" {
		t.Fatal("did not fail")
	}
	return rec.msg
}

type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatal(args ...any) {
	r.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// The shipped scenarios are there to be named from any package.
func TestShippedSIPpScenarios(t *testing.T) {
	got := siptest.ShippedSIPpScenarios()
	for _, name := range []string{"uac_cancel.xml", "uas_answer.xml", "uas_cancel_check.xml", "uas_cancel_check_100only.xml", "uas_reject_486.xml",
		"proxy_register.xml", "proxy_uas_answer.xml", "proxy_uas_ring_check.xml", "proxy_uas_ring_reason_kept.xml",
		"proxy_uas_ring_no_reason.xml", "proxy_uac_call.xml", "proxy_uac_cancel.xml", "proxy_uac_expect.xml"} {
		if !slices.Contains(got, name) {
			t.Errorf("ShippedSIPpScenarios() = %q, missing %s", got, name)
		}
	}
}

// cancelCase is a CANCEL (and the ACK of the 487 after it) sent to a
// CANCEL-checking scenario, and what SIPp must make of it.
type cancelCase struct {
	name   string
	routes []string                              // Route header fields of the INVITE
	cancel func(c call, ringTag string) []string // nil: c.cancel()
	ack    func(c call, finalTo string) []string // nil: c.ack(finalTo)
	// For a message the scenario must refuse: the counter of the failed
	// check, and a word of what SIPp writes about it to the error log.
	failedBy string
	errorLog string
}

// cancelCases are CANCELs right and wrong by RFC 3261 §9.1, and ACKs of
// the 487 right and wrong by §17.1.1.3, for uas_cancel_check.xml and
// uas_cancel_check_100only.xml.
var cancelCases = []cancelCase{
	{name: "RFC 3261 §9.1 CANCEL"},
	{name: "RFC 3261 §9.1 CANCEL with Routes", routes: []string{"<sip:127.0.0.1:5998;lr>", "<sip:127.0.0.1:5999;lr>"}},
	{
		name: "To with an empty tag",
		cancel: func(c call, _ string) []string {
			return set(c.cancel(), "To", "To: "+c.to+";tag=")
		},
		failedBy: "FailedRegexpShouldntMatch", errorLog: ";tag='",
	},
	{
		name: "To with the 180's tag", // an invented one after 100 only
		cancel: func(c call, ringTag string) []string {
			if ringTag == "" {
				ringTag = "invented"
			}
			return set(c.cancel(), "To", "To: "+c.to+";tag="+ringTag)
		},
		failedBy: "FailedRegexpShouldntMatch", errorLog: ";tag=",
	},
	{
		name: "To re-serialized without display name",
		cancel: func(c call, _ string) []string {
			return set(c.cancel(), "To", "To: "+c.to[strings.Index(c.to, "<"):])
		},
		failedBy: "FailedStrcmpDoesntMatch", errorLog: "cancel_to",
	},
	{
		name: "new branch",
		cancel: func(c call, _ string) []string {
			return set(c.cancel(), "Via", "Via: "+strings.Replace(c.via, c.branch, c.branch+"-cancel", 1))
		},
		failedBy: "FailedStrcmpDoesntMatch", errorLog: "cancel_branch",
	},
	{
		name: "same branch, other sent-by",
		cancel: func(c call, _ string) []string {
			return set(c.cancel(), "Via", "Via: SIP/2.0/UDP 127.0.0.1:1;branch="+c.branch+";rport")
		},
		failedBy: "FailedStrcmpDoesntMatch", errorLog: "cancel_via",
	},
	{
		name: "two Via header fields",
		cancel: func(c call, _ string) []string {
			return insert(c.cancel(), "Via: SIP/2.0/UDP 127.0.0.1:2;branch=z9hG4bK-second")
		},
		failedBy: "FailedRegexpShouldntMatch", errorLog: "z9hG4bK-second",
	},
	{
		name: "two Via values",
		cancel: func(c call, _ string) []string {
			return set(c.cancel(), "Via", "Via: "+c.via+", SIP/2.0/UDP 127.0.0.1:2;branch=z9hG4bK-second")
		},
		failedBy: "FailedRegexpShouldntMatch", errorLog: "z9hG4bK-second",
	},
	{
		name: "new CSeq number",
		cancel: func(c call, _ string) []string {
			return set(c.cancel(), "CSeq", "CSeq: "+strconv.Itoa(c.cseq+1)+" CANCEL")
		},
		failedBy: "FailedStrcmpDoesntMatch", errorLog: "cancel_cseq",
	},
	{
		name: "CSeq method INVITE",
		cancel: func(c call, _ string) []string {
			return set(c.cancel(), "CSeq", "CSeq: "+strconv.Itoa(c.cseq)+" INVITE")
		},
		failedBy: "FailedRegexpDoesntMatch", errorLog: "CANCEL",
	},
	{
		name: "other Request-URI",
		cancel: func(c call, _ string) []string {
			l := c.cancel()
			l[0] = "CANCEL sip:carol@127.0.0.1 SIP/2.0"
			return l
		},
		failedBy: "FailedStrcmpDoesntMatch", errorLog: "cancel_ruri",
	},
	{
		name: "other From tag",
		cancel: func(c call, _ string) []string {
			return set(c.cancel(), "From", "From: "+c.from+"x")
		},
		failedBy: "FailedStrcmpDoesntMatch", errorLog: "cancel_from",
	},
	{
		name:   "Route dropped",
		routes: []string{"<sip:127.0.0.1:5999;lr>"},
		cancel: func(c call, _ string) []string {
			return set(c.cancel(), "Route", "")
		},
		failedBy: "FailedStrcmpDoesntMatch", errorLog: "cancel_routes",
	},
	{
		name:   "second Route dropped",
		routes: []string{"<sip:127.0.0.1:5998;lr>", "<sip:127.0.0.1:5999;lr>"},
		cancel: func(c call, _ string) []string {
			return set(c.cancel(), "Route: <sip:127.0.0.1:5999;lr>", "")
		},
		failedBy: "FailedStrcmpDoesntMatch", errorLog: "cancel_routes",
	},
	{
		name: "Route added",
		cancel: func(c call, _ string) []string {
			return insert(c.cancel(), "Route: <sip:127.0.0.1:5999;lr>")
		},
		failedBy: "FailedStrcmpDoesntMatch", errorLog: "cancel_routes",
	},
	{
		name:   "empty To tag and Route dropped",
		routes: []string{"<sip:127.0.0.1:5999;lr>"},
		cancel: func(c call, _ string) []string {
			return set(set(c.cancel(), "Route", ""), "To", "To: "+c.to+";tag=")
		},
		// one failed call, counted under the last failed check; the
		// error log has both
		failedBy: "FailedStrcmpDoesntMatch", errorLog: ";tag='",
	},
	{
		name: "Require",
		cancel: func(c call, _ string) []string {
			return insert(c.cancel(), "Require: 100rel")
		},
		failedBy: "FailedRegexpShouldntMatch", errorLog: "100rel",
	},
	{
		name: "Proxy-Require",
		cancel: func(c call, _ string) []string {
			return insert(c.cancel(), "Proxy-Require: foo")
		},
		failedBy: "FailedRegexpShouldntMatch", errorLog: "foo",
	},
	{
		name: "body",
		cancel: func(c call, _ string) []string {
			return append(set(c.cancel(), "Content-Length", "Content-Length: 1"), "", "x")
		},
		failedBy: "FailedRegexpDoesntMatch", errorLog: "' 1'",
	},
	{
		name: "ACK of the 487 with a new branch",
		ack: func(c call, finalTo string) []string {
			return set(c.ack(finalTo), "Via", "Via: "+strings.Replace(c.via, c.branch, c.branch+"-ack", 1))
		},
		failedBy: "FailedStrcmpDoesntMatch", errorLog: "ack_branch",
	},
	{
		name: "ACK of the 487 without its To tag",
		ack: func(c call, _ string) []string {
			return c.ack(c.to)
		},
		failedBy: "FailedStrcmpDoesntMatch", errorLog: "ack_to",
	},
}

// uas_cancel_check.xml passes a CANCEL sent after 180 Ringing exactly as
// RFC 3261 §9.1 says, and fails every CANCEL that differs: a To with a tag
// (even an empty one) or otherwise not byte-equal, another branch or Via,
// CSeq, Request-URI, From or Route, a Require, a body; and an ACK of the
// 487 without the INVITE's branch or the 487's To tag (§17.1.1.3).
func TestUASCancelCheckScenario(t *testing.T) {
	for _, tc := range cancelCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runCancelCase(t, "uas_cancel_check.xml", true, tc)
		})
	}
}

// uas_cancel_check_100only.xml makes the same checks when the CANCEL
// follows a 100 Trying alone, which RFC 3261 §9.1 allows (a provisional
// response has arrived).
func TestUASCancelCheck100OnlyScenario(t *testing.T) {
	for _, tc := range cancelCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runCancelCase(t, "uas_cancel_check_100only.xml", false, tc)
		})
	}
}

func runCancelCase(t *testing.T, scenario string, rings bool, tc cancelCase) {
	sipp := siptest.SIPp{Scenario: scenario, Timeout: 10 * time.Second}.Start(t)
	uac := newRawUAC(t, sipp.Addr)
	c := newCall(uac, sipp.Addr)
	c.routes = tc.routes

	uac.send(c.invite())
	uac.expect(100, "INVITE")
	var ringTag string
	if rings {
		ringing := uac.expect(180, "INVITE")
		if ringTag = toTag(ringing.headers["to"]); ringTag == "" {
			t.Fatalf("180 without a To tag:\n%s", ringing.text)
		}
	}

	cancel := c.cancel()
	if tc.cancel != nil {
		cancel = tc.cancel(c, ringTag)
	}
	uac.send(cancel)

	// The scenario answers a wrong CANCEL too, so the call always ends
	// with 200 (to the CANCEL; its CSeq is the CANCEL's, right or wrong),
	// 487 (INVITE) and the ACK.
	method := "CANCEL"
	if tc.failedBy != "" {
		method = ""
	}
	ok := uac.expect(200, method)
	final := uac.expect(487, "INVITE")
	finalTo := final.headers["to"]
	if tc.failedBy == "" {
		// RFC 3261 §9.2: the 487 ends the INVITE transaction, and the
		// 200 to the CANCEL has the same To tag.
		if got := final.headers["via"]; got != c.via {
			t.Errorf("487 Via = %q, want the INVITE's %q", got, c.via)
		}
		if got, want := finalTo, c.to+";tag="; !strings.HasPrefix(got, want) || toTag(got) == "" {
			t.Errorf("487 To = %q, want %q and a tag", got, want)
		}
		if rings && toTag(finalTo) != ringTag {
			t.Errorf("487 To tag %q, want the 180's %q", toTag(finalTo), ringTag)
		}
		if toTag(ok.headers["to"]) != toTag(finalTo) {
			t.Errorf("200 (CANCEL) To %q and 487 To %q have different tags", ok.headers["to"], finalTo)
		}
	}
	ack := c.ack(finalTo)
	if tc.ack != nil {
		ack = tc.ack(c, finalTo)
	}
	uac.send(ack)

	res := sipp.Wait()
	if tc.failedBy == "" {
		wantAllSuccessful(t, scenario, res, 1)
		return
	}
	wantFailedBy(t, scenario, res, tc.failedBy, tc.errorLog)
}

// SIPp matches messages to calls by Call-ID, so a CANCEL with another
// Call-ID never reaches the call: the scenario waits for its CANCEL until
// -recv_timeout (passed in Args) and fails.
func TestUASCancelCheckCANCELWithOtherCallIDNeverArrives(t *testing.T) {
	t.Parallel()
	sipp := siptest.SIPp{Scenario: "uas_cancel_check.xml", Args: []string{"-recv_timeout", "300"}, Timeout: 10 * time.Second}.Start(t)
	uac := newRawUAC(t, sipp.Addr)
	c := newCall(uac, sipp.Addr)
	uac.send(c.invite())
	uac.expect(100, "INVITE")
	uac.expect(180, "INVITE")
	uac.send(set(c.cancel(), "Call-ID", "Call-ID: other-"+c.callID))
	res := sipp.Wait()
	if res.ExitCode != 1 || res.Successful != 0 || res.Failed != 1 || res.Counters["FailedTimeoutOnRecv"] != 1 {
		t.Errorf("%v, want exit status 1, 0 successful, 1 failed (FailedTimeoutOnRecv 1)", res)
	}
}

// uas_reject_486.xml answers 486 and accepts the ACK of RFC 3261
// §17.1.1.3; an ACK with a new branch fails it.
func TestUASReject486Scenario(t *testing.T) {
	for _, tc := range []struct {
		name      string
		newBranch bool
	}{
		{"ACK with the INVITE's branch", false},
		{"ACK with a new branch", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sipp := siptest.SIPp{Scenario: "uas_reject_486.xml", Timeout: 10 * time.Second}.Start(t)
			uac := newRawUAC(t, sipp.Addr)
			c := newCall(uac, sipp.Addr)
			uac.send(c.invite())
			uac.expect(100, "INVITE")
			busy := uac.expect(486, "INVITE")
			if toTag(busy.headers["to"]) == "" {
				t.Errorf("486 without a To tag:\n%s", busy.text)
			}
			ack := c.ack(busy.headers["to"])
			if tc.newBranch {
				ack = set(ack, "Via", "Via: "+strings.Replace(c.via, c.branch, c.branch+"-ack", 1))
			}
			uac.send(ack)
			res := sipp.Wait()
			if tc.newBranch {
				wantFailedBy(t, "uas_reject_486.xml", res, "FailedStrcmpDoesntMatch", "ack_branch")
			} else {
				wantAllSuccessful(t, "uas_reject_486.xml", res, 1)
			}
		})
	}
}

// uas_answer.xml accepts a dialog kept as RFC 3261 says (ACK of the 2xx
// with the INVITE's CSeq number and a branch of its own, §13.2.2.4 and
// §17.1.1.3; ACK and BYE with the 200's To tag, §12.2.1.1; a BYE with a
// higher CSeq) and fails each deviation.
func TestUASAnswerScenario(t *testing.T) {
	for _, tc := range []struct {
		name               string
		ack, bye           func(c call, to string) []string
		failedBy, errorLog string
	}{
		{name: "ACK and BYE in the dialog"},
		{
			name: "ACK with the INVITE's branch",
			ack: func(c call, to string) []string {
				return c.request("ACK", to)
			},
			failedBy: "FailedStrcmpShouldntMatch", errorLog: "ack_branch",
		},
		{
			name: "ACK without the To tag",
			ack: func(c call, _ string) []string {
				return c.inDialog("ACK", c.to, c.cseq)
			},
			failedBy: "FailedStrcmpDoesntMatch", errorLog: "ack_to",
		},
		{
			name: "BYE with the INVITE's CSeq number",
			bye: func(c call, to string) []string {
				return c.inDialog("BYE", to, c.cseq)
			},
			failedBy: "FailedTestDoesntMatch", errorLog: "bye_cseq",
		},
		{
			name: "BYE with another From tag",
			bye: func(c call, to string) []string {
				return set(c.inDialog("BYE", to, c.cseq+1), "From", "From: "+c.from+"x")
			},
			failedBy: "FailedStrcmpDoesntMatch", errorLog: "bye_from",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sipp := siptest.SIPp{Scenario: "uas_answer.xml", Timeout: 10 * time.Second}.Start(t)
			uac := newRawUAC(t, sipp.Addr)
			c := newCall(uac, sipp.Addr)
			uac.send(c.invite())
			uac.expect(100, "INVITE")
			uac.expect(180, "INVITE")
			ok := uac.expect(200, "INVITE")
			to := ok.headers["to"]
			if toTag(to) == "" || !strings.Contains(ok.text, "\r\n\r\nv=0\r\n") {
				t.Errorf("200 without a To tag or an SDP body:\n%s", ok.text)
			}
			ack := c.inDialog("ACK", to, c.cseq)
			if tc.ack != nil {
				ack = tc.ack(c, to)
			}
			uac.send(ack)
			bye := c.inDialog("BYE", to, c.cseq+1)
			if tc.bye != nil {
				bye = tc.bye(c, to)
			}
			uac.send(bye)
			uac.expect(200, "BYE")
			res := sipp.Wait()
			if tc.failedBy == "" {
				wantAllSuccessful(t, "uas_answer.xml", res, 1)
			} else {
				wantFailedBy(t, "uas_answer.xml", res, tc.failedBy, tc.errorLog)
			}
		})
	}
}

func wantAllSuccessful(t *testing.T, scenario string, res siptest.SIPpResult, calls int) siptest.SIPpResult {
	t.Helper()
	if res.ExitCode != 0 || res.Successful != calls || res.Failed != 0 {
		t.Errorf("%s: %v, want exit status 0, %d successful, 0 failed", scenario, res, calls)
	}
	return res
}

// wantFailedBy checks that the one call of res failed by the check
// counted in counter, and that the error log mentions errorLog.
func wantFailedBy(t *testing.T, scenario string, res siptest.SIPpResult, counter, errorLog string) {
	t.Helper()
	if res.ExitCode != 1 || res.Successful != 0 || res.Failed != 1 || res.Counters[counter] != 1 {
		t.Errorf("%s: %v, want exit status 1, 0 successful, 1 failed (%s 1)", scenario, res, counter)
	}
	errs, err := os.ReadFile(res.ErrorLog)
	if err != nil {
		t.Fatalf("SIPp error log: %v", err)
	}
	if !strings.Contains(string(errs), errorLog) {
		t.Errorf("SIPp error log does not mention %q:\n%s", errorLog, errs)
	}
}

// call is one INVITE sent by rawUAC, with the values its CANCEL and ACK
// repeat.
type call struct {
	local                               netip.AddrPort
	ruri, via, branch, from, to, callID string
	cseq                                int
	routes                              []string
}

func newCall(uac *rawUAC, uas netip.AddrPort) call {
	local := uac.addr()
	n := strconv.Itoa(int(local.Port())) // unique among the sockets open now
	return call{
		local:  local,
		ruri:   "sip:bob@" + uas.String(),
		via:    "SIP/2.0/UDP " + local.String() + ";branch=z9hG4bK-raw-" + n + ";rport",
		branch: "z9hG4bK-raw-" + n,
		from:   `"Alice" <sip:alice@` + local.String() + ">;tag=a-" + n,
		to:     `"Bob" <sip:bob@` + uas.String() + ">",
		callID: "raw-" + n + "@127.0.0.1",
		cseq:   7,
	}
}

// request returns the lines of a request of the call: method with the
// INVITE's Request-URI, Via, From, Call-ID, CSeq number and Route, and
// the To given.
func (c call) request(method, to string, more ...string) []string {
	lines := []string{
		method + " " + c.ruri + " SIP/2.0",
		"Via: " + c.via,
		"Max-Forwards: 70",
		"From: " + c.from,
		"To: " + to,
		"Call-ID: " + c.callID,
		"CSeq: " + strconv.Itoa(c.cseq) + " " + method,
	}
	for _, r := range c.routes {
		lines = append(lines, "Route: "+r)
	}
	lines = append(lines, more...)
	return append(lines, "Content-Length: 0")
}

func (c call) invite() []string {
	return c.request("INVITE", c.to, "Contact: <sip:alice@"+c.local.String()+">")
}

// cancel is the CANCEL of RFC 3261 §9.1 for the INVITE.
func (c call) cancel() []string { return c.request("CANCEL", c.to) }

// ack is the ACK of a non-2xx final response whose To is to (RFC 3261
// §17.1.1.3).
func (c call) ack(to string) []string { return c.request("ACK", to) }

// inDialog returns a request in the dialog (ACK of a 2xx, BYE): a new
// branch, the To given (with the remote tag), CSeq cseq.
func (c call) inDialog(method, to string, cseq int) []string {
	lines := c.request(method, to)
	lines = set(lines, "Via", "Via: "+strings.Replace(c.via, c.branch, c.branch+"-"+strings.ToLower(method), 1))
	return set(lines, "CSeq", "CSeq: "+strconv.Itoa(cseq)+" "+method)
}

// set replaces the first line of lines that starts with prefix followed
// by ":" or is prefix ("Name" or "Name: value") with line, or removes it
// if line is empty. It panics if there is none: a test editing a header
// its message lacks is wrong.
func set(lines []string, prefix, line string) []string {
	for i, l := range lines {
		if strings.HasPrefix(l, prefix+":") || l == prefix {
			out := slices.Clone(lines[:i])
			if line != "" {
				out = append(out, line)
			}
			return append(out, lines[i+1:]...)
		}
	}
	panic("no " + prefix + " header in " + strings.Join(lines, " | "))
}

// insert adds header lines before the last one, Content-Length.
func insert(lines []string, add ...string) []string {
	return slices.Insert(slices.Clone(lines), len(lines)-1, add...)
}

// toTag returns the tag parameter of a To header field value.
func toTag(to string) string {
	_, tag, ok := strings.Cut(to, ";tag=")
	if !ok {
		return ""
	}
	tag, _, _ = strings.Cut(tag, ";")
	return tag
}

// rawUAC sends exactly the text it is given, from a UDP socket on
// 127.0.0.1, and reads responses: a UAC that can be wrong on purpose.
type rawUAC struct {
	t    *testing.T
	conn *net.UDPConn
	to   *net.UDPAddr
}

// response is a response received by rawUAC.
type response struct {
	code    int
	method  string            // of its CSeq
	headers map[string]string // by lower-case name, the first of each
	text    string
}

func newRawUAC(t *testing.T, to netip.AddrPort) *rawUAC {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawUAC{t: t, conn: conn, to: net.UDPAddrFromAddrPort(to)}
}

func (u *rawUAC) addr() netip.AddrPort { return u.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// send sends the message of lines: a start line, header lines, and
// optionally an empty line and the body.
func (u *rawUAC) send(lines []string) {
	u.t.Helper()
	msg := strings.Join(lines, "\r\n")
	if !slices.Contains(lines, "") {
		msg += "\r\n\r\n"
	}
	if _, err := u.conn.WriteToUDP([]byte(msg), u.to); err != nil {
		u.t.Fatalf("sending %s: %v", lines[0], err)
	}
}

// expect returns the next response, which must be code to method (to any
// method if method is empty) and come within 2 s.
func (u *rawUAC) expect(code int, method string) response {
	u.t.Helper()
	buf := make([]byte, 65535)
	u.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := u.conn.ReadFromUDP(buf)
	if err != nil {
		if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
			u.t.Fatalf("no %d to %s within 2s", code, method)
		}
		u.t.Fatalf("reading: %v", err)
	}
	r := parseResponse(string(buf[:n]))
	if r.code != code || (method != "" && r.method != method) {
		u.t.Fatalf("got %d to %s, want %d to %s:\n%s", r.code, r.method, code, method, r.text)
	}
	return r
}

func parseResponse(text string) response {
	r := response{headers: map[string]string{}, text: text}
	head, _, _ := strings.Cut(text, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	if f := strings.Fields(lines[0]); len(f) >= 2 && f[0] == "SIP/2.0" {
		r.code, _ = strconv.Atoi(f[1])
	}
	for _, l := range lines[1:] {
		name, value, _ := strings.Cut(l, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if _, dup := r.headers[name]; !dup {
			r.headers[name] = strings.TrimSpace(value)
		}
	}
	if cs := strings.Fields(r.headers["cseq"]); len(cs) == 2 {
		r.method = cs[1]
	}
	return r
}

// IP and Port choose where SIPp binds: a caller from another loopback
// address, and a UAS on the port a REGISTER run used before it.
func TestSIPpIPAndPort(t *testing.T) {
	first := siptest.SIPp{Scenario: "uas", IP: "127.0.0.2", Timeout: 10 * time.Second}.Start(t)
	if first.Addr.Addr() != netip.MustParseAddr("127.0.0.2") {
		t.Errorf("Addr %v, want on 127.0.0.2", first.Addr)
	}
	port := int(first.Addr.Port())
	uac := siptest.SIPp{Scenario: "uac", Remote: first.Addr.String(), IP: "127.0.0.3", Timeout: 10 * time.Second}.Start(t)
	if res := uac.Wait(); res.Successful != 1 {
		t.Fatalf("uac from 127.0.0.3: %v", res)
	}
	first.Wait()
	again := siptest.SIPp{Scenario: "uas", IP: "127.0.0.2", Port: port, Timeout: 10 * time.Second}.Start(t)
	if again.Addr.Port() != uint16(port) {
		t.Errorf("Addr %v, want port %d", again.Addr, port)
	}
	res := siptest.SIPp{Scenario: "uac", Remote: again.Addr.String(), Timeout: 10 * time.Second}.Start(t).Wait()
	if res.Successful != 1 {
		t.Errorf("uac to the reused port: %v", res)
	}
	again.Wait()
}
