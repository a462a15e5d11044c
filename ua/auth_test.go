package ua

import (
	"strings"
	"testing"
	"testing/synctest"

	"github.com/sipkit/sipkit/auth"
	"github.com/sipkit/sipkit/sip"
)

// RFC 3261 §22.2: a 407 is answered by sending the INVITE again with
// Proxy-Authorization, the next CSeq and a new branch; a later CANCEL is
// built from that INVITE, the one last sent (§9.1).
func TestInviteAnswersChallenge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newUAC(t)
		e.u.cfg.Auth = &auth.Client{Accounts: []auth.Account{{Username: "alice", Password: "secret"}}}
		c := e.call(t, CallOptions{})
		first := e.peer.requests(sip.INVITE)[0]
		e.peer.respond(t, first, 407, tagged+"p", `Proxy-Authenticate: Digest realm="127.0.0.2", nonce="abc", algorithm=MD5, qop="auth"`)
		invs := e.peer.requests(sip.INVITE)
		if len(invs) != 2 {
			t.Fatalf("%d INVITEs, want the retry", len(invs))
		}
		retry := invs[1].msg.(*sip.Request)
		cred, ok := retry.Get("Proxy-Authorization")
		if !ok || !strings.Contains(cred, `username="alice"`) || !strings.Contains(cred, `nonce="abc"`) {
			t.Errorf("Proxy-Authorization %q", cred)
		}
		if retry.CSeq().Seq != 2 || retry.Branch() == first.msg.(*sip.Request).Branch() || retry.CallID() != c.Invite().CallID() {
			t.Errorf("retry CSeq %d branch %q: want CSeq 2, a new branch, the same Call-ID", retry.CSeq().Seq, retry.Branch())
		}
		if n := len(e.peer.requests(sip.ACK)); n != 1 {
			t.Errorf("%d ACKs for the 407, want 1", n)
		}
		e.peer.respond(t, invs[1], 180, tagged+"x")
		c.Cancel("")
		synctest.Wait()
		cancels := e.peer.requests(sip.CANCEL)
		if len(cancels) != 1 {
			t.Fatalf("%d CANCELs", len(cancels))
		}
		cr := cancels[0].msg.(*sip.Request)
		if cr.Branch() != retry.Branch() || cr.CSeq().Seq != 2 {
			t.Errorf("CANCEL branch %q CSeq %d, want the retried INVITE's", cr.Branch(), cr.CSeq().Seq)
		}
	})
}
