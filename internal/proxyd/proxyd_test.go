package proxyd

import (
	"net/netip"
	"testing"

	"github.com/sipkit/sipkit/location"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// Where a registered contact is reached: its Contact, unless it is a
// WebSocket client's made-up host (RFC 7118 §5) or it registered over a
// stream, whose connection the transport still holds.
func TestReachRegisteredContact(t *testing.T) {
	tests := []struct {
		contact, received string
		want              transport.Target
	}{
		{"sip:bob@127.0.0.1:5072", "udp:127.0.0.1:5072", transport.Target{}},
		{"sip:bob@127.0.0.1:5072;transport=tcp", "tcp:127.0.0.1:40001", transport.Target{Transport: "TCP", Addr: netip.MustParseAddrPort("127.0.0.1:40001")}},
		{"sip:bob@df7jal23ls0d.invalid;transport=ws", "ws:127.0.0.1:40002", transport.Target{Transport: "WS", Addr: netip.MustParseAddrPort("127.0.0.1:40002")}},
		{"sip:bob@x.invalid", "udp:127.0.0.1:5090", transport.Target{Transport: "UDP", Addr: netip.MustParseAddrPort("127.0.0.1:5090")}},
		{"sip:bob@127.0.0.1:5072", "", transport.Target{}},
		{"sip:bob@127.0.0.1:5072", "tcp:garbage", transport.Target{}},
	}
	for _, tc := range tests {
		u, err := sip.ParseURI(tc.contact)
		if err != nil {
			t.Fatal(err)
		}
		if got := via(u, location.Binding{Received: tc.received}); got != tc.want {
			t.Errorf("via(%s, received %q) = %+v, want %+v", tc.contact, tc.received, got, tc.want)
		}
	}
}

// The proxy's hosts are one domain for the location service, however an
// address is spelled and at any port.
func TestAORKeyForOwnHosts(t *testing.T) {
	s := &Server{ownHosts: map[string]bool{"127.0.0.1": true, "[::1]": true, "example.org": true}, canonical: "example.org"}
	tests := []struct {
		uri  string
		key  string
		ours bool
	}{
		{"sip:bob@127.0.0.1", "sip:bob@example.org", true},
		{"sip:bob@127.0.0.1:5062", "sip:bob@example.org", true},
		{"sip:bob@[0:0:0:0:0:0:0:1]:5060", "sip:bob@example.org", true},
		{"sip:bob@EXAMPLE.org", "sip:bob@example.org", true},
		{"sip:bob@127.0.0.2", "", false},
		{"sip:bob@example.com", "", false},
	}
	for _, tc := range tests {
		u, err := sip.ParseURI(tc.uri)
		if err != nil {
			t.Fatal(err)
		}
		key, ok := s.aor(u)
		if key != tc.key || ok != tc.ours {
			t.Errorf("aor(%s) = %q, %v; want %q, %v", tc.uri, key, ok, tc.key, tc.ours)
		}
	}
}
