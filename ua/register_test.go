package ua

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/auth"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// RFC 3261 §10.2.4: the binding is refreshed before the lifetime the
// registrar granted runs out, with the same Call-ID and the next CSeq;
// a challenge is answered (§22.2); Close removes the binding.
func TestRegistrationRefreshes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		e.u.cfg.Auth = &auth.Client{Accounts: []auth.Account{{Username: "alice", Password: "pw"}}}
		var mu sync.Mutex
		var granted []time.Duration
		start := time.Now()
		reg, _ := sip.ParseURI("sip:127.0.0.2")
		r, err := e.u.Register(t.Context(), RegisterOptions{Registrar: reg, AOR: "<sip:alice@127.0.0.2>",
			Target: transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(uasAddr)}, Expires: 120 * time.Second,
			OnChange: func(g time.Duration, err error) {
				if err != nil {
					t.Errorf("registration: %v", err)
				}
				mu.Lock()
				granted = append(granted, g)
				mu.Unlock()
			}})
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		// The registrar challenges the first REGISTER, then grants 60 s.
		regs := e.peer.requests(sip.REGISTER)
		e.peer.respond(t, regs[0], 401, `WWW-Authenticate: Digest realm="127.0.0.2", nonce="n1", qop="auth"`)
		regs = e.peer.requests(sip.REGISTER)
		if len(regs) != 2 || !strings.Contains(first(regs[1].msg.(*sip.Request).Get("Authorization")), `nonce="n1"`) {
			t.Fatalf("no retry with credentials: %d REGISTERs", len(regs))
		}
		e.peer.respond(t, regs[1], 200, "Contact: <sip:alice@127.0.0.1:5060>;expires=60")
		time.Sleep(55*time.Second - time.Since(start) - time.Millisecond)
		synctest.Wait()
		if n := len(e.peer.requests(sip.REGISTER)); n != 2 {
			t.Fatalf("refreshed early: %d REGISTERs", n)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		regs = e.peer.requests(sip.REGISTER)
		if len(regs) != 3 {
			t.Fatalf("%d REGISTERs at 55 s, want the refresh", len(regs))
		}
		var seqs []uint32
		for _, d := range regs {
			req := d.msg.(*sip.Request)
			seqs = append(seqs, req.CSeq().Seq)
			if req.CallID() != regs[0].msg.(*sip.Request).CallID() {
				t.Errorf("refresh with a new Call-ID")
			}
		}
		if !slices.Equal(seqs, []uint32{1, 2, 3}) {
			t.Errorf("CSeqs %v", seqs)
		}
		e.peer.respond(t, regs[2], 200, "Expires: 90")
		if r.Granted() != 90*time.Second {
			t.Errorf("granted %v, want 90 s from Expires", r.Granted())
		}
		r.Close()
		synctest.Wait()
		regs = e.peer.requests(sip.REGISTER)
		if e, _ := regs[len(regs)-1].msg.(*sip.Request).Get("Expires"); e != "0" || len(regs) != 4 {
			t.Errorf("Close sent Expires %q (%d REGISTERs)", e, len(regs))
		}
		e.peer.respond(t, regs[3], 200)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if n := len(e.peer.requests(sip.REGISTER)); n != 4 {
			t.Errorf("refreshes after Close: %d REGISTERs", n)
		}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(granted, []time.Duration{60 * time.Second, 90 * time.Second, 0}) {
			t.Errorf("OnChange told %v", granted)
		}
	})
}
