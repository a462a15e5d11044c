package siptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// ErrUnreachable is wrapped by the error a reliable transport (TCP, TLS,
// WS, WSS) returns when no endpoint listens at the destination: the
// in-memory "connection refused". Over UDP the message is lost instead,
// as a datagram would be.
var ErrUnreachable = errors.New("siptest: connection refused")

// Event is one message sent on a Network.
type Event struct {
	At        time.Time      // when it was sent (the fake clock under synctest)
	From, To  netip.AddrPort // sender's endpoint, destination address
	Transport string         // the sending endpoint's transport
	// Msg is the message parsed from the bytes sent: a copy of its own,
	// distinct from the sender's and the receiver's. Treat it as read-only.
	// It is nil, or partial, when Err is set.
	Msg  sip.Message
	Data []byte // the bytes sent; do not modify
	// Dropped reports that the message was not delivered: Drop said so,
	// the bytes did not parse (Err), or, over UDP, nothing listened at To.
	Dropped bool
	Err     error // the parse error, if the bytes did not parse
}

// String describes the event on one line, for test logs.
func (ev Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %v -> %v ", ev.At.Format("15:04:05.000"), ev.Transport, ev.From, ev.To)
	switch {
	case ev.Msg != nil:
		b.WriteString(ev.Msg.StartLine())
		b.WriteString(" (" + ev.Msg.CSeq().String() + ")")
	default:
		b.WriteString("<unparsable>")
	}
	if ev.Err != nil {
		b.WriteString(" error: " + ev.Err.Error())
	}
	if ev.Dropped {
		b.WriteString(" [dropped]")
	}
	return b.String()
}

// IsRequest returns a filter for Sent that matches requests with the
// given method.
func IsRequest(method string) func(Event) bool {
	return func(ev Event) bool {
		r, ok := ev.Msg.(*sip.Request)
		return ok && r.Method() == method
	}
}

// IsResponse returns a filter for Sent that matches responses with the
// given status code.
func IsResponse(code int) func(Event) bool {
	return func(ev Event) bool {
		r, ok := ev.Msg.(*sip.Response)
		return ok && r.StatusCode() == code
	}
}

// Network is a set of endpoints that exchange SIP messages in memory.
//
// Create it, its endpoints and its traffic inside the synctest bubble
// that uses it (its goroutines and channels then belong to the bubble),
// and Close it before the bubble ends. It works outside synctest too, in
// real time.
type Network struct {
	// Latency delays every delivery: a message reaches its endpoint
	// Latency after it was sent. Zero: delivered as soon as the
	// endpoint's goroutine runs. Set it before traffic, or use SetLatency.
	Latency time.Duration

	// Drop, if set, sees every message that parsed before it is
	// delivered; returning true loses it (the log shows it Dropped).
	// Calls are serialised, so a stateful func needs no lock; it must
	// not send on the network. Set it before traffic, or use SetDrop.
	Drop func(Event) bool

	// wire serialises sends, so the log, the calls to Drop and the
	// delivery queues all see the same order. Taken before mu.
	wire sync.Mutex

	mu          sync.Mutex
	endpoints   map[endpointKey]*Endpoint
	log         []Event
	parseErrors int
	nextPort    uint16
	closed      bool

	done chan struct{} // closed by Close
	wg   sync.WaitGroup
}

type endpointKey struct {
	transport string
	addr      netip.AddrPort
}

// NewNetwork returns a network with no endpoints.
func NewNetwork() *Network {
	return &Network{
		endpoints: make(map[endpointKey]*Endpoint),
		nextPort:  49152,
		done:      make(chan struct{}),
	}
}

// SetLatency changes Latency while traffic flows.
func (n *Network) SetLatency(d time.Duration) {
	n.mu.Lock()
	n.Latency = d
	n.mu.Unlock()
}

// SetDrop changes Drop while traffic flows.
func (n *Network) SetDrop(f func(Event) bool) {
	n.mu.Lock()
	n.Drop = f
	n.mu.Unlock()
}

// Endpoint attaches a node at addr ("127.0.0.1:5060"; port 0 picks a
// free one) speaking transport: UDP, TCP, TLS, WS or WSS. The transport
// is what the layers above see in Targets and Sources, so it decides
// whether they retransmit (only over UDP). UDP and TCP endpoints may
// share an address; messages go between endpoints of the same transport.
// h receives what is delivered, one message at a time in arrival order,
// on the endpoint's own goroutine; it may be nil and set later with
// SetHandler, and while it is nil deliveries are discarded.
//
// Endpoint panics on a bad transport or address, a taken address, or a
// closed network: those are mistakes in the test.
func (n *Network) Endpoint(transportName string, addr string, h transport.Handler) *Endpoint {
	tr := canonical(transportName)
	if tr == "" {
		panic(fmt.Sprintf("siptest: unknown transport %q", transportName))
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		panic(fmt.Sprintf("siptest: endpoint address %q: %v", addr, err))
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())

	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		panic("siptest: Endpoint on a closed network")
	}
	if ap.Port() == 0 {
		for n.endpoints[endpointKey{tr, netip.AddrPortFrom(ap.Addr(), n.nextPort)}] != nil {
			n.nextPort++
		}
		ap = netip.AddrPortFrom(ap.Addr(), n.nextPort)
		n.nextPort++
	}
	key := endpointKey{tr, ap}
	if n.endpoints[key] != nil {
		panic(fmt.Sprintf("siptest: %s:%v already has an endpoint", tr, ap))
	}
	e := &Endpoint{n: n, transport: tr, addr: ap, handler: h, wake: make(chan struct{}, 1)}
	n.endpoints[key] = e
	n.wg.Add(1)
	go e.run()
	return e
}

// Close stops every endpoint's goroutine and waits for it to return,
// discarding messages not yet delivered; later sends fail. It must not
// be called from a Handler. Closing twice is harmless.
func (n *Network) Close() error {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.done)
	}
	n.mu.Unlock()
	n.wg.Wait()
	return nil
}

// Log returns every message sent so far, in the order sent.
func (n *Network) Log() []Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.log)
}

// Sent returns the logged events that filter accepts (all of them when
// filter is nil), in the order sent.
func (n *Network) Sent(filter func(Event) bool) []Event {
	evs := n.Log()
	if filter == nil {
		return evs
	}
	return slices.DeleteFunc(evs, func(ev Event) bool { return !filter(ev) })
}

// ParseErrors returns how many messages were dropped because their
// bytes did not parse at the receiver.
func (n *Network) ParseErrors() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.parseErrors
}

// send puts data on the wire from e to the endpoint of e's transport at
// to. It is the one place a message enters the network.
func (n *Network) send(e *Endpoint, to netip.AddrPort, data []byte) error {
	to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
	// The log's copy: parsed from bytes of its own, so neither the
	// sender reusing its buffer nor the receiver editing its message
	// can change what the log shows.
	msg, perr := sip.Parse(data)
	ev := Event{From: e.addr, To: to, Transport: e.transport, Msg: msg, Data: data, Err: perr}

	n.wire.Lock()
	defer n.wire.Unlock()
	n.mu.Lock()
	closed, dst, drop, latency := n.closed, n.endpoints[endpointKey{e.transport, to}], n.Drop, n.Latency
	n.mu.Unlock()
	if closed {
		return fmt.Errorf("siptest: send to %s:%v: %w", e.transport, to, net.ErrClosed)
	}
	if dst == nil && transport.Reliable(e.transport) {
		// Nothing was sent: the connection could not be opened.
		return fmt.Errorf("siptest: send to %s:%v: %w", e.transport, to, ErrUnreachable)
	}
	ev.At = time.Now()
	switch {
	case perr != nil:
		ev.Dropped = true
	case drop != nil && drop(ev):
		ev.Dropped = true
	case dst == nil:
		ev.Dropped = true // a datagram to nowhere
	}

	n.mu.Lock()
	n.log = append(n.log, ev)
	if perr != nil {
		n.parseErrors++
	}
	n.mu.Unlock()
	if ev.Dropped {
		return nil
	}
	// The receiver's copy, also its own to keep and edit (transport.Handler).
	rcv, err := sip.Parse(bytes.Clone(data))
	if err != nil {
		return fmt.Errorf("siptest: reparse: %w", err) // cannot happen: the same bytes parsed above
	}
	dst.enqueue(delivery{
		msg: rcv,
		src: transport.Source{Transport: e.transport, Local: to, Remote: e.addr},
		due: ev.At.Add(latency),
	})
	return nil
}

// Endpoint is one node on a Network. It satisfies the transaction
// layer's Sender, so a transaction layer can run on it in place of a
// transport.Layer.
type Endpoint struct {
	n         *Network
	transport string
	addr      netip.AddrPort

	mu      sync.Mutex
	handler transport.Handler
	queue   []delivery
	wake    chan struct{} // capacity 1: something was queued
}

type delivery struct {
	msg sip.Message
	src transport.Source
	due time.Time
}

// Addr returns the endpoint's address.
func (e *Endpoint) Addr() netip.AddrPort { return e.addr }

// Transport returns the endpoint's transport, in upper case.
func (e *Endpoint) Transport() string { return e.transport }

// SetHandler sets the handler that receives what is delivered to e.
func (e *Endpoint) SetHandler(h transport.Handler) {
	e.mu.Lock()
	e.handler = h
	e.mu.Unlock()
}

// SendRequest sends req to the endpoint at t.Addr, as transport.Layer
// does: the top Via gets e's transport and address as sent-by, keeping
// its parameters (RFC 3261 §18.1.1), and the request is written and
// delivered as bytes. It returns t with e's transport. Over UDP a
// request to an address with no endpoint is lost without error; over
// the other transports the error wraps ErrUnreachable. ctx is not used:
// sending never blocks.
func (e *Endpoint) SendRequest(ctx context.Context, req *sip.Request, t transport.Target) (transport.Target, error) {
	t.Transport = e.transport
	v, ok := req.TopVia()
	if !ok {
		return t, errors.New("siptest: request has no Via to send with")
	}
	host := e.addr.Addr().String()
	if e.addr.Addr().Is6() {
		host = "[" + host + "]"
	}
	if v.Transport != e.transport || v.Host != host || v.Port != int(e.addr.Port()) {
		v.Transport, v.Host, v.Port = e.transport, host, int(e.addr.Port())
		if err := req.SetTopVia(v); err != nil {
			return t, fmt.Errorf("siptest: %w", err)
		}
	}
	return t, e.n.send(e, t.Addr, req.AppendTo(nil))
}

// SendResponse sends resp to src.Remote, where the request it answers
// came from. For the zero Source it goes where the top Via says
// (RFC 3261 §18.2.2, RFC 3581 §4): received and rport, else the
// sent-by, which must then be a numeric address. Unreachable
// destinations behave as for SendRequest. ctx is not used.
func (e *Endpoint) SendResponse(ctx context.Context, resp *sip.Response, src transport.Source) error {
	to := src.Remote
	if !to.IsValid() {
		var err error
		if to, err = viaDest(resp, e.transport); err != nil {
			return err
		}
	}
	return e.n.send(e, to, resp.AppendTo(nil))
}

// viaDest is where a response with no Source goes: the top Via's
// received (or sent-by host) and rport (or sent-by port, or the
// transport's default port).
func viaDest(resp *sip.Response, tr string) (netip.AddrPort, error) {
	v, ok := resp.TopVia()
	if !ok {
		return netip.AddrPort{}, errors.New("siptest: response has no Via")
	}
	host, _ := v.Received()
	if host == "" {
		host = v.Host
	}
	ip, ok := transport.HostAddr(host)
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("siptest: response Via %q has no numeric address", v.String())
	}
	port := v.Port
	if rport, ok := v.RPort(); ok && rport != 0 {
		port = rport
	}
	if port == 0 {
		port = int(transport.DefaultPort(tr))
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

func (e *Endpoint) enqueue(d delivery) {
	e.mu.Lock()
	e.queue = append(e.queue, d)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default: // already signalled
	}
}

// run delivers e's messages in the order they were queued. When idle it
// waits on channels only, so under synctest it is durably blocked and
// fake time can advance.
func (e *Endpoint) run() {
	defer e.n.wg.Done()
	done := e.n.done
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		e.mu.Lock()
		batch := e.queue
		e.queue = nil
		e.mu.Unlock()
		if len(batch) == 0 {
			select {
			case <-e.wake:
				continue
			case <-done:
				return
			}
		}
		for i := range batch {
			d := &batch[i]
			if wait := time.Until(d.due); wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				select {
				case <-timer.C:
				case <-done:
					return
				}
			}
			select {
			case <-done:
				return
			default:
			}
			e.mu.Lock()
			h := e.handler
			e.mu.Unlock()
			if h != nil {
				h.HandleMessage(d.msg, d.src)
			}
			*d = delivery{} // let the message go once handled
		}
	}
}

// canonical returns the upper-case name of a known transport, or "".
func canonical(tr string) string {
	for _, t := range [...]string{transport.UDP, transport.TCP, transport.TLS, transport.WS, transport.WSS} {
		if strings.EqualFold(tr, t) {
			return t
		}
	}
	return ""
}

// String returns "TRANSPORT:addr".
func (e *Endpoint) String() string { return e.transport + ":" + e.addr.String() }
