package proxy

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transaction"
	"github.com/sipkit/sipkit/transport"
)

// checkCancelOf checks a CANCEL against the INVITE as the proxy sent it
// on that branch (RFC 3261 §9.1): Request-URI, To without a tag, the top
// Via (same branch), the CSeq number, the Route set, and the Reason.
func checkCancelOf(t *testing.T, cancel, inv *sip.Request, reason string) {
	t.Helper()
	if got, want := cancel.RequestURI().String(), inv.RequestURI().String(); got != want {
		t.Errorf("CANCEL Request-URI %s, INVITE's %s", got, want)
	}
	to, _ := cancel.Get("To")
	invTo, _ := inv.Get("To")
	if to != invTo || strings.Contains(strings.ToLower(to), "tag=") {
		t.Errorf("CANCEL To %q, want the INVITE's %q with no tag", to, invTo)
	}
	if cancel.Branch() != inv.Branch() || cancel.ViaCount() != 1 {
		t.Errorf("CANCEL branch %q (%d Vias), want the INVITE's top branch %q alone", cancel.Branch(), cancel.ViaCount(), inv.Branch())
	}
	if cancel.CSeq().Seq != inv.CSeq().Seq || cancel.CSeq().Method != sip.CANCEL {
		t.Errorf("CANCEL CSeq %v, want %d CANCEL", cancel.CSeq(), inv.CSeq().Seq)
	}
	var cr, ir []string
	for v := range cancel.Values("Route") {
		cr = append(cr, v)
	}
	for v := range inv.Values("Route") {
		ir = append(ir, v)
	}
	if !slices.Equal(cr, ir) {
		t.Errorf("CANCEL Route %q, INVITE's %q", cr, ir)
	}
	var got []string
	for v := range cancel.Values("Reason") {
		got = append(got, v)
	}
	switch {
	case reason == "" && len(got) != 0:
		t.Errorf("CANCEL Reason %q, want none", got)
	case reason != "" && (len(got) != 1 || got[0] != reason):
		t.Errorf("CANCEL Reason %q, want %q", got, reason)
	}
}

// DESIGN.md, RFC 3326: when one branch answers, every other pending
// branch is cancelled with "Call completed elsewhere", so its phone does
// not list a missed call; the CANCEL is built from the INVITE as sent on
// that branch (§9.1).
func TestCancelReasonOn2xx(t *testing.T) {
	for _, tr := range []string{transport.UDP, transport.TCP} {
		t.Run(tr, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, tr)
				a, b, _ := e.callTwoPhones()
				a.answer(0, 180)
				b.answer(0, 180)
				synctest.Wait()
				a.answer(0, 200)
				synctest.Wait()
				invs, cancels := e.sent(sip.INVITE, b), e.sent(sip.CANCEL, b)
				if len(cancels) == 0 {
					t.Fatal("the losing branch got no CANCEL")
				}
				checkCancelOf(t, cancels[0], invs[0], ReasonCompletedElsewhere)
				if n := len(e.sent(sip.CANCEL, a)); n != 0 {
					t.Errorf("the answering branch got %d CANCELs", n)
				}
				if got := e.caller.codes(); !slices.Contains(got, 200) || slices.Contains(got, 487) {
					t.Errorf("caller got %v, want the 200 and no 487", got)
				}
				// The loser's 487 is absorbed: the caller's transaction
				// is Accepted with the 200.
				wait(time.Second)
				if f := e.caller.final(); f == nil || f.StatusCode() != 200 {
					t.Errorf("caller's final response %v, want 200", f)
				}
			})
		})
	}
}

// DESIGN.md: a 6xx cancels the other branches with its own code and
// phrase as the Reason, is held until they end, and then goes upstream
// (RFC 3261 §16.7 step 5 and 6).
func TestCancelReasonOn6xx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a, b, _ := e.callTwoPhones()
		b.answer(0, 180)
		synctest.Wait()
		a.answer(0, 603)
		synctest.Wait()
		cancels := e.sent(sip.CANCEL, b)
		if len(cancels) != 1 {
			t.Fatalf("ringing branch got %d CANCELs, want 1", len(cancels))
		}
		checkCancelOf(t, cancels[0], e.sent(sip.INVITE, b)[0], `SIP;cause=603;text="Decline"`)
		if f := e.caller.final(); f == nil || f.StatusCode() != 603 {
			t.Errorf("caller's final %v, want 603 after the other branch ended", f)
		}
	})
}

// §16.7 step 6: a 6xx is held while another branch is pending; it goes up
// when that branch ends, even if that branch's answer is a 4xx.
func Test6xxHeldUntilOtherBranchesEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a, b, _ := e.callTwoPhones()
		a.answer(0, 600)
		synctest.Wait()
		if f := e.caller.final(); f != nil {
			t.Fatalf("6xx went up before the other branch ended: %d", f.StatusCode())
		}
		// b has sent no provisional: its CANCEL waits (§9.1).
		if n := len(e.sent(sip.CANCEL, b)); n != 0 {
			t.Fatalf("branch without a provisional got %d CANCELs", n)
		}
		b.answer(0, 486)
		synctest.Wait()
		if f := e.caller.final(); f == nil || f.StatusCode() != 600 {
			t.Errorf("caller's final %v, want the held 600", f)
		}
	})
}

// DESIGN.md, §9.1: a branch with no provisional response when the call is
// answered is cancelled as soon as its first provisional arrives, with
// the Reason chosen when the call was answered.
func TestLateCancelKeepsReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a, b, _ := e.callTwoPhones()
		a.answer(0, 200)
		synctest.Wait()
		// The phone's own 100 would come at 200 ms (§17.2.1): until then
		// the branch has had no provisional.
		wait(150 * time.Millisecond)
		if n := len(e.sent(sip.CANCEL, b)); n != 0 {
			t.Fatalf("CANCEL sent before any provisional (%d)", n)
		}
		b.answer(0, 180)
		synctest.Wait()
		cancels := e.sent(sip.CANCEL, b)
		if len(cancels) != 1 {
			t.Fatalf("got %d CANCELs after the first provisional, want 1", len(cancels))
		}
		checkCancelOf(t, cancels[0], e.sent(sip.INVITE, b)[0], ReasonCompletedElsewhere)
	})
}

// §16.7 step 5: every 2xx goes upstream, also one after the first.
func Test2xxAfter2xxBothForwarded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a, b, _ := e.callTwoPhones()
		a.answer(0, 200)
		b.answer(0, 200)
		synctest.Wait()
		var tags []string
		for _, ev := range e.n.Sent(func(ev siptest.Event) bool { return ev.To.String() == callerAddr }) {
			if r, ok := ev.Msg.(*sip.Response); ok && r.StatusCode() == 200 {
				tags = append(tags, r.ToTag())
			}
		}
		slices.Sort(tags)
		if want := []string{a.tag(), b.tag()}; !slices.Equal(tags, sortStrings(want)) {
			t.Errorf("200s upstream with To tags %q, want one from each phone %q", tags, want)
		}
	})
}

func sortStrings(s []string) []string { slices.Sort(s); return s }

// §16.7 step 6: 503 from downstream goes up as 500 (it would make the
// caller think the proxy is overloaded).
func Test503BecomesServerError500(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a := e.phone("127.0.0.1:5071")
		e.register("bob", a)
		e.caller.invite("bob")
		synctest.Wait()
		a.answer(0, 503)
		synctest.Wait()
		if f := e.caller.final(); f == nil || f.StatusCode() != 500 {
			t.Errorf("caller's final %v, want 500", f)
		}
	})
}

// §16.7 step 6 and 7: the best response, and the challenges of every 401
// and 407 merged into it.
func TestBestResponse(t *testing.T) {
	tests := []struct {
		name  string
		codes []int
		want  int
	}{
		{"lowest class", []int{486, 302}, 302},
		{"6xx preferred", []int{404, 603}, 603},
		{"401 preferred in 4xx", []int{486, 401}, 401},
		{"407 preferred in 4xx", []int{404, 407}, 407},
		{"484 preferred in 4xx", []int{480, 484}, 484},
		{"5xx after 4xx", []int{500, 486}, 486},
		{"503 alone is 500", []int{503, 503}, 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, transport.TCP)
				a, b, _ := e.callTwoPhones()
				a.answer(0, tc.codes[0])
				synctest.Wait()
				b.answer(0, tc.codes[1])
				synctest.Wait()
				if f := e.caller.final(); f == nil || f.StatusCode() != tc.want {
					t.Errorf("caller's final %v, want %d", f, tc.want)
				}
			})
		})
	}
}

// §16.7 step 7: the 401 and 407 challenges of all branches reach the
// caller in the one response it gets.
func TestChallengesMerged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a, b, _ := e.callTwoPhones()
		a.answer(0, 401, `WWW-Authenticate: Digest realm="a.example", nonce="1"`)
		b.answer(0, 407, `Proxy-Authenticate: Digest realm="b.example", nonce="2"`)
		synctest.Wait()
		f := e.caller.final()
		if f == nil || (f.StatusCode() != 401 && f.StatusCode() != 407) {
			t.Fatalf("caller's final %v, want 401 or 407", f)
		}
		w, _ := f.Get("WWW-Authenticate")
		pa, _ := f.Get("Proxy-Authenticate")
		if !strings.Contains(w, `realm="a.example"`) || !strings.Contains(pa, `realm="b.example"`) {
			t.Errorf("challenges upstream: WWW-Authenticate %q, Proxy-Authenticate %q; want both branches'", w, pa)
		}
	})
}

// §16.7 step 6: no final response from any branch (Timer B) is a 408.
func Test408WhenNothingAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.UDP)
		a, b := e.phone("127.0.0.1:5071"), e.phone("127.0.0.1:5072")
		e.register("bob", a, b)
		e.n.SetDrop(func(ev siptest.Event) bool { return ev.To == a.ep.Addr() || ev.To == b.ep.Addr() })
		e.caller.invite("bob")
		wait(31 * time.Second)
		if f := e.caller.final(); f != nil {
			t.Fatalf("final %d before Timer B", f.StatusCode())
		}
		wait(2 * time.Second)
		if f := e.caller.final(); f == nil || f.StatusCode() != 408 {
			t.Errorf("caller's final %v, want 408 after Timer B of both branches", f)
		}
	})
}

// RFC 3261 §16.6 (targets by q), as Kamailio's t_load_contacts: the
// highest q first, equal q in parallel, the next group after a negative
// final response from every branch of a group.
func TestSerialForkingByQ(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		hi1, hi2, lo := e.phone("127.0.0.1:5071"), e.phone("127.0.0.1:5072"), e.phone("127.0.0.1:5073")
		hi1.q, hi2.q, lo.q = 1000, 1000, 500
		e.register("bob", lo, hi1, hi2)
		e.caller.invite("bob")
		synctest.Wait()
		if hi1.received() != 1 || hi2.received() != 1 || lo.received() != 0 {
			t.Fatalf("first group: %d, %d, low q %d INVITEs; want 1, 1, 0", hi1.received(), hi2.received(), lo.received())
		}
		hi1.answer(0, 486)
		synctest.Wait()
		if lo.received() != 0 {
			t.Fatal("next group started while a branch of the first was pending")
		}
		hi2.answer(0, 480)
		synctest.Wait()
		if lo.received() != 1 {
			t.Fatalf("low q phone got %d INVITEs after the first group failed, want 1", lo.received())
		}
		lo.answer(0, 200)
		synctest.Wait()
		if f := e.caller.final(); f == nil || f.StatusCode() != 200 {
			t.Errorf("caller's final %v, want 200", f)
		}
	})
}

// A 6xx stops serial forking: the lower groups are never tried.
func TestSerialForkingStopsAt6xx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		hi, lo := e.phone("127.0.0.1:5071"), e.phone("127.0.0.1:5072")
		hi.q, lo.q = 900, 100
		e.register("bob", hi, lo)
		e.caller.invite("bob")
		synctest.Wait()
		hi.answer(0, 603)
		synctest.Wait()
		if lo.received() != 0 {
			t.Error("lower q group tried after a 6xx")
		}
		if f := e.caller.final(); f == nil || f.StatusCode() != 603 {
			t.Errorf("caller's final %v, want 603", f)
		}
	})
}

// §16.7 step 5: provisional responses but 100 go up at once.
func TestProvisionalForwarded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP)
		a := e.phone("127.0.0.1:5071")
		e.register("bob", a)
		e.caller.invite("bob")
		synctest.Wait()
		a.answer(0, 183)
		synctest.Wait()
		got := e.caller.codes()
		// The 100 is the proxy's own, sent at once (§16.2).
		if !slices.Equal(got, []int{100, 183}) {
			t.Errorf("caller got %v, want [100 183]", got)
		}
		r := e.caller.resps[1]
		if r.ViaCount() != 1 || r.ToTag() != a.tag() {
			t.Errorf("forwarded 183 has %d Vias and To tag %q; want the proxy's Via removed and the phone's tag", r.ViaCount(), r.ToTag())
		}
	})
}

var _ = transaction.ErrTimeout
