package transport_test

import (
	"context"
	"fmt"
	"log"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// A server that answers every request 200 OK, and a client that sends it
// an OPTIONS over UDP on loopback.
func Example() {
	var server *transport.Layer
	server, err := transport.New(transport.Config{Handler: transport.HandlerFunc(func(m sip.Message, src transport.Source) {
		if req, ok := m.(*sip.Request); ok {
			server.SendResponse(context.Background(), sip.NewResponse(req, 200, ""), src)
		}
	})})
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()
	addr, err := server.Listen(transport.UDP, "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}

	responses := make(chan sip.Message, 1)
	client, _ := transport.New(transport.Config{Handler: transport.HandlerFunc(func(m sip.Message, _ transport.Source) {
		responses <- m
	})})
	defer client.Close()
	if _, err := client.Listen(transport.UDP, "127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}

	m, _ := sip.Parse([]byte("OPTIONS sip:" + addr.String() + " SIP/2.0\r\n" +
		// The layer writes the transport and sent-by; the branch is ours.
		"Via: SIP/2.0/UDP 0.0.0.0;rport;branch=z9hG4bK776asdhds\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=1928301774\r\nTo: <sip:bob@127.0.0.1>\r\n" +
		"Call-ID: a84b4c76e66710\r\nCSeq: 63104 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	target := transport.Target{Transport: transport.UDP, Addr: addr}
	if _, err := client.SendRequest(context.Background(), m.(*sip.Request), target); err != nil {
		log.Fatal(err)
	}
	fmt.Println((<-responses).StartLine())
	// Output: SIP/2.0 200 OK
}
