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
