package registrar_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/sipkit/sipkit/location"
	"github.com/sipkit/sipkit/registrar"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

func ExampleRegistrar_Register() {
	store := location.NewMemory(0)
	defer store.Close()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	reg, err := registrar.New(registrar.Config{Store: store, Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}

	m, _ := sip.Parse([]byte("REGISTER sip:example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK1\r\n" +
		"From: <sip:bob@example.com>;tag=b1\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"Call-ID: c1@127.0.0.1\r\nCSeq: 1 REGISTER\r\n" +
		"Contact: <sip:bob@127.0.0.1:5072>;q=0.5\r\n" +
		"Expires: 600\r\nContent-Length: 0\r\n\r\n"))
	src := transport.Source{Transport: "UDP", Remote: netip.MustParseAddrPort("127.0.0.1:5072")}

	resp := reg.Register(context.Background(), m.(*sip.Request), src)
	fmt.Println(resp.StatusCode())
	for _, c := range resp.Contacts() {
		fmt.Println(c)
	}
	bs, _ := store.Lookup(context.Background(), "sip:bob@example.com", now)
	fmt.Println(bs[0].Contact, bs[0].Q, bs[0].Received)
	// Output:
	// 200
	// <sip:bob@127.0.0.1:5072>;expires=600;q=0.5
	// sip:bob@127.0.0.1:5072 500 udp:127.0.0.1:5072
}
