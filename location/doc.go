// Package location is the location service of RFC 3261 §10: the
// bindings of each address-of-record (AOR) to the contact addresses
// where it can be reached, which a registrar writes and a proxy reads
// (§10.3, §16.5).
//
// A Store holds them. Memory, the default, keeps them in a sharded map
// in the process; other implementations (a shared Redis store for
// several proxies) satisfy the same interface. Every binding has an
// absolute expiry and stops being visible once it passes; readers and
// writers pass the current time, so the store itself needs no clock.
//
//	store := location.NewMemory(0)
//	defer store.Close()
//	to, _ := sip.ParseURI("sip:bob@example.com")
//	aor := location.Key(to) // "sip:bob@example.com"
//	err := store.Update(ctx, aor, now, func(cur []location.Binding) ([]location.Binding, error) {
//		return append(cur, location.Binding{AOR: aor, Contact: "sip:bob@192.0.2.4:5060",
//			Q: 1000, Expires: now.Add(time.Hour), CallID: "c1", CSeq: 1}), nil
//	})
//	targets, err := store.Lookup(ctx, aor, now) // highest q first
//
// RFCs: 3261 §10 (bindings, §10.3 step 5 canonical AOR), §20.10 (q),
// 3327 (Path, kept per binding).
package location
