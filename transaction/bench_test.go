package transaction

import (
	"context"
	"testing"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

// doneTU signals each final response.
type doneTU chan struct{}

func (d doneTU) HandleResponse(_ *ClientTx, r *sip.Response) {
	if r.StatusCode() >= 200 {
		d <- struct{}{}
	}
}
func (d doneTU) HandleError(*ClientTx, error) { d <- struct{}{} }

// BenchmarkNonInviteTransaction drives OPTIONS transactions from a UAC
// layer to a UAS layer that answers 200, over the in-memory network in
// real time. One op is one whole transaction, both sides: building the
// request, client and server state machines, matching, the response,
// and the messages serialised and parsed on the way. The transport is
// TCP so that Completed ends at once and the tables stay small.
func BenchmarkNonInviteTransaction(b *testing.B) {
	n := siptest.NewNetwork()
	defer n.Close()
	uac, _ := pair(b, n, transport.TCP)
	target := transport.Target{Transport: transport.TCP, Addr: mustAddr(uasAddr)}
	b.ReportAllocs()
	b.SetParallelism(8)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		done := make(doneTU, 1)
		for pb.Next() {
			req := siptest.Request(b, sip.OPTIONS, "sip:bob@127.0.0.2")
			if _, err := uac.Request(context.Background(), req, target, done); err != nil {
				b.Error(err)
				return
			}
			<-done
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tx/s")
}
