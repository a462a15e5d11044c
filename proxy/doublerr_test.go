package proxy

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

// mux is a proxy's sender with a UDP and a TCP listener at one address,
// as transport.Layer sends on the socket of the target's transport.
type mux struct{ udp, tcp *siptest.Endpoint }

func (m mux) pick(tr string) *siptest.Endpoint {
	if tr == transport.TCP {
		return m.tcp
	}
	return m.udp
}

func (m mux) SendRequest(ctx context.Context, req *sip.Request, t transport.Target) (transport.Target, error) {
	return m.pick(t.Transport).SendRequest(ctx, req, t)
}

func (m mux) SendResponse(ctx context.Context, resp *sip.Response, src transport.Source) error {
	return m.pick(src.Transport).SendResponse(ctx, resp, src)
}

// RFC 5658: a request that arrives on UDP and leaves on TCP is
// record-routed twice, the top value naming the side facing the callee,
// so each side of the dialog reaches the proxy over its own transport.
func TestDoubleRecordRoute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := siptest.NewNetwork()
		defer n.Close()
		ap := netip.MustParseAddrPort(proxyAddr)
		m := mux{udp: n.Endpoint(transport.UDP, proxyAddr, nil), tcp: n.Endpoint(transport.TCP, proxyAddr, nil)}
		e := &env{t: t, n: n, targets: map[string][]Target{}}
		p, err := New(Config{
			Sender:    m,
			Listeners: []Listener{{Transport: transport.UDP, Addr: ap}, {Transport: transport.TCP, Addr: ap}},
			Router:    RouterFunc(e.route),
			Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		m.udp.SetHandler(p)
		m.tcp.SetHandler(p)
		e.p = p
		e.caller = newCaller(e, transport.UDP, callerAddr)
		tcpPhone := e.phoneOn(transport.TCP, "127.0.0.1:5072")
		u, _ := sip.ParseURI("sip:bob@127.0.0.1:5072;transport=tcp")
		e.targets["bob"] = []Target{{URI: u}}
		e.caller.invite("bob")
		synctest.Wait()
		if tcpPhone.received() != 1 {
			t.Fatalf("TCP phone got %d INVITEs, want 1", tcpPhone.received())
		}
		var rr []string
		for v := range tcpPhone.tx(0).Request().Values("Record-Route") {
			rr = append(rr, v)
		}
		want := []string{"<sip:127.0.0.1:5060;transport=tcp;lr>", "<sip:127.0.0.1:5060;lr>"}
		if !slices.Equal(rr, want) {
			t.Errorf("Record-Route %q, want %q", rr, want)
		}
	})
}
