package proxy

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

// FuzzProxy feeds whatever parses to the proxy, as a peer on the network
// would send it: bad Route, Contact, Max-Breadth, Proxy-Require and Via
// values, stray responses, CANCELs and ACKs for nothing. The proxy must
// answer or drop them without a panic (DESIGN.md: bad input never
// disturbs other calls).
func FuzzProxy(f *testing.F) {
	seeds := []string{
		"INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Breadth: 1\r\nContent-Length: 0\r\n\r\n",
		"BYE sip:ph@127.0.0.1:5071 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK2\r\nMax-Forwards: 1\r\nRoute: <sip:127.0.0.1:5060;lr>, <sip:127.0.0.1:5060>\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@127.0.0.1>;tag=2\r\nCall-ID: c2\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
		"ACK sip:127.0.0.1:5060;lr SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK3\r\nMax-Forwards: 70\r\nRoute: <sip:ph@127.0.0.1:5071>\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@127.0.0.1>;tag=2\r\nCall-ID: c3\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
		"CANCEL sip:bob@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK4\r\nMax-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: c4\r\nCSeq: 1 CANCEL\r\nReason: SIP;cause=200;text=\"x\"\r\nContent-Length: 0\r\n\r\n",
		"OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK5\r\nMax-Forwards: 0\r\nProxy-Require: foo\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: c5\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK6.00\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK6\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@127.0.0.1>;tag=2\r\nCall-ID: c6\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	n := siptest.NewNetwork()
	defer n.Close()
	pep := n.Endpoint(transport.UDP, proxyAddr, nil)
	n.Endpoint(transport.UDP, "127.0.0.1:5071", transport.HandlerFunc(func(sip.Message, transport.Source) {}))
	n.Endpoint(transport.UDP, callerAddr, transport.HandlerFunc(func(sip.Message, transport.Source) {}))
	u, _ := sip.ParseURI("sip:bob@127.0.0.1:5071")
	p, err := New(Config{
		Sender:    pep,
		Listeners: []Listener{{Transport: transport.UDP, Addr: netip.MustParseAddrPort(proxyAddr)}},
		Router: RouterFunc(func(_ context.Context, req *sip.Request, _ transport.Source) (Decision, error) {
			// Fork wide, with a Path, to reach every branch of the code.
			return Decision{Targets: []Target{{URI: u}, {URI: u, Q: 500, Path: []string{"<sip:127.0.0.1:5071;lr>"}}, {URI: req.RequestURI()}}}, nil
		}),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		f.Fatal(err)
	}
	pep.SetHandler(p)
	src := transport.Source{Transport: transport.UDP, Local: netip.MustParseAddrPort(proxyAddr), Remote: netip.MustParseAddrPort(callerAddr)}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := sip.Parse(data)
		if err != nil {
			return
		}
		p.HandleMessage(msg, src)
	})
}
