package transaction

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

// The tests run under testing/synctest on a siptest network: time is
// fake, so Timer B's 32 s take no time and every interval is exact.

const (
	uacAddr = "127.0.0.1:5060"
	uasAddr = "127.0.0.2:5060"
)

// peer is a raw SIP node: it records what reaches it and answers only
// when the test says so, so a test drives one state machine by hand.
type peer struct {
	*siptest.Endpoint
	mu   sync.Mutex
	msgs []delivered
}

type delivered struct {
	msg sip.Message
	src transport.Source
}

func (p *peer) HandleMessage(m sip.Message, src transport.Source) {
	p.mu.Lock()
	p.msgs = append(p.msgs, delivered{m, src})
	p.mu.Unlock()
}

func (p *peer) received() []delivered {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.msgs)
}

func (p *peer) requests(method string) []delivered {
	var out []delivered
	for _, d := range p.received() {
		if r, ok := d.msg.(*sip.Request); ok && r.Method() == method {
			out = append(out, d)
		}
	}
	return out
}

func (p *peer) responses() []*sip.Response {
	var out []*sip.Response
	for _, d := range p.received() {
		if r, ok := d.msg.(*sip.Response); ok {
			out = append(out, r)
		}
	}
	return out
}

// respond sends a response to the request d, as a UAS would.
func (p *peer) respond(t *testing.T, d delivered, code int, headers ...string) {
	t.Helper()
	resp := siptest.Response(t, d.msg.(*sip.Request), code, headers...)
	if err := p.SendResponse(context.Background(), resp, d.src); err != nil {
		t.Fatal(err)
	}
}

// send sends a request from the peer to addr.
func (p *peer) send(t *testing.T, req *sip.Request, tr string, addr string) {
	t.Helper()
	if _, err := p.SendRequest(context.Background(), req, transport.Target{Transport: tr, Addr: mustAddr(addr)}); err != nil {
		t.Fatal(err)
	}
}

// clientTU records what a client transaction tells its user.
type clientTU struct {
	mu        sync.Mutex
	responses []*sip.Response
	errs      []error
}

func (c *clientTU) HandleResponse(_ *ClientTx, r *sip.Response) {
	c.mu.Lock()
	c.responses = append(c.responses, r)
	c.mu.Unlock()
}

func (c *clientTU) HandleError(_ *ClientTx, err error) {
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.mu.Unlock()
}

func (c *clientTU) codes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for _, r := range c.responses {
		out = append(out, r.StatusCode())
	}
	return out
}

func (c *clientTU) errors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.errs)
}

// serverTU records what the server side tells its user, and answers
// requests with respond when set.
type serverTU struct {
	mu       sync.Mutex
	requests []*ServerTx
	cancels  []*sip.Request
	acks     []*sip.Request
	errs     []error
	respond  func(tx *ServerTx, req *sip.Request)
}

func (s *serverTU) HandleRequest(tx *ServerTx, req *sip.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, tx)
	respond := s.respond
	s.mu.Unlock()
	if respond != nil {
		respond(tx, req)
	}
}

func (s *serverTU) HandleCancel(_ *ServerTx, cancel *sip.Request) {
	s.mu.Lock()
	s.cancels = append(s.cancels, cancel)
	s.mu.Unlock()
}

func (s *serverTU) HandleAck(ack *sip.Request, _ transport.Source) {
	s.mu.Lock()
	s.acks = append(s.acks, ack)
	s.mu.Unlock()
}

func (s *serverTU) HandleError(_ *ServerTx, err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func (s *serverTU) snapshot() (requests []*ServerTx, cancels, acks []*sip.Request, errs []error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests), slices.Clone(s.cancels), slices.Clone(s.acks), slices.Clone(s.errs)
}

// env is a transaction layer on one endpoint and a raw peer on another.
type env struct {
	t      *testing.T
	n      *siptest.Network
	layer  *Layer
	peer   *peer
	server *serverTU
	sender *flakySender
	tr     string
	start  time.Time
}

// flakySender fails every send while fail is set: a transport error
// after the first send (RFC 3261 §17.1.4, §17.2.4).
type flakySender struct {
	Sender
	fail atomic.Bool
}

var errFlaky = errors.New("connection reset")

func (f *flakySender) SendRequest(ctx context.Context, req *sip.Request, t transport.Target) (transport.Target, error) {
	if f.fail.Load() {
		return t, errFlaky
	}
	return f.Sender.SendRequest(ctx, req, t)
}

func (f *flakySender) SendResponse(ctx context.Context, resp *sip.Response, src transport.Source) error {
	if f.fail.Load() {
		return errFlaky
	}
	return f.Sender.SendResponse(ctx, resp, src)
}

// newEnv builds the layer at uacAddr and the peer at uasAddr over tr.
// Call it inside the synctest bubble.
func newEnv(t *testing.T, tr string, opts ...func(*Config)) *env {
	t.Helper()
	n := siptest.NewNetwork()
	t.Cleanup(func() { n.Close() })
	e := &env{t: t, n: n, tr: tr, server: &serverTU{}, peer: &peer{}}
	ep := n.Endpoint(tr, uacAddr, nil)
	e.sender = &flakySender{Sender: ep}
	cfg := Config{Sender: e.sender, Handler: e.server}
	for _, o := range opts {
		o(&cfg)
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ep.SetHandler(l)
	e.layer = l
	e.peer.Endpoint = n.Endpoint(tr, uasAddr, e.peer)
	e.start = time.Now()
	return e
}

// request starts a client transaction to the peer.
func (e *env) request(req *sip.Request, tu ClientHandler) *ClientTx {
	e.t.Helper()
	tx, err := e.layer.Request(context.Background(), req, transport.Target{Transport: e.tr, Addr: mustAddr(uasAddr)}, tu)
	if err != nil {
		e.t.Fatal(err)
	}
	return tx
}

// at sleeps until d after the environment started, then lets every
// goroutine settle.
func (e *env) at(d time.Duration) {
	time.Sleep(time.Until(e.start.Add(d)))
	synctestWait()
}

// sentTimes returns when each message matching f was sent, from start.
func (e *env) sentTimes(f func(siptest.Event) bool) []time.Duration {
	var out []time.Duration
	for _, ev := range e.n.Sent(f) {
		out = append(out, ev.At.Sub(e.start))
	}
	return out
}

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func mustAddr(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func synctestWait() { synctest.Wait() }

func checkTimes(t *testing.T, what string, got, want []time.Duration) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s sent at %v, want %v", what, got, want)
	}
}

func checkState[T interface{ State() State }](t *testing.T, tx T, want State) {
	t.Helper()
	if got := tx.State(); got != want {
		t.Errorf("state %v, want %v", got, want)
	}
}

func checkEmpty(t *testing.T, l *Layer) {
	t.Helper()
	if s, c := l.Len(); s != 0 || c != 0 {
		t.Errorf("tables hold %d server and %d client transactions, want none", s, c)
	}
}
