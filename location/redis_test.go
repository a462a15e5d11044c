package location

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Redis store is tested against a real redis-server, started on a
// free loopback port the first time a test needs it and stopped by
// TestMain. Each test gets a database of its own, emptied first.

const testRedisDBs = 256

var testRedis struct {
	once   sync.Once
	err    error
	addr   string
	cmd    *exec.Cmd
	exited chan error
	dir    string
	nextDB atomic.Int32
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopTestRedis()
	os.Exit(code)
}

// redisURL returns the URL of a fresh, empty database on the test
// server, starting the server if this is the first call.
func redisURL(t *testing.T) string {
	t.Helper()
	testRedis.once.Do(func() { testRedis.err = startTestRedis() })
	if testRedis.err != nil {
		t.Fatal(testRedis.err)
	}
	db := int(testRedis.nextDB.Add(1)-1) % testRedisDBs
	url := fmt.Sprintf("redis://%s/%d", testRedis.addr, db)
	c := rawRedis(t, url)
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	return url
}

// newRedis returns a Redis store on a fresh database, closed at the
// end of the test.
func newRedis(t *testing.T) *Redis {
	t.Helper()
	r, err := NewRedis(redisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// rawRedis returns a plain client, to look at what the store wrote.
func rawRedis(t *testing.T, url string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func startTestRedis() error {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return errors.New("redis-server not found in PATH: the Redis location store tests need it; " +
			"install the Debian package redis-server (apt-get install redis-server), as test.sh does")
	}
	dir, err := os.MkdirTemp("", "sipkit-redis-")
	if err != nil {
		return err
	}
	testRedis.dir = dir
	// The free port may be taken between finding and using it: try a
	// few.
	for range 3 {
		if err = tryStartRedis(path, dir); err == nil {
			return nil
		}
	}
	return err
}

func tryStartRedis(path, dir string) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(path,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--databases", strconv.Itoa(testRedisDBs), "--dir", dir)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// If the test binary dies without running TestMain's cleanup
	// (a -timeout panic), the kernel kills the server on Linux. The
	// field exists only there, hence reflection rather than a build
	// tag on this file.
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if f := reflect.ValueOf(cmd.SysProcAttr).Elem().FieldByName("Pdeathsig"); f.IsValid() {
		f.Set(reflect.ValueOf(syscall.SIGKILL))
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if pingRedis(addr) {
			testRedis.addr, testRedis.cmd, testRedis.exited = addr, cmd, exited
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("redis-server on port %d exited (%v):\n%s", port, err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return fmt.Errorf("redis-server on port %d did not answer PING in 10 s:\n%s", port, out.String())
		}
	}
}

// pingRedis reports whether a Redis server at addr answers PING.
func pingRedis(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

func stopTestRedis() {
	if testRedis.cmd != nil {
		testRedis.cmd.Process.Kill()
		<-testRedis.exited
	}
	if testRedis.dir != "" {
		os.RemoveAll(testRedis.dir)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// stored returns how many bindings, expired or not, r holds for aor
// (Memory.stored is its twin).
func (r *Redis) stored(aor string) int {
	bs, err := r.get(context.Background(), r.client, aor)
	if err != nil {
		panic(err)
	}
	return len(bs)
}

// storedCounter is the test hook both stores have.
type storedCounter interface {
	stored(aor string) int
}

// testStores are the Store implementations the contract runs on.
var testStores = []struct {
	name string
	new  func(t *testing.T) Store
}{
	{"Memory", func(t *testing.T) Store { return newMemory(t) }},
	{"Redis", func(t *testing.T) Store { return newRedis(t) }},
}

// storeContract is what every Store must do, whatever keeps the
// bindings.
var storeContract = []struct {
	name string
	run  func(t *testing.T, s Store)
}{
	{"LookupOrdersByQ", contractLookupOrdersByQ},
	{"LookupHidesExpired", contractLookupHidesExpired},
	{"UpdateSeesOnlyUnexpired", contractUpdateSeesOnlyUnexpired},
	{"UpdateErrorChangesNothing", contractUpdateErrorChangesNothing},
	{"UpdateEmptyRemovesAOR", contractUpdateEmptyRemovesAOR},
	{"LenCountsOnlyUnexpired", contractLenCountsOnlyUnexpired},
	{"UpdateIsAtomic", contractUpdateIsAtomic},
	{"LookupResultIsACopy", contractLookupResultIsACopy},
	{"CanceledContext", contractCanceledContext},
}

// TestStoreContract runs the same behavioural tests on every Store.
func TestStoreContract(t *testing.T) {
	for _, st := range testStores {
		for _, c := range storeContract {
			t.Run(st.name+"/"+c.name, func(t *testing.T) { c.run(t, st.new(t)) })
		}
	}
}

// contractLookupOrdersByQ: the proxy tries contacts in decreasing
// q-value (RFC 3261 §16.6, §20.10); among equal q, the most recently
// registered (first in the stored order) comes first.
func contractLookupOrdersByQ(t *testing.T, s Store) {
	exp := t0.Add(time.Hour)
	put(t, s, "sip:bob@example.com", t0,
		bind("sip:new@127.0.0.1", 500, exp),
		bind("sip:top@127.0.0.1", 1000, exp),
		bind("sip:old@127.0.0.1", 500, exp),
		bind("sip:low@127.0.0.1", 100, exp),
	)
	got := lookup(t, s, "sip:bob@example.com", t0)
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
	put(t, s, "sip:carol@example.com", t0, many...)
	if got := lookup(t, s, "sip:carol@example.com", t0); !slices.Equal(got, want) {
		t.Errorf("Lookup of 40 = %q, want %q", got, want)
	}
}

// contractLookupHidesExpired: a binding lasts until its expiry and no
// longer (RFC 3261 §10.2.1).
func contractLookupHidesExpired(t *testing.T, s Store) {
	put(t, s, "sip:bob@example.com", t0,
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
		if got := lookup(t, s, "sip:bob@example.com", t0.Add(tt.at)); !slices.Equal(got, tt.want) {
			t.Errorf("at +%v: Lookup = %q, want %q", tt.at, got, tt.want)
		}
	}
}

// contractUpdateSeesOnlyUnexpired: fn gets the bindings still valid at
// now, and what it returns already expired is not stored.
func contractUpdateSeesOnlyUnexpired(t *testing.T, s Store) {
	aor := "sip:bob@example.com"
	put(t, s, aor, t0,
		bind("sip:gone@127.0.0.1", 1000, t0.Add(time.Minute)),
		bind("sip:kept@127.0.0.1", 1000, t0.Add(time.Hour)),
	)
	now := t0.Add(2 * time.Minute)
	var seen []string
	err := s.Update(context.Background(), aor, now, func(cur []Binding) ([]Binding, error) {
		seen = contacts(cur)
		return append(cur, bind("sip:dead@127.0.0.1", 1000, now)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"sip:kept@127.0.0.1"}; !slices.Equal(seen, want) {
		t.Errorf("fn saw %q, want %q", seen, want)
	}
	if got := s.(storedCounter).stored(aor); got != 1 {
		t.Errorf("%d bindings stored, want 1 (expired ones dropped)", got)
	}
}

// contractUpdateErrorChangesNothing: a failed update leaves the
// bindings as they were (RFC 3261 §10.3 step 7: all or nothing), and
// fn's error comes back as it is.
func contractUpdateErrorChangesNothing(t *testing.T, s Store) {
	aor := "sip:bob@example.com"
	put(t, s, aor, t0, bind("sip:a@127.0.0.1", 1000, t0.Add(time.Hour)))
	boom := errors.New("boom")
	err := s.Update(context.Background(), aor, t0, func(cur []Binding) ([]Binding, error) {
		cur[0].Contact = "sip:changed@127.0.0.1"
		return nil, boom
	})
	if err != boom {
		t.Fatalf("Update = %v, want %v itself", err, boom)
	}
	if got, want := lookup(t, s, aor, t0), []string{"sip:a@127.0.0.1"}; !slices.Equal(got, want) {
		t.Errorf("after failed Update: %q, want %q", got, want)
	}
}

// contractUpdateEmptyRemovesAOR: removing the last binding removes the
// AOR (RFC 3261 §10.2.2), which Len reflects. Len uses the wall clock,
// so this test does too.
func contractUpdateEmptyRemovesAOR(t *testing.T, s Store) {
	now := time.Now()
	put(t, s, "sip:bob@example.com", now, bind("sip:a@127.0.0.1", 1000, now.Add(time.Hour)))
	put(t, s, "sip:carol@example.com", now, bind("sip:c@127.0.0.1", 1000, now.Add(time.Hour)))
	if n := s.Len(); n != 2 {
		t.Fatalf("Len = %d, want 2", n)
	}
	put(t, s, "sip:bob@example.com", now)
	if n := s.Len(); n != 1 {
		t.Errorf("Len after removal = %d, want 1", n)
	}
	if n := s.(storedCounter).stored("sip:bob@example.com"); n != 0 {
		t.Errorf("%d bindings still stored for a removed AOR", n)
	}
	if got := lookup(t, s, "sip:bob@example.com", now); got != nil {
		t.Errorf("Lookup of a removed AOR = %q", got)
	}
}

// contractLenCountsOnlyUnexpired: an AOR whose bindings all expired
// stops being counted without anyone touching it. Redis drops the key
// when its time to live (whole seconds) runs out, so this takes up to
// a real second.
func contractLenCountsOnlyUnexpired(t *testing.T, s Store) {
	now := time.Now()
	put(t, s, "sip:bob@example.com", now, bind("sip:a@127.0.0.1", 1000, now.Add(time.Millisecond)))
	put(t, s, "sip:carol@example.com", now, bind("sip:c@127.0.0.1", 1000, now.Add(10*time.Minute)))
	deadline := now.Add(3 * time.Second)
	for {
		n := s.Len()
		if n == 1 {
			return
		}
		if n != 2 || time.Now().After(deadline) {
			t.Fatalf("Len = %d %v after bob's only binding expired, want 1", n, time.Since(now))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// contractUpdateIsAtomic: concurrent Updates of one AOR never lose
// each other's changes (run with -race). With Redis each conflict
// means another Update went through, so 20 writers need at most 20
// attempts each.
func contractUpdateIsAtomic(t *testing.T, s Store) {
	concurrentAdds(t, []Store{s}, 20)
}

// concurrentAdds makes n goroutines, spread over stores, each add one
// binding to the same AOR with a read-modify-write, then checks that
// none was lost.
func concurrentAdds(t *testing.T, stores []Store, n int) {
	t.Helper()
	aor := "sip:bob@example.com"
	var wg sync.WaitGroup
	for w := range n {
		s := stores[w%len(stores)]
		wg.Go(func() {
			err := s.Update(context.Background(), aor, t0, func(cur []Binding) ([]Binding, error) {
				// A lost update shows as a missing contact or a
				// wrong counter.
				var seq uint32
				for _, b := range cur {
					seq = max(seq, b.CSeq)
				}
				b := bind(fmt.Sprintf("sip:w%d@127.0.0.1", w), 1000, t0.Add(time.Hour))
				b.CSeq = seq + 1
				return append(cur, b), nil
			})
			if err != nil {
				t.Error(err)
			}
			if _, err := s.Lookup(context.Background(), aor, t0); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, s := range stores {
		bs, err := s.Lookup(context.Background(), aor, t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != n {
			t.Errorf("%d bindings, want %d", len(bs), n)
		}
		var top uint32
		for _, b := range bs {
			top = max(top, b.CSeq)
		}
		if top != uint32(n) {
			t.Errorf("highest CSeq %d, want %d", top, n)
		}
	}
}

// contractLookupResultIsACopy: what Lookup returns and what fn is
// given belong to the caller.
func contractLookupResultIsACopy(t *testing.T, s Store) {
	aor := "sip:bob@example.com"
	b := bind("sip:a@127.0.0.1", 1000, t0.Add(time.Hour))
	b.Path = []string{"<sip:p1.example.com;lr>"}
	put(t, s, aor, t0, b)
	b.Path[0] = "<sip:caller-changed.example.com;lr>"

	bs, _ := s.Lookup(context.Background(), aor, t0)
	bs[0].Path[0] = "<sip:changed.example.com;lr>"
	bs[0].Contact = "sip:changed@127.0.0.1"

	bs, _ = s.Lookup(context.Background(), aor, t0)
	if bs[0].Contact != "sip:a@127.0.0.1" || bs[0].Path[0] != "<sip:p1.example.com;lr>" {
		t.Errorf("stored binding changed through a returned copy: %+v", bs[0])
	}
}

// contractCanceledContext: a canceled context fails the call and
// changes nothing.
func contractCanceledContext(t *testing.T, s Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := s.Update(ctx, "sip:bob@example.com", t0, func(cur []Binding) ([]Binding, error) {
		called = true
		return cur, nil
	})
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("Update = %v (fn called %v), want context.Canceled without calling fn", err, called)
	}
	if _, err := s.Lookup(ctx, "sip:bob@example.com", t0); !errors.Is(err, context.Canceled) {
		t.Errorf("Lookup = %v, want context.Canceled", err)
	}
}

// TestRedisStoresShareBindings: two proxies with their own Redis store
// on one server share one location service: what one registers the
// other finds, and their concurrent Updates of one AOR are atomic.
func TestRedisStoresShareBindings(t *testing.T) {
	url := redisURL(t)
	var stores [2]*Redis
	for i := range stores {
		r, err := NewRedis(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		stores[i] = r
	}
	a, b := stores[0], stores[1]
	now := time.Now()
	put(t, a, "sip:carol@example.com", now, bind("sip:c@127.0.0.1", 1000, now.Add(time.Hour)))
	if got, want := lookup(t, b, "sip:carol@example.com", now), []string{"sip:c@127.0.0.1"}; !slices.Equal(got, want) {
		t.Errorf("b: Lookup = %q, want %q", got, want)
	}
	if n := b.Len(); n != 1 {
		t.Errorf("b: Len = %d, want 1", n)
	}
	put(t, b, "sip:carol@example.com", now)
	if got := lookup(t, a, "sip:carol@example.com", now); got != nil {
		t.Errorf("a: Lookup after b removed the AOR = %q", got)
	}
	if n := a.Len(); n != 0 {
		t.Errorf("a: Len = %d, want 0", n)
	}

	concurrentAdds(t, []Store{a, b}, 20)
}

// TestRedisKeyExpiresWithLastBinding: the AOR's key lives until its
// last binding expires, counted from the caller's now (not Redis's
// clock), rounded up to the second, and holds the bindings in the
// order Update stored them.
func TestRedisKeyExpiresWithLastBinding(t *testing.T) {
	url := redisURL(t)
	r, err := NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	raw := rawRedis(t, url)
	ctx := context.Background()
	aor := "sip:bob@example.com"
	put(t, r, aor, t0,
		bind("sip:b@127.0.0.1", 1000, t0.Add(30*time.Second)),
		bind("sip:a@127.0.0.1", 1000, t0.Add(89*time.Second+time.Millisecond)),
		bind("sip:c@127.0.0.1", 500, t0.Add(time.Minute)),
	)
	ttl, err := raw.TTL(ctx, "sipkit:aor:"+aor).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl != 90*time.Second {
		t.Errorf("TTL = %v, want 90s", ttl)
	}
	data, err := raw.Get(ctx, "sipkit:aor:"+aor).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var bs []Binding
	if err := json.Unmarshal(data, &bs); err != nil {
		t.Fatalf("stored value is not a JSON []Binding: %v\n%s", err, data)
	}
	if got, want := contacts(bs), []string{"sip:b@127.0.0.1", "sip:a@127.0.0.1", "sip:c@127.0.0.1"}; !slices.Equal(got, want) {
		t.Errorf("stored order %q, want %q", got, want)
	}
}

func TestRedisKeyTTL(t *testing.T) {
	tests := []struct {
		expires []time.Duration
		want    time.Duration
	}{
		{[]time.Duration{time.Nanosecond}, time.Second},
		{[]time.Duration{time.Second}, time.Second},
		{[]time.Duration{time.Second + time.Nanosecond}, 2 * time.Second},
		{[]time.Duration{3600 * time.Second, 10 * time.Second}, 3600 * time.Second},
		{[]time.Duration{10 * time.Second, 3599500 * time.Millisecond}, 3600 * time.Second},
	}
	for _, tt := range tests {
		var bs []Binding
		for _, d := range tt.expires {
			bs = append(bs, bind("sip:a@127.0.0.1", 1000, t0.Add(d)))
		}
		if got := keyTTL(bs, t0); got != tt.want {
			t.Errorf("keyTTL(%v) = %v, want %v", tt.expires, got, tt.want)
		}
	}
}

// TestRedisEmptyUpdateDeletesKey: removing the last binding deletes the
// key rather than storing an empty list.
func TestRedisEmptyUpdateDeletesKey(t *testing.T) {
	url := redisURL(t)
	r, err := NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	aor := "sip:bob@example.com"
	put(t, r, aor, t0, bind("sip:a@127.0.0.1", 1000, t0.Add(time.Hour)))
	// Only expired bindings left counts as empty too.
	put(t, r, aor, t0, bind("sip:a@127.0.0.1", 1000, t0))
	n, err := rawRedis(t, url).Exists(context.Background(), "sipkit:aor:"+aor).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("key still exists after its last binding was removed")
	}
}

// TestRedisUpdateRetriesOnConflict: when another proxy writes the AOR
// between the read and the write, Update runs fn again on the new
// bindings instead of overwriting them.
func TestRedisUpdateRetriesOnConflict(t *testing.T) {
	url := redisURL(t)
	a, err := NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	aor := "sip:bob@example.com"
	calls := 0
	err = a.Update(context.Background(), aor, t0, func(cur []Binding) ([]Binding, error) {
		calls++
		if calls == 1 {
			put(t, b, aor, t0, bind("sip:from-b@127.0.0.1", 1000, t0.Add(time.Hour)))
		}
		return append(cur, bind("sip:from-a@127.0.0.1", 1000, t0.Add(time.Hour))), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("fn called %d times, want 2", calls)
	}
	want := []string{"sip:from-b@127.0.0.1", "sip:from-a@127.0.0.1"}
	if got := lookup(t, a, aor, t0); !slices.Equal(got, want) {
		t.Errorf("Lookup = %q, want %q", got, want)
	}
}

// TestRedisUpdateGivesUpAfterConflicts: an Update that loses every
// race fails after redisMaxAttempts, with redis.TxFailedErr, and
// writes nothing of its own.
func TestRedisUpdateGivesUpAfterConflicts(t *testing.T) {
	url := redisURL(t)
	a, err := NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	aor := "sip:bob@example.com"
	calls := 0
	err = a.Update(context.Background(), aor, t0, func(cur []Binding) ([]Binding, error) {
		calls++
		put(t, b, aor, t0, bind(fmt.Sprintf("sip:b%d@127.0.0.1", calls), 1000, t0.Add(time.Hour)))
		return append(cur, bind("sip:from-a@127.0.0.1", 1000, t0.Add(time.Hour))), nil
	})
	if !errors.Is(err, redis.TxFailedErr) || !strings.HasPrefix(err.Error(), "location: redis: ") {
		t.Errorf("Update = %v, want a location: redis: error wrapping redis.TxFailedErr", err)
	}
	if calls != redisMaxAttempts {
		t.Errorf("fn called %d times, want %d", calls, redisMaxAttempts)
	}
	want := []string{fmt.Sprintf("sip:b%d@127.0.0.1", calls)}
	if got := lookup(t, a, aor, t0); !slices.Equal(got, want) {
		t.Errorf("Lookup = %q, want %q", got, want)
	}
}

// TestRedisCorruptValueIsAnError: a value that is not JSON bindings
// fails Lookup and Update, which then leaves it alone rather than
// overwrite what it cannot read.
func TestRedisCorruptValueIsAnError(t *testing.T) {
	url := redisURL(t)
	r, err := NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	raw := rawRedis(t, url)
	ctx := context.Background()
	aor := "sip:bob@example.com"
	if err := raw.Set(ctx, "sipkit:aor:"+aor, "not json", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Lookup(ctx, aor, t0); err == nil || !strings.HasPrefix(err.Error(), "location: redis: ") {
		t.Errorf("Lookup = %v, want a location: redis: error", err)
	}
	called := false
	err = r.Update(ctx, aor, t0, func(cur []Binding) ([]Binding, error) {
		called = true
		return nil, nil
	})
	if err == nil || !strings.HasPrefix(err.Error(), "location: redis: ") || called {
		t.Errorf("Update = %v (fn called %v), want a location: redis: error without calling fn", err, called)
	}
	if v, _ := raw.Get(ctx, "sipkit:aor:"+aor).Result(); v != "not json" {
		t.Errorf("value changed to %q", v)
	}
}

// TestRedisLenIgnoresOtherKeys: Len counts AORs only, so the database
// can hold other data.
func TestRedisLenIgnoresOtherKeys(t *testing.T) {
	url := redisURL(t)
	r, err := NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	raw := rawRedis(t, url)
	for i := range 5 {
		if err := raw.Set(context.Background(), fmt.Sprintf("other:%d", i), "x", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	for i := range 3 {
		put(t, r, fmt.Sprintf("sip:u%d@example.com", i), now, bind("sip:a@127.0.0.1", 1000, now.Add(time.Hour)))
	}
	if n := r.Len(); n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
}

// TestNewRedisErrors: a bad URL or a server that does not answer fails
// NewRedis, with the package's prefix.
func TestNewRedisErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for _, url := range []string{"http://127.0.0.1:6379", "redis://127.0.0.1:6379/x", "redis://" + closed + "/0?max_retries=-1"} {
		r, err := NewRedis(url)
		if err == nil {
			r.Close()
			t.Errorf("NewRedis(%q) succeeded", url)
			continue
		}
		if !strings.HasPrefix(err.Error(), "location: redis: ") {
			t.Errorf("NewRedis(%q) = %v, want a location: redis: error", url, err)
		}
	}
}
