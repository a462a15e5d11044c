package siptest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

// A UAS endpoint answers every request with 200; the UAC endpoint sends
// an OPTIONS and sees the answer come back to where it was sent from.
func ExampleNetwork() {
	t := &testing.T{} // in a test, the test's own t
	n := siptest.NewNetwork()
	defer n.Close()

	uas := n.Endpoint("UDP", "127.0.0.1:5070", nil)
	uas.SetHandler(transport.HandlerFunc(func(msg sip.Message, src transport.Source) {
		resp := siptest.Response(t, msg.(*sip.Request), 200, "To: <sip:bob@127.0.0.1:5070>;tag=b1")
		uas.SendResponse(context.Background(), resp, src)
	}))
	answers := make(chan sip.Message, 1)
	uac := n.Endpoint("UDP", "127.0.0.1:5060", transport.HandlerFunc(func(msg sip.Message, src transport.Source) {
		answers <- msg
	}))

	req := siptest.Request(t, "OPTIONS", "sip:bob@127.0.0.1:5070")
	uac.SendRequest(context.Background(), req, transport.Target{Transport: "UDP", Addr: uas.Addr()})
	fmt.Println((<-answers).StartLine())
	for _, ev := range n.Log() {
		fmt.Println(ev.Transport, ev.From, "->", ev.To, ev.Msg.StartLine())
	}
	// Output:
	// SIP/2.0 200 OK
	// UDP 127.0.0.1:5060 -> 127.0.0.1:5070 OPTIONS sip:bob@127.0.0.1:5070 SIP/2.0
	// UDP 127.0.0.1:5070 -> 127.0.0.1:5060 SIP/2.0 200 OK
}
