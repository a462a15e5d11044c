package proxyd

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sipkit/sipkit/internal/testnet"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key
// as PEM files, and returns their paths and a client configuration that
// trusts it.
func writeCert(t *testing.T) (certFile, keyFile string, client *tls.Config) {
	t.Helper()
	c := testnet.NewCert(t)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, c.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, c.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	c.Client.ServerName = "127.0.0.1"
	return certFile, keyFile, c.Client
}

// A phone registers over TLS, the proxy presenting --tls-cert, and a
// call to it from a UDP caller reaches it over that TLS connection
// (RFC 3261 §26.2; the contact is reached where it registered from).
func TestTLSPhoneRegistersAndIsCalled(t *testing.T) {
	certFile, keyFile, clientTLS := writeCert(t)
	local := netip.MustParseAddrPort("127.0.0.1:0")
	s, err := Start(Config{
		Listen:  []Listen{{Transport: transport.UDP, Addr: local}, {Transport: transport.TLS, Addr: local}},
		TLSCert: certFile, TLSKey: keyFile,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	udp, tlsAddr := s.Listeners()[0].Addr, s.Listeners()[1].Addr

	phone, err := tls.Dial("tcp", tlsAddr.String(), clientTLS)
	if err != nil {
		t.Fatalf("TLS handshake with the proxy's certificate: %v", err)
	}
	defer phone.Close()
	me := phone.LocalAddr().String()
	fmt.Fprintf(phone, "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS %s;branch=z9hG4bKtlsreg\r\nMax-Forwards: 70\r\n"+
		"From: <sip:bob@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: tlsreg\r\nCSeq: 1 REGISTER\r\n"+
		"Contact: <sip:bob@%s;transport=tls>\r\nExpires: 300\r\nContent-Length: 0\r\n\r\n", me, me)
	r := sip.NewStreamReader(phone, sip.Limits{})
	phone.SetReadDeadline(time.Now().Add(5 * time.Second))
	m, err := r.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if resp, ok := m.(*sip.Response); !ok || resp.StatusCode() != 200 {
		t.Fatalf("REGISTER over TLS answered %s", m.StartLine())
	}

	caller, err := net.Dial("udp", udp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	fmt.Fprintf(caller, "INVITE sip:bob@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKtlsinv\r\nMax-Forwards: 70\r\n"+
		"From: <sip:alice@127.0.0.1>;tag=2\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: tlsinv\r\nCSeq: 1 INVITE\r\n"+
		"Contact: <sip:alice@%s>\r\nContent-Length: 0\r\n\r\n", udp, caller.LocalAddr(), caller.LocalAddr())
	m, err = r.ReadMessage()
	if err != nil {
		t.Fatalf("no INVITE over the phone's TLS connection: %v", err)
	}
	inv, ok := m.(*sip.Request)
	if !ok || inv.Method() != sip.INVITE || inv.CallID() != "tlsinv" {
		t.Fatalf("phone got %s, want the INVITE", m.StartLine())
	}
	if v, _ := inv.TopVia(); v.Transport != "TLS" {
		t.Errorf("proxy's Via says %s, want TLS", v.Transport)
	}
}

// A TLS or WSS listener without a certificate is a clear error at start.
func TestSecureListenerNeedsCertificate(t *testing.T) {
	for _, tr := range []string{transport.TLS, transport.WSS} {
		_, err := Start(Config{
			Listen: []Listen{{Transport: tr, Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err == nil || !strings.Contains(err.Error(), "--tls-cert") {
			t.Errorf("%s listener without a certificate: %v, want an error naming --tls-cert", tr, err)
		}
	}
	_, err := Start(Config{
		Listen:  []Listen{{Transport: transport.TLS, Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
		TLSCert: "/nonexistent/cert.pem", TLSKey: "/nonexistent/key.pem",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err == nil {
		t.Error("missing certificate files: no error")
	}
}

// A phone registered with a TLS contact on a host that accepts the TCP
// connection and then says nothing holds each INVITE to it for the dial
// timeout. The goroutines reading the UDP socket must not wait for that
// (DESIGN.md: run to completion, never on the network): with more such
// INVITEs than readers, an OPTIONS sent after them is still answered at
// once.
func TestSilentStreamContactDoesNotStallReaders(t *testing.T) {
	silent := testnet.Silent(t)
	s, p := startUDP(t, Config{})
	proxyAddr := s.Listeners()[0].Addr
	reg := p.request("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1\r\nMax-Forwards: 70\r\n"+
		"From: <sip:bob@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: silent-reg\r\nCSeq: 1 REGISTER\r\n"+
		"Contact: <sip:bob@%s;transport=tls>\r\nContent-Length: 0\r\n\r\n", silent)
	if resp := p.exchange(reg, "silentreg"); resp.StatusCode() != 200 {
		t.Fatalf("REGISTER: %d", resp.StatusCode())
	}
	me := p.c.LocalAddr()
	for i := range 2*runtime.GOMAXPROCS(0) + 2 {
		fmt.Fprintf(p.c, "INVITE sip:bob@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKsilent%d\r\nMax-Forwards: 70\r\n"+
			"From: <sip:alice@127.0.0.1>;tag=a%d\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: silent-%d\r\nCSeq: 1 INVITE\r\n"+
			"Contact: <sip:alice@%s>\r\nContent-Length: 0\r\n\r\n", proxyAddr, me, i, i, i, me)
	}
	start := time.Now()
	fmt.Fprintf(p.c, "OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKsilentping\r\nMax-Forwards: 70\r\n"+
		"From: <sip:alice@127.0.0.1>;tag=p\r\nTo: <sip:%s>\r\nCall-ID: silent-ping\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", proxyAddr, me, proxyAddr)
	buf := make([]byte, 4096)
	p.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		n, err := p.c.Read(buf)
		if err != nil {
			t.Fatalf("no answer to the OPTIONS after %v (%v): the readers waited on the TLS dials", time.Since(start).Round(time.Millisecond), err)
		}
		m, err := sip.Parse(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		if m.CallID() == "silent-ping" {
			return
		}
	}
}
