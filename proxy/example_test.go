package proxy_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/sipkit/sipkit/proxy"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transaction"
	"github.com/sipkit/sipkit/transport"
)

// phone rings at once; the desk phone answers when told, the mobile
// reports the CANCEL it gets.
type phone struct {
	name    string
	answer  chan struct{} // closed: answer now (nil: never)
	rang    chan struct{}
	reasons chan string
}

func (p *phone) HandleRequest(tx *transaction.ServerTx, req *sip.Request) {
	if req.Method() != sip.INVITE {
		return
	}
	ring := sip.NewResponse(req, 180, "")
	ring.SetToTag(p.name)
	tx.Respond(ring)
	p.rang <- struct{}{}
	if p.answer != nil {
		go func() {
			<-p.answer
			ok := sip.NewResponse(req, 200, "")
			ok.SetToTag(p.name)
			ok.AppendHeader("Contact", "<sip:"+p.name+"@127.0.0.1>")
			tx.Respond(ok)
		}()
	}
}

func (p *phone) HandleCancel(tx *transaction.ServerTx, cancel *sip.Request) {
	r, _ := cancel.Get("Reason")
	p.reasons <- r
	end := sip.NewResponse(tx.Request(), 487, "")
	end.SetToTag(p.name)
	tx.Respond(end)
}

func (p *phone) HandleAck(*sip.Request, transport.Source) {}
func (p *phone) HandleError(*transaction.ServerTx, error) {}

// A call to bob forks to his desk phone and his mobile; the desk phone
// answers, and the mobile's CANCEL says the call was completed elsewhere,
// so the mobile does not list a missed call.
func Example() {
	n := siptest.NewNetwork()
	defer n.Close()
	on := func(addr string, h transaction.Handler) *siptest.Endpoint {
		ep := n.Endpoint(transport.TCP, addr, nil)
		l, _ := transaction.New(transaction.Config{Sender: ep, Handler: h})
		ep.SetHandler(l)
		return ep
	}
	desk := &phone{name: "desk", answer: make(chan struct{}), rang: make(chan struct{}, 1), reasons: make(chan string, 1)}
	mobile := &phone{name: "mobile", rang: make(chan struct{}, 1), reasons: make(chan string, 1)}
	on("127.0.0.1:5071", desk)
	on("127.0.0.1:5072", mobile)

	// The proxy, with a router that knows where bob is.
	pep := n.Endpoint(transport.TCP, "127.0.0.1:5060", nil)
	deskURI, _ := sip.ParseURI("sip:bob@127.0.0.1:5071;transport=tcp")
	mobileURI, _ := sip.ParseURI("sip:bob@127.0.0.1:5072;transport=tcp")
	p, err := proxy.New(proxy.Config{
		Sender:    pep,
		Listeners: []proxy.Listener{{Transport: transport.TCP, Addr: netip.MustParseAddrPort("127.0.0.1:5060")}},
		Router: proxy.RouterFunc(func(_ context.Context, req *sip.Request, _ transport.Source) (proxy.Decision, error) {
			if req.RequestURI().User != "bob" {
				return proxy.Decision{}, proxy.Reject(404, "")
			}
			return proxy.Decision{Targets: []proxy.Target{{URI: deskURI}, {URI: mobileURI}}}, nil
		}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	pep.SetHandler(p)

	// The caller: an INVITE in a client transaction.
	cep := n.Endpoint(transport.TCP, "127.0.0.1:5080", nil)
	caller, _ := transaction.New(transaction.Config{Sender: cep})
	cep.SetHandler(caller)
	inv, _ := sip.Parse([]byte("INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 127.0.0.1:5080;branch=z9hG4bKexample\r\nMax-Forwards: 70\r\n" +
		"From: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: example\r\n" +
		"CSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:5080;transport=tcp>\r\nContent-Length: 0\r\n\r\n"))
	final := make(chan int, 1)
	caller.Request(context.Background(), inv.(*sip.Request),
		transport.Target{Transport: transport.TCP, Addr: netip.MustParseAddrPort("127.0.0.1:5060")},
		finals(final))

	<-desk.rang
	<-mobile.rang
	close(desk.answer)
	fmt.Println("caller:", <-final)
	fmt.Println("mobile's CANCEL:", <-mobile.reasons)
	// Output:
	// caller: 200
	// mobile's CANCEL: SIP;cause=200;text="Call completed elsewhere"
}

// finals reports the status of the first final response.
type finals chan int

func (f finals) HandleResponse(_ *transaction.ClientTx, r *sip.Response) {
	if r.StatusCode() >= 200 {
		select {
		case f <- r.StatusCode():
		default:
		}
	}
}

func (f finals) HandleError(*transaction.ClientTx, error) {}
