package ua

import (
	"context"
	"net/netip"
	"testing"
	"testing/synctest"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// DESIGN.md problem 2 for a B2BUA: ring two phones at once; the first to
// answer wins and the other gets a CANCEL with
// `Reason: SIP;cause=200;text="Call completed elsewhere"` (RFC 3326), so
// it shows no missed call.
func TestParallelCancelsLosersWithReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		other := &peer{}
		other.Endpoint = e.n.Endpoint(transport.UDP, "127.0.0.3:5060", other)
		var forks []Fork
		for _, addr := range []string{uasAddr, "127.0.0.3:5060"} {
			to, _ := sip.ParseURI("sip:phone@" + addr)
			forks = append(forks, Fork{To: to, Options: CallOptions{Target: transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(addr)}}})
		}
		p, err := e.u.CallParallel(context.Background(), forks)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		win, lose := e.peer.requests(sip.INVITE)[0], other.requests(sip.INVITE)[0]
		e.peer.respond(t, win, 180, "To: <sip:phone@127.0.0.2:5060>;tag=w")
		other.respond(t, lose, 180, "To: <sip:phone@127.0.0.3:5060>;tag=l")
		e.peer.respond(t, win, 200, "To: <sip:phone@127.0.0.2:5060>;tag=w", "Contact: <sip:phone@127.0.0.2:5060>")
		c, err := p.Wait(context.Background())
		if err != nil || c.Invite().CallID() != win.msg.(*sip.Request).CallID() {
			t.Fatalf("winner %v, %v", c, err)
		}
		cancels := other.requests(sip.CANCEL)
		if len(cancels) != 1 {
			t.Fatalf("the losing phone got %d CANCELs", len(cancels))
		}
		if r, _ := cancels[0].msg.(*sip.Request).Get("Reason"); r != `SIP;cause=200;text="Call completed elsewhere"` {
			t.Errorf("CANCEL Reason %q", r)
		}
		if n := len(e.peer.requests(sip.CANCEL)); n != 0 {
			t.Errorf("the winner got a CANCEL")
		}
	})
}

// When nobody answers, Wait says so.
func TestParallelNoAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		to, _ := sip.ParseURI("sip:phone@" + uasAddr)
		p, err := e.u.CallParallel(context.Background(), []Fork{{To: to, Options: CallOptions{Target: transport.Target{Transport: transport.UDP, Addr: netip.MustParseAddrPort(uasAddr)}}}})
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		e.peer.respond(t, e.peer.requests(sip.INVITE)[0], 486, tagged+"b")
		if _, err := p.Wait(context.Background()); err != ErrNoAnswer {
			t.Errorf("Wait: %v, want ErrNoAnswer", err)
		}
	})
}
