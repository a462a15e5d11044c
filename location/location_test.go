package location

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func bind(contact string, q int, expires time.Time) Binding {
	return Binding{AOR: "sip:bob@example.com", Contact: contact, Q: q, Expires: expires, CallID: "c1", CSeq: 1}
}

// put stores bs as the bindings of aor.
func put(t *testing.T, s Store, aor string, now time.Time, bs ...Binding) {
	t.Helper()
	err := s.Update(context.Background(), aor, now, func([]Binding) ([]Binding, error) { return bs, nil })
	if err != nil {
		t.Fatal(err)
	}
}

func contacts(bs []Binding) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Contact)
	}
	return out
}

func lookup(t *testing.T, s Store, aor string, now time.Time) []string {
	t.Helper()
	bs, err := s.Lookup(context.Background(), aor, now)
	if err != nil {
		t.Fatal(err)
	}
	return contacts(bs)
}

func newMemory(t *testing.T) *Memory {
	t.Helper()
	m := NewMemory(0)
	t.Cleanup(func() { m.Close() })
	return m
}

// TestKey checks the canonical AOR of RFC 3261 §10.3 step 5: URI
// parameters (user= included) removed, escapes decoded; hosts compare
// case-insensitively (§19.1.4) while the user part does not; and, by
// this package's choice, no port and sips folded into sip.
func TestKey(t *testing.T) {
	tests := []struct {
		uri, want string
	}{
		{"sip:bob@example.com", "sip:bob@example.com"},
		{"sip:bob@Example.COM", "sip:bob@example.com"},
		{"sip:Bob@example.com", "sip:Bob@example.com"},
		{"sip:bob@example.com:5070", "sip:bob@example.com"},
		{"sips:bob@example.com", "sip:bob@example.com"},
		{"SIP:bob@example.com", "sip:bob@example.com"},
		{"sip:bob@example.com;transport=tcp;user=phone", "sip:bob@example.com"},
		{"sip:bob@example.com?subject=x", "sip:bob@example.com"},
		{"sip:b%6Fb@example.com", "sip:bob@example.com"},
		{"sip:bob:secret@example.com", "sip:bob@example.com"},
		{"sip:bob@127.0.0.1:5060", "sip:bob@127.0.0.1"},
		{"sip:bob@[2001:DB8:0::1]:5060", "sip:bob@[2001:db8::1]"},
		{"sip:example.com", "sip:example.com"},
	}
	for _, tt := range tests {
		u, err := sip.ParseURI(tt.uri)
		if err != nil {
			t.Fatalf("%s: %v", tt.uri, err)
		}
		if got := Key(u); got != tt.want {
			t.Errorf("Key(%s) = %q, want %q", tt.uri, got, tt.want)
		}
	}
}

// TestLookupOrdersByQ: the proxy tries contacts in decreasing q-value
// (RFC 3261 §16.6, §20.10); among equal q, the most recently registered
// (first in the stored order) comes first.
func TestLookupOrdersByQ(t *testing.T) {
	m := newMemory(t)
	exp := t0.Add(time.Hour)
	put(t, m, "sip:bob@example.com", t0,
		bind("sip:new@127.0.0.1", 500, exp),
		bind("sip:top@127.0.0.1", 1000, exp),
		bind("sip:old@127.0.0.1", 500, exp),
		bind("sip:low@127.0.0.1", 100, exp),
	)
	got := lookup(t, m, "sip:bob@example.com", t0)
	want := []string{"sip:top@127.0.0.1", "sip:new@127.0.0.1", "sip:old@127.0.0.1", "sip:low@127.0.0.1"}
	if !slices.Equal(got, want) {
		t.Errorf("Lookup = %q, want %q", got, want)
	}

	// Enough bindings that an unstable sort would show.
	var many []Binding
	want = want[:0]
	for i := range 40 {
		b := bind(fmt.Sprintf("sip:u%d@127.0.0.1", i), 500+500*(i%2), exp)
		many = append(many, b)
		if b.Q == 1000 {
			want = append(want, b.Contact)
		}
	}
	for _, b := range many {
		if b.Q == 500 {
			want = append(want, b.Contact)
		}
	}
	put(t, m, "sip:carol@example.com", t0, many...)
	if got := lookup(t, m, "sip:carol@example.com", t0); !slices.Equal(got, want) {
		t.Errorf("Lookup of 40 = %q, want %q", got, want)
	}
}

// TestLookupHidesExpired: a binding lasts until its expiry and no
// longer (RFC 3261 §10.2.1: the registrar drops it when it expires).
func TestLookupHidesExpired(t *testing.T) {
	m := newMemory(t)
	put(t, m, "sip:bob@example.com", t0,
		bind("sip:short@127.0.0.1", 1000, t0.Add(time.Minute)),
		bind("sip:long@127.0.0.1", 1000, t0.Add(time.Hour)),
	)
	tests := []struct {
		at   time.Duration
		want []string
	}{
		{0, []string{"sip:short@127.0.0.1", "sip:long@127.0.0.1"}},
		{time.Minute - time.Nanosecond, []string{"sip:short@127.0.0.1", "sip:long@127.0.0.1"}},
		{time.Minute, []string{"sip:long@127.0.0.1"}},
		{time.Hour, nil},
	}
	for _, tt := range tests {
		if got := lookup(t, m, "sip:bob@example.com", t0.Add(tt.at)); !slices.Equal(got, tt.want) {
			t.Errorf("at +%v: Lookup = %q, want %q", tt.at, got, tt.want)
		}
	}
}

// TestUpdateSeesOnlyUnexpired: fn gets the bindings still valid at now,
// and what it returns already expired is not stored.
func TestUpdateSeesOnlyUnexpired(t *testing.T) {
	m := newMemory(t)
	aor := "sip:bob@example.com"
	put(t, m, aor, t0,
		bind("sip:gone@127.0.0.1", 1000, t0.Add(time.Minute)),
		bind("sip:kept@127.0.0.1", 1000, t0.Add(time.Hour)),
	)
	now := t0.Add(2 * time.Minute)
	var seen []string
	err := m.Update(context.Background(), aor, now, func(cur []Binding) ([]Binding, error) {
		seen = contacts(cur)
		return append(cur, bind("sip:dead@127.0.0.1", 1000, now)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"sip:kept@127.0.0.1"}; !slices.Equal(seen, want) {
		t.Errorf("fn saw %q, want %q", seen, want)
	}
	if got := m.stored(aor); got != 1 {
		t.Errorf("%d bindings stored, want 1 (expired ones dropped)", got)
	}
}

// TestUpdateErrorChangesNothing: a failed update leaves the bindings as
// they were (RFC 3261 §10.3 step 7: all or nothing).
func TestUpdateErrorChangesNothing(t *testing.T) {
	m := newMemory(t)
	aor := "sip:bob@example.com"
	put(t, m, aor, t0, bind("sip:a@127.0.0.1", 1000, t0.Add(time.Hour)))
	boom := errors.New("boom")
	err := m.Update(context.Background(), aor, t0, func(cur []Binding) ([]Binding, error) {
		cur[0].Contact = "sip:changed@127.0.0.1"
		return nil, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want %v", err, boom)
	}
	if got, want := lookup(t, m, aor, t0), []string{"sip:a@127.0.0.1"}; !slices.Equal(got, want) {
		t.Errorf("after failed Update: %q, want %q", got, want)
	}
}

// TestUpdateEmptyRemovesAOR: removing the last binding removes the AOR
// (RFC 3261 §10.2.2), which Len reflects.
func TestUpdateEmptyRemovesAOR(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory(0)
		defer m.Close()
		now := time.Now()
		put(t, m, "sip:bob@example.com", now, bind("sip:a@127.0.0.1", 1000, now.Add(time.Hour)))
		put(t, m, "sip:carol@example.com", now, bind("sip:c@127.0.0.1", 1000, now.Add(time.Hour)))
		if n := m.Len(); n != 2 {
			t.Fatalf("Len = %d, want 2", n)
		}
		put(t, m, "sip:bob@example.com", now)
		if n := m.Len(); n != 1 {
			t.Errorf("Len after removal = %d, want 1", n)
		}
		if n := m.stored("sip:bob@example.com"); n != 0 {
			t.Errorf("%d bindings still stored for a removed AOR", n)
		}
	})
}

// TestLenCountsOnlyUnexpired: an AOR whose bindings all expired is not
// counted, even before the sweep removes it.
func TestLenCountsOnlyUnexpired(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory(time.Hour)
		defer m.Close()
		now := time.Now()
		put(t, m, "sip:bob@example.com", now, bind("sip:a@127.0.0.1", 1000, now.Add(time.Minute)))
		put(t, m, "sip:carol@example.com", now, bind("sip:c@127.0.0.1", 1000, now.Add(10*time.Minute)))
		time.Sleep(2 * time.Minute)
		if n := m.Len(); n != 1 {
			t.Errorf("Len = %d, want 1", n)
		}
	})
}

// TestSweepRemovesExpired: expired bindings are removed by the periodic
// sweep even if their AOR is never touched again.
func TestSweepRemovesExpired(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory(30 * time.Second)
		defer m.Close()
		now := time.Now()
		aor := "sip:bob@example.com"
		put(t, m, aor, now,
			bind("sip:a@127.0.0.1", 1000, now.Add(45*time.Second)),
			bind("sip:b@127.0.0.1", 1000, now.Add(75*time.Second)),
		)
		time.Sleep(31 * time.Second) // first sweep at 30 s: nothing expired
		synctest.Wait()
		if n := m.stored(aor); n != 2 {
			t.Fatalf("after 31 s: %d stored, want 2", n)
		}
		time.Sleep(30 * time.Second) // sweep at 60 s drops a
		synctest.Wait()
		if n := m.stored(aor); n != 1 {
			t.Fatalf("after 61 s: %d stored, want 1", n)
		}
		time.Sleep(30 * time.Second) // sweep at 90 s drops b and the AOR
		synctest.Wait()
		if n := m.aorsStored(); n != 0 {
			t.Fatalf("after 91 s: %d AORs stored, want 0", n)
		}
	})
}

// TestCloseStopsSweep: Close ends the sweep goroutine (synctest fails
// the test if a goroutine of the bubble is left blocked) and is
// idempotent.
func TestCloseStopsSweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory(time.Second)
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-m.done:
		default:
			t.Error("sweep goroutine still running after Close")
		}
	})
}

// TestUpdateIsAtomic: concurrent Updates of one AOR never lose each
// other's changes (run with -race).
func TestUpdateIsAtomic(t *testing.T) {
	m := newMemory(t)
	aor := "sip:bob@example.com"
	const workers, rounds = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				err := m.Update(context.Background(), aor, t0, func(cur []Binding) ([]Binding, error) {
					// A read-modify-write: a lost update shows as a
					// missing contact or a wrong counter.
					var seq uint32
					for _, b := range cur {
						seq = max(seq, b.CSeq)
					}
					b := bind(fmt.Sprintf("sip:w%d-%d@127.0.0.1", w, r), 1000, t0.Add(time.Hour))
					b.CSeq = seq + 1
					return append(cur, b), nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := m.Lookup(context.Background(), aor, t0); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	bs, err := m.Lookup(context.Background(), aor, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != workers*rounds {
		t.Errorf("%d bindings, want %d", len(bs), workers*rounds)
	}
	var top uint32
	for _, b := range bs {
		top = max(top, b.CSeq)
	}
	if top != workers*rounds {
		t.Errorf("highest CSeq %d, want %d", top, workers*rounds)
	}
}

// TestLookupResultIsACopy: what Lookup returns and what fn is given
// belong to the caller; changing them does not change the store.
func TestLookupResultIsACopy(t *testing.T) {
	m := newMemory(t)
	aor := "sip:bob@example.com"
	b := bind("sip:a@127.0.0.1", 1000, t0.Add(time.Hour))
	b.Path = []string{"<sip:p1.example.com;lr>"}
	put(t, m, aor, t0, b)
	b.Path[0] = "<sip:caller-changed.example.com;lr>"

	bs, _ := m.Lookup(context.Background(), aor, t0)
	bs[0].Path[0] = "<sip:changed.example.com;lr>"
	bs[0].Contact = "sip:changed@127.0.0.1"

	bs, _ = m.Lookup(context.Background(), aor, t0)
	if bs[0].Contact != "sip:a@127.0.0.1" || bs[0].Path[0] != "<sip:p1.example.com;lr>" {
		t.Errorf("stored binding changed through a returned copy: %+v", bs[0])
	}
}

// TestCanceledContext: a canceled context fails the call and changes
// nothing.
func TestCanceledContext(t *testing.T) {
	m := newMemory(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := m.Update(ctx, "sip:bob@example.com", t0, func(cur []Binding) ([]Binding, error) {
		called = true
		return cur, nil
	})
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("Update = %v (fn called %v), want context.Canceled without calling fn", err, called)
	}
	if _, err := m.Lookup(ctx, "sip:bob@example.com", t0); !errors.Is(err, context.Canceled) {
		t.Errorf("Lookup = %v, want context.Canceled", err)
	}
}

// stored returns how many bindings, expired or not, m holds for aor.
func (m *Memory) stored(aor string) int {
	s := m.shard(aor)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.aors[aor])
}

// aorsStored returns how many AORs m holds, expired or not.
func (m *Memory) aorsStored() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		n += len(s.aors)
		s.mu.RUnlock()
	}
	return n
}
