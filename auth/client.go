package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/sipkit/sipkit/sip"
)

// Account is a username and password, for one realm or for any.
type Account struct {
	Username string
	Password string
	// Realm is the realm the account answers; "" answers any realm
	// that no account names exactly.
	Realm string
}

// Client answers digest challenges (RFC 3261 §22.2, §22.3). The zero
// value has no accounts; set Accounts before use and do not change it
// while Authorize runs. A Client is safe for concurrent use and must not
// be copied after first use.
type Client struct {
	// Accounts are tried by realm: an exact match first, then the first
	// account with an empty Realm.
	Accounts []Account

	mu sync.Mutex
	// nc counts the requests sent per (realm, nonce): RFC 7616 §3.4
	// nonce-count, so a server can detect replays when a nonce is used
	// again. At most maxNonces are kept; the oldest goes first.
	nc    map[nonceKey]uint32
	ring  []nonceKey
	next  int
	newCN func() string // cnonce source; crypto/rand when nil
}

type nonceKey struct{ realm, nonce string }

const maxNonces = 1024

// Authorize answers the challenges of resp, a 401 or 407 to req, and
// returns the request to send again: a clone of req with credentials
// added and the CSeq number incremented (RFC 3261 §8.1.3.5, §22.2).
// The caller gives it a new Via branch before sending: it is a new
// transaction. req must be the request as sent, credentials included,
// so that a repeated challenge can be recognised.
//
// Every WWW-Authenticate value is answered with an Authorization header
// and every Proxy-Authenticate value with a Proxy-Authorization header,
// whatever the status code, since a forking proxy merges the challenges
// of all its branches into one response (RFC 3261 §16.7 step 6, §22.3).
// For each realm, the strongest supported algorithm offered is chosen
// (SHA-512-256, then SHA-256, then MD5; RFC 8760 §2.4), with qop auth
// if offered, else auth-int, else the RFC 2069 form when the challenge
// has no qop. Credentials req already carried for an answered realm are
// replaced; others are kept. Realms that cannot be answered are left
// out as long as one realm is answered; otherwise the error wraps
// ErrNoCredentials, ErrUnsupported or ErrInvalid (ErrNotChallenge when
// there is no challenge at all).
//
// If req already answered a realm with the nonce the server sends again,
// without stale=true, the password was refused and Authorize returns an
// error wrapping ErrRejected instead of looping. A stale=true challenge,
// or one with a new nonce, is answered; callers still bound the number
// of attempts, since a server may refuse with a fresh nonce each time.
func (c *Client) Authorize(req *sip.Request, resp *sip.Response) (*sip.Request, error) {
	if code := resp.StatusCode(); code != sip.StatusUnauthorized && code != sip.StatusProxyAuthenticationRequired {
		return nil, fmt.Errorf("%w: status %d", ErrNotChallenge, code)
	}
	switch m := req.Method(); m {
	case "ACK", "CANCEL":
		// Their CSeq number is the INVITE's, so they cannot be resent
		// with a new one; RFC 3261 §22.1 forbids challenging them.
		return nil, fmt.Errorf("%w: %s cannot be authenticated (RFC 3261 §22.1)", ErrUnsupported, m)
	}
	uri, ok := requestURI(req)
	if !ok {
		return nil, fmt.Errorf("%w: no Request-URI", ErrInvalid)
	}

	var (
		added    [2][]sip.Credentials
		firstErr error
		seen     bool
	)
	for k, kind := range headerKinds {
		groups, present, err := digestChallenges(resp, kind.challenge)
		seen = seen || present
		if firstErr == nil {
			firstErr = err
		}
		sent := sentNonces(req, kind.credentials)
		for _, g := range groups {
			cr, err := c.answer(req, uri, g, sent)
			if errors.Is(err, ErrRejected) {
				return nil, err
			}
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			added[k] = append(added[k], cr)
		}
	}
	if len(added[0])+len(added[1]) == 0 {
		if firstErr == nil {
			firstErr = ErrNotChallenge
			if seen {
				firstErr = fmt.Errorf("%w: no Digest challenge", ErrUnsupported)
			}
		}
		return nil, firstErr
	}

	out := sip.Clone(req)
	for k, kind := range headerKinds {
		if len(added[k]) > 0 {
			if err := replaceCredentials(out, kind.credentials, added[k]); err != nil {
				return nil, err
			}
		}
	}
	cs := req.CSeq()
	// RFC 3261 §8.1.1.5: the sequence number stays below 2**31.
	if cs.Seq >= 1<<31-1 {
		return nil, fmt.Errorf("%w: CSeq %d cannot be incremented", ErrInvalid, cs.Seq)
	}
	cs.Seq++
	if err := out.SetHeader("CSeq", cs.String()); err != nil {
		return nil, err
	}
	return out, nil
}

// headerKinds pairs each challenge header with the header answering it
// (RFC 3261 §22.2, §22.3).
var headerKinds = [2]struct{ challenge, credentials string }{
	{"WWW-Authenticate", "Authorization"},
	{"Proxy-Authenticate", "Proxy-Authorization"},
}

// requestURI returns the Request-URI as written, which the digest-uri
// must equal (RFC 3261 §22.4). The sip package has no accessor for the
// text, and re-serialising RequestURI() need not reproduce it, so it is
// taken from the Request-Line.
func requestURI(req *sip.Request) (string, bool) {
	line := req.StartLine()
	_, rest, ok := strings.Cut(line, " ")
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, ' ')
	if i <= 0 {
		return "", false
	}
	return strings.TrimSpace(rest[:i]), true
}

// realmChallenges are the Digest challenges of one realm, in header order.
type realmChallenges struct {
	realm      string
	challenges []sip.Challenge
}

// digestChallenges parses every value of the named challenge header and
// groups the Digest ones by realm. A value that does not parse is
// skipped (one bad branch of a merged response must not stop the
// others); the first such error is returned. present reports whether
// the header was there at all.
func digestChallenges(resp *sip.Response, name string) (groups []realmChallenges, present bool, firstErr error) {
	for v := range resp.Values(name) {
		present = true
		ch, err := sip.ParseChallenge(v)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%w: %w", ErrUnsupported, err)
			}
			continue
		}
		if !strings.EqualFold(ch.Scheme, "Digest") {
			continue
		}
		i := 0
		for i < len(groups) && groups[i].realm != ch.Realm {
			i++
		}
		if i == len(groups) {
			groups = append(groups, realmChallenges{realm: ch.Realm})
		}
		groups[i].challenges = append(groups[i].challenges, ch)
	}
	return groups, present, firstErr
}

// sentNonces returns the nonce req used for each realm in the named
// credentials header.
func sentNonces(req *sip.Request, name string) map[string]string {
	var m map[string]string
	for v := range req.Values(name) {
		cr, err := sip.ParseCredentials(v)
		if err != nil || !strings.EqualFold(cr.Scheme, "Digest") {
			continue
		}
		if m == nil {
			m = make(map[string]string)
		}
		m[cr.Realm] = cr.Nonce
	}
	return m
}

// answer builds the credentials for one realm from its best challenge.
func (c *Client) answer(req *sip.Request, uri string, g realmChallenges, sent map[string]string) (sip.Credentials, error) {
	ch, qop, err := best(g.challenges)
	if err != nil {
		return sip.Credentials{}, fmt.Errorf("%w (realm %q)", err, shorten(g.realm))
	}
	if n, ok := sent[ch.Realm]; ok && n == ch.Nonce && !ch.Stale {
		return sip.Credentials{}, fmt.Errorf("%w: realm %q challenged again with the same nonce", ErrRejected, shorten(ch.Realm))
	}
	acct, ok := c.account(ch.Realm)
	if !ok {
		return sip.Credentials{}, fmt.Errorf("%w: realm %q", ErrNoCredentials, shorten(ch.Realm))
	}
	if hasCTL(acct.Username) {
		return sip.Credentials{}, fmt.Errorf("%w: control character in username", ErrInvalid)
	}
	d := Digest{
		Algorithm: ch.Algorithm, Username: acct.Username, Realm: ch.Realm, Nonce: ch.Nonce,
		QOP: qop, Method: req.Method(), URI: uri,
	}
	_, sess, _ := lookupAlg(ch.Algorithm)
	if qop != "" || sess {
		d.CNonce = c.cnonce()
	}
	if qop != "" {
		d.NC = formatNC(c.nextNC(ch.Realm, ch.Nonce))
	}
	if qop == "auth-int" {
		d.Body = req.Body()
	}
	resp, err := d.Response(acct.Password)
	if err != nil {
		return sip.Credentials{}, err
	}
	return sip.Credentials{
		Scheme: "Digest", Username: d.Username, Realm: d.Realm, Nonce: d.Nonce, URI: d.URI,
		Response: resp, Algorithm: ch.Algorithm, CNonce: d.CNonce, Opaque: ch.Opaque,
		QOP: d.QOP, NC: d.NC,
	}, nil
}

// best picks the challenge to answer among those of one realm: the
// strongest supported algorithm (RFC 8760 §2.4), the first offered on a
// tie, and the qop to use with it.
func best(chs []sip.Challenge) (ch sip.Challenge, qop string, err error) {
	top := 0
	for _, x := range chs {
		s := strength(x.Algorithm)
		if s == 0 {
			err = fmt.Errorf("%w: algorithm %q", ErrUnsupported, shorten(x.Algorithm))
			continue
		}
		q, ok := chooseQOP(x)
		if !ok {
			err = fmt.Errorf("%w: qop %q", ErrUnsupported, shorten(x.QOP))
			continue
		}
		if !usable(x) {
			err = fmt.Errorf("%w: malformed challenge", ErrInvalid)
			continue
		}
		if s > top {
			top, ch, qop = s, x, q
		}
	}
	if top == 0 {
		return sip.Challenge{}, "", err
	}
	return ch, qop, nil
}

// chooseQOP picks auth over auth-int (auth-int covers the body, which
// proxies may change, and costs a hash of it); a challenge with no qop
// is answered in the RFC 2069 form, which a -sess algorithm cannot use
// since it needs a cnonce (RFC 2617 §3.2.2).
func chooseQOP(ch sip.Challenge) (string, bool) {
	switch {
	case ch.QOP == "":
		_, sess, _ := lookupAlg(ch.Algorithm)
		return "", !sess
	case ch.HasQOP("auth"):
		return "auth", true
	case ch.HasQOP("auth-int"):
		return "auth-int", true
	}
	return "", false
}

// usable reports whether a challenge has the realm and nonce RFC 3261
// §25.1 requires and nothing that would break the header we write back
// (values are echoed inside quoted-strings, where a control character
// other than tab has no place).
func usable(ch sip.Challenge) bool {
	return ch.Realm != "" && ch.Nonce != "" &&
		!hasCTL(ch.Realm) && !hasCTL(ch.Nonce) && !hasCTL(ch.Opaque) && !hasCTL(ch.Algorithm)
}

func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// account returns the account for realm: exact match first, then the
// first catch-all.
func (c *Client) account(realm string) (Account, bool) {
	for _, a := range c.Accounts {
		if a.Realm != "" && a.Realm == realm {
			return a, true
		}
	}
	for _, a := range c.Accounts {
		if a.Realm == "" {
			return a, true
		}
	}
	return Account{}, false
}

// nextNC returns the next nonce-count for (realm, nonce): 1 the first
// time, one more each time the nonce is used again (RFC 7616 §3.4).
func (c *Client) nextNC(realm, nonce string) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := nonceKey{realm, nonce}
	n, ok := c.nc[k]
	if !ok {
		if c.nc == nil {
			c.nc = make(map[nonceKey]uint32)
		}
		if len(c.ring) < maxNonces {
			c.ring = append(c.ring, k)
		} else {
			delete(c.nc, c.ring[c.next])
			c.ring[c.next] = k
			c.next = (c.next + 1) % maxNonces
		}
	}
	n++
	c.nc[k] = n
	return n
}

// cnonce returns a fresh client nonce: 128 random bits (RFC 7616 §3.4
// asks for enough entropy that the server cannot predict it).
func (c *Client) cnonce() string {
	if c.newCN != nil {
		return c.newCN()
	}
	return rand.Text()
}

// replaceCredentials rewrites the named credentials header of out: the
// values for realms not in added are kept, in order, then added follow.
// Values that do not parse are kept; they are not ours to judge.
func replaceCredentials(out *sip.Request, name string, added []sip.Credentials) error {
	var kept []string
	for v := range out.Values(name) {
		cr, err := sip.ParseCredentials(v)
		if err == nil && strings.EqualFold(cr.Scheme, "Digest") && answered(added, cr.Realm) {
			continue
		}
		kept = append(kept, v)
	}
	out.RemoveHeader(name)
	for _, v := range kept {
		if err := out.AppendHeader(name, v); err != nil {
			return err
		}
	}
	for _, cr := range added {
		if err := out.AppendHeader(name, cr.String()); err != nil {
			return err
		}
	}
	return nil
}

func answered(added []sip.Credentials, realm string) bool {
	for _, cr := range added {
		if cr.Realm == realm {
			return true
		}
	}
	return false
}

// formatNC is the wire form of a nonce-count.
func formatNC(n uint32) string {
	s := strconv.FormatUint(uint64(n), 16)
	return strings.Repeat("0", 8-len(s)) + s
}
