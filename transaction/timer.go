package transaction

import "time"

// timerID names the timers of RFC 3261 §17 and RFC 6026.
type timerID uint8

const (
	timerA        timerID = iota // INVITE client: retransmit
	timerB                       // INVITE client: give up
	timerD                       // INVITE client: leave Completed
	timerE                       // non-INVITE client: retransmit
	timerF                       // non-INVITE client: give up
	timerG                       // INVITE server: retransmit the final response
	timerH                       // INVITE server: give up waiting for ACK
	timerI                       // INVITE server: leave Confirmed
	timerJ                       // non-INVITE server: leave Completed
	timerK                       // non-INVITE client: leave Completed
	timerL                       // INVITE server, RFC 6026: leave Accepted
	timerM                       // INVITE client, RFC 6026: leave Accepted
	timer100                     // INVITE server: send 100 Trying for a silent TU
	timerLifetime                // server: give up on a TU that never answers
	numTimers
)

// deadlines are the running timers of one transaction, served by one
// runtime timer reset to the earliest of them (quic-go's
// maybeResetTimer): a transaction costs one timer however many of its
// timers run.
type deadlines struct {
	at    [numTimers]time.Time // zero: not running
	timer *time.Timer
}

func (d *deadlines) start(id timerID, after time.Duration) {
	d.at[id] = time.Now().Add(after)
}

func (d *deadlines) stop(ids ...timerID) {
	for _, id := range ids {
		d.at[id] = time.Time{}
	}
}

// next returns the earliest running timer that is due at now.
func (d *deadlines) next(now time.Time) (timerID, bool) {
	best, found := timerID(0), false
	for id := range numTimers {
		at := d.at[id]
		if at.IsZero() || at.After(now) {
			continue
		}
		if !found || at.Before(d.at[best]) {
			best, found = id, true
		}
	}
	if found {
		d.at[best] = time.Time{}
	}
	return best, found
}

// fireDue runs every timer due now through fire, earliest first, while
// alive holds (a timer may end the transaction), and returns the last TU
// notification a timer asked for. The transaction's lock is held.
func (d *deadlines) fireDue(alive func() bool, fire func(timerID) func()) (notify func()) {
	now := time.Now()
	for alive() {
		id, ok := d.next(now)
		if !ok {
			break
		}
		if n := fire(id); n != nil {
			notify = n
		}
	}
	return notify
}

// arm resets the runtime timer to the earliest running deadline, or
// stops it; fire is what it calls.
func (d *deadlines) arm(fire func()) {
	var earliest time.Time
	for _, at := range d.at {
		if !at.IsZero() && (earliest.IsZero() || at.Before(earliest)) {
			earliest = at
		}
	}
	if earliest.IsZero() {
		if d.timer != nil {
			d.timer.Stop()
		}
		return
	}
	wait := time.Until(earliest)
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, fire)
	} else {
		d.timer.Reset(wait)
	}
}

func (d *deadlines) stopAll() {
	d.at = [numTimers]time.Time{}
	if d.timer != nil {
		d.timer.Stop()
	}
}
