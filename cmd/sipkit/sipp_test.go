package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipkit/sipkit/siptest"
)

// `sipkit call --cancel-after` against a SIPp UAS that checks the CANCEL
// with regular expressions (RFC 3261 §9.1: no tag in To, the INVITE's
// branch and CSeq number), after a 180 and after a 100 alone.
func TestCallCancelAgainstSIPp(t *testing.T) {
	for _, scenario := range []string{"uas_cancel_check.xml", "uas_cancel_check_100only.xml"} {
		t.Run(scenario, func(t *testing.T) {
			uas := siptest.SIPp{Scenario: scenario, Timeout: 20 * time.Second}.Start(t)
			var out, errOut syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			code := run(ctx, []string{"call", "sip:service@" + uas.Addr.String(), "--cancel-after", "300ms",
				"--reason", `SIP;cause=200;text="Call completed elsewhere"`}, &out, &errOut)
			res := uas.Wait()
			if code != 0 {
				t.Errorf("sipkit call exited %d\n%s%s", code, out.String(), errOut.String())
			}
			if res.ExitCode != 0 || res.Successful != 1 || res.Failed != 0 {
				t.Errorf("SIPp: %v", res)
			}
			if !strings.Contains(out.String(), "cause=cancelled") {
				t.Errorf("call output:\n%s", out.String())
			}
		})
	}
}

// `sipkit answer` interoperates with SIPp's built-in uac scenario:
// INVITE, 200, ACK, and SIPp's BYE, for several calls.
func TestAnswerAgainstSIPpUAC(t *testing.T) {
	const calls = 5
	addr := freeUDPPort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"answer", "--listen", "udp:" + addr, "--calls", strconv.Itoa(calls)}, &out, &errOut)
	}()
	time.Sleep(200 * time.Millisecond)
	res := siptest.SIPp{Scenario: "uac", Remote: addr, Calls: calls, Rate: 50, Args: []string{"-d", "100"}, Timeout: 20 * time.Second}.Start(t).Wait()
	if res.ExitCode != 0 || res.Successful != calls {
		t.Errorf("SIPp uac: %v", res)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("sipkit answer exited %d\n%s%s", code, out.String(), errOut.String())
		}
	case <-ctx.Done():
		t.Fatalf("sipkit answer did not see %d calls end:\n%s", calls, out.String())
	}
	if n := strings.Count(out.String(), "cause=remote-bye"); n != calls {
		t.Errorf("%d calls ended by SIPp's BYE, want %d:\n%s", n, calls, out.String())
	}
}
