package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCheck runs the check command on a valid and an invalid RFC 4475
// message.
func TestCheck(t *testing.T) {
	dir := "../../../shared/testdata/rfc4475/"
	var out bytes.Buffer
	status := check([]string{dir + "wsinv.dat", dir + "badvers.dat"}, &out)
	if status != 1 {
		t.Errorf("status = %d, want 1", status)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("output:\n%s", out.String())
	}
	if !strings.HasSuffix(lines[0], "ok: INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0") {
		t.Errorf("valid message: %s", lines[0])
	}
	if !strings.HasSuffix(lines[1], ": 505 Unsupported SIP version") {
		t.Errorf("SIP/7.0: %s", lines[1])
	}
}

func freeUDPPort(t testing.TB) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().String()
}

// syncBuffer is a bytes.Buffer safe for the agent's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// `sipkit call` against `sipkit answer` on loopback, in process: each
// exits 0 when its flow completed as asked, and prints one line per
// event.
func TestCallAndAnswer(t *testing.T) {
	for _, tc := range []struct {
		name               string
		answer, call       []string
		wantCall, wantLast string
	}{
		{"answered and hung up", []string{"--answer-after", "100ms"}, []string{"--hangup-after", "100ms"},
			"terminated", "cause=local-hangup"},
		{"cancelled while ringing", []string{"--ring-forever"}, []string{"--cancel-after", "200ms", "--reason", `SIP;cause=200;text="Call completed elsewhere"`},
			"terminated", "cause=cancelled"},
		{"declined", []string{"--decline", "486"}, nil, "terminated", "status=486 cause=rejected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeUDPPort(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var aout, aerr syncBuffer
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, append([]string{"answer", "--listen", "udp:" + addr, "--calls", "1"}, tc.answer...), &aout, &aerr)
			}()
			time.Sleep(200 * time.Millisecond) // the listener binds
			var out, errOut syncBuffer
			code := run(ctx, append([]string{"call", "sip:bob@" + addr}, tc.call...), &out, &errOut)
			wantCode := 0
			if tc.name == "declined" {
				wantCode = 1 // the call did not complete
			}
			if code != wantCode {
				t.Errorf("call exited %d, want %d\n%s%s", code, wantCode, out.String(), errOut.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(lines[0], "calling") || !strings.HasPrefix(last, tc.wantCall) || !strings.Contains(last, tc.wantLast) {
				t.Errorf("call printed:\n%s", out.String())
			}
			select {
			case c := <-done:
				if c != 0 {
					t.Errorf("answer exited %d\n%s%s", c, aout.String(), aerr.String())
				}
			case <-ctx.Done():
				t.Fatal("answer did not exit")
			}
			if tc.name == "cancelled while ringing" && !strings.Contains(aout.String(), "cause=answered-elsewhere") {
				t.Errorf("answer did not see the Reason:\n%s", aout.String())
			}
		})
	}
}
