package ua

import (
	"sync"

	"github.com/sipkit/sipkit/dialog"
	"github.com/sipkit/sipkit/sip"
)

// EventKind is what happened to a call.
type EventKind uint8

const (
	// Calling: the INVITE was sent; the ID has no remote tag yet.
	Calling EventKind = iota
	// Proceeding: a provisional response without a To tag (100 Trying).
	Proceeding
	// Early: a provisional response with a To tag made or updated an
	// early dialog; a forked INVITE gives one per remote tag.
	Early
	// Incoming: a new INVITE arrived (UAS); its early dialog's ID.
	Incoming
	// Confirmed: the call was answered (UAC: 2xx, ACK sent by the UA;
	// UAS: the ACK of the 2xx arrived).
	Confirmed
	// Terminated: the dialog ended; Cause says why.
	Terminated
)

var kindNames = [...]string{"calling", "proceeding", "early", "incoming", "confirmed", "terminated"}

func (k EventKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "event(?)"
}

// Cause is why a dialog ended.
type Cause uint8

const (
	CauseNone Cause = iota
	// CauseAnsweredElsewhere: another fork answered (UAC), or the CANCEL
	// said the call was completed elsewhere (UAS, RFC 3326 cause 200).
	CauseAnsweredElsewhere
	// CauseCancelled: the call was cancelled before it was answered.
	CauseCancelled
	// CauseRejected: a final non-2xx response; Event.Status has it.
	CauseRejected
	// CauseTimeout: no final response (Timer B), or no ACK for a 2xx.
	CauseTimeout
	// CauseTransportError: a message could not be sent.
	CauseTransportError
	// CauseRemoteBye: the peer hung up.
	CauseRemoteBye
	// CauseLocalHangup: this side hung up.
	CauseLocalHangup
)

var causeNames = [...]string{"", "answered-elsewhere", "cancelled", "rejected", "timeout", "transport-error", "remote-bye", "local-hangup"}

func (c Cause) String() string {
	if int(c) < len(causeNames) {
		return causeNames[c]
	}
	return "cause(?)"
}

// Event is one change of a call, with the dialog's current ID.
type Event struct {
	Kind EventKind
	ID   dialog.ID
	// Call is the outgoing call, or nil; Incoming the incoming one.
	Call     *Call
	Incoming *IncomingCall
	// Response is the response that caused the event (outgoing calls).
	Response *sip.Response
	// Request is the request that caused it: the INVITE, the CANCEL or
	// the BYE received.
	Request *sip.Request
	Cause   Cause
	// Status is the final status of a rejected or cancelled call.
	Status int
	// Reason is the Reason (RFC 3326) of the CANCEL or BYE received, if
	// it had one.
	Reason *sip.Reason
	// Missed reports, for an incoming call cancelled before it was
	// answered, whether it counts as a missed call: not when the CANCEL
	// said the call was completed elsewhere (SIP cause 200).
	Missed bool
}

// reasonOf returns the first SIP Reason of a request, if any.
func reasonOf(req *sip.Request) *sip.Reason {
	rs, err := req.Reasons()
	if err != nil || len(rs) == 0 {
		return nil
	}
	for _, r := range rs {
		if r.Protocol == "SIP" {
			return &r
		}
	}
	return &rs[0]
}

// mailbox keeps an owner's events in the order its state changes made
// them (under the owner's lock) and delivers them with no lock held, one
// goroutine at a time: events made meanwhile on another goroutine are
// delivered by the one already delivering, so an application never sees
// Early after Terminated.
type mailbox struct {
	pending    []Event
	delivering bool
}

// add queues events; the owner's lock is held.
func (m *mailbox) add(evs ...Event) { m.pending = append(m.pending, evs...) }

// flush delivers the queued events; mu is the owner's lock, not held.
func (m *mailbox) flush(mu *sync.Mutex, deliver func([]Event)) {
	mu.Lock()
	if m.delivering {
		mu.Unlock()
		return
	}
	m.delivering = true
	for len(m.pending) > 0 {
		evs := m.pending
		m.pending = nil
		mu.Unlock()
		deliver(evs)
		mu.Lock()
	}
	m.delivering = false
	mu.Unlock()
}
