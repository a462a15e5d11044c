package ua

import (
	"context"
	"net/netip"
	"testing"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// nullSender accepts every message and delivers none.
type nullSender struct{}

func (nullSender) SendRequest(_ context.Context, _ *sip.Request, t transport.Target) (transport.Target, error) {
	return t, nil
}
func (nullSender) SendResponse(context.Context, *sip.Response, transport.Source) error { return nil }

// Whatever a peer sends, a UA with calls in progress both ways never
// panics: requests in and out of dialogs, responses to its INVITE.
func FuzzUA(f *testing.F) {
	for _, s := range []string{
		"INVITE sip:bob@127.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.2>\r\nCall-ID: f1\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1>\r\n\r\n",
		"BYE sip:bob@127.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK2\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.2>;tag=x\r\nCall-ID: f1\r\nCSeq: 2 BYE\r\n\r\n",
		"CANCEL sip:bob@127.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.2>\r\nCall-ID: f1\r\nCSeq: 1 CANCEL\r\nReason: SIP;cause=200;text=\"x\"\r\n\r\n",
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKua\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.2>;tag=y\r\nCall-ID: f1\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@127.0.0.2;transport=tcp>\r\nRecord-Route: <sip:p;lr>\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	u, err := New(Config{Sender: nullSender{}, Contact: "<sip:alice@127.0.0.1:5060>", OnIncoming: func(ic *IncomingCall) { ic.Ring() }})
	if err != nil {
		f.Fatal(err)
	}
	to, _ := sip.ParseURI("sip:bob@127.0.0.2")
	src := transport.Source{Transport: transport.UDP, Remote: netip.MustParseAddrPort("127.0.0.2:5060")}
	f.Fuzz(func(t *testing.T, data []byte) {
		if c, err := u.Call(context.Background(), to, CallOptions{Target: transport.Target{Transport: transport.UDP, Addr: src.Remote}}); err == nil {
			defer c.Hangup()
		}
		if m, err := sip.Parse(data); err == nil {
			u.HandleMessage(m, src)
		}
	})
}
