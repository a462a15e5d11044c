package location

import (
	"context"
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
