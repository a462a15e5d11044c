package proxyd

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sipkit/sipkit/auth"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// The metrics and admin address: Prometheus metrics from every layer,
// the calls being set up, and cancelling one by Call-ID.
func TestMetricsAndAdminAPI(t *testing.T) {
	s, err := Start(Config{
		Listen:  []Listen{{Transport: transport.UDP, Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
		Metrics: "127.0.0.1:0",
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	px := s.Listeners()[0].Addr.String()

	// A phone registers, so the location gauge and the message counters move.
	c, err := net.Dial("udp", px)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKadm\r\nMax-Forwards: 70\r\n"+
		"From: <sip:bob@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: adm\r\nCSeq: 1 REGISTER\r\n"+
		"Contact: <sip:bob@%s>\r\nContent-Length: 0\r\n\r\n", c.LocalAddr(), c.LocalAddr())
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	if n, err := c.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
		t.Fatalf("REGISTER: %q, %v", buf[:n], err)
	}

	base := "http://" + s.AdminAddr()
	body := get(t, base+"/metrics", 200)
	for _, want := range []string{
		`sipkit_location_aors 1`,
		`sipkit_transport_messages_total{direction="in",transport="UDP"} 1`,
		`sipkit_proxy_events_total{event="request"} 1`,
		`sipkit_proxy_calls 0`,
		`sipkit_transactions{side="server"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if got := get(t, base+"/calls", 200); strings.TrimSpace(got) != "[]" {
		t.Errorf("/calls = %q, want []", got)
	}
	resp, err := http.Post(base+"/calls/no-such-call/cancel?reason=x", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(b), `"cancelled":0`) {
		t.Errorf("cancel of an unknown call: %d %s", resp.StatusCode, b)
	}
}

func get(t *testing.T, url string, code int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != code {
		t.Fatalf("GET %s: %d, want %d", url, resp.StatusCode, code)
	}
	return string(b)
}

// A location store that cannot be used stops the daemon at start, with
// the reason, rather than at the first REGISTER.
func TestBadLocationFailsAtStart(t *testing.T) {
	for _, loc := range []string{"redis://127.0.0.1:1/0", "postgres://x", "memory://"} {
		_, err := Start(Config{
			Listen:   []Listen{{Transport: transport.UDP, Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
			Location: loc,
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err == nil {
			t.Errorf("Start with --location %s succeeded", loc)
		}
	}
}

// With users configured, a REGISTER needs digest credentials (RFC 3261
// §22, RFC 8760): 401 with a challenge, then 200 with the right password,
// 401 again with a wrong one.
func TestRegisterWithDigest(t *testing.T) {
	_, p := startUDP(t, Config{Users: map[string]string{"bob": "s3cret"}})
	first := p.request("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1\r\nMax-Forwards: 70\r\n"+
		"From: <sip:bob@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: dig\r\nCSeq: 1 REGISTER\r\n"+
		"Contact: <sip:bob@%s>\r\nContent-Length: 0\r\n\r\n", p.c.LocalAddr())
	chal := p.exchange(first, "d1")
	if chal.StatusCode() != 401 || !chal.Has("WWW-Authenticate") {
		t.Fatalf("unauthenticated REGISTER: %d, want 401 with a challenge", chal.StatusCode())
	}
	for _, tc := range []struct {
		password string
		want     int
	}{{"wrong", 401}, {"s3cret", 200}} {
		cl := &auth.Client{Accounts: []auth.Account{{Username: "bob", Password: tc.password}}}
		retry, err := cl.Authorize(first, chal)
		if err != nil {
			t.Fatal(err)
		}
		resp := p.exchange(retry, tc.password)
		if got := resp.StatusCode(); got != tc.want {
			t.Errorf("password %q: %d, want %d", tc.password, got, tc.want)
		}
		// The next try answers the newest challenge: a nonce-count used
		// once is not accepted again (replay).
		first, chal = retry, resp
	}
}

// With --users the proxy is no open relay and nobody calls as its users
// (Kamailio's stock config): a request from one of our users, or to be
// relayed elsewhere, needs credentials (407) unless it comes from a
// trusted network; a call from outside to our users needs none.
func TestCallsNeedCredentials(t *testing.T) {
	s, err := Start(Config{
		Listen:  []Listen{{Transport: transport.UDP, Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
		Users:   map[string]string{"bob": "s3cret"},
		Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	px := s.Listeners()[0].Addr
	// Where relayed requests go: not one of the proxy's hosts.
	elsewhere, err := net.ListenPacket("udp", "127.0.0.9:0")
	if err != nil {
		t.Fatal(err)
	}
	defer elsewhere.Close()

	send := func(from, fromURI, ruri string) (code int, relayed bool) {
		t.Helper()
		c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(from+":0")), net.UDPAddrFromAddrPort(px))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%d\r\nMax-Forwards: 70\r\n"+
			"From: <%s>;tag=1\r\nTo: <%s>\r\nCall-ID: auth-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
			ruri, c.LocalAddr(), time.Now().UnixNano(), fromURI, ruri, time.Now().UnixNano())
		buf := make([]byte, 4096)
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if n, err := c.Read(buf); err == nil {
			if m, err := sip.Parse(buf[:n]); err == nil {
				code = m.(*sip.Response).StatusCode()
			}
		}
		elsewhere.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, _, err = elsewhere.ReadFrom(buf)
		return code, err == nil
	}
	relay := "sip:x@" + elsewhere.LocalAddr().String()
	local := "sip:alice@" + px.String()
	tests := []struct {
		name, from, fromURI, ruri string
		code                      int
		relayed                   bool
	}{
		{"our user calling", "127.0.0.1", "sip:bob@127.0.0.1", local, 407, false},
		{"a stranger calling our user", "127.0.0.1", "sip:carol@example.com", local, 404, false},
		{"a stranger relaying", "127.0.0.1", "sip:carol@example.com", relay, 407, false},
		{"a trusted network relaying", "127.0.0.2", "sip:carol@example.com", relay, 0, true},
	}
	for _, tc := range tests {
		code, relayed := send(tc.from, tc.fromURI, tc.ruri)
		if code != tc.code || relayed != tc.relayed {
			t.Errorf("%s: answered %d, relayed %v; want %d, %v", tc.name, code, relayed, tc.code, tc.relayed)
		}
	}
}

// Our user who answers the 407 with the right password is routed.
func TestOurUserAuthenticated(t *testing.T) {
	srv, p := startUDP(t, Config{Users: map[string]string{"bob": "s3cret"}})
	px := srv.Listeners()[0].Addr.String()
	req := p.request("OPTIONS sip:alice@%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1\r\nMax-Forwards: 70\r\n"+
		"From: <sip:bob@127.0.0.1>;tag=1\r\nTo: <sip:alice@%s>\r\nCall-ID: ours\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", px, px)
	chal := p.exchange(req, "o1")
	if chal.StatusCode() != 407 {
		t.Fatalf("first try: %d, want 407", chal.StatusCode())
	}
	cl := &auth.Client{Accounts: []auth.Account{{Username: "bob", Password: "s3cret"}}}
	retry, err := cl.Authorize(req, chal)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.exchange(retry, "o2").StatusCode(); got != 404 {
		t.Errorf("authenticated: %d, want 404 (routed: alice is not registered)", got)
	}
}

// startUDP starts the daemon on a free UDP port of 127.0.0.1 with cfg's
// other settings, and a peer socket talking to it.
func startUDP(t *testing.T, cfg Config) (*Server, *peer) {
	t.Helper()
	cfg.Listen = []Listen{{Transport: transport.UDP, Addr: netip.MustParseAddrPort("127.0.0.1:0")}}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := net.Dial("udp", s.Listeners()[0].Addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return s, &peer{t: t, c: c}
}

// peer is a UDP socket sending requests to the daemon.
type peer struct {
	t *testing.T
	c net.Conn
}

// request parses a request written with %s verbs filled by args.
func (p *peer) request(format string, args ...any) *sip.Request {
	p.t.Helper()
	m, err := sip.Parse(fmt.Appendf(nil, format, args...))
	if err != nil {
		p.t.Fatal(err)
	}
	return m.(*sip.Request)
}

// exchange sends req, with a Via of this socket and branch, and returns
// the response that comes back.
func (p *peer) exchange(req *sip.Request, branch string) *sip.Response {
	p.t.Helper()
	if err := req.SetTopVia(sip.Via{Transport: "UDP", Host: "127.0.0.1", Port: p.c.LocalAddr().(*net.UDPAddr).Port, Branch: sip.MagicCookie + branch}); err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.c.Write(req.AppendTo(nil)); err != nil {
		p.t.Fatal(err)
	}
	buf := make([]byte, 4096)
	p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := p.c.Read(buf)
	if err != nil {
		p.t.Fatal(err)
	}
	m, err := sip.Parse(buf[:n])
	if err != nil {
		p.t.Fatal(err)
	}
	return m.(*sip.Response)
}
