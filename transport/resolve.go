package transport

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/sipkit/sipkit/sip"
)

// ErrNoTargets reports that DNS answered every lookup and none gave an
// address to send to.
var ErrNoTargets = errors.New("transport: no targets for host")

const (
	defaultDNSTimeout = 2 * time.Second

	// Cache lifetimes. Positive answers are capped at a day and negative
	// ones at five minutes, as recursive resolvers do, so that a record
	// just added is found soon.
	maxCacheTTL    = 24 * time.Hour
	maxNegativeTTL = 5 * time.Minute
	// maxCacheEntries bounds the memory a stream of distinct names can
	// take: a proxy resolves names that strangers put in requests.
	maxCacheEntries = 4096

	// ednsSize is the UDP payload size advertised (the DNS Flag Day 2020
	// value): it avoids IP fragmentation and still fits a NAPTR or SRV
	// set with its addresses, so TCP is rarely needed.
	ednsSize = 1232

	resolvConf = "/etc/resolv.conf"
)

// Resolver finds where to send a SIP request (RFC 3263 §4) or a response
// (§5). Its zero value is ready to use; it is safe for concurrent use and
// caches every answer for its TTL.
type Resolver struct {
	// Servers are DNS servers as numeric "host:port", tried in order.
	// Empty: the nameservers of /etc/resolv.conf, read at the first
	// lookup. Search domains are not applied: SIP hosts are domains.
	Servers []string
	// Timeout bounds each DNS query to one server; zero means 2 s.
	Timeout time.Duration
	// Net is the DNS transport: "" for UDP, retried over TCP when the
	// answer is truncated, or "tcp".
	Net string
	// Now is the clock for cache expiry; nil means time.Now.
	Now func() time.Time

	// intN draws a uniform integer in [0, n) for the weighted selection
	// of SRV records (RFC 2782); nil means math/rand/v2. Tests fix it.
	intN func(n int) int

	mu     sync.Mutex
	cache  map[cacheKey]cacheEntry
	system []string // Servers from /etc/resolv.conf, once read
}

type cacheKey struct {
	name  string // canonical: lower case, fully qualified
	qtype uint16
}

// cacheEntry holds the records of one type at one name; none for a
// negative answer (NXDOMAIN or no data).
type cacheEntry struct {
	rrs     []dns.RR
	expires time.Time
}

// Resolve returns the targets for a request to u, in the order to try
// them (RFC 3263 §4): the caller sends to the first and moves to the next
// when the transaction times out, fails at the transport or draws a 503
// (§4.3). So the list holds every address of every SRV record, in RFC
// 2782 order, and after them those of lower-ranked NAPTR records.
//
// The host resolved is the maddr parameter if there is one, else the
// URI's host (§4). A numeric host needs no DNS: the transport is the
// URI's, else UDP for sip and TLS for sips, at the URI's port or the
// transport's default. A domain with a port is looked up for A and AAAA
// records only (§4.2); a domain with a transport parameter for that
// transport's SRV records; otherwise NAPTR records choose the transports
// (§4.1). Where there is no SRV record, the domain's own addresses are
// used at the default port.
//
// Within one host, IPv4 addresses come before IPv6 ones, as Kamailio
// does by default; address selection (RFC 6724) is not attempted.
// Target.Host is the domain resolved, also for targets found through
// SRV, because that is the name a TLS server must prove (RFC 5922).
//
// A lookup that fails loses only the records it would have given: the
// error is returned only when no target is found at all. When every
// lookup answered and none gave a target, the error is ErrNoTargets.
func (r *Resolver) Resolve(ctx context.Context, u sip.URI) ([]Target, error) {
	if !u.IsSIP() {
		return nil, fmt.Errorf("transport: cannot resolve a %q URI", u.Scheme)
	}
	secure := u.IsSecure()
	transport, err := uriTransport(u.Transport(), secure)
	if err != nil {
		return nil, err
	}
	if err := checkPort(u.Port); err != nil {
		return nil, err
	}
	if t, ok := numericTarget(u, transport, secure); ok {
		return []Target{t}, nil
	}
	domain, err := domainName(targetHost(u))
	if err != nil {
		return nil, err
	}
	s := resolution{r: r, host: domain}
	switch {
	case u.Port != 0:
		t := cmp.Or(transport, schemeTransport(secure))
		s.addAddrs(ctx, domain, t, uint16(u.Port))
	case transport != "":
		s.addService(ctx, domain, transport)
	default:
		s.addDiscovered(ctx, domain, secure)
	}
	return s.result(ctx)
}

// targetHost is the host Resolve looks up: the maddr parameter, when
// present, is the TARGET (§4).
func targetHost(u sip.URI) string {
	if maddr, ok := u.Params.Get("maddr"); ok && maddr != "" {
		return maddr
	}
	return u.Host
}

// numericTarget is the one target of a URI whose target host is an IP
// address (§4.1): without a transport parameter, UDP for sip and TLS for
// sips; no DNS is consulted.
func numericTarget(u sip.URI, transport string, secure bool) (Target, bool) {
	ip, ok := HostAddr(targetHost(u))
	if !ok {
		return Target{}, false
	}
	t := cmp.Or(transport, schemeTransport(secure))
	return Target{Transport: t, Addr: netip.AddrPortFrom(ip, targetPort(u.Port, t))}, true
}

// NumericTarget returns where Resolve sends u when its target host is an
// IP address, without a resolver: ok is false when the host is a name
// (or the URI is not one Resolve takes).
func NumericTarget(u sip.URI) (t Target, ok bool) {
	if !u.IsSIP() || checkPort(u.Port) != nil {
		return Target{}, false
	}
	transport, err := uriTransport(u.Transport(), u.IsSecure())
	if err != nil {
		return Target{}, false
	}
	return numericTarget(u, transport, u.IsSecure())
}

// ResolveOn is Resolve for a URI that names no transport, taking
// transport instead of the RFC 3263 default: an in-dialog request keeps
// to the transport its dialog runs on when the peer's Contact does not
// say (as Kamailio and PJSIP do), and a tool listening on TCP calls over
// TCP. An empty transport is plain Resolve.
func (r *Resolver) ResolveOn(ctx context.Context, u sip.URI, transport string) ([]Target, error) {
	if transport != "" && u.Transport() == "" {
		u.Params = u.Params.Set("transport", strings.ToLower(transport))
	}
	return r.Resolve(ctx, u)
}

// ResolveSentBy returns where to send a response when the top Via has
// no received parameter and the request's connection is gone (RFC 3263
// §5): transport is the Via's, host and port its sent-by (port 0 when
// absent). A port means A and AAAA records at that port; without one, a
// domain's SRV records for the transport ("_sip._udp", "_sip._tcp",
// "_sips._tcp" for TLS) are tried before its addresses at the default
// port. The result and errors are as for Resolve.
func (r *Resolver) ResolveSentBy(ctx context.Context, transport, host string, port int) ([]Target, error) {
	t := canonical(transport)
	if t == "" {
		return nil, fmt.Errorf("transport: unsupported transport %q", transport)
	}
	if err := checkPort(port); err != nil {
		return nil, err
	}
	if ip, ok := HostAddr(host); ok {
		return []Target{{Transport: t, Addr: netip.AddrPortFrom(ip, targetPort(port, t))}}, nil
	}
	domain, err := domainName(host)
	if err != nil {
		return nil, err
	}
	s := resolution{r: r, host: domain}
	if port != 0 {
		s.addAddrs(ctx, domain, t, uint16(port))
	} else {
		s.addService(ctx, domain, t)
	}
	return s.result(ctx)
}

// uriTransport maps a transport URI parameter to a transport, "" when
// there is none. A sips URI names what TLS runs over (RFC 3261 §26.2.2),
// so tcp means TLS and ws means WSS; there is no SIP over TLS over UDP.
func uriTransport(param string, secure bool) (string, error) {
	if param == "" {
		return "", nil
	}
	t := canonical(param)
	switch {
	case t == "":
		return "", fmt.Errorf("transport: unsupported transport %q", param)
	case !secure:
		return t, nil
	case t == TCP || t == TLS:
		return TLS, nil
	case t == WS || t == WSS:
		return WSS, nil
	}
	return "", fmt.Errorf("transport: sips URI with transport=%s", param)
}

// schemeTransport is the transport RFC 3263 §4.1 uses when neither the
// URI nor DNS names one.
func schemeTransport(secure bool) string {
	if secure {
		return TLS
	}
	return UDP
}

func checkPort(port int) error {
	if port < 0 || port > 65535 {
		return fmt.Errorf("transport: bad port %d", port)
	}
	return nil
}

// targetPort is port, or the transport's default when port is 0.
func targetPort(port int, transport string) uint16 {
	if port != 0 {
		return uint16(port)
	}
	return DefaultPort(transport)
}

// HostAddr returns the address a URI or Via host names when it is
// numeric: IPv4, or IPv6 in brackets (RFC 5118) or, as a Via's sent-by
// may come, without; unmapped, so an IPv4-mapped IPv6 address is IPv4.
// A domain name gives false.
func HostAddr(host string) (netip.Addr, bool) {
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	ip, err := netip.ParseAddr(host)
	return ip.Unmap(), err == nil && ip.Zone() == ""
}

// domainName checks host as a domain and drops a trailing dot, which the
// name a TLS certificate is checked against must not have.
func domainName(host string) (string, error) {
	name := strings.TrimSuffix(host, ".")
	if _, ok := dns.IsDomainName(name); !ok || name == "" {
		return "", fmt.Errorf("transport: bad host %q", host)
	}
	return name, nil
}

// sipDiscovery and sipsDiscovery are the transports whose SRV records
// are queried when a domain has no usable NAPTR record (RFC 3263 §4.1).
// The RFC leaves the order to the client; for sip it is UDP, TCP, TLS,
// the order Kamailio and PJSIP use. WS has no SRV service name: RFC 7118
// registers NAPTR services only.
var (
	sipDiscovery  = []string{UDP, TCP, TLS}
	sipsDiscovery = []string{TLS}
)

// naptrServices maps the NAPTR services of the IANA SIP table that this
// package can use to transports (RFC 3263 §4.1, RFC 7118).
var naptrServices = map[string]string{
	"SIP+D2U":  UDP,
	"SIP+D2T":  TCP,
	"SIPS+D2T": TLS,
	"SIP+D2W":  WS,
	"SIPS+D2W": WSS,
}

// srvName is the SRV owner name of a transport at domain (RFC 3263
// §4.1: TLS is "_sips._tcp" whatever the URI scheme), "" for WS and WSS.
func srvName(transport, domain string) string {
	switch transport {
	case UDP:
		return "_sip._udp." + domain
	case TCP:
		return "_sip._tcp." + domain
	case TLS:
		return "_sips._tcp." + domain
	}
	return ""
}

// resolution is one run of Resolve or ResolveSentBy. It collects targets
// in order without duplicates and keeps the first lookup failure, which
// matters only if no target is found.
type resolution struct {
	r       *Resolver
	host    string // the domain being resolved: Target.Host
	targets []Target
	err     error
}

func (s *resolution) lookup(ctx context.Context, name string, qtype uint16) []dns.RR {
	rrs, err := s.r.lookup(ctx, name, qtype)
	if err != nil && s.err == nil {
		s.err = err
	}
	return rrs
}

func (s *resolution) result(ctx context.Context) ([]Target, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("transport: resolving %s: %w", s.host, err)
	}
	if len(s.targets) > 0 {
		return s.targets, nil
	}
	if s.err != nil {
		return nil, s.err
	}
	return nil, fmt.Errorf("%w %s", ErrNoTargets, s.host)
}

// addDiscovered adds the targets of a domain whose URI names neither a
// transport nor a port: through its NAPTR records, else the SRV records
// of each transport the scheme allows, else its addresses (RFC 3263 §4.1
// and §4.2).
func (s *resolution) addDiscovered(ctx context.Context, domain string, secure bool) {
	if routes := s.naptr(ctx, domain, secure); len(routes) > 0 {
		found := false
		for _, rt := range routes {
			found = s.addSRV(ctx, rt.srv, rt.transport) || found
		}
		if !found {
			// §4.2: no SRV record behind the NAPTR ones: the domain's
			// addresses, with the transport NAPTR prefers.
			t := routes[0].transport
			s.addAddrs(ctx, domain, t, DefaultPort(t))
		}
		return
	}
	transports := sipDiscovery
	if secure {
		transports = sipsDiscovery
	}
	found := false
	for _, t := range transports {
		found = s.addSRV(ctx, srvName(t, domain), t) || found
	}
	if !found {
		t := schemeTransport(secure)
		s.addAddrs(ctx, domain, t, DefaultPort(t))
	}
}

// addService adds the targets of one transport at a domain: those of
// its SRV records, or the domain's addresses at the default port when it
// has none (RFC 3263 §4.2, §5).
func (s *resolution) addService(ctx context.Context, domain, transport string) {
	if name := srvName(transport, domain); name != "" && s.addSRV(ctx, name, transport) {
		return
	}
	s.addAddrs(ctx, domain, transport, DefaultPort(transport))
}

// naptrRoute is a usable NAPTR record: the SRV name it points to and its
// transport.
type naptrRoute struct {
	srv       string
	transport string
}

// naptr returns the usable NAPTR records of domain by order, then
// preference (RFC 3403 §4.1). Usable means a terminal "s" record with a
// service this package supports; a sips URI allows only the SIPS ones
// (RFC 3263 §4.1), which are the secure transports.
func (s *resolution) naptr(ctx context.Context, domain string, secure bool) []naptrRoute {
	recs := only[*dns.NAPTR](s.lookup(ctx, domain, dns.TypeNAPTR))
	slices.SortStableFunc(recs, func(a, b *dns.NAPTR) int {
		return cmp.Or(cmp.Compare(a.Order, b.Order), cmp.Compare(a.Preference, b.Preference))
	})
	var routes []naptrRoute
	for _, n := range recs {
		t := naptrServices[strings.ToUpper(n.Service)]
		if t == "" || !strings.EqualFold(n.Flags, "s") || n.Replacement == "." || secure && !Secure(t) {
			continue
		}
		routes = append(routes, naptrRoute{srv: n.Replacement, transport: t})
	}
	return routes
}

// addSRV adds the addresses of the SRV records at name in RFC 2782 order
// and reports whether there were any records: if so, the domain's own
// addresses must not be used (RFC 3263 §4.2), not even when the only
// target is "." which says the service is decidedly not available.
func (s *resolution) addSRV(ctx context.Context, name, transport string) bool {
	recs := only[*dns.SRV](s.lookup(ctx, name, dns.TypeSRV))
	for _, srv := range orderSRV(recs, s.r.randIntN) {
		if srv.Target != "." {
			s.addAddrs(ctx, srv.Target, transport, srv.Port)
		}
	}
	return len(recs) > 0
}

// addAddrs adds the A then the AAAA addresses of name.
func (s *resolution) addAddrs(ctx context.Context, name, transport string, port uint16) {
	for _, qtype := range [...]uint16{dns.TypeA, dns.TypeAAAA} {
		for _, rr := range s.lookup(ctx, name, qtype) {
			var ip net.IP
			switch rr := rr.(type) {
			case *dns.A:
				ip = rr.A
			case *dns.AAAA:
				ip = rr.AAAA
			}
			addr, ok := netip.AddrFromSlice(ip)
			if !ok {
				continue
			}
			t := Target{Transport: transport, Addr: netip.AddrPortFrom(addr.Unmap(), port), Host: s.host}
			if !slices.Contains(s.targets, t) {
				s.targets = append(s.targets, t)
			}
		}
	}
}

// only returns the records of type T in rrs.
func only[T dns.RR](rrs []dns.RR) []T {
	var out []T
	for _, rr := range rrs {
		if t, ok := rr.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// orderSRV returns recs in the order RFC 2782 says to try them: by
// ascending priority, and within a priority by repeated weighted random
// selection. It reorders recs.
func orderSRV(recs []*dns.SRV, intN func(int) int) []*dns.SRV {
	// RFC 2782 puts the weight-0 records first in the running sum, which
	// gives them a small chance to be picked; the sort is stable so the
	// others keep the order of the answer.
	slices.SortStableFunc(recs, func(a, b *dns.SRV) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(min(a.Weight, 1), min(b.Weight, 1)))
	})
	out := make([]*dns.SRV, 0, len(recs))
	for len(recs) > 0 {
		n := 1
		for n < len(recs) && recs[n].Priority == recs[0].Priority {
			n++
		}
		out = appendByWeight(out, recs[:n], intN)
		recs = recs[n:]
	}
	return out
}

// appendByWeight appends the records of one priority to out by weighted
// random selection: draw a number in [0, sum of weights] and take the
// first record whose running sum of weights reaches it (RFC 2782).
func appendByWeight(out, group []*dns.SRV, intN func(int) int) []*dns.SRV {
	for len(group) > 1 {
		sum := 0
		for _, rec := range group {
			sum += int(rec.Weight)
		}
		draw := intN(sum + 1)
		i, run := 0, int(group[0].Weight)
		for run < draw {
			i++
			run += int(group[i].Weight)
		}
		out = append(out, group[i])
		group = slices.Delete(group, i, i+1) // keeps weight-0 records first
	}
	return append(out, group...)
}

func (r *Resolver) randIntN(n int) int {
	if r.intN != nil {
		return r.intN(n)
	}
	return rand.IntN(n)
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// lookup returns the records of type qtype at name, from the cache while
// they live, else from the servers; none for a negative answer.
func (r *Resolver) lookup(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := cacheKey{name: dns.CanonicalName(name), qtype: qtype}
	if rrs, ok := r.cached(key); ok {
		return rrs, nil
	}
	msg, err := r.exchange(ctx, key.name, qtype)
	if err != nil {
		return nil, fmt.Errorf("transport: %s lookup of %s: %w", dns.TypeToString[qtype], key.name, err)
	}
	return r.store(key, msg), nil
}

func (r *Resolver) cached(key cacheKey) ([]dns.RR, bool) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.cache[key]
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.rrs, true
}

// store caches the answer msg gives to key and returns its records.
// Addresses in the additional section of an SRV answer are cached too,
// sparing a query for each target (RFC 2782 suggests servers add them);
// only those of the answer's own targets are taken, so a server cannot
// plant other names.
func (r *Resolver) store(key cacheKey, msg *dns.Msg) []dns.RR {
	rrs := ofType(msg.Answer, key.qtype)
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if ttl, ok := answerTTL(msg, rrs); ok {
		r.put(now, key, cacheEntry{rrs: rrs, expires: now.Add(ttl)})
	}
	if key.qtype != dns.TypeSRV {
		return rrs
	}
	for _, srv := range only[*dns.SRV](rrs) {
		for _, qtype := range [...]uint16{dns.TypeA, dns.TypeAAAA} {
			name := dns.CanonicalName(srv.Target)
			extra := ofName(ofType(msg.Extra, qtype), name)
			if len(extra) > 0 {
				r.put(now, cacheKey{name: name, qtype: qtype}, cacheEntry{rrs: extra, expires: now.Add(minTTL(extra))})
			}
		}
	}
	return rrs
}

// put stores e under key; r.mu is held. When the cache is full it drops
// the expired entries, and everything if none had expired.
func (r *Resolver) put(now time.Time, key cacheKey, e cacheEntry) {
	if r.cache == nil {
		r.cache = make(map[cacheKey]cacheEntry)
	}
	if _, ok := r.cache[key]; !ok && len(r.cache) >= maxCacheEntries {
		for k, old := range r.cache {
			if !now.Before(old.expires) {
				delete(r.cache, k)
			}
		}
		if len(r.cache) >= maxCacheEntries {
			clear(r.cache)
		}
	}
	r.cache[key] = e
}

// answerTTL is how long the answer may be cached: the least TTL of the
// answer section (a CNAME chain included), or for a negative answer the
// SOA's negative TTL (RFC 2308 §5). A negative answer without SOA must
// not be cached (RFC 2308 §5).
func answerTTL(msg *dns.Msg, rrs []dns.RR) (time.Duration, bool) {
	if len(rrs) > 0 {
		return minTTL(msg.Answer), true
	}
	for _, rr := range msg.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			ttl := time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second
			return min(ttl, maxNegativeTTL), true
		}
	}
	return 0, false
}

func minTTL(rrs []dns.RR) time.Duration {
	ttl := maxCacheTTL
	for _, rr := range rrs {
		ttl = min(ttl, time.Duration(rr.Header().Ttl)*time.Second)
	}
	return ttl
}

func ofType(rrs []dns.RR, qtype uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == qtype {
			out = append(out, rr)
		}
	}
	return out
}

func ofName(rrs []dns.RR, name string) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if dns.CanonicalName(rr.Header().Name) == name {
			out = append(out, rr)
		}
	}
	return out
}

// exchange asks the servers in turn until one answers with success or
// NXDOMAIN, and returns that answer or the first failure.
func (r *Resolver) exchange(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	if r.Net != "" && r.Net != "tcp" {
		return nil, fmt.Errorf("Resolver.Net is %q, want \"\" or \"tcp\"", r.Net)
	}
	servers, err := r.servers()
	if err != nil {
		return nil, err
	}
	var first error
	for _, server := range servers {
		msg, err := r.ask(ctx, server, name, qtype)
		if err == nil {
			return msg, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		first = cmp.Or(first, err)
	}
	return nil, first
}

// ask queries one server, over UDP then TCP if the answer was truncated
// (RFC 7766 §5), unless Net asks for TCP from the start.
func (r *Resolver) ask(ctx context.Context, server, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(ednsSize, false)
	msg, err := r.exchangeOver(ctx, r.Net, server, m)
	if err == nil && msg.Truncated && r.Net == "" {
		msg, err = r.exchangeOver(ctx, "tcp", server, m)
	}
	if err != nil {
		return nil, err
	}
	if msg.Rcode != dns.RcodeSuccess && msg.Rcode != dns.RcodeNameError {
		return nil, fmt.Errorf("%s answered %s", server, dns.RcodeToString[msg.Rcode])
	}
	return msg, nil
}

func (r *Resolver) exchangeOver(ctx context.Context, network, server string, m *dns.Msg) (*dns.Msg, error) {
	c := dns.Client{Net: network, Timeout: cmp.Or(r.Timeout, defaultDNSTimeout)}
	conn, err := c.DialContext(ctx, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// The client heeds only the context's deadline; closing the
	// connection is what ends a read when the context is cancelled.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	msg, _, err := c.ExchangeWithConnContext(ctx, m, conn)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return msg, err
}

// servers returns Servers or, when it is empty, the nameservers of
// /etc/resolv.conf, read once.
func (r *Resolver) servers() ([]string, error) {
	if len(r.Servers) > 0 {
		return r.Servers, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.system != nil {
		return r.system, nil
	}
	conf, err := dns.ClientConfigFromFile(resolvConf)
	if err != nil {
		return nil, err
	}
	if len(conf.Servers) == 0 {
		return nil, fmt.Errorf("no nameserver in %s", resolvConf)
	}
	for _, s := range conf.Servers {
		r.system = append(r.system, net.JoinHostPort(s, conf.Port))
	}
	return r.system, nil
}
