package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/sipkit/sipkit/internal/testnet"
	"github.com/sipkit/sipkit/sip"
)

// testCert makes a self-signed certificate for the loopback addresses.
func testCert(t testing.TB) (server, client *tls.Config) {
	c := testnet.NewCert(t)
	return c.Server, c.Client
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type received struct {
	msg sip.Message
	src Source
}

// newLayer starts a layer with the given listeners; every message it
// reads goes to the returned channel unless handle is set.
func newLayer(t testing.TB, cfg Config, listen ...string) (*Layer, map[string]netip.AddrPort, chan received) {
	t.Helper()
	ch := make(chan received, 100)
	if cfg.Handler == nil {
		cfg.Handler = HandlerFunc(func(m sip.Message, src Source) { ch <- received{m, src} })
	}
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	addrs := map[string]netip.AddrPort{}
	for _, spec := range listen {
		tr, addr, _ := strings.Cut(spec, ":")
		ap, err := l.Listen(tr, addr)
		if err != nil {
			t.Fatalf("Listen(%s, %s): %v", tr, addr, err)
		}
		addrs[tr] = ap
	}
	return l, addrs, ch
}

// echoServer answers every request 200 OK through SendResponse.
func echoServer(t testing.TB, cfg Config, listen ...string) (*Layer, map[string]netip.AddrPort, chan received) {
	t.Helper()
	seen := make(chan received, 100)
	var l *Layer
	var mu sync.Mutex
	cfg.Handler = HandlerFunc(func(m sip.Message, src Source) {
		req, ok := m.(*sip.Request)
		if !ok {
			return
		}
		seen <- received{m, src}
		mu.Lock()
		ll := l
		mu.Unlock()
		if err := ll.SendResponse(context.Background(), sip.NewResponse(req, 200, ""), src); err != nil {
			t.Errorf("SendResponse: %v", err)
		}
	})
	ll, addrs, _ := newLayer(t, cfg, listen...)
	mu.Lock()
	l = ll
	mu.Unlock()
	return ll, addrs, seen
}

func request(t testing.TB, method, target string, extra ...string) *sip.Request {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:bob@%s SIP/2.0\r\n", method, target)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP 192.0.2.9:5060;rport;branch=z9hG4bK%d\r\n", time.Now().UnixNano())
	b.WriteString("Max-Forwards: 70\r\nFrom: <sip:alice@192.0.2.9>;tag=a1\r\nTo: <sip:bob@192.0.2.10>\r\n")
	fmt.Fprintf(&b, "Call-ID: %d@192.0.2.9\r\nCSeq: 1 %s\r\n", time.Now().UnixNano(), method)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	m, err := sip.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*sip.Request)
}

func wait[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	panic("unreachable")
}

// RFC 3261 §18: a request in, a response out, over every transport and
// both address families; the response goes back the way §18.2.2 says.
func TestRoundTrip(t *testing.T) {
	srvTLS, cliTLS := testCert(t)
	for _, tr := range []string{UDP, TCP, TLS, WS, WSS} {
		for _, host := range []string{"127.0.0.1", "::1"} {
			t.Run(tr+"/"+host, func(t *testing.T) {
				bind := netip.AddrPortFrom(netip.MustParseAddr(host), 0).String()
				_, srvAddrs, seen := echoServer(t, Config{TLS: srvTLS}, tr+":"+bind)
				cli, cliAddrs, got := newLayer(t, Config{ClientTLS: cliTLS}, UDP+":"+bind)
				target := Target{Transport: tr, Addr: srvAddrs[tr]}
				req := request(t, "OPTIONS", srvAddrs[tr].String())
				used, err := cli.SendRequest(context.Background(), req, target)
				if err != nil {
					t.Fatal(err)
				}
				if used != target {
					t.Errorf("sent to %v, want %v", used, target)
				}
				in := wait(t, seen, "request at server")
				if in.src.Transport != tr || in.src.Remote.Addr() != netip.MustParseAddr(host) {
					t.Errorf("server saw source %+v", in.src)
				}
				v, _ := in.msg.TopVia()
				if v.Transport != tr {
					t.Errorf("Via transport %q, want %q", v.Transport, tr)
				}
				if tr == UDP && v.Port != int(cliAddrs[UDP].Port()) {
					t.Errorf("Via port %d, want the client's socket %d", v.Port, cliAddrs[UDP].Port())
				}
				resp := wait(t, got, "response at client")
				r, ok := resp.msg.(*sip.Response)
				if !ok || r.StatusCode() != 200 || r.CallID() != req.CallID() {
					t.Fatalf("client got %v", resp.msg.StartLine())
				}
				if resp.src.Transport != tr {
					t.Errorf("response came over %s, want %s", resp.src.Transport, tr)
				}
				st := cli.Stats()[tr]
				if st.MessagesOut != 1 || st.MessagesIn != 1 {
					t.Errorf("client stats %+v, want one message each way", st)
				}
			})
		}
	}
}

// RFC 3261 §18.3: a message that arrives one byte per segment is framed
// whole.
func TestStreamByteByByte(t *testing.T) {
	_, addrs, seen := newLayer(t, Config{}, "TCP:127.0.0.1:0")
	nc, err := net.Dial("tcp", addrs[TCP].String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.(*net.TCPConn).SetNoDelay(true)
	body := "v=0\r\n"
	msg := "MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKbyte\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: byte1\r\n" +
		"CSeq: 1 MESSAGE\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\n" + body
	for i := range len(msg) {
		if _, err := nc.Write([]byte{msg[i]}); err != nil {
			t.Fatal(err)
		}
	}
	in := wait(t, seen, "the message")
	if in.msg.CallID() != "byte1" || string(in.msg.Body()) != body {
		t.Errorf("got Call-ID %q body %q", in.msg.CallID(), in.msg.Body())
	}
	if in.msg.String() != msg {
		t.Errorf("message changed on the way:\n%q\nwant\n%q", in.msg.String(), msg)
	}
}

// RFC 5626 §3.5.1: a CRLFCRLF ping on a stream gets a CRLF pong.
func TestKeepAlivePong(t *testing.T) {
	_, addrs, _ := newLayer(t, Config{}, "TCP:127.0.0.1:0")
	nc, err := net.Dial("tcp", addrs[TCP].String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte("\r\n\r\n"))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 8)
	n, err := io.ReadAtLeast(nc, buf, 2)
	if err != nil || string(buf[:n]) != "\r\n" {
		t.Fatalf("pong = %q, %v; want CRLF", buf[:n], err)
	}
}

// Connections over the per-address limit are closed at once; peers from
// other addresses are still served.
func TestConnLimitPerAddress(t *testing.T) {
	srv, addrs, seen := echoServer(t, Config{MaxConnsPerIP: 3}, "TCP:127.0.0.1:0")
	var flood []net.Conn
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	for range 10 {
		nc, err := d.Dial("tcp", addrs[TCP].String())
		if err != nil {
			t.Fatal(err)
		}
		flood = append(flood, nc)
	}
	defer func() {
		for _, nc := range flood {
			nc.Close()
		}
	}()
	// The refused ones see EOF; the admitted ones stay open.
	closed := 0
	for _, nc := range flood {
		nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := nc.Read(make([]byte, 1)); err == io.EOF {
			closed++
		}
	}
	if closed != 7 {
		t.Errorf("%d of 10 connections from one address closed, want 7", closed)
	}
	if got := srv.Stats()[TCP].ConnsRejected; got != 7 {
		t.Errorf("ConnsRejected = %d, want 7", got)
	}
	// Another address is served.
	cli, _, got := newLayer(t, Config{}, "UDP:127.0.0.3:0")
	if _, err := cli.SendRequest(context.Background(), request(t, "OPTIONS", "127.0.0.1"), Target{Transport: TCP, Addr: addrs[TCP]}); err != nil {
		t.Fatal(err)
	}
	wait(t, seen, "request from another address")
	wait(t, got, "its response")
}

// The layer keeps at most MaxConns connections in all.
func TestConnLimitTotal(t *testing.T) {
	srv, addrs, _ := newLayer(t, Config{MaxConns: 2}, "TCP:127.0.0.1:0")
	for i := range 4 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(i+1))}}
		nc, err := d.Dial("tcp", addrs[TCP].String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.Stats()[TCP].ConnsRejected < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	st := srv.Stats()[TCP]
	if st.ConnsRejected != 2 || st.ConnsOpen != 2 {
		t.Errorf("stats %+v, want 2 open and 2 rejected", st)
	}
}

// Garbage on a stream closes that connection and is counted; garbage
// datagrams are counted and dropped; the listener keeps serving.
func TestGarbageIsDroppedAndCounted(t *testing.T) {
	var bad sync.Map
	cfg := Config{BadMessage: func(m sip.Message, err error, src Source) { bad.Store(src.Transport, err) }}
	srv, addrs, seen := echoServer(t, cfg, "UDP:127.0.0.1:0", "TCP:127.0.0.1:0")

	nc, err := net.Dial("tcp", addrs[TCP].String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte("\x00\x01garbage that is no SIP at all\r\n\r\n"))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after garbage the stream read %v, want EOF", err)
	}

	uc, err := net.Dial("udp", addrs[UDP].String())
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	uc.Write([]byte("INVITE sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n"))
	uc.Write([]byte("\r\n\r\n")) // a keep-alive: neither an error nor a message

	cli, _, got := newLayer(t, Config{}, "UDP:127.0.0.1:0")
	for _, tr := range []string{UDP, TCP} {
		if _, err := cli.SendRequest(context.Background(), request(t, "OPTIONS", "127.0.0.1"), Target{Transport: tr, Addr: addrs[tr]}); err != nil {
			t.Fatal(err)
		}
		wait(t, seen, "a good request after garbage")
		wait(t, got, "its response")
	}
	st := srv.Stats()
	if st[UDP].ParseErrors != 1 || st[TCP].Dropped != 1 {
		t.Errorf("UDP %+v TCP %+v; want 1 UDP parse error and 1 TCP stream dropped", st[UDP], st[TCP])
	}
	if _, ok := bad.Load(UDP); !ok {
		t.Error("BadMessage was not told about the bad datagram")
	}
}

// An idle connection is closed after IdleTimeout, and a message either
// way keeps it open.
func TestIdleConnectionCloses(t *testing.T) {
	srv, addrs, _ := newLayer(t, Config{IdleTimeout: 300 * time.Millisecond}, "TCP:127.0.0.1:0")
	nc, err := net.Dial("tcp", addrs[TCP].String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// A peer trickling a message without finishing it is idle too.
	nc.Write([]byte("OPTIONS sip:x SIP/2.0\r\n"))
	start := time.Now()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read %v, want EOF from the idle close", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("closed after %v, before the idle timeout", d)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.Stats()[TCP].ConnsOpen != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := srv.Stats()[TCP].ConnsOpen; n != 0 {
		t.Errorf("ConnsOpen = %d after the close", n)
	}
}

// RFC 3261 §18.1.1: a request over 1300 bytes for UDP goes over TCP.
func TestLargeRequestSwitchesToTCP(t *testing.T) {
	// UDP and TCP on one port, as a real server has them.
	srv, addrs, seen := echoServer(t, Config{}, "UDP:127.0.0.1:0")
	if _, err := srv.Listen(TCP, addrs[UDP].String()); err != nil {
		t.Fatal(err)
	}
	cli, _, got := newLayer(t, Config{}, "UDP:127.0.0.1:0", "TCP:127.0.0.1:0")
	req := request(t, "MESSAGE", "127.0.0.1", "Subject: "+strings.Repeat("x", 1400))
	used, err := cli.SendRequest(context.Background(), req, Target{Transport: UDP, Addr: addrs[UDP]})
	if err != nil {
		t.Fatal(err)
	}
	if used.Transport != TCP {
		t.Errorf("sent over %s, want TCP", used.Transport)
	}
	in := wait(t, seen, "the large request")
	if v, _ := in.msg.TopVia(); v.Transport != TCP || in.src.Transport != TCP {
		t.Errorf("arrived over %s with Via %s", in.src.Transport, v.String())
	}
	wait(t, got, "its response")

	// A small one stays on UDP.
	used, err = cli.SendRequest(context.Background(), request(t, "MESSAGE", "127.0.0.1"), Target{Transport: UDP, Addr: addrs[UDP]})
	if err != nil || used.Transport != UDP {
		t.Errorf("small request went over %s, %v", used.Transport, err)
	}
	wait(t, seen, "the small request")
}

// RFC 3261 §18.2.2: when the connection a request came on has closed,
// the response opens a new one to received and the sent-by port.
func TestResponseReopensClosedConnection(t *testing.T) {
	srv, addrs, seen := newLayer(t, Config{}, "TCP:127.0.0.1:0")
	cli, cliAddrs, got := newLayer(t, Config{}, "TCP:127.0.0.1:0")
	if _, err := cli.SendRequest(context.Background(), request(t, "OPTIONS", "127.0.0.1"), Target{Transport: TCP, Addr: addrs[TCP]}); err != nil {
		t.Fatal(err)
	}
	in := wait(t, seen, "request")
	if v, _ := in.msg.TopVia(); v.Port != int(cliAddrs[TCP].Port()) {
		t.Fatalf("Via %s does not name the client's listener %v", v.String(), cliAddrs[TCP])
	}
	in.src.conn.close()
	if err := srv.SendResponse(context.Background(), sip.NewResponse(in.msg.(*sip.Request), 200, ""), in.src); err != nil {
		t.Fatal(err)
	}
	resp := wait(t, got, "response on a new connection")
	if resp.src.Local != cliAddrs[TCP] {
		t.Errorf("response arrived on %v, want the client's listener %v", resp.src.Local, cliAddrs[TCP])
	}
}

// The trace hook sees every message in and out.
func TestTraceSeesBothDirections(t *testing.T) {
	var mu sync.Mutex
	var evs []TraceEvent
	cfg := Config{Trace: func(ev TraceEvent) {
		mu.Lock()
		evs = append(evs, TraceEvent{Dir: ev.Dir, Transport: ev.Transport, Data: append([]byte(nil), ev.Data...)})
		mu.Unlock()
	}}
	_, addrs, seen := echoServer(t, cfg, "UDP:127.0.0.1:0")
	cli, _, got := newLayer(t, Config{}, "UDP:127.0.0.1:0")
	if _, err := cli.SendRequest(context.Background(), request(t, "OPTIONS", "127.0.0.1"), Target{Transport: UDP, Addr: addrs[UDP]}); err != nil {
		t.Fatal(err)
	}
	wait(t, seen, "request")
	wait(t, got, "response")
	mu.Lock()
	defer mu.Unlock()
	if len(evs) != 2 || evs[0].Dir != In || evs[1].Dir != Out ||
		!strings.HasPrefix(string(evs[0].Data), "OPTIONS ") || !strings.HasPrefix(string(evs[1].Data), "SIP/2.0 200 OK") {
		t.Errorf("trace: %d events %+v", len(evs), evs)
	}
}

// After Close, no goroutine of the layer is left.
func TestCloseStopsEverything(t *testing.T) {
	srvTLS, _ := testCert(t)
	l, err := New(Config{Handler: HandlerFunc(func(sip.Message, Source) {}), TLS: srvTLS, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []string{UDP, TCP, TLS, WS, WSS} {
		if _, err := l.Listen(tr, "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { l.Close(); close(done) }()
	wait(t, done, "Close")
	if _, err := l.Listen(UDP, "127.0.0.1:0"); err == nil {
		t.Error("Listen after Close succeeded")
	}
}

// Whatever arrives, the receive path (parse, received/rport, the
// handler building a response and choosing where it goes) never panics.
func FuzzDeliver(f *testing.F) {
	f.Add([]byte("OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bK1\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: f1\r\nCSeq: 1 OPTIONS\r\n\r\n"))
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP [::1]:5060;received=::1;branch=z9hG4bK1\r\n" +
		"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>;tag=2\r\nCall-ID: f1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;maddr=1.2.3.4;received=[::1;rport=99999\r\n\r\n"))
	l, err := New(Config{Logger: quiet, Handler: HandlerFunc(func(m sip.Message, src Source) {
		if req, ok := m.(*sip.Request); ok {
			resp := sip.NewResponse(req, 200, "")
			if v, ok := resp.TopVia(); ok {
				viaResponseDest(v)
			}
			_ = resp.String()
		}
	})})
	if err != nil {
		f.Fatal(err)
	}
	src := Source{Transport: UDP, Remote: netip.MustParseAddrPort("192.0.2.1:9988")}
	f.Fuzz(func(t *testing.T, data []byte) {
		l.deliver(data, src, 65535)
	})
}

// A datagram over MaxUDPMessage is dropped and counted, not parsed.
func TestOversizeDatagramDropped(t *testing.T) {
	srv, addrs, seen := newLayer(t, Config{MaxUDPMessage: 600}, "UDP:127.0.0.1:0")
	uc, err := net.Dial("udp", addrs[UDP].String())
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	big := request(t, "MESSAGE", "127.0.0.1", "Subject: "+strings.Repeat("x", 700))
	small := request(t, "MESSAGE", "127.0.0.1")
	uc.Write([]byte(big.String()))
	uc.Write([]byte(small.String()))
	in := wait(t, seen, "the small message")
	if in.msg.CallID() != small.CallID() {
		t.Errorf("got Call-ID %q, want the small message's", in.msg.CallID())
	}
	if st := srv.Stats()[UDP]; st.Dropped != 1 || st.MessagesIn != 1 {
		t.Errorf("stats %+v, want 1 dropped and 1 in", st)
	}
}

// RFC 7118 §4.1: a WebSocket client that does not ask for the sip
// subprotocol is refused.
func TestWebSocketNeedsSIPSubprotocol(t *testing.T) {
	_, addrs, seen := newLayer(t, Config{}, "WS:127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+addrs[WS].String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.Write(ctx, websocket.MessageText, []byte(request(t, "OPTIONS", "127.0.0.1").String()))
	_, _, err = ws.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("read %v, want a policy-violation close", err)
	}
	select {
	case in := <-seen:
		t.Errorf("a message arrived without the subprotocol: %s", in.msg.StartLine())
	default:
	}
}

// RFC 3261 §18.1.1: with nobody listening on TCP, a large request goes
// over UDP after all.
func TestLargeRequestFallsBackToUDP(t *testing.T) {
	_, addrs, seen := echoServer(t, Config{}, "UDP:127.0.0.1:0")
	cli, _, got := newLayer(t, Config{}, "UDP:127.0.0.1:0")
	req := request(t, "MESSAGE", "127.0.0.1", "Subject: "+strings.Repeat("x", 1400))
	used, err := cli.SendRequest(context.Background(), req, Target{Transport: UDP, Addr: addrs[UDP]})
	if err != nil || used.Transport != UDP {
		t.Fatalf("sent over %s, %v; want UDP", used.Transport, err)
	}
	wait(t, seen, "the large request over UDP")
	wait(t, got, "its response")
}

// Requests to the same peer reuse one connection (RFC 3261 §18.1.1
// "SHOULD use the connection"), and the peer's responses come back on it.
func TestConnectionReuse(t *testing.T) {
	_, addrs, seen := echoServer(t, Config{}, "TCP:127.0.0.1:0")
	cli, _, got := newLayer(t, Config{}, "UDP:127.0.0.1:0")
	var remotes []netip.AddrPort
	for range 3 {
		if _, err := cli.SendRequest(context.Background(), request(t, "OPTIONS", "127.0.0.1"), Target{Transport: TCP, Addr: addrs[TCP]}); err != nil {
			t.Fatal(err)
		}
		remotes = append(remotes, wait(t, seen, "request").src.Remote)
		wait(t, got, "response")
	}
	if remotes[0] != remotes[1] || remotes[1] != remotes[2] {
		t.Errorf("requests came from %v: more than one connection", remotes)
	}
	if n := cli.Stats()[TCP].ConnsOpen; n != 1 {
		t.Errorf("client has %d TCP connections open, want 1", n)
	}
}

// Messages either way keep a connection open past IdleTimeout.
func TestTrafficKeepsConnectionOpen(t *testing.T) {
	_, addrs, seen := echoServer(t, Config{IdleTimeout: 300 * time.Millisecond}, "TCP:127.0.0.1:0")
	cli, _, got := newLayer(t, Config{IdleTimeout: time.Hour}, "UDP:127.0.0.1:0")
	var first netip.AddrPort
	for i := range 8 {
		if _, err := cli.SendRequest(context.Background(), request(t, "OPTIONS", "127.0.0.1"), Target{Transport: TCP, Addr: addrs[TCP]}); err != nil {
			t.Fatal(err)
		}
		src := wait(t, seen, "request").src.Remote
		wait(t, got, "response")
		if i == 0 {
			first = src
		} else if src != first {
			t.Fatalf("request %d came on a new connection after %v", i, time.Duration(i)*150*time.Millisecond)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// A stream message over MaxStreamMessage closes the connection.
func TestOversizeStreamMessageClosesConnection(t *testing.T) {
	srv, addrs, _ := newLayer(t, Config{MaxStreamMessage: 1000}, "TCP:127.0.0.1:0")
	nc, err := net.Dial("tcp", addrs[TCP].String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte("MESSAGE sip:a@127.0.0.1 SIP/2.0\r\nContent-Length: 5000\r\n\r\n" + strings.Repeat("x", 5000)))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	// EOF, or a reset since the server closed with our bytes unread.
	var ne net.Error
	if _, err := nc.Read(make([]byte, 1)); err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("read %v, want the connection closed", err)
	}
	if d := srv.Stats()[TCP].Dropped; d != 1 {
		t.Errorf("Dropped = %d, want 1", d)
	}
}

// A peer that stops reading cannot make senders wait: writes are queued,
// and when the queue is full the connection is closed.
func TestSlowReaderDoesNotBlockSenders(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			defer nc.Close()
			time.Sleep(10 * time.Second) // never reads
		}
	}()
	cli, _, _ := newLayer(t, Config{WriteTimeout: time.Minute}, "UDP:127.0.0.1:0")
	body := strings.Repeat("x", 60000)
	msg := "MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKslow\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: slow\r\n" +
		"CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 60000\r\n\r\n" + body
	target := Target{Transport: TCP, Addr: addrPortOf(ln.Addr())}
	start := time.Now()
	var full error
	for range 2 * sendQueue {
		m, err := sip.Parse([]byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cli.SendRequest(context.Background(), m.(*sip.Request), target); err != nil {
			full = err
			break
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("sending took %v: a sender waited on the slow peer", d)
	}
	if !errors.Is(full, errQueueFull) {
		t.Errorf("last send: %v, want errQueueFull", full)
	}
	if n := cli.Stats()[TCP].ConnsOpen; n != 0 {
		t.Errorf("%d connections open after the queue overflowed", n)
	}
}

// A TLS client verifies the server's certificate unless told not to.
func TestTLSClientVerifiesServer(t *testing.T) {
	srvTLS, _ := testCert(t)
	_, addrs, _ := newLayer(t, Config{TLS: srvTLS}, "TLS:127.0.0.1:0")
	cli, _, _ := newLayer(t, Config{}, "UDP:127.0.0.1:0") // system roots only
	_, err := cli.SendRequest(context.Background(), request(t, "OPTIONS", "127.0.0.1"), Target{Transport: TLS, Addr: addrs[TLS]})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("err = %v, want the unknown-authority error", err)
	}
}

// WebSocket connections count against the limits and leave the counts
// when they close.
func TestWebSocketConnectionsCounted(t *testing.T) {
	srv, addrs, seen := echoServer(t, Config{MaxConnsPerIP: 1}, "WS:127.0.0.1:0")
	cli, _, got := newLayer(t, Config{}, "UDP:127.0.0.1:0")
	if _, err := cli.SendRequest(context.Background(), request(t, "OPTIONS", "127.0.0.1"), Target{Transport: WS, Addr: addrs[WS]}); err != nil {
		t.Fatal(err)
	}
	wait(t, seen, "request")
	wait(t, got, "response")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+addrs[WS].String()+"/", &websocket.DialOptions{Subprotocols: []string{"sip"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusTryAgainLater {
		t.Errorf("second connection from one address: %v, want a try-again-later close", err)
	}
	if st := srv.Stats()[WS]; st.ConnsOpen != 1 || st.ConnsRejected != 1 {
		t.Errorf("stats %+v, want 1 open and 1 rejected", st)
	}
	cli.Close()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Stats()[WS].ConnsOpen != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := srv.Stats()[WS].ConnsOpen; n != 0 {
		t.Errorf("ConnsOpen = %d after the client closed", n)
	}
}

// Close sends what was already queued on stream connections (a last
// BYE) before it closes them.
func TestCloseFlushesQueuedMessages(t *testing.T) {
	for _, tr := range []string{TCP, WS} {
		t.Run(tr, func(t *testing.T) {
			_, addrs, seen := newLayer(t, Config{}, tr+":127.0.0.1:0")
			cli, err := New(Config{Handler: HandlerFunc(func(sip.Message, Source) {}), Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []string{"OPTIONS", "BYE"} {
				if _, err := cli.SendRequest(context.Background(), request(t, m, "127.0.0.1"), Target{Transport: tr, Addr: addrs[tr]}); err != nil {
					t.Fatal(err)
				}
			}
			cli.Close()
			for _, m := range []string{"OPTIONS", "BYE"} {
				if got := wait(t, seen, m).msg.(*sip.Request).Method(); got != m {
					t.Errorf("got %s, want %s", got, m)
				}
			}
		})
	}
}

// WouldDial tells whether a send opens a connection first: never for
// UDP, for a stream until a connection to the target is open.
func TestWouldDial(t *testing.T) {
	_, addrs, _ := newLayer(t, Config{}, "TCP:127.0.0.1:0")
	cli, _, _ := newLayer(t, Config{}, "UDP:127.0.0.1:0")
	target := Target{Transport: TCP, Addr: addrs[TCP]}
	if cli.WouldDial(Target{Transport: UDP, Addr: addrs[TCP]}) {
		t.Error("WouldDial for UDP")
	}
	if !cli.WouldDial(target) {
		t.Error("no WouldDial before any connection")
	}
	if _, err := cli.SendRequest(context.Background(), request(t, "OPTIONS", "127.0.0.1"), target); err != nil {
		t.Fatal(err)
	}
	if cli.WouldDial(target) || cli.WouldDial(Target{Transport: "tcp", Addr: addrs[TCP]}) {
		t.Error("WouldDial with the connection open")
	}
}

// §18.2.2: a response whose TLS connection is gone goes over a new one
// to the Via's sent-by. When that host accepts and then says nothing,
// the handshake lasts the dial timeout; SendResponse, whose caller is
// usually a socket's reader, returns at once, and the failure shows in
// the statistics.
func TestReconnectForResponseDoesNotWait(t *testing.T) {
	silent := testnet.Silent(t)
	srvTLS, cliTLS := testCert(t)
	srv, addrs, got := newLayer(t, Config{TLS: srvTLS, DialTimeout: time.Second}, "TLS:127.0.0.1:0")
	nc, err := tls.Dial("tcp", addrs[TLS].String(), cliTLS)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(nc, "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS %s;branch=z9hG4bKgone\r\nMax-Forwards: 70\r\n"+
		"From: <sip:alice@127.0.0.1>;tag=a\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: gone\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", silent)
	r := wait(t, got, "the request")
	nc.Close()
	for deadline := time.Now().Add(2 * time.Second); !r.src.conn.closed.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server did not see the connection close")
		}
	}
	start := time.Now()
	if err := srv.SendResponse(context.Background(), sip.NewResponse(r.msg.(*sip.Request), 200, ""), r.src); err != nil {
		t.Fatalf("SendResponse: %v", err)
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Errorf("SendResponse waited %v for the new connection", d.Round(time.Millisecond))
	}
	for deadline := time.Now().Add(5 * time.Second); srv.Stats()[TLS].SendErrors == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the failed reconnection was not counted")
		}
	}
}
