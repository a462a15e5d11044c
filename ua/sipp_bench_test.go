package ua

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

// realStack is a UA on a real UDP transport on loopback.
func realStack(b *testing.B, onEvent func(Event)) *UA {
	var u *UA
	var ready sync.WaitGroup
	ready.Add(1)
	tl, err := transport.New(transport.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handler: transport.HandlerFunc(func(m sip.Message, src transport.Source) { ready.Wait(); u.HandleMessage(m, src) })})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tl.Close() })
	local, err := tl.Listen(transport.UDP, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	u, err = New(Config{Sender: tl, Contact: "<sip:bench@" + local.String() + ">", OnEvent: onEvent})
	ready.Done()
	if err != nil {
		b.Fatal(err)
	}
	return u
}

// BenchmarkCallsAgainstSIPp places and completes calls (INVITE, 100,
// 180, 200, ACK, BYE, 200) from the ua package over UDP on loopback to a
// SIPp UAS, up to 50 at a time. It reports calls per second, and the
// heap each answered call holds while up (a second run keeps N calls
// confirmed at once and measures the heap they take).
func BenchmarkCallsAgainstSIPp(b *testing.B) {
	const inFlight = 50
	var wg sync.WaitGroup
	sem := make(chan struct{}, inFlight)
	u := realStack(b, func(ev Event) {
		switch {
		case ev.Kind == Confirmed:
			go ev.Call.Hangup()
		case ev.Kind == Terminated && (ev.ID.RemoteTag != "" || ev.Cause != CauseAnsweredElsewhere):
			<-sem
			wg.Done()
		}
	})
	uas := siptest.SIPp{Scenario: "uas_answer.xml", Calls: b.N, Timeout: 5 * time.Minute, Args: []string{"-max_recv_loops", "10000"}}.Start(b)
	to, _ := sip.ParseURI("sip:service@" + uas.Addr.String())
	target := transport.Target{Transport: transport.UDP, Addr: uas.Addr}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		sem <- struct{}{}
		wg.Add(1)
		if _, err := u.Call(context.Background(), to, CallOptions{Target: target, Body: []byte("v=0\r\n"), ContentType: "application/sdp"}); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
	b.StopTimer()
	if res := uas.Wait(); res.Failed != 0 {
		b.Errorf("SIPp: %v", res)
	}
}

// BenchmarkMemoryPerConfirmedCall holds N answered calls up at once
// against a SIPp UAS and reports the heap they take per call.
func BenchmarkMemoryPerConfirmedCall(b *testing.B) {
	n := max(b.N, 100)
	confirmed := make(chan *Call, n)
	ended := make(chan struct{}, n)
	u := realStack(b, func(ev Event) {
		switch ev.Kind {
		case Confirmed:
			confirmed <- ev.Call
		case Terminated:
			ended <- struct{}{}
		}
	})
	uas := siptest.SIPp{Scenario: "uas_answer.xml", Calls: n, Timeout: 5 * time.Minute}.Start(b)
	to, _ := sip.ParseURI("sip:service@" + uas.Addr.String())
	target := transport.Target{Transport: transport.UDP, Addr: uas.Addr}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	calls := make([]*Call, 0, n)
	for range n {
		if _, err := u.Call(context.Background(), to, CallOptions{Target: target}); err != nil {
			b.Fatal(err)
		}
	}
	for range n {
		calls = append(calls, <-confirmed)
	}
	time.Sleep(100 * time.Millisecond) // let the last ACKs go
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "heap-B/call")
	for _, c := range calls {
		c.Hangup()
	}
	for range n {
		<-ended
	}
	uas.Wait()
}
