package proxy

import (
	"context"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transaction"
	"github.com/sipkit/sipkit/transport"
)

// RFC 3263 §4.3: when the next hop has several addresses (SRV records), a
// branch moves to the next one when the first fails at the transport,
// does not answer at all, or answers 503, and the caller never sees the
// failure.
func TestFailoverToNextAddress(t *testing.T) {
	tests := []struct {
		name string
		tr   string
		// first sets up the first address: nothing listening, or a phone
		// that is dropped or answers 503.
		first func(e *env, ph *phone)
		after time.Duration
	}{
		{"connection refused", transport.TCP, nil, 0},
		{"no response (Timer B)", transport.UDP, func(e *env, ph *phone) {
			e.n.SetDrop(func(ev siptest.Event) bool { return ev.To == ph.ep.Addr() })
		}, 33 * time.Second},
		{"503", transport.TCP, func(e *env, ph *phone) {
			ph.onInvite = func(tx *transaction.ServerTx) { tx.Respond(respond(tx.Request(), 503)) }
		}, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				first := netip.MustParseAddrPort("127.0.0.1:5091")
				second := netip.MustParseAddrPort("127.0.0.1:5092")
				e := newEnv(t, tc.tr, func(c *Config) {
					c.Resolve = func(_ context.Context, u sip.URI) ([]transport.Target, error) {
						if u.Host != "bob.example.com" {
							t.Errorf("resolving %s", u)
						}
						return []transport.Target{{Transport: tc.tr, Addr: first}, {Transport: tc.tr, Addr: second}}, nil
					}
				})
				if tc.first != nil {
					tc.first(e, e.phone(first.String()))
				}
				ph := e.phone(second.String())
				u, _ := sip.ParseURI("sip:bob@bob.example.com")
				e.targets["bob"] = []Target{{URI: u}}
				e.caller.invite("bob")
				wait(tc.after + time.Second)
				if ph.received() != 1 {
					t.Fatalf("second address got %d INVITEs, want 1", ph.received())
				}
				ph.answer(0, 200)
				wait(time.Second)
				if f := e.caller.final(); f == nil || f.StatusCode() != 200 {
					t.Errorf("caller's final %v, want the second address's 200", f)
				}
				if got := e.caller.codes(); len(got) != 2 {
					t.Errorf("caller got %v, want only 100 and 200", got)
				}
			})
		})
	}
}

// The branch ends with the last failure when no address is left.
func TestFailoverEndsWithLastAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, transport.TCP, func(c *Config) {
			c.Resolve = func(context.Context, sip.URI) ([]transport.Target, error) {
				return []transport.Target{
					{Transport: transport.TCP, Addr: netip.MustParseAddrPort("127.0.0.1:5093")},
					{Transport: transport.TCP, Addr: netip.MustParseAddrPort("127.0.0.1:5094")},
				}, nil
			}
		})
		u, _ := sip.ParseURI("sip:bob@bob.example.com")
		e.targets["bob"] = []Target{{URI: u}}
		e.caller.invite("bob")
		wait(time.Second)
		if f := e.caller.final(); f == nil || f.StatusCode() != 500 {
			t.Errorf("caller's final %v, want 500 (a lone 503 from the proxy's branch)", f)
		}
	})
}
