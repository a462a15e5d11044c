package transaction

import (
	"context"
	"testing"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

var _ Sender = (*transport.Layer)(nil)

// The layer runs on the real transport too: an INVITE over UDP on
// loopback answered 486, ACKed by the client transaction and absorbed by
// the server one, in real time.
func TestOverRealTransport(t *testing.T) {
	for _, tr := range []string{transport.UDP, transport.TCP} {
		t.Run(tr, func(t *testing.T) {
			tu := &serverTU{respond: func(tx *ServerTx, req *sip.Request) {
				resp := sip.NewResponse(req, 486, "")
				resp.SetToTag("busy")
				tx.Respond(resp)
			}}
			uasT, _ := stack(t, tu)
			uasAddr, err := uasT.Listen(tr, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			uacT, uacTx := stack(t, nil)
			if _, err := uacT.Listen(transport.UDP, "127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			done := make(doneTU, 1)
			inv := siptest.Request(t, sip.INVITE, "sip:bob@"+uasAddr.String())
			tx, err := uacTx.Request(context.Background(), inv, transport.Target{Transport: tr, Addr: uasAddr}, done)
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("no final response")
			}
			if st := tx.State(); st != Completed && st != Terminated {
				t.Errorf("client state %v after 486", st)
			}
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				reqs, _, _, _ := tu.snapshot()
				if len(reqs) == 1 {
					if st := reqs[0].State(); st == Confirmed || st == Terminated {
						return // the ACK arrived and matched
					}
				}
				time.Sleep(5 * time.Millisecond)
			}
			t.Error("the server transaction never saw the ACK")
		})
	}
}

func stack(t *testing.T, h Handler) (*transport.Layer, *Layer) {
	t.Helper()
	var txl *Layer
	tl, err := transport.New(transport.Config{Handler: transport.HandlerFunc(func(m sip.Message, src transport.Source) {
		txl.HandleMessage(m, src)
	})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close() })
	txl, err = New(Config{Sender: tl, Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	return tl, txl
}
