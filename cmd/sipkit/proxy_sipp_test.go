package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipkit/sipkit/siptest"
)

// startProxy runs `sipkit proxy` as a user would, on a free UDP port of
// 127.0.0.1, with more flags, and returns its address once it listens.
func startProxy(t testing.TB, flags ...string) string {
	t.Helper()
	addr := freeUDPPort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	args := append([]string{"proxy", "--listen", "udp:" + addr, "--log-level", "warn"}, flags...)
	go func() { done <- run(ctx, args, &out, &errOut) }()
	t.Cleanup(func() {
		cancel() // SIGINT or SIGTERM in the real command
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("sipkit proxy exited %d:\n%s", code, errOut.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("sipkit proxy did not stop")
		}
		if t.Failed() {
			t.Logf("sipkit proxy output:\n%s%s", out.String(), errOut.String())
		}
	})
	// Ready when it answers an OPTIONS ping (binding the port to see if
	// it is taken would race with the proxy's own bind).
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ping := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKready\r\nMax-Forwards: 70\r\n"+
		"From: <sip:test@127.0.0.1>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: ready\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		addr, c.LocalAddr(), addr)
	buf := make([]byte, 2048)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		select {
		case code := <-done:
			t.Fatalf("sipkit proxy exited %d:\n%s", code, errOut.String())
		default:
		}
		c.Write([]byte(ping))
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if n, err := c.Read(buf); err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
			return addr
		}
	}
	t.Fatalf("sipkit proxy did not answer on %s", addr)
	return ""
}

// registerPhone registers user at the proxy with a SIPp REGISTER whose
// Contact is its own port, and returns that port for the SIPp UAS that
// then answers there, as a phone does.
func registerPhone(t testing.TB, proxy, user string) int {
	t.Helper()
	reg := siptest.SIPp{Scenario: "proxy_register.xml", Remote: proxy, Service: user, Timeout: 10 * time.Second}.Start(t)
	if res := reg.Wait(); res.ExitCode != 0 || res.Successful != 1 {
		t.Fatalf("REGISTER of %s: %v", user, res)
	}
	return int(reg.Addr.Port())
}

func wantSIPpOK(t testing.TB, name string, res siptest.SIPpResult, calls int) {
	t.Helper()
	if res.ExitCode != 0 || res.Successful != calls || res.Failed != 0 {
		t.Errorf("%s: %v, want %d successful calls", name, res, calls)
	}
}

// The forking proxy's reason to exist (DESIGN.md): two SIPp phones
// register as bob, a SIPp caller calls bob, one phone answers, and the
// other receives a CANCEL that its scenario checks with regular
// expressions: Reason with cause=200 and "Call completed elsewhere", no
// To tag, the branch and CSeq number of its INVITE (RFC 3261 §9.1, RFC
// 3326). It answers 487 and checks the ACK.
func TestProxyForkCancelsLoserWithReason(t *testing.T) {
	const calls = 5
	px := startProxy(t)
	ansPort, ringPort := registerPhone(t, px, "bob"), registerPhone(t, px, "bob")
	ans := siptest.SIPp{Scenario: "proxy_uas_answer.xml", Port: ansPort, Calls: calls, Timeout: 30 * time.Second}.Start(t)
	ring := siptest.SIPp{Scenario: "proxy_uas_ring_check.xml", Port: ringPort, Calls: calls, Timeout: 30 * time.Second}.Start(t)
	uac := siptest.SIPp{Scenario: "proxy_uac_call.xml", Remote: px, Service: "bob", Calls: calls, Rate: 10,
		Args: []string{"-d", "200"}, Timeout: 30 * time.Second}.Start(t)
	wantSIPpOK(t, "caller", uac.Wait(), calls)
	wantSIPpOK(t, "answering phone", ans.Wait(), calls)
	wantSIPpOK(t, "ringing phone (CANCEL checks)", ring.Wait(), calls)
}

// DESIGN.md: a caller's CANCEL Reason goes downstream only from a
// trusted network (--trusted); from anywhere else the downstream CANCEL
// has no Reason. The callers come from 127.0.0.2 (trusted) and 127.0.0.3.
func TestProxyCallerCancelReasonTrust(t *testing.T) {
	const reason = `SIP;cause=487;text="Cancelled by the sipkit test caller"`
	px := startProxy(t, "--trusted", "127.0.0.2/32")
	tests := []struct {
		name, user, callerIP, phone string
	}{
		{"trusted caller's Reason kept", "alice", "127.0.0.2", "proxy_uas_ring_reason_kept.xml"},
		{"untrusted caller's Reason removed", "carol", "127.0.0.3", "proxy_uas_ring_no_reason.xml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			port := registerPhone(t, px, tc.user)
			var phoneArgs []string
			if tc.phone == "proxy_uas_ring_reason_kept.xml" {
				phoneArgs = []string{"-set", "reason", reason} // the Reason it must see
			}
			phone := siptest.SIPp{Scenario: tc.phone, Port: port, Args: phoneArgs, Timeout: 20 * time.Second}.Start(t)
			caller := siptest.SIPp{Scenario: "proxy_uac_cancel.xml", Remote: px, IP: tc.callerIP, Service: tc.user,
				Args: []string{"-d", "200", "-set", "reason", reason}, Timeout: 20 * time.Second}.Start(t)
			wantSIPpOK(t, "caller", caller.Wait(), 1)
			wantSIPpOK(t, "phone (Reason check)", phone.Wait(), 1)
		})
	}
}

// §16.3 and the default router: an unknown user of the proxy's domain
// is 404, Max-Forwards 0 is 483; the SIPp caller checks the status and
// ACKs it.
func TestProxyRejects(t *testing.T) {
	px := startProxy(t)
	tests := []struct {
		name, user string
		code       int
		args       []string
	}{
		{"404 for an unknown user", "nobody", 404, nil},
		{"483 for Max-Forwards 0", "bob", 483, []string{"-set", "maxfwd", "0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-key", "expect_code", strconv.Itoa(tc.code)}, tc.args...)
			res := siptest.SIPp{Scenario: "proxy_uac_expect.xml", Remote: px, Service: tc.user, Args: args, Timeout: 15 * time.Second}.Start(t).Wait()
			wantSIPpOK(t, "caller", res, 1)
		})
	}
}
