package siptest

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The scenarios under testdata/sipp are embedded so that tests in other
// packages (cmd/sipkit, ua) can name them without knowing where siptest
// sits on disk.
//
//go:embed testdata/sipp/*.xml
var shippedScenarios embed.FS

// sippBuiltins are the scenarios compiled into SIPp 3.6 (sipp -h, -sn).
var sippBuiltins = []string{"uac", "uas", "regexp", "branchc", "branchs", "3pcc-C-A", "3pcc-C-B", "3pcc-A", "3pcc-B"}

// Names of the files SIPp writes in its working directory.
const (
	sippMessageFile = "messages.log" // -trace_msg
	sippErrorFile   = "errors.log"   // -trace_err: unexpected messages, failed checks
	sippLogFile     = "actions.log"  // -trace_logs: <log> actions of the scenario
	sippStatFile    = "stats.csv"    // -trace_stat: one row per -fd period and one at exit
	sippOutputFile  = "sipp.out"     // stdout and stderr: screens and fatal errors
)

// SIPp runs one SIPp process for a test, on loopback: SIPp listens on
// 127.0.0.1 only (-i, -bind_local, also for its control and media
// sockets) on a port chosen free, and a UAC scenario sends to Remote,
// which must be a loopback address too. SIPp's socket buffers are raised
// from 64 KiB to 4 MiB (-buff_size; the kernel may cap them), as the
// default drops packets at a few thousand calls per second. Each field
// documents its zero value.
//
// SIPp (Debian package sip-tester, binary sipp, version 3.6) must be in
// PATH: ./test.sh installs it, so Start fails the test when it is missing
// rather than skipping it.
type SIPp struct {
	// Scenario is what SIPp runs, looked up in this order: the path of an
	// XML scenario file (-sf; relative to the test's working directory,
	// the package directory under go test); the file name of a scenario
	// shipped with siptest (see below); the name of a scenario built into
	// SIPp, "uac", "uas", "regexp", "branchc", "branchs" or a 3pcc one
	// (-sn). Required.
	//
	// Shipped scenarios, from siptest/testdata/sipp:
	//   - "uas_answer.xml": INVITE -> 100, 180, 200 with SDP -> ACK, then
	//     BYE -> 200; checks ACK and BYE against the dialog.
	//   - "uas_cancel_check.xml": INVITE -> 100, 180 with a To tag, then
	//     expects a CANCEL and checks it against the INVITE (RFC 3261
	//     §9.1), -> 200 (CANCEL), 487 (INVITE) -> ACK, also checked.
	//   - "uas_cancel_check_100only.xml": the same with only 100 Trying
	//     before the CANCEL.
	//   - "uas_reject_486.xml": INVITE -> 100, 486 Busy Here -> ACK, checked.
	//   - "uac_cancel.xml": INVITE -> 100, 180 -> CANCEL built per §9.1
	//     -> 200, 487 -> ACK.
	// and for tests through a proxy (the proxy is Remote; Service names
	// the callee), each described in its file:
	//   - "proxy_register.xml": REGISTER of Service with this SIPp's port
	//     as Contact; run the UAS on that Port afterwards.
	//   - "proxy_uas_answer.xml": the forking winner, 180 then 200; checks
	//     ACK and BYE.
	//   - "proxy_uas_ring_check.xml": the forking loser; its CANCEL must
	//     carry Reason cause=200 "Call completed elsewhere", no To tag and
	//     the INVITE's branch and CSeq number.
	//   - "proxy_uas_ring_reason_kept.xml", "proxy_uas_ring_no_reason.xml":
	//     the CANCEL must carry the caller's Reason ("-set reason V"), or
	//     none.
	//   - "proxy_uac_call.xml": INVITE, 200, ACK and BYE along the route.
	//   - "proxy_uac_cancel.xml": INVITE, 180, CANCEL with "-set reason V".
	//   - "proxy_uac_expect.xml": INVITE ("-set maxfwd N") that must end
	//     with "-key expect_code NNN", then ACK.
	// A failed check makes SIPp count the call as failed; the error log
	// names the check and the values.
	Scenario string

	// Remote is where a UAC scenario sends its first request,
	// "127.0.0.1:5060". Empty (the default) for a UAS scenario, which
	// waits for calls on SIPpRun.Addr.
	Remote string

	// Transport is SIPp's transport mode (-t): "u1", UDP with one socket
	// (the default when empty), or "t1", TCP with one connection; also
	// "un" and "tn", a socket or connection per call.
	Transport string

	// Calls is the number of calls after which SIPp exits (-m). Zero
	// means 1.
	Calls int

	// Rate is the number of new calls per second of a UAC scenario (-r).
	// Zero leaves SIPp's default, 10.
	Rate int

	// Service is the user part of the Request-URI of a UAC scenario
	// ([service], -s). Empty leaves SIPp's default, "service".
	Service string

	// IP is the loopback IPv4 address SIPp binds (-i), e.g. "127.0.0.2"
	// for a caller that must come from another address than the rest
	// (a proxy's trusted network). Empty means 127.0.0.1.
	IP string

	// Port is the local port SIPp binds (-p). Zero picks a free one. A
	// UAS that registers first uses the port of its REGISTER run, so the
	// Contact it registered is where it then answers.
	Port int

	// Args are more SIPp arguments, appended after the ones Start builds
	// (e.g. "-d", "500" for the pause of the built-in uac, "-key",
	// "name", "value", or "-recv_timeout", "1000").
	Args []string

	// Timeout bounds the whole run. SIPp is told to give up after it
	// (-timeout, rounded up to whole seconds as SIPp counts them, and
	// -timeout_error, so giving up is an error, exit status 255), and
	// is killed a few seconds later if it has not exited. Zero means
	// 30 s.
	Timeout time.Duration
}

// SIPpRun is a running SIPp, started by SIPp.Start.
type SIPpRun struct {
	// Addr is where SIPp listens, on SIPp.IP with the chosen transport.
	Addr netip.AddrPort
	// Dir is SIPp's working directory, a t.TempDir() holding its logs.
	Dir string

	t          testing.TB
	args       []string
	cmd        *exec.Cmd
	cancel     context.CancelFunc
	done       chan struct{} // closed when the process has exited and been reaped
	superseded bool          // Start tried again on another port

	once   sync.Once
	result SIPpResult
}

// SIPpResult is what a SIPp run ended with.
type SIPpResult struct {
	// ExitCode is SIPp's exit status: 0 all calls successful, 1 at least
	// one call failed, 97 exit on an internal command (calls may have
	// been processed), 99 normal exit without calls processed, 255 a
	// fatal error or the Timeout reached, 254 a socket could not be
	// bound; -1 when SIPp was killed (it overran Timeout, or the test
	// ended first).
	ExitCode int
	// Successful and Failed are SIPp's cumulative call counters, from the
	// last -trace_stat row or, without one, from its last screen. Both
	// are 0 when SIPp wrote neither (it failed to start).
	Successful, Failed int
	// Counters holds every cumulative counter of the last -trace_stat row
	// that is a number, by name without "(C)": "SuccessfulCall",
	// "FailedCall", "FailedRegexpDoesntMatch", "FailedStrcmpDoesntMatch",
	// "FailedTimeoutOnRecv", "FailedUnexpectedMessage", "Retransmissions",
	// ... (sipp -h stat lists them). Nil without a statistics file.
	Counters map[string]int
	// MessageLog is the path of SIPp's log of every message sent and
	// received (-trace_msg).
	MessageLog string
	// ErrorLog is the path of SIPp's error log (-trace_err): unexpected
	// messages, and for each failed check its name and the values
	// compared. SIPp creates it only when there is something to log.
	ErrorLog string
	// Output is the path of what SIPp printed: its screens, the last one
	// with the final counters, and fatal errors.
	Output string
}

// String summarises the result for a test failure message.
func (r SIPpResult) String() string {
	s := fmt.Sprintf("exit status %d, %d successful, %d failed", r.ExitCode, r.Successful, r.Failed)
	var reasons []string
	for name, n := range r.Counters {
		if n > 0 && strings.HasPrefix(name, "Failed") && name != "FailedCall" {
			reasons = append(reasons, fmt.Sprintf("%s %d", name, n))
		}
	}
	sort.Strings(reasons)
	if len(reasons) > 0 {
		s += " (" + strings.Join(reasons, ", ") + ")"
	}
	return s
}

// Start starts SIPp in the foreground as a child process, in a fresh
// t.TempDir(), on a free port of 127.0.0.1, and returns once SIPp has
// bound that port (or has already exited: Wait then tells why), so a test
// can send to Addr at once. If another process takes the port first (SIPp
// exits with 254), Start tries again on another port, twice at most.
// Start fails the test (so call it from the test's goroutine) when SIPp
// is not installed, a field is invalid, or SIPp neither binds its port
// nor exits within 5 s. At the end of the test SIPp is killed if still
// running, and if the test failed the tails of SIPp's error log, <log>
// actions, message log and output are logged.
func (s SIPp) Start(t testing.TB) *SIPpRun {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatalf("siptest: SIPp is not installed (%v): install the Debian package sip-tester, as ./test.sh does", err)
	}
	if s.Scenario == "" {
		t.Fatal("siptest: SIPp.Scenario is empty")
	}
	switch s.Transport {
	case "":
		s.Transport = "u1"
	case "u1", "un", "t1", "tn":
	default:
		t.Fatalf("siptest: SIPp.Transport %q: want u1, un, t1 or tn", s.Transport)
	}
	if s.Calls == 0 {
		s.Calls = 1
	}
	if s.Timeout == 0 {
		s.Timeout = 30 * time.Second
	}
	if s.Calls < 0 || s.Rate < 0 || s.Timeout < 0 {
		t.Fatalf("siptest: SIPp: negative Calls (%d), Rate (%d) or Timeout (%v)", s.Calls, s.Rate, s.Timeout)
	}
	if s.Remote != "" {
		ap, err := netip.ParseAddrPort(s.Remote)
		if err != nil || !ap.Addr().Is4() || !ap.Addr().IsLoopback() {
			t.Fatalf("siptest: SIPp.Remote %q: want a loopback IPv4 address and port, like 127.0.0.1:5060", s.Remote)
		}
	}
	if s.IP == "" {
		s.IP = "127.0.0.1"
	}
	if a, err := netip.ParseAddr(s.IP); err != nil || !a.Is4() || !a.IsLoopback() {
		t.Fatalf("siptest: SIPp.IP %q: want a loopback IPv4 address, like 127.0.0.2", s.IP)
	}
	if s.Port < 0 || s.Port > 65535 {
		t.Fatalf("siptest: SIPp.Port %d out of range", s.Port)
	}

	const attempts = 3
	for i := 1; ; i++ {
		r := s.launch(t, bin)
		if !r.waitBound(5*time.Second) || i == attempts || s.Port != 0 {
			return r
		}
		// The port was taken between freeLoopbackPort and SIPp's bind.
		r.superseded = true
	}
}

// launch starts SIPp on a free port.
func (s SIPp) launch(t testing.TB, bin string) *SIPpRun {
	t.Helper()
	dir := t.TempDir()
	var args []string
	if s.Remote != "" {
		args = append(args, s.Remote)
	}
	args = append(args, s.scenarioArgs(t, dir)...)
	port := s.Port
	if port == 0 {
		port = freeLoopbackPort(t, s.IP)
	}
	secs := int((s.Timeout + time.Second - 1) / time.Second)
	args = append(args,
		"-t", s.Transport,
		"-i", s.IP, "-bind_local",
		"-p", strconv.Itoa(port),
		"-ci", s.IP, "-mi", s.IP,
		"-m", strconv.Itoa(s.Calls),
		"-nostdin",
		"-buff_size", "4194304", // SIPp's 64 KiB socket buffers drop packets under load
		"-timeout", strconv.Itoa(secs)+"s", "-timeout_error",
		"-trace_err", "-error_file", sippErrorFile,
		"-trace_msg", "-message_file", sippMessageFile,
		"-trace_logs", "-log_file", sippLogFile,
		"-trace_stat", "-stf", sippStatFile,
	)
	if s.Rate > 0 {
		args = append(args, "-r", strconv.Itoa(s.Rate))
	}
	if s.Service != "" {
		args = append(args, "-s", s.Service)
	}
	args = append(args, s.Args...)

	out, err := os.Create(filepath.Join(dir, sippOutputFile))
	if err != nil {
		t.Fatalf("siptest: SIPp: %v", err)
	}
	defer out.Close() // the child has its own copy

	// SIPp's own -timeout ends the run first and writes the statistics;
	// the context deadline only catches a SIPp that hangs.
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout+5*time.Second)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Stdout = out
	cmd.Stderr = out
	r := &SIPpRun{
		Addr:   netip.AddrPortFrom(netip.MustParseAddr(s.IP), uint16(port)),
		Dir:    dir,
		t:      t,
		args:   args,
		cmd:    cmd,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("siptest: starting SIPp: %v", err)
	}
	go func() {
		cmd.Wait() // the exit status is read from cmd.ProcessState after done
		close(r.done)
	}()
	t.Cleanup(r.cleanup)
	return r
}

// scenarioArgs returns -sf FILE or -sn NAME for s.Scenario, writing a
// shipped scenario into dir.
func (s SIPp) scenarioArgs(t testing.TB, dir string) []string {
	t.Helper()
	name := s.Scenario
	if st, err := os.Stat(name); err == nil && st.Mode().IsRegular() {
		abs, err := filepath.Abs(name)
		if err != nil {
			t.Fatalf("siptest: SIPp scenario %q: %v", name, err)
		}
		return []string{"-sf", abs}
	}
	if !strings.ContainsAny(name, `/\`) {
		if data, err := shippedScenarios.ReadFile("testdata/sipp/" + name); err == nil {
			file := filepath.Join(dir, name)
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatalf("siptest: SIPp scenario %q: %v", name, err)
			}
			return []string{"-sf", file}
		}
		if slices.Contains(sippBuiltins, name) {
			return []string{"-sn", name}
		}
	}
	t.Fatalf("siptest: SIPp scenario %q is not a file, a scenario shipped with siptest (%s) or built into SIPp (%s)",
		name, strings.Join(ShippedSIPpScenarios(), ", "), strings.Join(sippBuiltins, ", "))
	return nil
}

// ShippedSIPpScenarios returns the file names of the scenarios shipped
// with siptest, which SIPp.Scenario accepts from any package.
func ShippedSIPpScenarios() []string {
	names, _ := fs.Glob(shippedScenarios, "testdata/sipp/*.xml")
	for i, n := range names {
		names[i] = path.Base(n)
	}
	return names
}

// freeLoopbackPort returns a port free on 127.0.0.1 for both UDP and TCP,
// so either transport can use it. Another process may take it before
// SIPp binds it: SIPp then exits with 254, and Start tries again.
func freeLoopbackPort(t testing.TB, ip string) int {
	t.Helper()
	var lastErr error
	for range 20 {
		ln, err := net.Listen("tcp4", net.JoinHostPort(ip, "0"))
		if err != nil {
			lastErr = err
			continue
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp4", net.JoinHostPort(ip, strconv.Itoa(port)))
		ln.Close()
		if err != nil {
			lastErr = err
			continue
		}
		pc.Close()
		return port
	}
	t.Fatalf("siptest: no free port on %s for SIPp: %v", ip, lastErr)
	return 0
}

// sippBindFailed is SIPp's exit status when it cannot bind a socket (-2).
const sippBindFailed = 254

// waitBound waits until SIPp has bound its port or has exited, and
// reports whether it exited because the port was taken. Binding is seen
// in /proc (a socket of the SIPp process with the port in /proc/net), so
// nothing is sent to SIPp that would show up in its statistics, and
// another process's socket on the port does not count. Where /proc is
// missing (not Linux) it waits a fixed 300 ms.
func (r *SIPpRun) waitBound(limit time.Duration) (portTaken bool) {
	r.t.Helper()
	bindFailed := func() bool { return r.cmd.ProcessState.ExitCode() == sippBindFailed }
	tables := []string{"/proc/net/udp", "/proc/net/tcp"}
	if _, err := os.Stat(tables[0]); err != nil {
		select {
		case <-r.done:
			return bindFailed()
		case <-time.After(300 * time.Millisecond):
			return false
		}
	}
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		if ownsPort(r.cmd.Process.Pid, tables, r.Addr.Port()) {
			return false
		}
		select {
		case <-r.done:
			return bindFailed()
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("siptest: SIPp did not bind %s within %v\n%s", r.Addr, limit, r.tails())
		}
	}
}

// ownsPort reports whether process pid has a socket whose local port is
// port in one of the /proc/net tables.
func ownsPort(pid int, tables []string, port uint16) bool {
	fds := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(fds)
	if err != nil {
		return false
	}
	inodes := make(map[string]bool)
	for _, e := range ents {
		link, _ := os.Readlink(filepath.Join(fds, e.Name()))
		if ino, ok := strings.CutPrefix(link, "socket:["); ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	want := fmt.Sprintf(":%04X", port)
	for _, table := range tables {
		data, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(data)) {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
			f := strings.Fields(line)
			if len(f) > 9 && strings.HasSuffix(f[1], want) && inodes[f[9]] {
				return true
			}
		}
	}
	return false
}

// Wait waits for SIPp to exit (at the latest Timeout plus a few seconds
// after Start) and returns its result. It may be called more than once
// and from any goroutine; it does not fail the test.
func (r *SIPpRun) Wait() SIPpResult {
	<-r.done
	r.once.Do(func() { r.result = r.collect() })
	return r.result
}

func (r *SIPpRun) collect() SIPpResult {
	res := SIPpResult{
		ExitCode:   r.cmd.ProcessState.ExitCode(),
		MessageLog: filepath.Join(r.Dir, sippMessageFile),
		ErrorLog:   filepath.Join(r.Dir, sippErrorFile),
		Output:     filepath.Join(r.Dir, sippOutputFile),
	}
	if c, err := readStatCounters(filepath.Join(r.Dir, sippStatFile)); err == nil {
		res.Counters = c
		res.Successful, res.Failed = c["SuccessfulCall"], c["FailedCall"]
	} else if data, err := os.ReadFile(res.Output); err == nil {
		res.Successful, res.Failed = screenCounters(data)
	}
	return res
}

// readStatCounters reads the cumulative counters of the last row of a
// -trace_stat file: a header row of names ending in "(P)" (periodic) or
// "(C)" (cumulative), then rows of values, ';'-separated.
func readStatCounters(file string) (map[string]int, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var header, last []string
	for line := range strings.Lines(string(data)) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			continue
		}
		if header == nil {
			header = strings.Split(line, ";")
		} else {
			last = strings.Split(line, ";")
		}
	}
	if last == nil {
		return nil, errors.New("siptest: no statistics row in " + file)
	}
	c := make(map[string]int)
	for i, name := range header {
		base, ok := strings.CutSuffix(name, "(C)")
		if !ok || i >= len(last) {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(last[i])); err == nil {
			c[base] = n
		}
	}
	return c, nil
}

// screenCounters reads the cumulative "Successful call" and "Failed
// call" of the last statistics screen SIPp printed:
//
//	Successful call        |        0                  |        1
func screenCounters(out []byte) (successful, failed int) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "|")
		if len(f) != 3 {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(f[2]))
		if err != nil {
			continue
		}
		switch strings.TrimSpace(f[0]) {
		case "Successful call":
			successful = n
		case "Failed call":
			failed = n
		}
	}
	return successful, failed
}

func (r *SIPpRun) cleanup() {
	r.cancel() // kills SIPp if it is still running
	<-r.done
	if r.t.Failed() && !r.superseded {
		r.t.Logf("SIPp run in %s: sipp %s\n%s", r.Dir, strings.Join(r.args, " "), r.tails())
	}
}

// tails returns the ends of SIPp's log files, for a failing test.
func (r *SIPpRun) tails() string {
	var b strings.Builder
	for _, f := range []struct {
		name  string
		lines int
	}{
		{sippErrorFile, 30},
		{sippLogFile, 30},
		{sippMessageFile, 80},
		{sippOutputFile, 25},
	} {
		data, err := os.ReadFile(filepath.Join(r.Dir, f.name))
		if err != nil || len(data) == 0 {
			continue
		}
		fmt.Fprintf(&b, "--- %s (last %d lines) ---\n%s\n", f.name, f.lines, tail(string(data), f.lines))
	}
	if b.Len() == 0 {
		return "(SIPp wrote no logs)"
	}
	return b.String()
}

// tail returns the last n lines of s, without carriage returns.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(s, "\r", ""), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
