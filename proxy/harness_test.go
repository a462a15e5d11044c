package proxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transaction"
	"github.com/sipkit/sipkit/transport"
)

// The test network: a caller, the proxy and phones, each with its own
// transaction layer, on the in-memory network of siptest, so the
// proxy's timers run on synctest's fake clock.
const (
	proxyAddr  = "127.0.0.1:5060"
	callerAddr = "127.0.0.1:5080"
)

type env struct {
	t      *testing.T
	n      *siptest.Network
	p      *Proxy
	caller *caller

	mu      sync.Mutex
	targets map[string][]Target // Request-URI user -> targets
}

func newEnv(t *testing.T, tr string, opts ...func(*Config)) *env {
	t.Helper()
	n := siptest.NewNetwork()
	t.Cleanup(func() { n.Close() })
	e := &env{t: t, n: n, targets: map[string][]Target{}}
	pep := n.Endpoint(tr, proxyAddr, nil)
	cfg := Config{
		Sender:    pep,
		Listeners: []Listener{{Transport: tr, Addr: netip.MustParseAddrPort(proxyAddr)}},
		Router:    RouterFunc(e.route),
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pep.SetHandler(p)
	e.p = p
	e.caller = newCaller(e, tr, callerAddr)
	return e
}

func (e *env) route(_ context.Context, req *sip.Request, _ transport.Source) (Decision, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ts, ok := e.targets[req.RequestURI().User]
	if !ok {
		return Decision{}, Reject(404, "")
	}
	return Decision{Targets: ts}, nil
}

// register makes user reach the phones, with q-values when q is given.
func (e *env) register(user string, phones ...*phone) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ph := range phones {
		u, _ := sip.ParseURI("sip:" + user + "@" + ph.ep.Addr().String())
		e.targets[user] = append(e.targets[user], Target{URI: u, Q: ph.q})
	}
}

// phone is a user agent server: it records what reaches it, answers a
// CANCEL's INVITE 487 as phones do, and lets the test answer the rest.
type phone struct {
	e  *env
	ep *siptest.Endpoint
	l  *transaction.Layer
	q  int

	mu      sync.Mutex
	txs     []*transaction.ServerTx
	cancels []*sip.Request
	acks    []*sip.Request
	// onInvite, if set, answers each new INVITE.
	onInvite func(tx *transaction.ServerTx)
}

func (e *env) phone(addr string) *phone {
	e.t.Helper()
	return e.phoneOn(e.caller.ep.Transport(), addr)
}

// phoneOn is a phone on a transport of its own.
func (e *env) phoneOn(tr, addr string) *phone {
	e.t.Helper()
	ph := &phone{e: e}
	ph.ep = e.n.Endpoint(tr, addr, nil)
	l, err := transaction.New(transaction.Config{Sender: ph.ep, Handler: ph, InviteLifetime: time.Hour})
	if err != nil {
		e.t.Fatal(err)
	}
	ph.l = l
	ph.ep.SetHandler(l)
	return ph
}

func (ph *phone) HandleRequest(tx *transaction.ServerTx, req *sip.Request) {
	ph.mu.Lock()
	ph.txs = append(ph.txs, tx)
	f := ph.onInvite
	ph.mu.Unlock()
	if f != nil && req.Method() == sip.INVITE {
		f(tx)
	}
}

func (ph *phone) HandleCancel(tx *transaction.ServerTx, cancel *sip.Request) {
	ph.mu.Lock()
	ph.cancels = append(ph.cancels, cancel)
	ph.mu.Unlock()
	tx.Respond(respond(tx.Request(), 487))
}

func (ph *phone) HandleAck(ack *sip.Request, _ transport.Source) {
	ph.mu.Lock()
	ph.acks = append(ph.acks, ack)
	ph.mu.Unlock()
}

func (ph *phone) HandleError(*transaction.ServerTx, error) {}

// invite returns the i-th request the phone received, with its
// transaction.
func (ph *phone) tx(i int) *transaction.ServerTx {
	ph.e.t.Helper()
	ph.mu.Lock()
	defer ph.mu.Unlock()
	if i >= len(ph.txs) {
		ph.e.t.Fatalf("phone %v received %d requests, want at least %d", ph.ep.Addr(), len(ph.txs), i+1)
	}
	return ph.txs[i]
}

func (ph *phone) received() int {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	return len(ph.txs)
}

// tag is the phone's To tag.
func (ph *phone) tag() string { return fmt.Sprintf("ph%d", ph.ep.Addr().Port()) }

// answer responds to the phone's i-th request with code and headers.
func (ph *phone) answer(i, code int, hdrs ...string) {
	ph.e.t.Helper()
	tx := ph.tx(i)
	r := respond(tx.Request(), code, hdrs...)
	if code > 100 && r.ToTag() == "" {
		r.SetToTag(ph.tag())
	}
	if code >= 200 && code < 300 && tx.Request().Method() == sip.INVITE {
		r.AppendHeader("Contact", "<sip:ph@"+ph.ep.Addr().String()+">")
	}
	if err := tx.Respond(r); err != nil {
		ph.e.t.Fatalf("phone answer %d: %v", code, err)
	}
}

func respond(req *sip.Request, code int, hdrs ...string) *sip.Response {
	r := sip.NewResponse(req, code, "")
	for _, h := range hdrs {
		name, value, _ := strings.Cut(h, ":")
		r.AppendHeader(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return r
}

// caller is the user agent client.
type caller struct {
	e  *env
	ep *siptest.Endpoint
	l  *transaction.Layer

	mu    sync.Mutex
	resps []*sip.Response
	errs  []error
}

func newCaller(e *env, tr, addr string) *caller {
	c := &caller{e: e}
	c.ep = e.n.Endpoint(tr, addr, nil)
	l, err := transaction.New(transaction.Config{Sender: c.ep})
	if err != nil {
		e.t.Fatal(err)
	}
	c.l = l
	c.ep.SetHandler(l)
	return c
}

func (c *caller) HandleResponse(_ *transaction.ClientTx, r *sip.Response) {
	c.mu.Lock()
	c.resps = append(c.resps, r)
	c.mu.Unlock()
}

func (c *caller) HandleError(_ *transaction.ClientTx, err error) {
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.mu.Unlock()
}

// send sends a request to the proxy in a client transaction.
func (c *caller) send(req *sip.Request) *transaction.ClientTx {
	c.e.t.Helper()
	tx, err := c.l.Request(context.Background(), req, transport.Target{Transport: c.ep.Transport(), Addr: netip.MustParseAddrPort(proxyAddr)}, c)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return tx
}

// invite sends an INVITE for sip:user@proxy.
func (c *caller) invite(user string, hdrs ...string) *sip.Request {
	c.e.t.Helper()
	req := siptest.Request(c.e.t, sip.INVITE, "sip:"+user+"@"+proxyAddr, hdrs...)
	c.send(req)
	return req
}

// cancel cancels inv with the given Reason ("" for none).
func (c *caller) cancel(inv *sip.Request, reason string) {
	c.e.t.Helper()
	cn, err := transaction.NewCancel(inv, reason)
	if err != nil {
		c.e.t.Fatal(err)
	}
	c.send(cn)
}

// codes are the status codes the caller received, in order.
func (c *caller) codes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for _, r := range c.resps {
		if r.CSeq().Method == sip.CANCEL {
			continue
		}
		out = append(out, r.StatusCode())
	}
	return out
}

func (c *caller) final() *sip.Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.resps {
		if r.StatusCode() >= 200 && r.CSeq().Method != sip.CANCEL {
			return r
		}
	}
	return nil
}

// sent returns the requests of a method the network carried to addr.
func (e *env) sent(method string, to *phone) []*sip.Request {
	var out []*sip.Request
	for _, ev := range e.n.Sent(siptest.IsRequest(method)) {
		if to == nil || ev.To == to.ep.Addr() {
			out = append(out, ev.Msg.(*sip.Request))
		}
	}
	return out
}

// wait lets fake time pass and every goroutine settle.
func wait(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func siptestRequest(t *testing.T, method, ruri string, hdrs ...string) *sip.Request {
	t.Helper()
	return siptest.Request(t, method, ruri, hdrs...)
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

// callTwoPhones registers two phones as bob and calls bob: the proxy
// forks to both. It returns once the INVITEs have arrived.
func (e *env) callTwoPhones() (a, b *phone, inv *sip.Request) {
	e.t.Helper()
	a, b = e.phone("127.0.0.1:5071"), e.phone("127.0.0.1:5072")
	e.register("bob", a, b)
	inv = e.caller.invite("bob")
	synctest.Wait()
	return a, b, inv
}
