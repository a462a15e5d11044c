package transport

import (
	"net/netip"
	"testing"

	"github.com/sipkit/sipkit/sip"
)

func viaRequest(t *testing.T, via string) *sip.Request {
	t.Helper()
	m, err := sip.Parse([]byte("INVITE sip:user@example.com SIP/2.0\r\nVia: " + via + "\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:user@example.com>\r\n" +
		"Call-ID: v1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*sip.Request)
}

// RFC 3261 §18.2.1 and RFC 3581 §4: what a server writes into the top
// Via of a request it receives.
func TestStampVia(t *testing.T) {
	tests := []struct {
		name, via, from, want string
	}{
		// RFC 3581 §4: the client at 10.1.1.1:4540 behind a NAT that
		// maps it to 192.0.2.1:9988.
		{"rfc3581 example", "SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff", "192.0.2.1:9988",
			"SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;rport=9988;branch=z9hG4bKkjshdyff"},
		// RFC 3581 §4: received is added with rport even when the
		// address is the sent-by.
		{"rport, same address", "SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK1", "192.0.2.1:5060",
			"SIP/2.0/UDP 192.0.2.1:5060;received=192.0.2.1;rport=5060;branch=z9hG4bK1"},
		// RFC 3261 §18.2.1: no rport, sent-by is the source: nothing.
		{"same address", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1", "192.0.2.1:5062",
			"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1"},
		// §18.2.1: a different address, or a name, gets received; the
		// port is not recorded without rport.
		{"other address", "SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK1", "192.0.2.1:9988",
			"SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;branch=z9hG4bK1"},
		{"host name", "SIP/2.0/TCP pc33.example.com;branch=z9hG4bK1", "192.0.2.4:40000",
			"SIP/2.0/TCP pc33.example.com;received=192.0.2.4;branch=z9hG4bK1"},
		// A received the client wrote itself is not believed.
		{"spoofed received", "SIP/2.0/UDP 10.1.1.1;received=203.0.113.7;branch=z9hG4bK1", "192.0.2.1:5060",
			"SIP/2.0/UDP 10.1.1.1;received=192.0.2.1;branch=z9hG4bK1"},
		// Even when the sent-by is the source: a response must not be
		// aimed elsewhere by the client.
		{"spoofed received, same host", "SIP/2.0/UDP 192.0.2.1;received=203.0.113.7;branch=z9hG4bK1", "192.0.2.1:5060",
			"SIP/2.0/UDP 192.0.2.1;received=192.0.2.1;branch=z9hG4bK1"},
		// RFC 5118 §4.5: IPv6, written as a reference.
		{"ipv6", "SIP/2.0/UDP [2001:db8::9:1]:6050;rport;branch=z9hG4bK1", "[2001:db8::9:255]:6051",
			"SIP/2.0/UDP [2001:db8::9:1]:6050;received=[2001:db8::9:255];rport=6051;branch=z9hG4bK1"},
		{"ipv6 link-local source", "SIP/2.0/UDP [fe80::2]:5060;rport;branch=z9hG4bK1", "[fe80::1%eth0]:5062",
			"SIP/2.0/UDP [fe80::2]:5060;received=[fe80::1];rport=5062;branch=z9hG4bK1"},
		{"ipv6 same address", "SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bK1", "[2001:db8::9:1]:6050",
			"SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bK1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := viaRequest(t, tt.via)
			if err := stampVia(req, netip.MustParseAddrPort(tt.from)); err != nil {
				t.Fatal(err)
			}
			v, _ := req.TopVia()
			if got := v.String(); got != tt.want {
				t.Errorf("Via = %q\nwant  %q", got, tt.want)
			}
			if req.Branch() != v.Branch {
				t.Errorf("Branch() = %q after the edit, Via says %q", req.Branch(), v.Branch)
			}
		})
	}
}

// RFC 3261 §18.2.2 and RFC 3581 §4: where a response goes when the
// request's connection (if any) is gone.
func TestResponseDestination(t *testing.T) {
	tests := []struct {
		name, via string
		want      responseDest
	}{
		// RFC 3581 §4: the response goes to received:rport, "from the
		// same address and port that the request was received on".
		{"rfc3581 example", "SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;rport=9988;branch=z9hG4bKkjshdyff",
			responseDest{transport: UDP, addr: netip.MustParseAddrPort("192.0.2.1:9988")}},
		{"received without rport", "SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;branch=z9hG4bK1",
			responseDest{transport: UDP, addr: netip.MustParseAddrPort("192.0.2.1:4540")}},
		{"received, default port", "SIP/2.0/UDP pc33.example.com;received=192.0.2.1;branch=z9hG4bK1",
			responseDest{transport: UDP, addr: netip.MustParseAddrPort("192.0.2.1:5060")}},
		// On a stream, rport was the closed connection's port: a new
		// connection goes to the sent-by port.
		{"tcp ignores rport", "SIP/2.0/TCP 10.1.1.1:5070;received=192.0.2.1;rport=40000;branch=z9hG4bK1",
			responseDest{transport: TCP, addr: netip.MustParseAddrPort("192.0.2.1:5070")}},
		{"tls default port", "SIP/2.0/TLS 10.1.1.1;received=192.0.2.1;branch=z9hG4bK1",
			responseDest{transport: TLS, addr: netip.MustParseAddrPort("192.0.2.1:5061")}},
		{"maddr", "SIP/2.0/UDP 10.1.1.1:5070;maddr=239.255.255.1;received=192.0.2.1;branch=z9hG4bK1",
			responseDest{transport: UDP, addr: netip.MustParseAddrPort("239.255.255.1:5070")}},
		// §18.2.2 uses maddr on unreliable transports only.
		{"maddr on tcp", "SIP/2.0/TCP 10.1.1.1:5070;maddr=239.255.255.1;received=192.0.2.1;branch=z9hG4bK1",
			responseDest{transport: TCP, addr: netip.MustParseAddrPort("192.0.2.1:5070")}},
		{"numeric sent-by", "SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK1",
			responseDest{transport: UDP, addr: netip.MustParseAddrPort("192.0.2.7:5070")}},
		{"ipv6 received", "SIP/2.0/UDP [2001:db8::9:1]:6050;received=[2001:db8::9:255];rport=6051;branch=z9hG4bK1",
			responseDest{transport: UDP, addr: netip.MustParseAddrPort("[2001:db8::9:255]:6051")}},
		{"ipv6 received unbracketed", "SIP/2.0/UDP [2001:db8::9:1]:6050;received=2001:db8::9:255;branch=z9hG4bK1",
			responseDest{transport: UDP, addr: netip.MustParseAddrPort("[2001:db8::9:255]:6050")}},
		// RFC 3263 §5: a name is resolved by the caller.
		{"name", "SIP/2.0/UDP pc33.example.com:5070;branch=z9hG4bK1",
			responseDest{transport: UDP, host: "pc33.example.com", port: 5070}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := viaRequest(t, tt.via).TopVia()
			got, ok := viaResponseDest(v)
			if !ok || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, ok, tt.want)
			}
		})
	}
	for _, via := range []string{
		"SIP/2.0/SCTP 10.1.1.1;branch=z9hG4bK1",                       // a transport we do not have
		"SIP/2.0/UDP 10.1.1.1;maddr=evil.example.com;branch=z9hG4bK1", // a name in maddr
	} {
		v, _ := viaRequest(t, via).TopVia()
		if got, ok := viaResponseDest(v); ok {
			t.Errorf("%s: got %+v, want no destination", via, got)
		}
	}
}
