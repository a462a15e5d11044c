package transaction

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

// countingTU counts final responses and errors of client transactions.
type countingTU struct{ finals, errs atomic.Int64 }

func (c *countingTU) HandleResponse(_ *ClientTx, r *sip.Response) {
	if r.StatusCode() >= 200 {
		c.finals.Add(1)
	}
}
func (c *countingTU) HandleError(*ClientTx, error) { c.errs.Add(1) }

// pair is a UAC layer and a UAS layer whose TU answers every request at
// once: OPTIONS with 200, INVITE with 486 or 200 by Call-ID.
func pair(t testing.TB, n *siptest.Network, tr string) (uac, uas *Layer) {
	a := n.Endpoint(tr, uacAddr, nil)
	b := n.Endpoint(tr, uasAddr, nil)
	uac, _ = New(Config{Sender: a})
	tu := &serverTU{respond: func(tx *ServerTx, req *sip.Request) {
		code := 200
		if req.Method() == sip.INVITE && req.CSeq().Seq%2 == 0 {
			code = 486
		}
		resp := sip.NewResponse(req, code, "")
		resp.SetToTag("uas")
		tx.Respond(resp)
	}}
	uas, _ = New(Config{Sender: b, Handler: tu})
	a.SetHandler(uac)
	b.SetHandler(uas)
	return uac, uas
}

// Transactions leave the tables when they terminate: after 10 000 of
// every kind and 64·T1 more, both layers are empty (no leak per call).
func TestTablesEmptyAfter10000Transactions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := siptest.NewNetwork()
		defer n.Close()
		uac, uas := pair(t, n, transport.UDP)
		tu := &countingTU{}
		const total = 10000
		for i := range total {
			method := sip.OPTIONS
			if i%3 != 0 {
				method = sip.INVITE
			}
			req := siptest.Request(t, method, "sip:bob@127.0.0.2", fmt.Sprintf("CSeq: %d %s", i, method))
			if _, err := uac.Request(context.Background(), req, transport.Target{Transport: transport.UDP, Addr: mustAddr(uasAddr)}, tu); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if got := tu.finals.Load(); got != total || tu.errs.Load() != 0 {
			t.Fatalf("%d final responses and %d errors, want %d and 0", got, tu.errs.Load(), total)
		}
		if s, c := uas.Len(); s == 0 && c == 0 {
			t.Fatal("tables already empty: the test would prove nothing")
		}
		time.Sleep(uac.Timers().timeout64() + time.Second)
		synctest.Wait()
		checkEmpty(t, uac)
		checkEmpty(t, uas)
	})
}
