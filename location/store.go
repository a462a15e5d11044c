package location

import (
	"context"
	"time"
)

// Store keeps bindings. Implementations are safe for concurrent use.
type Store interface {
	// Lookup returns the bindings of aor that have not expired at now,
	// highest Q first, then most recently registered first. The result
	// belongs to the caller.
	Lookup(ctx context.Context, aor string, now time.Time) ([]Binding, error)

	// Update runs fn with the current (unexpired at now) bindings of
	// aor, atomically with respect to other Updates of the same aor, and
	// stores what fn returns (an empty slice removes the AOR). An error
	// from fn is returned and nothing changes.
	//
	// fn may modify and return the slice it is given. The order fn
	// returns is the registration order, most recent first: Lookup keeps
	// it among bindings of equal Q. Bindings fn returns that have
	// already expired at now are dropped. fn must not call the Store,
	// and a store that retries on conflict (optimistic locking) may call
	// it more than once, so fn must not have side effects beyond what
	// the last call returns.
	Update(ctx context.Context, aor string, now time.Time, fn func(current []Binding) ([]Binding, error)) error

	// Len returns the number of AORs with at least one unexpired
	// binding (for metrics and tests).
	Len() int
}
