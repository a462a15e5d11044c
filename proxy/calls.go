package proxy

import (
	"hash/maphash"
	"sort"
	"sync"
	"time"
)

// The proxy keeps its live response contexts by Call-ID, so an operator
// can list the calls being set up and cancel one from outside (DESIGN.md:
// the admin API), as the caller's CANCEL would.

const callShards = 32

type callTable struct {
	seed   maphash.Seed
	shards [callShards]struct {
		mu sync.Mutex
		m  map[string][]*respContext
	}
}

func (t *callTable) init() {
	t.seed = maphash.MakeSeed()
	for i := range t.shards {
		t.shards[i].m = make(map[string][]*respContext)
	}
}

func (t *callTable) shard(callID string) int {
	return int(maphash.String(t.seed, callID) % callShards)
}

func (t *callTable) add(rc *respContext) {
	id := rc.in.CallID()
	s := &t.shards[t.shard(id)]
	s.mu.Lock()
	s.m[id] = append(s.m[id], rc)
	s.mu.Unlock()
}

func (t *callTable) remove(rc *respContext) {
	id := rc.in.CallID()
	s := &t.shards[t.shard(id)]
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.m[id]
	for i, x := range l {
		if x == rc {
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(s.m, id)
	} else {
		s.m[id] = l
	}
}

func (t *callTable) get(callID string) []*respContext {
	s := &t.shards[t.shard(callID)]
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*respContext(nil), s.m[callID]...)
}

func (t *callTable) all() []*respContext {
	var out []*respContext
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for _, l := range s.m {
			out = append(out, l...)
		}
		s.mu.Unlock()
	}
	return out
}

// Call describes a request the proxy is forwarding: one response context.
type Call struct {
	CallID   string
	Method   string
	From, To string // the URIs
	Started  time.Time
	Branches []Branch
	// Answered is true once a final response went upstream; a context
	// stays listed until its last branch ends.
	Answered, Cancelled bool
}

// Branch describes one branch of a Call.
type Branch struct {
	URI          string // the Request-URI sent
	State        string // "trying", "ringing" or "done"
	CancelReason string // the Reason of its CANCEL, once decided
}

// Calls lists the requests being forwarded, oldest first.
func (p *Proxy) Calls() []Call {
	rcs := p.calls.all()
	out := make([]Call, 0, len(rcs))
	for _, rc := range rcs {
		out = append(out, rc.describe())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

// CancelCall cancels the INVITEs with callID being forwarded, as the
// caller's CANCEL would (§16.10): every pending branch gets a CANCEL with
// reason (may be empty), and the caller 487. It returns how many were
// cancelled.
func (p *Proxy) CancelCall(callID, reason string) int {
	n := 0
	for _, rc := range p.calls.get(callID) {
		if rc.invite && rc.cancelByCaller(reason) {
			n++
		}
	}
	return n
}

func (rc *respContext) describe() Call {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	c := Call{
		CallID: rc.in.CallID(), Method: rc.in.Method(),
		From: rc.in.From().URI.String(), To: rc.in.To().URI.String(),
		Started: rc.started, Answered: rc.answered, Cancelled: rc.cancelled,
	}
	for _, b := range rc.branches {
		br := Branch{URI: b.target.URI.String(), State: [...]string{"trying", "ringing", "done"}[b.stage]}
		if b.cancelWanted {
			br.CancelReason = b.cancelReason
		}
		c.Branches = append(c.Branches, br)
	}
	return c
}
