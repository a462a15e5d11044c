package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sipkit/sipkit/sip"
)

const defaultNonceLifetime = 300 * time.Second

// Server is the UAS or proxy side of digest authentication (RFC 3261
// §22.1, §22.3): it writes challenges for 401 and 407 responses and
// verifies the credentials of requests sent again.
//
// Nonces are stateless: each carries its issue time and an HMAC under
// Secret, so any nonce can be checked without remembering it, and
// several servers sharing Secret accept each other's. The server only
// remembers the nonces in use, to refuse a nonce-count that does not
// increase (a replay), for as long as they are valid.
//
// Set the exported fields before first use and do not change them
// afterwards. A Server is safe for concurrent use and must not be
// copied after first use.
type Server struct {
	// Realm is the protection domain, shown to users (RFC 3261 §22.1).
	// Required.
	Realm string

	// Credentials returns the password of a user, or the HA1 if HA1 is
	// set; ok false for an unknown user. Nil: every user is unknown.
	Credentials func(username string) (password string, ok bool)

	// HA1 says Credentials returns H(username ":" realm ":" password)
	// (see the HA1 function) instead of the password, so the password
	// need not be stored (RFC 7616 §3.4.2). An HA1 is tied to one hash,
	// so only the first of Algorithms is then offered and accepted.
	HA1 bool

	// Algorithms are the algorithms offered, in order: one challenge
	// each (RFC 8760 §2.4). Names the package does not implement are
	// left out. Nil: SHA-256 then MD5, since RFC 8760 asks for SHA-256
	// and many deployed phones still know only MD5.
	Algorithms []string

	// NonceLifetime is how long a nonce is accepted. A correct digest
	// with an older nonce gets ErrStale, and a new challenge with
	// stale=true. Zero: 300 s.
	NonceLifetime time.Duration

	// Secret is the HMAC key of the nonces; servers sharing it accept
	// each other's nonces. Nil: 32 random bytes chosen at first use.
	Secret []byte

	// Now returns the current time. Nil: time.Now.
	Now func() time.Time

	once   sync.Once
	secret []byte
	algs   []string

	mu    sync.Mutex
	uses  nonceUses
	limit int // replay table bound; tests lower it
}

func (s *Server) init() {
	s.once.Do(func() {
		s.secret = s.Secret
		if s.secret == nil {
			s.secret = make([]byte, 32)
			rand.Read(s.secret)
		}
		algs := s.Algorithms
		if algs == nil {
			algs = []string{"SHA-256", "MD5"}
		}
		for _, a := range algs {
			if Supported(a) && a != "" {
				s.algs = append(s.algs, a)
			}
		}
		if s.HA1 && len(s.algs) > 1 {
			s.algs = s.algs[:1]
		}
		if s.limit == 0 {
			s.limit = maxTrackedNonces
		}
	})
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) lifetime() time.Duration {
	if s.NonceLifetime > 0 {
		return s.NonceLifetime
	}
	return defaultNonceLifetime
}

// Challenge returns the values of the WWW-Authenticate (for a 401) or
// Proxy-Authenticate (for a 407) headers to send: one per algorithm,
// strongest first as configured (RFC 8760 §2.4), all with the same
// fresh nonce and qop="auth", and stale=true when stale is set (the
// answer to ErrStale, RFC 7616 §3.3).
func (s *Server) Challenge(stale bool) []string {
	s.init()
	nonce := s.newNonce(s.now())
	out := make([]string, 0, len(s.algs))
	for _, a := range s.algs {
		out = append(out, sip.Challenge{
			Scheme: "Digest", Realm: s.Realm, Nonce: nonce, Algorithm: a, QOP: "auth", Stale: stale,
		}.String())
	}
	return out
}

// ChallengeResponse answers req with a challenge: 401 with
// WWW-Authenticate for a registrar or user agent, 407 with
// Proxy-Authenticate for a proxy (RFC 3261 §22.1, §22.3), stale after
// ErrStale. It has a To tag, as every response of a UAS does (§8.2.6.2).
func (s *Server) ChallengeResponse(req *sip.Request, proxy, stale bool) *sip.Response {
	code, header := 401, "WWW-Authenticate"
	if proxy {
		code, header = 407, "Proxy-Authenticate"
	}
	resp := sip.NewResponse(req, code, "")
	if req.ToTag() == "" {
		resp.SetToTag(sip.NewTag())
	}
	for _, c := range s.Challenge(stale) {
		resp.AppendHeader(header, c)
	}
	return resp
}

// dummyPassword stands in for the password of an unknown user, so that
// the digest is computed and compared as for a known one.
const dummyPassword = "sipkit: no such user, digest computed for timing only"

// Verify checks the Authorization (proxy false) or Proxy-Authorization
// (proxy true) credentials of req for this realm (RFC 3261 §22.1, §22.3)
// and returns the authenticated username.
//
// The error wraps ErrNoCredentials when req has no Digest credentials
// for the realm (send a challenge), is ErrStale when the digest is right
// but the nonce expired (challenge with stale=true), and is
// ErrUnauthorized otherwise: unknown user and wrong password alike, a
// nonce not issued by this server, a nonce-count not above the last one
// accepted for the nonce, a nonce used a second time without qop,
// a userhash, algorithm or qop that was not offered, a digest-uri that
// is not the Request-URI (RFC 2617 §3.2.2.5).
//
// A request is accepted once per nonce-count: Verify is meant for each
// new request, after the transaction layer has absorbed retransmissions.
func (s *Server) Verify(req *sip.Request, proxy bool) (username string, err error) {
	s.init()
	header := "Authorization"
	if proxy {
		header = "Proxy-Authorization"
	}
	cr, ok := s.credentials(req, header)
	if !ok {
		return "", fmt.Errorf("%w: realm %q", ErrNoCredentials, shorten(s.Realm))
	}
	if cr.Userhash || !s.offered(cr.Algorithm) {
		return "", ErrUnauthorized
	}
	var nc uint32
	switch {
	case cr.QOP == "":
	case strings.EqualFold(cr.QOP, "auth"):
		n, err := strconv.ParseUint(cr.NC, 16, 32)
		if err != nil || n == 0 {
			return "", ErrUnauthorized
		}
		nc = uint32(n)
	default:
		return "", ErrUnauthorized
	}
	if !sameURI(req, cr.URI) {
		return "", ErrUnauthorized
	}
	issued, ok := s.parseNonce(cr.Nonce)
	if !ok {
		return "", ErrUnauthorized
	}

	secret, known := "", false
	if s.Credentials != nil {
		secret, known = s.Credentials(cr.Username)
	}
	d := FromCredentials(cr, req.Method(), req.Body())
	var want string
	switch {
	case !known:
		want, err = d.Response(dummyPassword)
	case s.HA1:
		want, err = d.ResponseHA1(secret)
	default:
		want, err = d.Response(secret)
	}
	if err != nil {
		return "", ErrUnauthorized
	}
	match := subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(cr.Response))) == 1
	if !match || !known {
		return "", ErrUnauthorized
	}

	now := s.now()
	expires := time.Unix(0, issued).Add(s.lifetime())
	if !expires.After(now) {
		return "", ErrStale
	}
	s.mu.Lock()
	res := s.uses.use(cr.Nonce, issued, expires, nc, cr.QOP != "", now, s.limit)
	s.mu.Unlock()
	switch res {
	case useStale:
		return "", ErrStale
	case useReplay:
		return "", ErrUnauthorized
	}
	// The username aliases the request's buffer; the caller may keep it.
	return strings.Clone(cr.Username), nil
}

// credentials returns the first Digest credentials of the named header
// for the server's realm. Values that do not parse are skipped: they may
// be for another realm, and are not this server's to judge.
func (s *Server) credentials(req *sip.Request, header string) (sip.Credentials, bool) {
	for v := range req.Values(header) {
		cr, err := sip.ParseCredentials(v)
		if err == nil && strings.EqualFold(cr.Scheme, "Digest") && cr.Realm == s.Realm {
			return cr, true
		}
	}
	return sip.Credentials{}, false
}

// offered reports whether alg is one of the algorithms challenged with.
// An absent algorithm means MD5 (RFC 7616 §3.3), accepted only when MD5
// was offered, so a client cannot downgrade by leaving it out.
func (s *Server) offered(alg string) bool {
	if alg == "" {
		alg = "MD5"
	}
	for _, a := range s.algs {
		if strings.EqualFold(a, alg) {
			return true
		}
	}
	return false
}

// sameURI reports whether the digest-uri is the Request-URI: the same
// text, or URIs equal under RFC 3261 §19.1.4 (a proxy may re-serialise
// the Request-URI without changing it). Credentials captured for one
// Request-URI then cannot authorise a request to another.
func sameURI(req *sip.Request, digestURI string) bool {
	ruri, ok := requestURI(req)
	if !ok {
		return false
	}
	if ruri == digestURI {
		return true
	}
	u, err := sip.ParseURI(digestURI)
	return err == nil && u.Equal(req.RequestURI())
}
