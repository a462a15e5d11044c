package transport

import "sync/atomic"

const numTransports = 5

var transportNames = [numTransports]string{UDP, TCP, TLS, WS, WSS}

func transportIndex(t string) int {
	switch t {
	case UDP:
		return 0
	case TCP:
		return 1
	case TLS:
		return 2
	case WS:
		return 3
	}
	return 4
}

type counters struct {
	in, out, parseErrors, dropped, sendErrors atomic.Uint64
	connsOpen                                 atomic.Int64
	connsRejected                             atomic.Uint64
}

func (l *Layer) count(transport string) *counters {
	return &l.counter[transportIndex(transport)]
}

// Counters are one transport's figures since the layer started.
type Counters struct {
	MessagesIn, MessagesOut uint64
	// ParseErrors counts messages read that did not parse (and were
	// dropped, or handed to Config.BadMessage).
	ParseErrors uint64
	// Dropped counts what was read but not handed up for another reason:
	// datagrams over the size limit, streams whose framing was lost.
	Dropped uint64
	// SendErrors counts messages that could not be sent.
	SendErrors uint64
	// ConnsOpen is the number of stream connections open now;
	// ConnsRejected counts those closed at once for being over a limit.
	ConnsOpen     int64
	ConnsRejected uint64
}

// Stats returns the counters of every transport, keyed by its name (UDP,
// TCP, TLS, WS, WSS), as plain values for the daemon to export.
func (l *Layer) Stats() map[string]Counters {
	out := make(map[string]Counters, numTransports)
	for i, name := range transportNames {
		c := &l.counter[i]
		out[name] = Counters{
			MessagesIn:    c.in.Load(),
			MessagesOut:   c.out.Load(),
			ParseErrors:   c.parseErrors.Load(),
			Dropped:       c.dropped.Load(),
			SendErrors:    c.sendErrors.Load(),
			ConnsOpen:     c.connsOpen.Load(),
			ConnsRejected: c.connsRejected.Load(),
		}
	}
	return out
}
