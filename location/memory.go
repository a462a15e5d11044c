package location

import (
	"cmp"
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"
)

const (
	numShards         = 64
	defaultSweepEvery = 60 * time.Second
)

// Memory is the in-memory Store, the default. It keeps the bindings in
// a map split into shards, each with its own lock, so that REGISTERs and
// lookups of different AORs rarely wait for each other. Expired bindings
// are dropped when their AOR is next updated and by a periodic sweep, so
// memory does not grow with phones that went away.
//
// Lookup and Update take the time from their caller; Len and the sweep
// use the wall clock (the fake one under testing/synctest).
type Memory struct {
	seed   maphash.Seed
	shards [numShards]shard

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

type shard struct {
	mu   sync.RWMutex
	aors map[string][]Binding
}

var _ Store = (*Memory)(nil)

// NewMemory returns the in-memory Store. Expired bindings are removed
// lazily on Update and by a sweep every sweepEvery (0: 60 s) run by a
// goroutine that Close stops.
func NewMemory(sweepEvery time.Duration) *Memory {
	if sweepEvery <= 0 {
		sweepEvery = defaultSweepEvery
	}
	m := &Memory{
		seed: maphash.MakeSeed(),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for i := range m.shards {
		m.shards[i].aors = make(map[string][]Binding)
	}
	go m.sweepLoop(sweepEvery)
	return m
}

// Close stops the sweep goroutine and waits for it to return. The
// bindings stay readable. Closing twice is harmless.
func (m *Memory) Close() error {
	m.once.Do(func() { close(m.stop) })
	<-m.done
	return nil
}

func (m *Memory) shard(aor string) *shard {
	return &m.shards[maphash.String(m.seed, aor)%numShards]
}

// Lookup implements Store.
func (m *Memory) Lookup(ctx context.Context, aor string, now time.Time) ([]Binding, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := m.shard(aor)
	s.mu.RLock()
	out := live(s.aors[aor], now)
	s.mu.RUnlock()
	// Stable: among equal q the stored order, most recent first.
	slices.SortStableFunc(out, func(a, b Binding) int { return cmp.Compare(b.Q, a.Q) })
	return out, nil
}

// Update implements Store. fn runs with the shard locked, which makes
// it atomic for its AOR; it must be quick and must not call m.
func (m *Memory) Update(ctx context.Context, aor string, now time.Time, fn func(current []Binding) ([]Binding, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := m.shard(aor)
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := fn(live(s.aors[aor], now))
	if err != nil {
		return err
	}
	if next = live(next, now); len(next) == 0 {
		delete(s.aors, aor)
	} else {
		s.aors[aor] = next
	}
	return nil
}

// Len implements Store.
func (m *Memory) Len() int {
	now := time.Now()
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		for _, bs := range s.aors {
			if slices.ContainsFunc(bs, func(b Binding) bool { return b.Expires.After(now) }) {
				n++
			}
		}
		s.mu.RUnlock()
	}
	return n
}

// live returns the bindings of bs that have not expired at now, as a new
// slice with Paths of their own, or nil if there are none.
func live(bs []Binding, now time.Time) []Binding {
	var out []Binding
	for _, b := range bs {
		if !b.Expires.After(now) {
			continue
		}
		if out == nil {
			out = make([]Binding, 0, len(bs))
		}
		out = append(out, b.clone())
	}
	return out
}

func (m *Memory) sweepLoop(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.sweep(time.Now())
		}
	}
}

// sweep removes every binding expired at now, one shard at a time so
// that lookups of other shards go on meanwhile.
func (m *Memory) sweep(now time.Time) {
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for aor, bs := range s.aors {
			kept := bs[:0:0]
			expired := false
			for _, b := range bs {
				if b.Expires.After(now) {
					kept = append(kept, b)
				} else {
					expired = true
				}
			}
			switch {
			case len(kept) == 0:
				delete(s.aors, aor)
			case expired:
				s.aors[aor] = kept
			}
		}
		s.mu.Unlock()
	}
}
