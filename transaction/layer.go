package transaction

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// Sender is the transport the layer sends through: *transport.Layer, or
// an in-memory network in tests. It must deliver asynchronously (never
// call a Handler on the sending goroutine): a transaction sends its
// first request with its lock held.
type Sender interface {
	SendRequest(ctx context.Context, req *sip.Request, t transport.Target) (transport.Target, error)
	SendResponse(ctx context.Context, resp *sip.Response, src transport.Source) error
}

// Handler is the transaction user on the server side. The layer calls it
// with no lock held, in the goroutine that received the message or fired
// the timer; it must return quickly and never block (DESIGN.md).
type Handler interface {
	// HandleRequest is called once for each new server transaction. The
	// TU answers with tx.Respond, now or later, from any goroutine.
	HandleRequest(tx *ServerTx, req *sip.Request)
	// HandleCancel is called when a CANCEL matches tx, an INVITE server
	// transaction that has sent no final response. The layer has already
	// answered the CANCEL with 200 (RFC 3261 §9.2); the TU should end the
	// INVITE, usually with 487, and may read the CANCEL's Reason.
	HandleCancel(tx *ServerTx, cancel *sip.Request)
	// HandleAck is called for an ACK that is not part of a transaction:
	// the ACK for a 2xx (§13.3.1.4, §17.2.3), including one that reaches
	// an INVITE server transaction in the Accepted state (RFC 6026 §7.1).
	HandleAck(ack *sip.Request, src transport.Source)
	// HandleError is called when a server transaction fails: ErrNoACK
	// (Timer H) or an error wrapping ErrTransport.
	HandleError(tx *ServerTx, err error)
}

// Config configures a Layer. Every zero field takes the default it names.
type Config struct {
	// Sender sends what the transactions send. Required.
	Sender Sender
	// Handler is the server-side transaction user. Nil makes a
	// client-only layer: requests that would start a server transaction
	// are dropped.
	Handler Handler
	// Timers are T1, T2 and T4 (defaults 500 ms, 4 s, 5 s).
	Timers Timers
	// Stray, if set, receives responses that match no client
	// transaction. Nil drops them, as RFC 6026 §7.3 has a proxy do.
	Stray func(resp *sip.Response, src transport.Source)
	// ForwardUnmatchedCancel gives a CANCEL that matches no server
	// transaction to Handler.HandleRequest, in a server transaction of its
	// own, so a proxy can forward it (RFC 3261 §16.10). False: the layer
	// answers it 481 (§9.2), as a user agent does.
	ForwardUnmatchedCancel bool

	// InviteLifetime and NonInviteLifetime bound how long a server
	// transaction waits for the TU's final response (RFC 3261 sets no
	// limit; these are Kamailio's max_inv_lifetime and
	// max_noninv_lifetime). An INVITE then gets 408 and the TU
	// HandleError(ErrTimeout). Zero: 180 s and 64·T1.
	InviteLifetime, NonInviteLifetime time.Duration
}

// Layer matches messages to transactions and runs the state machines.
// It implements transport.Handler: give it to the transport layer.
type Layer struct {
	sender  Sender
	handler Handler
	timers  Timers
	stray   func(*sip.Response, transport.Source)

	forwardCancel bool

	inviteLifetime, nonInviteLifetime time.Duration

	seed    maphash.Seed
	servers [shards]serverShard
	clients [shards]clientShard
}

const shards = 64

type serverShard struct {
	mu sync.Mutex
	m  map[serverKey]*ServerTx
}

type clientShard struct {
	mu sync.Mutex
	m  map[clientKey]*ClientTx
}

// New returns a transaction layer.
func New(cfg Config) (*Layer, error) {
	if cfg.Sender == nil {
		return nil, errors.New("transaction: Config.Sender is required")
	}
	l := &Layer{
		sender:            cfg.Sender,
		handler:           cfg.Handler,
		timers:            cfg.Timers.withDefaults(),
		stray:             cfg.Stray,
		forwardCancel:     cfg.ForwardUnmatchedCancel,
		seed:              maphash.MakeSeed(),
		inviteLifetime:    cfg.InviteLifetime,
		nonInviteLifetime: cfg.NonInviteLifetime,
	}
	if l.inviteLifetime <= 0 {
		l.inviteLifetime = 180 * time.Second
	}
	if l.nonInviteLifetime <= 0 {
		l.nonInviteLifetime = l.timers.timeout64()
	}
	for i := range l.servers {
		l.servers[i].m = make(map[serverKey]*ServerTx)
		l.clients[i].m = make(map[clientKey]*ClientTx)
	}
	return l, nil
}

// Timers returns the timer values in use, defaults filled in.
func (l *Layer) Timers() Timers { return l.timers }

// HandleMessage takes a message from the transport (transport.Handler).
func (l *Layer) HandleMessage(msg sip.Message, src transport.Source) {
	switch m := msg.(type) {
	case *sip.Request:
		l.receiveRequest(m, src)
	case *sip.Response:
		l.receiveResponse(m, src)
	}
}

func (l *Layer) shard(branch string) int {
	return int(maphash.String(l.seed, branch) % shards)
}

// Len returns the number of live server and client transactions.
func (l *Layer) Len() (servers, clients int) {
	for i := range l.servers {
		s := &l.servers[i]
		s.mu.Lock()
		servers += len(s.m)
		s.mu.Unlock()
		c := &l.clients[i]
		c.mu.Lock()
		clients += len(c.m)
		c.mu.Unlock()
	}
	return servers, clients
}
