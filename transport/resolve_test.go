package transport

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sipkit/sipkit/sip"
)

// resolveZone is what the in-process DNS server knows. Every name is
// under .test (RFC 2606), served on loopback only.
const resolveZone = `
test.                  3600 IN SOA ns.test. admin.test. 1 3600 600 86400 600

; naptr.test: NAPTR records in no particular order, two of them unusable
; (SCTP, and a "u" ENUM record), each pointing to its own SRV name.
naptr.test.            300 IN NAPTR 20 10 "s" "SIP+D2U"  "" _sip._udp.naptr.test.
naptr.test.            300 IN NAPTR 10 20 "s" "SIP+D2T"  "" _sip._tcp.naptr.test.
naptr.test.            300 IN NAPTR 30 10 "S" "SIPS+D2W" "" _sips._ws.naptr.test.
naptr.test.            300 IN NAPTR 10 10 "s" "sips+d2t" "" _sips._tcp.naptr.test.
naptr.test.            300 IN NAPTR 5  10 "s" "SIP+D2S"  "" _sip._sctp.naptr.test.
naptr.test.            300 IN NAPTR 5  5  "u" "E2U+sip"  "!^.*$!sip:info@example.com!" .
_sips._tcp.naptr.test. 300 IN SRV 0 0 5061 tls1.naptr.test.
_sip._tcp.naptr.test.  300 IN SRV 0 0 5060 tcp1.naptr.test.
_sip._udp.naptr.test.  300 IN SRV 0 0 5060 udp1.naptr.test.
_sips._ws.naptr.test.  300 IN SRV 0 0 443  ws1.naptr.test.
_sip._sctp.naptr.test. 300 IN SRV 0 0 5060 sctp1.naptr.test.
tls1.naptr.test.       300 IN A    192.0.2.11
tls1.naptr.test.       300 IN AAAA 2001:db8::11
tcp1.naptr.test.       300 IN A    192.0.2.12
udp1.naptr.test.       300 IN A    192.0.2.13
ws1.naptr.test.        300 IN A    192.0.2.14
sctp1.naptr.test.      300 IN A    192.0.2.15

; srv.test: no NAPTR; UDP in two priorities with weights, TCP, no TLS.
srv.test.              300 IN A   192.0.2.99
_sip._udp.srv.test.    300 IN SRV 10 60 5070 a.srv.test.
_sip._udp.srv.test.    300 IN SRV 20 0  5072 c.srv.test.
_sip._udp.srv.test.    300 IN SRV 10 40 5071 b.srv.test.
_sip._tcp.srv.test.    300 IN SRV 10 0  5080 a.srv.test.
a.srv.test.            300 IN A    192.0.2.1
a.srv.test.            300 IN AAAA 2001:db8::1
b.srv.test.            300 IN A    192.0.2.2
c.srv.test.            300 IN AAAA 2001:db8::3

only-a.test.           300 IN A 192.0.2.50

; naptr-a.test: a NAPTR record whose SRV name does not exist.
naptr-a.test.          300 IN NAPTR 10 10 "s" "SIP+D2T" "" _sip._tcp.naptr-a.test.
naptr-a.test.          300 IN A 192.0.2.70

; sctp.test: only a NAPTR record for a transport this package lacks.
sctp.test.             300 IN NAPTR 10 10 "s" "SIP+D2S" "" _sip._sctp.sctp.test.
sctp.test.             300 IN A 192.0.2.80

; dot.test: an SRV target of "." says the service is not offered.
_sip._udp.dot.test.    300 IN SRV 0 0 0 .
dot.test.              300 IN A 192.0.2.90

; glue.test: the server adds the SRV targets' addresses to its answer
; (and tries to plant one for planted.test).
_sip._udp.glue.test.   300 IN SRV 0 0 5060 g1.glue.test.
g1.glue.test.          300 IN A    192.0.2.40
g1.glue.test.          300 IN AAAA 2001:db8::40
planted.test.          300 IN A    192.0.2.251

; dup.test: two SRV targets with one address.
_sip._udp.dup.test.    300 IN SRV 10 0 5060 x1.dup.test.
_sip._udp.dup.test.    300 IN SRV 20 0 5060 x2.dup.test.
x1.dup.test.           300 IN A    192.0.2.77
x2.dup.test.           300 IN A    192.0.2.77

ttl.test.              60  IN A    192.0.2.60
big.test.              300 IN A    192.0.2.30
half.test.             300 IN A    192.0.2.20
`

// Names the server treats specially.
const (
	dropName     = "drop.test."     // never answered
	halfName     = "half.test."     // AAAA never answered
	hangName     = "hang.test."     // answered only when the test ends
	servfailName = "servfail.test." // SERVFAIL
	bigName      = "big.test."      // truncated over UDP
	glueSuffix   = ".glue.test."    // SRV answers carry additional addresses
)

// testDNS is an authoritative server for resolveZone on 127.0.0.1, over
// UDP and TCP on one port, that logs the queries it receives.
type testDNS struct {
	addr    string
	records map[cacheKey][]dns.RR
	names   map[string]bool // owner names: the others are NXDOMAIN
	soa     dns.RR
	planted dns.RR
	hung    chan struct{} // a query for hangName arrived
	release chan struct{} // closed when the test ends

	mu      sync.Mutex
	queries []string
}

func startTestDNS(t *testing.T) *testDNS {
	t.Helper()
	z := &testDNS{
		records: make(map[cacheKey][]dns.RR),
		names:   make(map[string]bool),
		hung:    make(chan struct{}, 1),
		release: make(chan struct{}),
	}
	zp := dns.NewZoneParser(strings.NewReader(resolveZone), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		if h.Rrtype == dns.TypeSOA {
			z.soa = rr
			continue
		}
		name := dns.CanonicalName(h.Name)
		z.records[cacheKey{name, h.Rrtype}] = append(z.records[cacheKey{name, h.Rrtype}], rr)
		z.names[name] = true
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	var err error
	if z.planted, err = dns.NewRR("planted.test. 300 IN A 192.0.2.250"); err != nil {
		t.Fatal(err)
	}

	pc, ln := listenSamePort(t)
	z.addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: z}, {Listener: ln, Handler: z}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan error, 1)
		go func() { done <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-done:
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := srv.Shutdown(); err != nil {
				t.Error(err)
			}
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(func() { close(z.release) }) // runs first: unblocks hangName
	return z
}

// listenSamePort opens UDP and TCP sockets on one loopback port, as a DNS
// server has, so that a truncated UDP answer can be retried over TCP.
func listenSamePort(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return nil, nil
}

func (z *testDNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	q := req.Question[0]
	name := dns.CanonicalName(q.Name)
	overTCP := w.RemoteAddr().Network() == "tcp"
	z.log(q.Qtype, name, overTCP)
	switch {
	case name == dropName, name == halfName && q.Qtype == dns.TypeAAAA:
		return // the client times out
	case name == hangName:
		select {
		case z.hung <- struct{}{}:
		default:
		}
		<-z.release
		return
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	switch {
	case name == servfailName:
		m.Rcode = dns.RcodeServerFailure
	case name == bigName && !overTCP:
		m.Truncated = true
	default:
		z.answer(m, name, q.Qtype)
	}
	w.WriteMsg(m)
}

func (z *testDNS) answer(m *dns.Msg, name string, qtype uint16) {
	m.Answer = z.records[cacheKey{name, qtype}]
	if len(m.Answer) == 0 {
		if !z.names[name] {
			m.Rcode = dns.RcodeNameError
		}
		m.Ns = []dns.RR{z.soa} // RFC 2308 §3: the SOA makes the answer cacheable
		return
	}
	if qtype == dns.TypeSRV && strings.HasSuffix(name, glueSuffix) {
		for _, rr := range m.Answer {
			target := rr.(*dns.SRV).Target
			m.Extra = append(m.Extra, z.records[cacheKey{target, dns.TypeA}]...)
			m.Extra = append(m.Extra, z.records[cacheKey{target, dns.TypeAAAA}]...)
		}
		m.Extra = append(m.Extra, z.planted)
	}
}

func (z *testDNS) log(qtype uint16, name string, overTCP bool) {
	q := dns.TypeToString[qtype] + " " + name
	if overTCP {
		q += " over tcp"
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	z.queries = append(z.queries, q)
}

// take returns the queries received since the last call.
func (z *testDNS) take() []string {
	z.mu.Lock()
	defer z.mu.Unlock()
	q := z.queries
	z.queries = nil
	return q
}

func (z *testDNS) resolver() *Resolver {
	return &Resolver{Servers: []string{z.addr}}
}

func parseURI(t *testing.T, s string) sip.URI {
	t.Helper()
	u, err := sip.ParseURI(s)
	if err != nil {
		t.Fatalf("ParseURI(%q): %v", s, err)
	}
	return u
}

func tgt(transport, addr, host string) Target {
	return Target{Transport: transport, Addr: netip.MustParseAddrPort(addr), Host: host}
}

// showTargets prints targets with their Host, which Target.String omits.
func showTargets(ts []Target) string {
	var b strings.Builder
	for _, t := range ts {
		fmt.Fprintf(&b, "\n\t%s host=%q", t, t.Host)
	}
	return b.String()
}

func checkTargets(t *testing.T, got, want []Target) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("targets:%s\nwant:%s", showTargets(got), showTargets(want))
	}
}

func checkQueries(t *testing.T, z *testDNS, want []string) {
	t.Helper()
	if got := z.take(); !slices.Equal(got, want) {
		t.Errorf("queries:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func alwaysDraw(v int) func(int) int { return func(int) int { return v } }
func drawMax(n int) int              { return n - 1 }

// TestResolveRequestTargets checks the targets RFC 3263 §4 gives for a
// request, their order, and that only the lookups the RFC asks for are
// made.
func TestResolveRequestTargets(t *testing.T) {
	z := startTestDNS(t)
	tests := []struct {
		name    string
		uri     string
		draw    func(int) int // nil: the first record of the draw wins
		want    []Target
		queries []string
	}{{
		// §4.1: NAPTR by order then preference, unusable services
		// dropped; each followed to SRV, then A before AAAA.
		name: "NAPTR to SRV to A and AAAA",
		uri:  "sip:alice@naptr.test",
		want: []Target{
			tgt(TLS, "192.0.2.11:5061", "naptr.test"),
			tgt(TLS, "[2001:db8::11]:5061", "naptr.test"),
			tgt(TCP, "192.0.2.12:5060", "naptr.test"),
			tgt(UDP, "192.0.2.13:5060", "naptr.test"),
			tgt(WSS, "192.0.2.14:443", "naptr.test"),
		},
		queries: []string{
			"NAPTR naptr.test.",
			"SRV _sips._tcp.naptr.test.", "A tls1.naptr.test.", "AAAA tls1.naptr.test.",
			"SRV _sip._tcp.naptr.test.", "A tcp1.naptr.test.", "AAAA tcp1.naptr.test.",
			"SRV _sip._udp.naptr.test.", "A udp1.naptr.test.", "AAAA udp1.naptr.test.",
			"SRV _sips._ws.naptr.test.", "A ws1.naptr.test.", "AAAA ws1.naptr.test.",
		},
	}, {
		// §4.1: a sips URI keeps only the SIPS services.
		name: "sips keeps only SIPS NAPTR services",
		uri:  "sips:alice@naptr.test",
		want: []Target{
			tgt(TLS, "192.0.2.11:5061", "naptr.test"),
			tgt(TLS, "[2001:db8::11]:5061", "naptr.test"),
			tgt(WSS, "192.0.2.14:443", "naptr.test"),
		},
		queries: []string{
			"NAPTR naptr.test.",
			"SRV _sips._tcp.naptr.test.", "A tls1.naptr.test.", "AAAA tls1.naptr.test.",
			"SRV _sips._ws.naptr.test.", "A ws1.naptr.test.", "AAAA ws1.naptr.test.",
		},
	}, {
		// §4.1: no NAPTR, so SRV for UDP, TCP, TLS in turn; RFC 2782:
		// priority 10 before 20. The lower priority follows the higher,
		// for failover (§4.3).
		name: "SRV by priority without NAPTR",
		uri:  "sip:srv.test",
		want: []Target{
			tgt(UDP, "192.0.2.1:5070", "srv.test"),
			tgt(UDP, "[2001:db8::1]:5070", "srv.test"),
			tgt(UDP, "192.0.2.2:5071", "srv.test"),
			tgt(UDP, "[2001:db8::3]:5072", "srv.test"),
			tgt(TCP, "192.0.2.1:5080", "srv.test"),
			tgt(TCP, "[2001:db8::1]:5080", "srv.test"),
		},
		queries: []string{
			"NAPTR srv.test.",
			"SRV _sip._udp.srv.test.",
			"A a.srv.test.", "AAAA a.srv.test.",
			"A b.srv.test.", "AAAA b.srv.test.",
			"A c.srv.test.", "AAAA c.srv.test.",
			"SRV _sip._tcp.srv.test.", // a.srv.test is cached by now
			"SRV _sips._tcp.srv.test.",
		},
	}, {
		// RFC 2782: the draw picks b (weight 40) ahead of a (weight 60).
		name: "SRV weight selection follows the draw",
		uri:  "sip:srv.test",
		draw: drawMax,
		want: []Target{
			tgt(UDP, "192.0.2.2:5071", "srv.test"),
			tgt(UDP, "192.0.2.1:5070", "srv.test"),
			tgt(UDP, "[2001:db8::1]:5070", "srv.test"),
			tgt(UDP, "[2001:db8::3]:5072", "srv.test"),
			tgt(TCP, "192.0.2.1:5080", "srv.test"),
			tgt(TCP, "[2001:db8::1]:5080", "srv.test"),
		},
		queries: []string{
			"NAPTR srv.test.",
			"SRV _sip._udp.srv.test.",
			"A b.srv.test.", "AAAA b.srv.test.",
			"A a.srv.test.", "AAAA a.srv.test.",
			"A c.srv.test.", "AAAA c.srv.test.",
			"SRV _sip._tcp.srv.test.",
			"SRV _sips._tcp.srv.test.",
		},
	}, {
		// §4.1, §4.2: no NAPTR, no SRV: UDP at 5060 for sip.
		name: "A record at the default port",
		uri:  "sip:only-a.test",
		want: []Target{tgt(UDP, "192.0.2.50:5060", "only-a.test")},
		queries: []string{
			"NAPTR only-a.test.",
			"SRV _sip._udp.only-a.test.", "SRV _sip._tcp.only-a.test.", "SRV _sips._tcp.only-a.test.",
			"A only-a.test.", "AAAA only-a.test.",
		},
	}, {
		// §4.1: sips queries only _sips._tcp, then TLS at 5061.
		name: "sips without NAPTR or SRV is TLS at 5061",
		uri:  "sips:only-a.test",
		want: []Target{tgt(TLS, "192.0.2.50:5061", "only-a.test")},
		queries: []string{
			"NAPTR only-a.test.", "SRV _sips._tcp.only-a.test.",
			"A only-a.test.", "AAAA only-a.test.",
		},
	}, {
		// §4.2: SRV of the NAPTR result has nothing: the domain's
		// address with the NAPTR transport.
		name: "NAPTR without SRV falls back to A with its transport",
		uri:  "sip:naptr-a.test",
		want: []Target{tgt(TCP, "192.0.2.70:5060", "naptr-a.test")},
		queries: []string{
			"NAPTR naptr-a.test.", "SRV _sip._tcp.naptr-a.test.",
			"A naptr-a.test.", "AAAA naptr-a.test.",
		},
	}, {
		// §4.1: NAPTR records for unsupported transports count as none.
		name: "unusable NAPTR falls back to SRV queries",
		uri:  "sip:sctp.test",
		want: []Target{tgt(UDP, "192.0.2.80:5060", "sctp.test")},
		queries: []string{
			"NAPTR sctp.test.",
			"SRV _sip._udp.sctp.test.", "SRV _sip._tcp.sctp.test.", "SRV _sips._tcp.sctp.test.",
			"A sctp.test.", "AAAA sctp.test.",
		},
	}, {
		// §4.2: an explicit port means A/AAAA only, no NAPTR or SRV.
		name:    "explicit port skips NAPTR and SRV",
		uri:     "sip:srv.test:5099",
		want:    []Target{tgt(UDP, "192.0.2.99:5099", "srv.test")},
		queries: []string{"A srv.test.", "AAAA srv.test."},
	}, {
		name:    "sips with explicit port is TLS",
		uri:     "sips:srv.test:5999",
		want:    []Target{tgt(TLS, "192.0.2.99:5999", "srv.test")},
		queries: []string{"A srv.test.", "AAAA srv.test."},
	}, {
		// §4.1: the transport parameter wins; §4.2: SRV for it only.
		name: "transport=tcp queries that SRV only",
		uri:  "sip:srv.test;transport=TCP",
		want: []Target{
			tgt(TCP, "192.0.2.1:5080", "srv.test"),
			tgt(TCP, "[2001:db8::1]:5080", "srv.test"),
		},
		queries: []string{"SRV _sip._tcp.srv.test.", "A a.srv.test.", "AAAA a.srv.test."},
	}, {
		// RFC 3261 §26.2.2: sips over tcp is TLS, found at _sips._tcp.
		name: "sips with transport=tcp is TLS",
		uri:  "sips:naptr.test;transport=tcp",
		want: []Target{
			tgt(TLS, "192.0.2.11:5061", "naptr.test"),
			tgt(TLS, "[2001:db8::11]:5061", "naptr.test"),
		},
		queries: []string{"SRV _sips._tcp.naptr.test.", "A tls1.naptr.test.", "AAAA tls1.naptr.test."},
	}, {
		name:    "transport=tcp without SRV uses A at 5060",
		uri:     "sip:only-a.test;transport=tcp",
		want:    []Target{tgt(TCP, "192.0.2.50:5060", "only-a.test")},
		queries: []string{"SRV _sip._tcp.only-a.test.", "A only-a.test.", "AAAA only-a.test."},
	}, {
		// RFC 7118: WS has no SRV name; the HTTP default port.
		name:    "transport=ws is A at port 80",
		uri:     "sip:only-a.test;transport=ws",
		want:    []Target{tgt(WS, "192.0.2.50:80", "only-a.test")},
		queries: []string{"A only-a.test.", "AAAA only-a.test."},
	}, {
		name:    "sips with transport=ws is WSS at 443",
		uri:     "sips:only-a.test;transport=ws",
		want:    []Target{tgt(WSS, "192.0.2.50:443", "only-a.test")},
		queries: []string{"A only-a.test.", "AAAA only-a.test."},
	}, {
		// RFC 2782: servers may add the targets' addresses; they spare
		// the A and AAAA queries, and a record for another name is not
		// taken (see TestResolveIgnoresPlantedAdditional).
		name: "SRV addresses from the additional section",
		uri:  "sip:glue.test",
		want: []Target{
			tgt(UDP, "192.0.2.40:5060", "glue.test"),
			tgt(UDP, "[2001:db8::40]:5060", "glue.test"),
		},
		queries: []string{
			"NAPTR glue.test.", "SRV _sip._udp.glue.test.",
			"SRV _sip._tcp.glue.test.", "SRV _sips._tcp.glue.test.",
		},
	}, {
		// §4.3: trying one address twice would only double the wait.
		name: "an address behind two SRV targets is listed once",
		uri:  "sip:dup.test;transport=udp",
		want: []Target{tgt(UDP, "192.0.2.77:5060", "dup.test")},
		queries: []string{
			"SRV _sip._udp.dup.test.",
			"A x1.dup.test.", "AAAA x1.dup.test.",
			"A x2.dup.test.", "AAAA x2.dup.test.",
		},
	}, {
		// §4.1, §4.2: numeric hosts need no DNS at all.
		name: "numeric IPv4",
		uri:  "sip:bob@192.0.2.7",
		want: []Target{tgt(UDP, "192.0.2.7:5060", "")},
	}, {
		name: "numeric IPv4 with port and transport",
		uri:  "sip:192.0.2.7:5070;transport=tcp",
		want: []Target{tgt(TCP, "192.0.2.7:5070", "")},
	}, {
		name: "numeric IPv6 with sips",
		uri:  "sips:bob@[2001:db8::7]",
		want: []Target{tgt(TLS, "[2001:db8::7]:5061", "")},
	}, {
		// §4: maddr is the TARGET, numeric or not.
		name: "numeric maddr",
		uri:  "sip:alice@srv.test;maddr=192.0.2.8",
		want: []Target{tgt(UDP, "192.0.2.8:5060", "")},
	}, {
		name:    "maddr domain",
		uri:     "sip:alice@192.0.2.1;transport=tcp;maddr=only-a.test",
		want:    []Target{tgt(TCP, "192.0.2.50:5060", "only-a.test")},
		queries: []string{"SRV _sip._tcp.only-a.test.", "A only-a.test.", "AAAA only-a.test."},
	}, {
		name: "numeric IPv6 with port",
		uri:  "sip:[2001:db8::7]:5062",
		want: []Target{tgt(UDP, "[2001:db8::7]:5062", "")},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := z.resolver()
			r.intN = alwaysDraw(0)
			if tc.draw != nil {
				r.intN = tc.draw
			}
			z.take()
			got, err := r.Resolve(context.Background(), parseURI(t, tc.uri))
			if err != nil {
				t.Fatal(err)
			}
			checkTargets(t, got, tc.want)
			checkQueries(t, z, tc.queries)
		})
	}
}

// TestResolveListsLowerPriorityForFailover checks that whatever the
// weighted draw, the priority-20 target comes after both priority-10
// ones, so a caller failing over (RFC 3263 §4.3) reaches it last.
func TestResolveListsLowerPriorityForFailover(t *testing.T) {
	z := startTestDNS(t)
	rng := rand.New(rand.NewPCG(7, 7))
	for _, draw := range []func(int) int{alwaysDraw(0), drawMax, rng.IntN} {
		r := z.resolver()
		r.intN = draw
		got, err := r.Resolve(context.Background(), parseURI(t, "sip:srv.test;transport=udp"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 || got[3] != tgt(UDP, "[2001:db8::3]:5072", "srv.test") {
			t.Errorf("priority 20 target not last:%s", showTargets(got))
		}
	}
}

// TestResolveConcurrently shares one Resolver and its cache between
// goroutines; run with -race it checks the locking.
func TestResolveConcurrently(t *testing.T) {
	z := startTestDNS(t)
	r := z.resolver()
	u := parseURI(t, "sip:srv.test")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, err := r.Resolve(context.Background(), u)
			if err != nil || len(got) != 6 {
				t.Errorf("got %v, %v: want 6 targets", got, err)
			}
		})
	}
	wg.Wait()
}

// TestResolveIgnoresPlantedAdditional checks that addresses in an SRV
// answer's additional section are cached only for that answer's targets.
func TestResolveIgnoresPlantedAdditional(t *testing.T) {
	z := startTestDNS(t)
	r := z.resolver()
	if _, err := r.Resolve(context.Background(), parseURI(t, "sip:glue.test")); err != nil {
		t.Fatal(err)
	}
	z.take()
	got, err := r.Resolve(context.Background(), parseURI(t, "sip:planted.test:5060"))
	if err != nil {
		t.Fatal(err)
	}
	checkTargets(t, got, []Target{tgt(UDP, "192.0.2.251:5060", "planted.test")})
	checkQueries(t, z, []string{"A planted.test.", "AAAA planted.test."})
}

// TestResolveSentBy checks response targets for a Via sent-by (RFC 3263
// §5): a port means A/AAAA only, no port means SRV for the Via's
// transport first, and NAPTR is never used.
func TestResolveSentBy(t *testing.T) {
	z := startTestDNS(t)
	tests := []struct {
		transport string
		host      string
		port      int
		want      []Target
		queries   []string
	}{{
		transport: "UDP", host: "srv.test", port: 5099,
		want:    []Target{tgt(UDP, "192.0.2.99:5099", "srv.test")},
		queries: []string{"A srv.test.", "AAAA srv.test."},
	}, {
		transport: "udp", host: "srv.test",
		want: []Target{
			tgt(UDP, "192.0.2.1:5070", "srv.test"),
			tgt(UDP, "[2001:db8::1]:5070", "srv.test"),
			tgt(UDP, "192.0.2.2:5071", "srv.test"),
			tgt(UDP, "[2001:db8::3]:5072", "srv.test"),
		},
		queries: []string{
			"SRV _sip._udp.srv.test.",
			"A a.srv.test.", "AAAA a.srv.test.",
			"A b.srv.test.", "AAAA b.srv.test.",
			"A c.srv.test.", "AAAA c.srv.test.",
		},
	}, {
		transport: "TLS", host: "naptr.test",
		want: []Target{
			tgt(TLS, "192.0.2.11:5061", "naptr.test"),
			tgt(TLS, "[2001:db8::11]:5061", "naptr.test"),
		},
		queries: []string{"SRV _sips._tcp.naptr.test.", "A tls1.naptr.test.", "AAAA tls1.naptr.test."},
	}, {
		transport: "TCP", host: "only-a.test.",
		want:    []Target{tgt(TCP, "192.0.2.50:5060", "only-a.test")},
		queries: []string{"SRV _sip._tcp.only-a.test.", "A only-a.test.", "AAAA only-a.test."},
	}, {
		transport: "WS", host: "only-a.test",
		want:    []Target{tgt(WS, "192.0.2.50:80", "only-a.test")},
		queries: []string{"A only-a.test.", "AAAA only-a.test."},
	}, {
		transport: "UDP", host: "192.0.2.9",
		want: []Target{tgt(UDP, "192.0.2.9:5060", "")},
	}, {
		transport: "TLS", host: "[2001:db8::9]", port: 5062,
		want: []Target{tgt(TLS, "[2001:db8::9]:5062", "")},
	}, {
		transport: "TCP", host: "2001:db8::9",
		want: []Target{tgt(TCP, "[2001:db8::9]:5060", "")},
	}}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %s:%d", tc.transport, tc.host, tc.port), func(t *testing.T) {
			r := z.resolver()
			r.intN = alwaysDraw(0)
			z.take()
			got, err := r.ResolveSentBy(context.Background(), tc.transport, tc.host, tc.port)
			if err != nil {
				t.Fatal(err)
			}
			checkTargets(t, got, tc.want)
			checkQueries(t, z, tc.queries)
		})
	}
}

// TestResolveErrors checks the failures: ErrNoTargets only when DNS
// answered and had nothing, every error prefixed with the package name.
func TestResolveErrors(t *testing.T) {
	z := startTestDNS(t)
	tests := []struct {
		name      string
		resolve   func(*Resolver) ([]Target, error)
		noTargets bool   // errors.Is(err, ErrNoTargets)
		contains  string // in the message
		queries   []string
	}{{
		name:      "NXDOMAIN",
		resolve:   uriResolve(t, "sip:nx.test"),
		noTargets: true,
		queries: []string{
			"NAPTR nx.test.",
			"SRV _sip._udp.nx.test.", "SRV _sip._tcp.nx.test.", "SRV _sips._tcp.nx.test.",
			"A nx.test.", "AAAA nx.test.",
		},
	}, {
		// RFC 2782: target "." means no service, and RFC 3263 §4.2 uses
		// A records only when there is no SRV record.
		name:      "SRV target dot means no service",
		resolve:   uriResolve(t, "sip:dot.test;transport=udp"),
		noTargets: true,
		queries:   []string{"SRV _sip._udp.dot.test."},
	}, {
		name: "sent-by NXDOMAIN",
		resolve: func(r *Resolver) ([]Target, error) {
			return r.ResolveSentBy(context.Background(), "UDP", "nx.test", 5060)
		},
		noTargets: true,
		queries:   []string{"A nx.test.", "AAAA nx.test."},
	}, {
		name:     "SERVFAIL",
		resolve:  uriResolve(t, "sip:servfail.test:5060"),
		contains: "SERVFAIL",
		queries:  []string{"A servfail.test.", "AAAA servfail.test."},
	}, {
		name:     "sips over UDP",
		resolve:  uriResolve(t, "sips:naptr.test;transport=udp"),
		contains: "transport=udp",
	}, {
		name:     "unknown transport parameter",
		resolve:  uriResolve(t, "sip:naptr.test;transport=sctp"),
		contains: `"sctp"`,
	}, {
		name:     "tel URI",
		resolve:  uriResolve(t, "tel:+15551234"),
		contains: `"tel"`,
	}, {
		name: "unknown sent-by transport",
		resolve: func(r *Resolver) ([]Target, error) {
			return r.ResolveSentBy(context.Background(), "SCTP", "srv.test", 0)
		},
		contains: `"SCTP"`,
	}, {
		name: "bad sent-by port",
		resolve: func(r *Resolver) ([]Target, error) {
			return r.ResolveSentBy(context.Background(), "UDP", "192.0.2.1", 70000)
		},
		contains: "70000",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z.take()
			got, err := tc.resolve(z.resolver())
			if err == nil {
				t.Fatalf("no error; targets:%s", showTargets(got))
			}
			if !strings.HasPrefix(err.Error(), "transport: ") || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q: want prefix \"transport: \" and %q", err, tc.contains)
			}
			if errors.Is(err, ErrNoTargets) != tc.noTargets {
				t.Errorf("errors.Is(%q, ErrNoTargets) = %v, want %v", err, !tc.noTargets, tc.noTargets)
			}
			checkQueries(t, z, tc.queries)
		})
	}
}

func uriResolve(t *testing.T, uri string) func(*Resolver) ([]Target, error) {
	u := parseURI(t, uri)
	return func(r *Resolver) ([]Target, error) { return r.Resolve(context.Background(), u) }
}

// TestResolveReturnsTimeout checks that a server that never answers
// yields its timeout, wrapped, rather than ErrNoTargets.
func TestResolveReturnsTimeout(t *testing.T) {
	z := startTestDNS(t)
	r := z.resolver()
	r.Timeout = 50 * time.Millisecond
	_, err := r.Resolve(context.Background(), parseURI(t, "sip:drop.test:5060"))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || errors.Is(err, ErrNoTargets) || !strings.HasPrefix(err.Error(), "transport: ") {
		t.Fatalf("error %v: want a wrapped timeout", err)
	}
	checkQueries(t, z, []string{"A drop.test.", "AAAA drop.test."})
}

// TestResolveKeepsTargetsWhenOneLookupFails checks that an AAAA query
// that times out does not hide the A record found.
func TestResolveKeepsTargetsWhenOneLookupFails(t *testing.T) {
	z := startTestDNS(t)
	r := z.resolver()
	r.Timeout = 50 * time.Millisecond
	got, err := r.Resolve(context.Background(), parseURI(t, "sip:half.test:5060"))
	if err != nil {
		t.Fatal(err)
	}
	checkTargets(t, got, []Target{tgt(UDP, "192.0.2.20:5060", "half.test")})
}

// TestResolveHonoursCancel checks that cancelling the context ends a
// lookup in progress at once, not when the DNS timeout expires.
func TestResolveHonoursCancel(t *testing.T) {
	z := startTestDNS(t)
	r := z.resolver()
	r.Timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-z.hung
		cancel()
	}()
	start := time.Now()
	_, err := r.Resolve(ctx, parseURI(t, "sip:hang.test:5060"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v: want context.Canceled", err)
	}
	if d := time.Since(start); d > r.Timeout/2 {
		t.Errorf("Resolve returned after %v: the cancel did not end the query", d)
	}
	checkQueries(t, z, []string{"A hang.test."})
}

// TestResolveRetriesTruncatedOverTCP checks the DNS transport: a
// truncated UDP answer is asked again over TCP (RFC 7766 §5), and Net
// "tcp" uses TCP only.
func TestResolveRetriesTruncatedOverTCP(t *testing.T) {
	z := startTestDNS(t)
	for _, tc := range []struct {
		net     string
		queries []string
	}{
		{"", []string{"A big.test.", "A big.test. over tcp", "AAAA big.test.", "AAAA big.test. over tcp"}},
		{"tcp", []string{"A big.test. over tcp", "AAAA big.test. over tcp"}},
	} {
		r := z.resolver()
		r.Net = tc.net
		z.take()
		got, err := r.Resolve(context.Background(), parseURI(t, "sip:big.test:5060"))
		if err != nil {
			t.Fatalf("Net %q: %v", tc.net, err)
		}
		checkTargets(t, got, []Target{tgt(UDP, "192.0.2.30:5060", "big.test")})
		checkQueries(t, z, tc.queries)
	}
}

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

// TestResolveCachesForTTL checks that answers are reused while their TTL
// lasts: the A record for its 60 s, the negative AAAA answer for the SOA
// minimum (600 s) capped at 5 minutes (RFC 2308 §5).
func TestResolveCachesForTTL(t *testing.T) {
	z := startTestDNS(t)
	clock := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := z.resolver()
	r.Now = clock.Now
	start := clock.now
	u := parseURI(t, "sip:ttl.test:5060")
	for _, step := range []struct {
		at      time.Duration
		queries []string
	}{
		{0, []string{"A ttl.test.", "AAAA ttl.test."}},
		{59 * time.Second, nil},
		{61 * time.Second, []string{"A ttl.test."}}, // A expired at 60 s
		{299 * time.Second, []string{"A ttl.test."}},
		{301 * time.Second, []string{"AAAA ttl.test."}}, // AAAA expired at 300 s
	} {
		clock.now = start.Add(step.at)
		got, err := r.Resolve(context.Background(), u)
		if err != nil {
			t.Fatalf("at %v: %v", step.at, err)
		}
		checkTargets(t, got, []Target{tgt(UDP, "192.0.2.60:5060", "ttl.test")})
		if q := z.take(); !slices.Equal(q, step.queries) {
			t.Errorf("at %v: queries %q, want %q", step.at, q, step.queries)
		}
	}
}

// TestResolveCachesNXDOMAIN checks that a name that does not exist is
// not asked about again within the negative TTL (RFC 2308 §5).
func TestResolveCachesNXDOMAIN(t *testing.T) {
	z := startTestDNS(t)
	clock := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := z.resolver()
	r.Now = clock.Now
	u := parseURI(t, "sip:nx.test:5060")
	for i, want := range []int{2, 0} {
		if _, err := r.Resolve(context.Background(), u); !errors.Is(err, ErrNoTargets) {
			t.Fatalf("resolve %d: error %v, want ErrNoTargets", i, err)
		}
		if q := z.take(); len(q) != want {
			t.Errorf("resolve %d: queries %q, want %d", i, q, want)
		}
		clock.now = clock.now.Add(299 * time.Second)
	}
}

// TestOrderSRV checks RFC 2782 ordering with scripted draws: priority
// first, then within a priority the record whose running sum of weights
// first reaches the draw, weight-0 records leading the sum.
func TestOrderSRV(t *testing.T) {
	rec := func(target string, prio, weight uint16) *dns.SRV {
		return &dns.SRV{Priority: prio, Weight: weight, Target: target}
	}
	tests := []struct {
		name  string
		draw  func(n int) int
		want  string
		asked []int // the n of each draw: sum of remaining weights + 1
	}{
		{"lowest draw", alwaysDraw(0), "d a b c", []int{101, 101}},
		{"highest draw", drawMax, "d c b a", []int{101, 61}},
		{"draw 1", alwaysDraw(1), "d b c a", []int{101, 41}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := []*dns.SRV{rec("b", 10, 60), rec("d", 5, 10), rec("c", 10, 40), rec("a", 10, 0)}
			var asked []int
			draw := func(n int) int {
				asked = append(asked, n)
				return tc.draw(n)
			}
			var got []string
			for _, r := range orderSRV(recs, draw) {
				got = append(got, r.Target)
			}
			if strings.Join(got, " ") != tc.want || !slices.Equal(asked, tc.asked) {
				t.Errorf("order %v with draws over %v, want %s with draws over %v", got, asked, tc.want, tc.asked)
			}
		})
	}
}

// TestOrderSRVWeightsStatistically checks RFC 2782's weighted selection
// over many draws: weights 90/10 put the heavy record first about 90%
// of the time, and weight 0 still gets a small chance.
func TestOrderSRVWeightsStatistically(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	firsts := func(draws int, w1, w2 uint16) int {
		n := 0
		for range draws {
			recs := []*dns.SRV{{Priority: 1, Weight: w1, Target: "one."}, {Priority: 1, Weight: w2, Target: "two."}}
			if orderSRV(recs, rng.IntN)[0].Target == "one." {
				n++
			}
		}
		return n
	}
	if n := firsts(1000, 90, 10); n < 800 || n > 970 {
		t.Errorf("weight 90 first in %d of 1000 draws, want 800-970", n)
	}
	// Expected 1/101 of the draws: about 99 in 10000.
	if n := firsts(10000, 0, 100); n < 30 || n > 300 {
		t.Errorf("weight 0 first in %d of 10000 draws, want 30-300", n)
	}
}

// ResolveOn puts a transport on a URI that names none, and leaves one
// that does alone; numeric hosts need no DNS.
func TestResolveOn(t *testing.T) {
	var r Resolver // no servers: any lookup would fail
	for _, tc := range []struct {
		uri, transport string
		want           Target
	}{
		{"sip:bob@127.0.0.1", TCP, Target{Transport: TCP, Addr: netip.MustParseAddrPort("127.0.0.1:5060")}},
		{"sip:bob@127.0.0.1;transport=udp", TCP, Target{Transport: UDP, Addr: netip.MustParseAddrPort("127.0.0.1:5060")}},
		{"sip:bob@[::1]:5070", WS, Target{Transport: WS, Addr: netip.MustParseAddrPort("[::1]:5070")}},
		{"sip:bob@127.0.0.1", "", Target{Transport: UDP, Addr: netip.MustParseAddrPort("127.0.0.1:5060")}},
		{"sips:bob@127.0.0.1", TCP, Target{Transport: TLS, Addr: netip.MustParseAddrPort("127.0.0.1:5061")}},
	} {
		u, err := sip.ParseURI(tc.uri)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := r.ResolveOn(context.Background(), u, tc.transport)
		if err != nil || len(ts) != 1 || ts[0] != tc.want {
			t.Errorf("ResolveOn(%s, %q) = %v, %v; want %v", tc.uri, tc.transport, ts, err, tc.want)
		}
	}
}

// NumericTarget is Resolve for IP hosts, without a resolver (RFC 3263
// §4.1: UDP for sip and TLS for sips unless a transport parameter says;
// maddr is the target).
func TestNumericTarget(t *testing.T) {
	for _, tc := range []struct {
		uri  string
		want Target
		ok   bool
	}{
		{"sip:bob@192.0.2.1", Target{Transport: UDP, Addr: netip.MustParseAddrPort("192.0.2.1:5060")}, true},
		{"sips:bob@[2001:db8::1]", Target{Transport: TLS, Addr: netip.MustParseAddrPort("[2001:db8::1]:5061")}, true},
		{"sip:127.0.0.1:5070;transport=tcp", Target{Transport: TCP, Addr: netip.MustParseAddrPort("127.0.0.1:5070")}, true},
		{"sip:127.0.0.1;transport=ws", Target{Transport: WS, Addr: netip.MustParseAddrPort("127.0.0.1:80")}, true},
		{"sip:example.test;maddr=127.0.0.2", Target{Transport: UDP, Addr: netip.MustParseAddrPort("127.0.0.2:5060")}, true},
		{"sip:bob@example.test", Target{}, false},
		{"sip:127.0.0.1;transport=bogus", Target{}, false},
		{"tel:+15551234", Target{}, false},
	} {
		u, err := sip.ParseURI(tc.uri)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := NumericTarget(u)
		if ok != tc.ok || got != tc.want {
			t.Errorf("NumericTarget(%s) = %v %v, want %v %v", tc.uri, got, ok, tc.want, tc.ok)
		}
		if !ok {
			continue
		}
		ts, err := (&Resolver{}).Resolve(context.Background(), u)
		if err != nil || len(ts) != 1 || ts[0] != got {
			t.Errorf("Resolve(%s) = %v %v, NumericTarget %v", tc.uri, ts, err, got)
		}
	}
}
