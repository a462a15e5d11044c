package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
)

const testRealm = "example.com"

// clock is a settable fake time for Server.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newServer(c *clock) *Server {
	users := map[string]string{"alice": "secret"}
	return &Server{
		Realm: testRealm,
		Credentials: func(u string) (string, bool) {
			p, ok := users[u]
			return p, ok
		},
		Secret: []byte("test secret"),
		Now:    c.now,
	}
}

// reparse writes req to the wire and parses it, as the server sees it.
func reparse(t *testing.T, req *sip.Request) *sip.Request {
	t.Helper()
	m, err := sip.Parse([]byte(req.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, req)
	}
	return m.(*sip.Request)
}

// challenge returns the 401 (or 407 when proxy) s answers req with.
func challenge(t *testing.T, s *Server, req *sip.Request, proxy, stale bool) *sip.Response {
	t.Helper()
	code, name := 401, "WWW-Authenticate"
	if proxy {
		code, name = 407, "Proxy-Authenticate"
	}
	resp := siptest.Response(t, req, code)
	for _, v := range s.Challenge(stale) {
		if err := resp.AppendHeader(name, v); err != nil {
			t.Fatal(err)
		}
	}
	return resp
}

// login runs one challenge round: req, the server's challenge, and the
// request the auth.Client sends again with credentials.
func login(t *testing.T, s *Server, acct Account, proxy bool) *sip.Request {
	t.Helper()
	req := siptest.Request(t, "REGISTER", "sip:example.com")
	retry, err := newClient(acct).Authorize(req, challenge(t, s, req, proxy, false))
	if err != nil {
		t.Fatal(err)
	}
	return reparse(t, retry)
}

// signed returns req with credentials cr, whose response is computed
// from password: credentials of any shape, right or wrong.
func signed(t *testing.T, req *sip.Request, header string, cr sip.Credentials, password string) *sip.Request {
	t.Helper()
	resp, err := FromCredentials(cr, req.Method(), req.Body()).Response(password)
	if err != nil {
		t.Fatal(err)
	}
	cr.Scheme, cr.Response = "Digest", resp
	out := sip.Clone(req)
	if err := out.AppendHeader(header, cr.String()); err != nil {
		t.Fatal(err)
	}
	return reparse(t, out)
}

// nonceOf returns the nonce of a fresh challenge of s.
func nonceOf(t *testing.T, s *Server) string {
	t.Helper()
	ch, err := sip.ParseChallenge(s.Challenge(false)[0])
	if err != nil {
		t.Fatal(err)
	}
	return ch.Nonce
}

// creds returns qop=auth credentials for alice on a REGISTER to
// sip:example.com with the given nonce and nonce-count.
func creds(nonce, nc string) sip.Credentials {
	return sip.Credentials{
		Username: "alice", Realm: testRealm, Nonce: nonce, URI: "sip:example.com",
		Algorithm: "SHA-256", CNonce: "cn1", QOP: "auth", NC: nc,
	}
}

func register(t *testing.T) *sip.Request {
	return siptest.Request(t, "REGISTER", "sip:example.com")
}

// TestChallengeOffersEachAlgorithm: one challenge per algorithm, in the
// configured order, strongest first by default (RFC 8760 §2.4), all
// with realm, the same nonce and qop="auth" (RFC 3261 §22.4).
func TestChallengeOffersEachAlgorithm(t *testing.T) {
	tests := []struct {
		name  string
		algs  []string
		ha1   bool
		stale bool
		want  []string
	}{
		{"default", nil, false, false, []string{"SHA-256", "MD5"}},
		{"configured", []string{"SHA-512-256", "SHA-256", "MD5"}, false, false, []string{"SHA-512-256", "SHA-256", "MD5"}},
		{"unsupported left out", []string{"SHA-1", "MD5"}, false, false, []string{"MD5"}},
		{"HA1 offers one", []string{"MD5", "SHA-256"}, true, false, []string{"MD5"}},
		{"stale", nil, false, true, []string{"SHA-256", "MD5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(&clock{time.Unix(1e9, 0)})
			s.Algorithms, s.HA1 = tt.algs, tt.ha1
			var got []string
			nonce := ""
			for _, v := range s.Challenge(tt.stale) {
				ch, err := sip.ParseChallenge(v)
				if err != nil {
					t.Fatalf("%q: %v", v, err)
				}
				if ch.Realm != testRealm || ch.QOP != "auth" || ch.Stale != tt.stale || ch.Nonce == "" {
					t.Errorf("challenge %q: want realm %q, qop auth, stale %v, a nonce", v, testRealm, tt.stale)
				}
				if nonce != "" && ch.Nonce != nonce {
					t.Errorf("nonces differ between challenges: %q, %q", nonce, ch.Nonce)
				}
				nonce = ch.Nonce
				got = append(got, ch.Algorithm)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("algorithms %q, want %q", got, tt.want)
			}
		})
	}
}

// TestVerifyAcceptsClientCredentials: the credentials auth.Client
// computes from the challenge verify, for each algorithm (RFC 8760
// §2.2), from a password or an HA1 (RFC 7616 §3.4.2), in Authorization
// or Proxy-Authorization (RFC 3261 §22.2, §22.3).
func TestVerifyAcceptsClientCredentials(t *testing.T) {
	tests := []struct {
		name  string
		algs  []string
		ha1   bool
		proxy bool
	}{
		{"SHA-256", nil, false, false},
		{"MD5", []string{"MD5"}, false, false},
		{"SHA-512-256", []string{"SHA-512-256"}, false, false},
		{"MD5-sess", []string{"MD5-sess"}, false, false},
		{"MD5 HA1", []string{"MD5"}, true, false},
		{"SHA-256 HA1", []string{"SHA-256"}, true, false},
		{"proxy SHA-256", nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(&clock{time.Unix(1e9, 0)})
			s.Algorithms, s.HA1 = tt.algs, tt.ha1
			if tt.ha1 {
				ha1, err := HA1(tt.algs[0], "alice", testRealm, "secret")
				if err != nil {
					t.Fatal(err)
				}
				s.Credentials = func(u string) (string, bool) { return ha1, u == "alice" }
			}
			req := login(t, s, alice, tt.proxy)
			user, err := s.Verify(req, tt.proxy)
			if err != nil || user != "alice" {
				t.Fatalf("Verify = %q, %v; want alice, nil\n%s", user, err, req)
			}
			if _, err := s.Verify(req, !tt.proxy); !errors.Is(err, ErrNoCredentials) {
				t.Errorf("Verify of the other header = %v, want ErrNoCredentials", err)
			}
		})
	}
}

// TestVerifyUnknownUserLikeWrongPassword: an unknown user and a wrong
// password get the same error, so neither the caller's response nor the
// error reveals which users exist (RFC 3261 §22.1 leaves the 401/403
// choice open; answering alike avoids user enumeration).
func TestVerifyUnknownUserLikeWrongPassword(t *testing.T) {
	s := newServer(&clock{time.Unix(1e9, 0)})
	wrong := login(t, s, Account{Username: "alice", Password: "guess"}, false)
	unknown := login(t, s, Account{Username: "mallory", Password: "secret"}, false)
	_, errWrong := s.Verify(wrong, false)
	_, errUnknown := s.Verify(unknown, false)
	if !errors.Is(errWrong, ErrUnauthorized) || !errors.Is(errUnknown, ErrUnauthorized) {
		t.Fatalf("wrong password: %v, unknown user: %v; want ErrUnauthorized for both", errWrong, errUnknown)
	}
	if errWrong.Error() != errUnknown.Error() {
		t.Errorf("errors differ: %q vs %q", errWrong, errUnknown)
	}
	// The stand-in password computed for unknown users opens nothing.
	dummy := login(t, s, Account{Username: "mallory", Password: dummyPassword}, false)
	if _, err := s.Verify(dummy, false); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("unknown user with the stand-in password: %v, want ErrUnauthorized", err)
	}
}

// TestVerifyRejectsForgedNonce: only nonces this server issued, for this
// realm, are accepted, even with a digest correct for them (RFC 7616
// §3.3: the server checks the nonce it receives).
func TestVerifyRejectsForgedNonce(t *testing.T) {
	c := &clock{time.Unix(1e9, 0)}
	s := newServer(c)
	good := nonceOf(t, s)

	other := newServer(c)
	other.Secret = []byte("another secret")
	otherRealm := newServer(c)
	otherRealm.Realm = "other.example.com"

	tampered := []byte(good)
	tampered[2] ^= 1 // a changed issue time

	tests := []struct{ name, nonce string }{
		{"other secret", nonceOf(t, other)},
		{"other realm", nonceOf(t, otherRealm)},
		{"tampered", string(tampered)},
		{"made up", "dcd98b7102dd2f0e8b11d0f600bfb0c093"},
		{"empty", ""},
		{"not base64", strings.Repeat("!", len(good))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := signed(t, register(t), "Authorization", creds(tt.nonce, "00000001"), "secret")
			if _, err := s.Verify(req, false); !errors.Is(err, ErrUnauthorized) {
				t.Errorf("Verify = %v, want ErrUnauthorized", err)
			}
		})
	}
	// The control: the same credentials with the issued nonce pass.
	req := signed(t, register(t), "Authorization", creds(good, "00000001"), "secret")
	if _, err := s.Verify(req, false); err != nil {
		t.Errorf("issued nonce: %v", err)
	}
}

// TestVerifyExpiredNonceIsStale: a correct digest with an expired nonce
// is ErrStale, for a challenge with stale=true that the client answers
// without asking its user (RFC 7616 §3.3); a wrong one stays
// ErrUnauthorized, so stale never tells a guesser it guessed right.
func TestVerifyExpiredNonceIsStale(t *testing.T) {
	tests := []struct {
		name     string
		lifetime time.Duration
		after    time.Duration
		password string
		want     error
	}{
		{"fresh", 0, 299 * time.Second, "secret", nil},
		{"expired", 0, 300 * time.Second, "secret", ErrStale},
		{"expired wrong password", 0, 300 * time.Second, "guess", ErrUnauthorized},
		{"configured lifetime", 10 * time.Second, 11 * time.Second, "secret", ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{time.Unix(1e9, 0)}
			s := newServer(c)
			s.NonceLifetime = tt.lifetime
			req := login(t, s, Account{Username: "alice", Password: tt.password}, false)
			c.advance(tt.after)
			if _, err := s.Verify(req, false); !errors.Is(err, tt.want) && (err != nil || tt.want != nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestVerifyNonceCount: each use of a nonce must carry a higher
// nonce-count than the last one accepted; an equal or lower one is a
// replay (RFC 7616 §3.4, RFC 2617 §3.2.2). Gaps are allowed, since
// requests may be lost.
func TestVerifyNonceCount(t *testing.T) {
	s := newServer(&clock{time.Unix(1e9, 0)})
	nonce := nonceOf(t, s)
	steps := []struct {
		nc   string
		want error
	}{
		{"00000001", nil},
		{"00000001", ErrUnauthorized}, // replay
		{"00000002", nil},
		{"00000005", nil},
		{"00000003", ErrUnauthorized}, // older than the last accepted
		{"00000005", ErrUnauthorized},
		{"0000000a", nil},
	}
	for _, st := range steps {
		req := signed(t, register(t), "Authorization", creds(nonce, st.nc), "secret")
		if _, err := s.Verify(req, false); !errors.Is(err, st.want) && (err != nil || st.want != nil) {
			t.Errorf("nc %s: Verify = %v, want %v", st.nc, err, st.want)
		}
	}
}

// TestVerifyReplayedRequest: the very request the client sent, verified
// again (a captured REGISTER played back), is refused.
func TestVerifyReplayedRequest(t *testing.T) {
	s := newServer(&clock{time.Unix(1e9, 0)})
	req := login(t, s, alice, false)
	if _, err := s.Verify(req, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(req, false); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("replay: Verify = %v, want ErrUnauthorized", err)
	}
}

// TestVerifyWithoutQOPOnce: the RFC 2069 form (no qop, RFC 3261 §22.4)
// has no nonce-count, so a nonce answered that way is good once.
func TestVerifyWithoutQOPOnce(t *testing.T) {
	s := newServer(&clock{time.Unix(1e9, 0)})
	nonce := nonceOf(t, s)
	cr := sip.Credentials{Username: "alice", Realm: testRealm, Nonce: nonce, URI: "sip:example.com", Algorithm: "SHA-256"}
	first := signed(t, register(t), "Authorization", cr, "secret")
	if _, err := s.Verify(first, false); err != nil {
		t.Fatalf("first use: %v", err)
	}
	second := signed(t, register(t), "Authorization", cr, "secret")
	if _, err := s.Verify(second, false); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("second use: Verify = %v, want ErrUnauthorized", err)
	}
	withQOP := signed(t, register(t), "Authorization", creds(nonce, "00000002"), "secret")
	if _, err := s.Verify(withQOP, false); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("same nonce then with qop: Verify = %v, want ErrUnauthorized", err)
	}
}

// TestVerifyNoCredentialsForRealm: credentials for another realm, or
// none, are ErrNoCredentials: the request is challenged (RFC 3261 §22.3:
// a proxy answers only for its own realm).
func TestVerifyNoCredentialsForRealm(t *testing.T) {
	c := &clock{time.Unix(1e9, 0)}
	s := newServer(c)
	other := newServer(c)
	other.Realm = "other.example.com"
	otherCreds := creds(nonceOf(t, other), "00000001")
	otherCreds.Realm = other.Realm

	tests := []struct {
		name string
		req  *sip.Request
	}{
		{"none", register(t)},
		{"other realm", signed(t, register(t), "Authorization", otherCreds, "secret")},
		{"realm case differs", signed(t, register(t), "Authorization",
			func() sip.Credentials { cr := creds(nonceOf(t, s), "00000001"); cr.Realm = "Example.com"; return cr }(), "secret")},
		{"not digest", reparse(t, func() *sip.Request {
			r := register(t)
			r.AppendHeader("Authorization", "Bearer mF_9.B5f-4.1JqM")
			return r
		}())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Verify(tt.req, false); !errors.Is(err, ErrNoCredentials) {
				t.Errorf("Verify = %v, want ErrNoCredentials", err)
			}
		})
	}
	// With credentials for both realms, ours is found.
	both := signed(t, signed(t, register(t), "Authorization", otherCreds, "secret"),
		"Authorization", creds(nonceOf(t, s), "00000001"), "secret")
	if _, err := s.Verify(both, false); err != nil {
		t.Errorf("with both realms: %v", err)
	}
}

// TestVerifyRejectsWhatWasNotOffered: an algorithm or qop not offered,
// a userhash not offered, or a digest-uri other than the Request-URI
// (RFC 2617 §3.2.2.5) are refused even with a correct digest; an absent
// algorithm is MD5 (RFC 7616 §3.3) and is no way around the SHA-256-only
// policy.
func TestVerifyRejectsWhatWasNotOffered(t *testing.T) {
	s := newServer(&clock{time.Unix(1e9, 0)})
	s.Algorithms = []string{"SHA-256"}
	tests := []struct {
		name string
		edit func(*sip.Credentials)
	}{
		{"MD5 not offered", func(cr *sip.Credentials) { cr.Algorithm = "MD5" }},
		{"absent algorithm is MD5", func(cr *sip.Credentials) { cr.Algorithm = "" }},
		{"auth-int not offered", func(cr *sip.Credentials) { cr.QOP = "auth-int" }},
		{"userhash", func(cr *sip.Credentials) { cr.Userhash = true }},
		{"other digest-uri", func(cr *sip.Credentials) { cr.URI = "sip:other.example.com" }},
		{"nonce-count zero", func(cr *sip.Credentials) { cr.NC = "00000000" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr := creds(nonceOf(t, s), "00000001")
			tt.edit(&cr)
			req := signed(t, register(t), "Authorization", cr, "secret")
			if _, err := s.Verify(req, false); !errors.Is(err, ErrUnauthorized) {
				t.Errorf("Verify = %v, want ErrUnauthorized", err)
			}
		})
	}
	// The digest-uri may differ in form but not in meaning (RFC 3261
	// §19.1.4): the host compares case-insensitively.
	cr := creds(nonceOf(t, s), "00000001")
	cr.URI = "sip:EXAMPLE.com"
	if _, err := s.Verify(signed(t, register(t), "Authorization", cr, "secret"), false); err != nil {
		t.Errorf("equivalent digest-uri: %v", err)
	}
}

// TestVerifyReplayTableBounded: when the table of nonces in use is full
// the oldest is forgotten, and from then on it counts as stale rather
// than as new, so forgetting it never lets a replay through.
func TestVerifyReplayTableBounded(t *testing.T) {
	s := newServer(&clock{time.Unix(1e9, 0)})
	s.init()
	s.limit = 2
	var nonces []string
	for range 3 {
		n := nonceOf(t, s)
		nonces = append(nonces, n)
		if _, err := s.Verify(signed(t, register(t), "Authorization", creds(n, "00000001"), "secret"), false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Verify(signed(t, register(t), "Authorization", creds(nonces[0], "00000001"), "secret"), false); !errors.Is(err, ErrStale) {
		t.Errorf("replay of a forgotten nonce: %v, want ErrStale", err)
	}
	if _, err := s.Verify(signed(t, register(t), "Authorization", creds(nonces[2], "00000002"), "secret"), false); err != nil {
		t.Errorf("next use of a remembered nonce: %v", err)
	}
}

// TestVerifyForgetsExpiredNonces: nonces leave the replay table once
// expired, so it does not grow with traffic.
func TestVerifyForgetsExpiredNonces(t *testing.T) {
	c := &clock{time.Unix(1e9, 0)}
	s := newServer(c)
	for range 5 {
		if _, err := s.Verify(login(t, s, alice, false), false); err != nil {
			t.Fatal(err)
		}
	}
	c.advance(301 * time.Second)
	if _, err := s.Verify(login(t, s, alice, false), false); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	n := len(s.uses.m)
	s.mu.Unlock()
	if n != 1 {
		t.Errorf("%d nonces remembered, want 1", n)
	}
}

// ChallengeResponse: 401 with WWW-Authenticate for a registrar, 407 with
// Proxy-Authenticate for a proxy, one challenge per algorithm, a To tag.
func TestChallengeResponse(t *testing.T) {
	s := &Server{Realm: "example.org"}
	m, err := sip.Parse([]byte("REGISTER sip:example.org SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bKc\r\n" +
		"From: <sip:bob@example.org>;tag=1\r\nTo: <sip:bob@example.org>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	for _, tc := range []struct {
		proxy        bool
		code         int
		header, none string
	}{{false, 401, "WWW-Authenticate", "Proxy-Authenticate"}, {true, 407, "Proxy-Authenticate", "WWW-Authenticate"}} {
		resp := s.ChallengeResponse(req, tc.proxy, true)
		n := 0
		for v := range resp.Values(tc.header) {
			n++
			if !strings.Contains(v, "stale=true") || !strings.Contains(v, `realm="example.org"`) {
				t.Errorf("%s: %q", tc.header, v)
			}
		}
		if resp.StatusCode() != tc.code || n != 2 || resp.Has(tc.none) || resp.ToTag() == "" {
			t.Errorf("proxy=%v: %d with %d %s, To tag %q", tc.proxy, resp.StatusCode(), n, tc.header, resp.ToTag())
		}
	}
}
