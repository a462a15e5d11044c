package location

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// redisKeyPrefix starts the key of every AOR, so that the location
	// service can share a Redis database with other data.
	redisKeyPrefix = "sipkit:aor:"

	// redisMaxAttempts bounds the optimistic transactions of one
	// Update. Each conflict means another proxy's Update of the same
	// AOR went through, so running out takes a storm of REGISTERs for
	// one AOR, not a slow server.
	redisMaxAttempts = 50

	// redisLenTimeout bounds Len, which has no context of its own.
	redisLenTimeout = 5 * time.Second

	// redisDialTimeout bounds the PING of NewRedis.
	redisDialTimeout = 5 * time.Second
)

// Redis is a Store kept in Redis, for several proxies that share one
// location service: a REGISTER handled by one proxy is seen by the
// lookups of all of them.
//
// Each AOR is one string key, "sipkit:aor:" + the AOR, holding the
// JSON array of its bindings (the JSON encoding of []Binding, in the
// order Update stored them, so renaming a Binding field changes the
// stored format). The key expires when its last binding does (rounded
// up to the second), so Redis itself drops AORs whose phones went away
// and no sweep is needed. Update is an optimistic transaction
// (WATCH/MULTI/EXEC) retried on conflict, so its fn may run more than
// once.
//
// As with every Store, time comes from the caller; the key's time to
// live is the latest expiry minus that time, so the proxies' clocks
// should agree with each other, not with Redis's.
type Redis struct {
	client *redis.Client
}

var _ Store = (*Redis)(nil)

// NewRedis connects to the Redis server at url, as understood by
// redis.ParseURL: "redis://[[user]:password@]host[:port][/db]",
// "rediss://..." for TLS, or "unix:///path/to/socket?db=N". It fails
// if the server does not answer a PING within 5 s, so that a proxy
// with a wrong --location fails at start rather than at its first
// REGISTER. Close releases the connections.
func NewRedis(url string) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("location: redis: %w", err)
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), redisDialTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("location: redis: %s: %w", opts.Addr, err)
	}
	return &Redis{client: client}, nil
}

// Close closes the connections to Redis. The bindings stay in Redis
// until they expire.
func (r *Redis) Close() error {
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("location: redis: %w", err)
	}
	return nil
}

func redisKey(aor string) string { return redisKeyPrefix + aor }

// Lookup implements Store.
func (r *Redis) Lookup(ctx context.Context, aor string, now time.Time) ([]Binding, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bs, err := r.get(ctx, r.client, aor)
	if err != nil {
		return nil, fmt.Errorf("location: redis: lookup %q: %w", aor, err)
	}
	out := live(bs, now)
	// Stable: among equal q the stored order, most recent first.
	slices.SortStableFunc(out, func(a, b Binding) int { return cmp.Compare(b.Q, a.Q) })
	return out, nil
}

// get reads the stored bindings of aor, expired or not; nil if there
// is no key. Its errors are for Lookup and Update to wrap.
func (r *Redis) get(ctx context.Context, c redis.Cmdable, aor string) ([]Binding, error) {
	data, err := c.Get(ctx, redisKey(aor)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var bs []Binding
	if err := json.Unmarshal(data, &bs); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return bs, nil
}

// Update implements Store. It watches the AOR's key, reads it, runs
// fn, and writes the result in a MULTI/EXEC that fails if another
// client wrote the key meanwhile; it then starts again, after a short
// random pause, up to 50 times.
func (r *Redis) Update(ctx context.Context, aor string, now time.Time, fn func(current []Binding) ([]Binding, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := redisKey(aor)
	// fnErr tells fn's own error, returned as is, from Redis's.
	var fnErr error
	txn := func(tx *redis.Tx) error {
		cur, err := r.get(ctx, tx, aor)
		if err != nil {
			return err
		}
		next, err := fn(live(cur, now))
		if err != nil {
			fnErr = err
			return err
		}
		next = live(next, now)
		var data []byte
		var ttl time.Duration
		if len(next) > 0 {
			if data, err = json.Marshal(next); err != nil {
				return fmt.Errorf("encode: %w", err)
			}
			ttl = keyTTL(next, now)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			if len(next) == 0 {
				p.Del(ctx, key)
			} else {
				p.Set(ctx, key, data, ttl)
			}
			return nil
		})
		return err
	}
	for attempt := 1; ; attempt++ {
		err := r.client.Watch(ctx, txn, key)
		switch {
		case fnErr != nil:
			return fnErr
		case err == nil:
			return nil
		case !errors.Is(err, redis.TxFailedErr):
			return fmt.Errorf("location: redis: update %q: %w", aor, err)
		case attempt == redisMaxAttempts:
			return fmt.Errorf("location: redis: update %q: %d conflicting attempts: %w", aor, attempt, err)
		}
		// Another writer won the race. A random pause keeps the
		// losers from colliding again in lockstep.
		pause := time.Duration(rand.Int64N(int64(min(attempt, 10)) * int64(time.Millisecond)))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// keyTTL is how long the key of bs must live from now: until the last
// expiry, rounded up to the second, at least 1 s.
func keyTTL(bs []Binding, now time.Time) time.Duration {
	var last time.Time
	for _, b := range bs {
		if b.Expires.After(last) {
			last = b.Expires
		}
	}
	ttl := last.Sub(now)
	if secs := (ttl + time.Second - 1) / time.Second; secs > 1 {
		return secs * time.Second
	}
	return time.Second
}

// Len implements Store. It counts the AORs' keys with SCAN: O(N) in
// the keys of the database, one round trip per 1000 keys, and a set of
// the AORs' keys in memory. It is meant for tests and for metrics
// scraped now and then, not for every request. An AOR may be counted up to a second after its last
// binding expired (the key's time to live is rounded up). Len has no
// way to report an error: it returns 0 if Redis fails or takes more
// than 5 s.
func (r *Redis) Len() int {
	ctx, cancel := context.WithTimeout(context.Background(), redisLenTimeout)
	defer cancel()
	// SCAN may return a key more than once (when Redis resizes its
	// table during the scan), hence the set.
	seen := make(map[string]struct{})
	var cursor uint64
	for {
		keys, next, err := r.client.Scan(ctx, cursor, redisKeyPrefix+"*", 1000).Result()
		if err != nil {
			return 0
		}
		for _, k := range keys {
			seen[k] = struct{}{}
		}
		if cursor = next; cursor == 0 {
			return len(seen)
		}
	}
}
