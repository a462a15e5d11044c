package main

import (
	"syscall"
	"testing"
	"time"

	"github.com/sipkit/sipkit/siptest"
)

// BenchmarkProxyForkSIPp is the smoke version of the load bench
// (../shared/bench/run.sh "fork", docs/PERFORMANCE.md): b.N forked calls
// from a SIPp caller through `sipkit proxy` to two SIPp phones registered
// as bob, one answering and one ringing, whose CANCEL must carry
// "Call completed elsewhere". It reports the calls per second at the
// offered rate and the proxy's CPU time per call (the proxy runs in this
// process; SIPp in its own). It is no load ramp: the ramps side by side
// with Kamailio are run by hand.
func BenchmarkProxyForkSIPp(b *testing.B) {
	const rate = 500
	px := startProxy(b)
	ansPort, ringPort := registerPhone(b, px, "bob"), registerPhone(b, px, "bob")
	timeout := time.Duration(b.N/rate+30) * time.Second
	ans := siptest.SIPp{Scenario: "proxy_uas_answer.xml", Port: ansPort, Calls: b.N, Timeout: timeout}.Start(b)
	ring := siptest.SIPp{Scenario: "proxy_uas_ring_check.xml", Port: ringPort, Calls: b.N, Timeout: timeout}.Start(b)
	cpu0 := cpuTime()
	b.ResetTimer()
	start := time.Now()
	// A 100 ms call: with no pause the BYE follows the ACK so closely
	// that the proxy's two UDP readers may pass it on first, as any
	// multi-threaded proxy may (Kamailio's workers too), and SIPp's
	// strict UAS fails the call.
	uac := siptest.SIPp{Scenario: "proxy_uac_call.xml", Remote: px, Service: "bob", Calls: b.N, Rate: rate,
		Args: []string{"-d", "100"}, Timeout: timeout}.Start(b)
	res := uac.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := cpuTime() - cpu0
	wantSIPpOK(b, "caller", res, b.N)
	wantSIPpOK(b, "answering phone", ans.Wait(), b.N)
	wantSIPpOK(b, "ringing phone (CANCEL checks)", ring.Wait(), b.N)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "proxy-cpu-µs/call")
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
