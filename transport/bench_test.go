package transport

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipkit/sipkit/sip"
)

// BenchmarkUDPRoundTrip measures the layer's receive → parse → stamp
// Via → handler → build response → send path on loopback: clients send
// an OPTIONS and wait for the 200. One op is one round trip, so allocs/op
// counts the request in and the response out (both in the server).
func BenchmarkUDPRoundTrip(b *testing.B) {
	var srv atomic.Pointer[Layer]
	l, addrs, _ := newLayer(b, Config{Handler: HandlerFunc(func(m sip.Message, src Source) {
		if req, ok := m.(*sip.Request); ok {
			srv.Load().SendResponse(context.Background(), sip.NewResponse(req, 200, ""), src)
		}
	})}, "UDP:127.0.0.1:0")
	srv.Store(l)
	req := []byte("OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bKbench\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:bob@127.0.0.1>\r\n" +
		"Call-ID: bench@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nAccept: application/sdp\r\nContent-Length: 0\r\n\r\n")
	b.ReportAllocs()
	b.SetParallelism(4)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addrs[UDP]))
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		buf := make([]byte, 2048)
		for pb.Next() {
			if _, err := c.Write(req); err != nil {
				b.Error(err)
				return
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Read(buf); err != nil {
				b.Error(err) // a lost datagram on loopback: the queue overflowed
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "roundtrips/s")
}
