package location_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sipkit/sipkit/location"
	"github.com/sipkit/sipkit/sip"
)

func ExampleMemory() {
	store := location.NewMemory(0)
	defer store.Close()
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	to, _ := sip.ParseURI("sip:bob@Example.COM:5060;transport=udp")
	aor := location.Key(to)
	_ = store.Update(ctx, aor, now, func(cur []location.Binding) ([]location.Binding, error) {
		return append(cur,
			location.Binding{AOR: aor, Contact: "sip:bob@127.0.0.1:5072", Q: 500, Expires: now.Add(time.Hour)},
			location.Binding{AOR: aor, Contact: "sip:bob@127.0.0.1:5074", Q: 1000, Expires: now.Add(time.Minute)},
		), nil
	})
	for _, at := range []time.Duration{0, 2 * time.Minute} {
		bs, _ := store.Lookup(ctx, aor, now.Add(at))
		fmt.Print(aor, " +", at, ":")
		for _, b := range bs {
			fmt.Print(" ", b.Contact)
		}
		fmt.Println()
	}
	// Output:
	// sip:bob@example.com +0s: sip:bob@127.0.0.1:5074 sip:bob@127.0.0.1:5072
	// sip:bob@example.com +2m0s: sip:bob@127.0.0.1:5072
}
