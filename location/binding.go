package location

import (
	"net/netip"
	"strings"
	"time"

	"github.com/sipkit/sipkit/sip"
)

// Binding is one registered contact of an address-of-record. Strings are
// owned (never alias a message buffer): a Store may keep a Binding for
// hours, and a message's receive buffer must not stay alive with it.
type Binding struct {
	// AOR is the key of the address-of-record, as made by Key.
	AOR string
	// Contact is the Contact URI as registered, without <> and without
	// header params, e.g. "sip:bob@127.0.0.1:5072;transport=udp".
	Contact string
	// Q is the q-value ×1000 (q=0.5 → 500); 1000 when the Contact had no
	// q parameter. RFC 3261 §20.10 leaves the meaning of an absent q to
	// the registrar; like Kamailio (default_q) an absent q ranks as 1.0.
	Q int
	// Expires is the absolute time the binding ends.
	Expires time.Time
	// CallID and CSeq are those of the REGISTER that last added or
	// refreshed the binding, which RFC 3261 §10.3 steps 6 and 7 compare
	// to put REGISTERs from one UA in order.
	CallID string
	CSeq   uint32
	// Path holds the RFC 3327 Path header values of the REGISTER in
	// order, each a full name-addr like "<sip:p1.example.com;lr>".
	Path []string
	// Received is "transport:IP:port" of the REGISTER's source
	// ("udp:192.0.2.4:5060"), for information, like Kamailio's received.
	Received string
	// UserAgent is the User-Agent header of the REGISTER.
	UserAgent string
}

// clone returns b with a Path slice of its own, so that a caller of the
// store can modify what it gets without touching what is stored.
func (b Binding) clone() Binding {
	if b.Path != nil {
		b.Path = append([]string(nil), b.Path...)
	}
	return b
}

// Key returns the AOR key for a SIP or SIPS URI: "sip:" + unescaped
// user + "@" + lowercase host, without port or parameters; sips maps to
// "sip:" too. That is the canonical form of RFC 3261 §10.3 step 5 (URI
// parameters removed, escapes decoded), and more: the port is dropped on
// purpose, because a phone registering To: sip:bob@127.0.0.1 is called at
// sip:bob@127.0.0.1:5060. IPv6 hosts are written in their canonical form
// ("[2001:db8::1]"). A URI without user part gives "sip:" + host.
//
// Key does not check the scheme: callers pass SIP or SIPS URIs.
func Key(u sip.URI) string {
	host := u.Host
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		if a, err := netip.ParseAddr(host[1 : len(host)-1]); err == nil {
			host = "[" + a.String() + "]"
		}
	}
	host = strings.ToLower(host)
	var b strings.Builder
	user := sip.Unescape(u.User)
	b.Grow(len("sip:") + len(user) + 1 + len(host))
	b.WriteString("sip:")
	if user != "" {
		b.WriteString(user)
		b.WriteByte('@')
	}
	b.WriteString(host)
	return b.String()
}
