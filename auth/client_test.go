package auth

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
)

// newClient returns a client whose cnonces are "cnonce1", "cnonce2"...
func newClient(accounts ...Account) *Client {
	var n atomic.Int64
	return &Client{Accounts: accounts, newCN: func() string {
		return "cnonce" + strconv.FormatInt(n.Add(1), 10)
	}}
}

var alice = Account{Username: "alice", Password: "secret"}

// credentials returns the parsed values of the named header of req.
func credentials(t *testing.T, req *sip.Request, name string) []sip.Credentials {
	t.Helper()
	var out []sip.Credentials
	for v := range req.Values(name) {
		cr, err := sip.ParseCredentials(v)
		if err != nil {
			t.Fatalf("%s %q: %v", name, v, err)
		}
		out = append(out, cr)
	}
	return out
}

// only returns the single credentials of the named header.
func only(t *testing.T, req *sip.Request, name string) sip.Credentials {
	t.Helper()
	crs := credentials(t, req, name)
	if len(crs) != 1 {
		t.Fatalf("%d %s headers, want 1:\n%s", len(crs), name, req)
	}
	return crs[0]
}

// verify recomputes the response of cr for req, as a server would.
func verify(t *testing.T, req *sip.Request, cr sip.Credentials, password string) {
	t.Helper()
	want, err := FromCredentials(cr, req.Method(), req.Body()).Response(password)
	if err != nil {
		t.Fatal(err)
	}
	if cr.Response != want {
		t.Errorf("response %s does not verify (want %s)", cr.Response, want)
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestAuthorize401RoundTrip: a 401 to a REGISTER is answered with an
// Authorization header whose fields follow the challenge (RFC 3261
// §22.2, §22.4: uri is the Request-URI as written), on a clone whose
// CSeq is one more (§8.1.3.5); the request given is left alone.
func TestAuthorize401RoundTrip(t *testing.T) {
	// Written as no serializer would (leading zero in the port), so
	// re-serialising the parsed URI instead of copying it shows.
	const ruri = "sip:Registrar.Example.com:05060;transport=tcp"
	req := siptest.Request(t, "REGISTER", ruri, "CSeq: 41 REGISTER")
	resp := siptest.Response(t, req, 401,
		`WWW-Authenticate: Digest realm="example.com", nonce="n0nce", opaque="0paque", algorithm=MD5, qop="auth"`)
	c := newClient(alice)

	out, err := c.Authorize(req, resp)
	if err != nil {
		t.Fatal(err)
	}
	// Written to the wire and parsed again, as the server will see it.
	m, err := sip.Parse([]byte(out.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	sent := m.(*sip.Request)
	ha1 := md5hex("alice:example.com:secret")
	ha2 := md5hex("REGISTER:" + ruri)
	want := sip.Credentials{
		Scheme: "Digest", Username: "alice", Realm: "example.com", Nonce: "n0nce", URI: ruri,
		Response:  md5hex(ha1 + ":n0nce:00000001:cnonce1:auth:" + ha2),
		Algorithm: "MD5", CNonce: "cnonce1", Opaque: "0paque", QOP: "auth", NC: "00000001",
	}
	if got := only(t, sent, "Authorization"); !reflect.DeepEqual(got, want) {
		t.Errorf("Authorization:\n got %+v\nwant %+v", got, want)
	}
	if got := sent.CSeq(); got != (sip.CSeq{Seq: 42, Method: "REGISTER"}) {
		t.Errorf("CSeq = %v, want 42 REGISTER", got)
	}
	if sent.Has("Proxy-Authorization") {
		t.Error("Proxy-Authorization added for a WWW-Authenticate challenge")
	}
	if sent.CallID() != req.CallID() || sent.FromTag() != req.FromTag() {
		t.Error("Call-ID or From tag changed")
	}
	if req.Has("Authorization") || req.CSeq().Seq != 41 {
		t.Errorf("the original request was modified:\n%s", req)
	}
}

// TestAuthorizeSIPWorkedExample answers the challenge of
// draft-smith-sipping-auth-examples-01 §3.3 and must produce its
// published response, opaque echoed (RFC 3261 §22.4).
func TestAuthorizeSIPWorkedExample(t *testing.T) {
	req := siptest.Request(t, "INVITE", "sip:bob@biloxi.com")
	resp := siptest.Response(t, req, 401, `WWW-Authenticate: Digest realm="biloxi.com", qop="auth,auth-int", `+
		`nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5`)
	c := &Client{Accounts: []Account{{Username: "bob", Password: "zanzibar", Realm: "biloxi.com"}},
		newCN: func() string { return "0a4f113b" }}
	out, err := c.Authorize(req, resp)
	if err != nil {
		t.Fatal(err)
	}
	cr := only(t, out, "Authorization")
	if cr.Response != "89eb0059246c02b2f6ee02c7961d5ea3" || cr.Opaque != "5ccc069c403ebaf9f0171e9517f40e41" || cr.QOP != "auth" {
		t.Errorf("got %+v", cr)
	}
}

// TestAuthorizeRFC2069Form: a challenge without qop is answered without
// qop, cnonce and nc (RFC 3261 §22.4 keeps RFC 2069 compatibility);
// draft-smith-sipping-auth-examples-01 §3.1 gives the response.
func TestAuthorizeRFC2069Form(t *testing.T) {
	req := siptest.Request(t, "INVITE", "sip:bob@biloxi.com")
	resp := siptest.Response(t, req, 401, `WWW-Authenticate: Digest realm="biloxi.com", `+
		`nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"`)
	c := newClient(Account{Username: "bob", Password: "zanzibar"})
	out, err := c.Authorize(req, resp)
	if err != nil {
		t.Fatal(err)
	}
	cr := only(t, out, "Authorization")
	if cr.Response != "bf57e4e0d0bffc0fbaedce64d59add5e" {
		t.Errorf("response = %s", cr.Response)
	}
	if cr.QOP != "" || cr.NC != "" || cr.CNonce != "" || cr.Algorithm != "" {
		t.Errorf("qop/nc/cnonce/algorithm sent without qop in the challenge: %+v", cr)
	}
}

// TestAuthorize407ProxyAuthorization: a 407's Proxy-Authenticate is
// answered with Proxy-Authorization (RFC 3261 §22.3), here in SHA-256
// (RFC 8760).
func TestAuthorize407ProxyAuthorization(t *testing.T) {
	req := siptest.Request(t, "INVITE", "sip:bob@example.org")
	resp := siptest.Response(t, req, 407,
		`Proxy-Authenticate: Digest realm="proxy.example.org", nonce="pn", algorithm=SHA-256, qop="auth"`)
	out, err := newClient(alice).Authorize(req, resp)
	if err != nil {
		t.Fatal(err)
	}
	cr := only(t, out, "Proxy-Authorization")
	if cr.Realm != "proxy.example.org" || cr.Algorithm != "SHA-256" || cr.NC != "00000001" || cr.URI != "sip:bob@example.org" {
		t.Errorf("got %+v", cr)
	}
	if len(cr.Response) != 64 {
		t.Errorf("SHA-256 response %q is not 64 hex digits", cr.Response)
	}
	verify(t, out, cr, "secret")
	if out.Has("Authorization") {
		t.Error("Authorization added for a Proxy-Authenticate challenge")
	}
	if out.CSeq().Seq != req.CSeq().Seq+1 || out.CSeq().Method != "INVITE" {
		t.Errorf("CSeq = %v", out.CSeq())
	}
}

// TestAuthorizeNonceCountPerNonce: the nonce-count starts at 1 for a
// nonce and goes up by one each time the same nonce is answered again;
// it is kept per realm and nonce (RFC 7616 §3.4).
func TestAuthorizeNonceCountPerNonce(t *testing.T) {
	c := newClient(alice)
	steps := []struct{ realm, nonce, wantNC string }{
		{"a.example", "N", "00000001"},
		{"a.example", "N", "00000002"},
		{"a.example", "M", "00000001"},
		{"b.example", "N", "00000001"},
		{"a.example", "N", "00000003"},
	}
	for i, s := range steps {
		req := siptest.Request(t, "OPTIONS", "sip:a.example")
		resp := siptest.Response(t, req, 401, `WWW-Authenticate: Digest realm="`+s.realm+`", nonce="`+s.nonce+`", qop="auth"`)
		out, err := c.Authorize(req, resp)
		if err != nil {
			t.Fatal(err)
		}
		cr := only(t, out, "Authorization")
		if cr.NC != s.wantNC {
			t.Errorf("step %d (%s, %s): nc = %s, want %s", i, s.realm, s.nonce, cr.NC, s.wantNC)
		}
		verify(t, out, cr, "secret")
	}
}

// TestAuthorizeNonceCountsAreBounded: the client forgets the oldest
// nonce when it holds maxNonces, so a long-lived client does not grow.
func TestAuthorizeNonceCountsAreBounded(t *testing.T) {
	c := newClient(alice)
	for i := range maxNonces + 1 {
		c.nextNC("r", strconv.Itoa(i))
	}
	if len(c.nc) != maxNonces {
		t.Errorf("%d nonces kept, want %d", len(c.nc), maxNonces)
	}
	if n := c.nextNC("r", "0"); n != 1 {
		t.Errorf("evicted nonce counted %d, want a fresh 1", n)
	}
	if n := c.nextNC("r", strconv.Itoa(maxNonces)); n != 2 {
		t.Errorf("newest nonce counted %d, want 2", n)
	}
}

// TestAuthorizeConcurrentNonceCounts: Authorize from many goroutines
// with one nonce gives every request its own nonce-count.
func TestAuthorizeConcurrentNonceCounts(t *testing.T) {
	c := newClient(alice)
	req := siptest.Request(t, "OPTIONS", "sip:a.example")
	resp := siptest.Response(t, req, 401, `WWW-Authenticate: Digest realm="a.example", nonce="N", qop="auth"`)
	const n = 32
	ncs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out, err := c.Authorize(req, resp)
			if err != nil {
				t.Error(err)
				return
			}
			v, _ := out.Get("Authorization")
			cr, _ := sip.ParseCredentials(v)
			ncs[i] = cr.NC
		})
	}
	wg.Wait()
	slices.Sort(ncs)
	for i, nc := range ncs {
		if want := formatNC(uint32(i + 1)); nc != want {
			t.Fatalf("nonce-counts %v, want 1..%d once each", ncs, n)
		}
	}
}

// TestAuthorizeStrongestAlgorithm: among challenges of one realm the
// client answers the strongest algorithm it supports, SHA-512-256 over
// SHA-256 over MD5 (RFC 8760 §2.4), whatever the order; unsupported
// ones are passed over.
func TestAuthorizeStrongestAlgorithm(t *testing.T) {
	tests := []struct {
		offered   []string
		want      string
		wantNonce string // challenge i has nonce "n<i>"
	}{
		{[]string{"MD5", "SHA-256"}, "SHA-256", "n1"},
		{[]string{"SHA-256", "MD5"}, "SHA-256", "n0"},
		{[]string{"MD5", "SHA-512-256", "SHA-256"}, "SHA-512-256", "n1"},
		{[]string{"SHA-1", "MD5", "AKAv1-MD5"}, "MD5", "n1"},
		{[]string{"MD5-sess", "SHA-256-sess"}, "SHA-256-sess", "n1"},
		{[]string{"SHA-512-256-sess", "sha-256"}, "SHA-512-256-sess", "n0"},
		{[]string{"", "SHA-256"}, "SHA-256", "n1"},
		// A tie goes to the first offered.
		{[]string{"MD5", "MD5"}, "MD5", "n0"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.offered, ","), func(t *testing.T) {
			req := siptest.Request(t, "INVITE", "sip:bob@example.org")
			var hdrs []string
			for i, alg := range tt.offered {
				h := `WWW-Authenticate: Digest realm="example.org", nonce="n` + strconv.Itoa(i) + `", qop="auth"`
				if alg != "" {
					h += ", algorithm=" + alg
				}
				hdrs = append(hdrs, h)
			}
			out, err := newClient(alice).Authorize(req, siptest.Response(t, req, 401, hdrs...))
			if err != nil {
				t.Fatal(err)
			}
			cr := only(t, out, "Authorization")
			if cr.Algorithm != tt.want || cr.Nonce != tt.wantNonce {
				t.Errorf("answered %q (nonce %s), want %q (nonce %s)", cr.Algorithm, cr.Nonce, tt.want, tt.wantNonce)
			}
			verify(t, out, cr, "secret")
		})
	}
}

// TestAuthorizeStaleAndRepeatedNonce: after a challenge is answered, a
// new challenge with stale=true is answered again (RFC 7616 §3.3: the
// password was right, the nonce old), and the same nonce without stale
// means the password is wrong: ErrRejected instead of an endless loop.
func TestAuthorizeStaleAndRepeatedNonce(t *testing.T) {
	c := newClient(alice)
	req := siptest.Request(t, "REGISTER", "sip:example.com")
	first, err := c.Authorize(req, siptest.Response(t, req, 401,
		`WWW-Authenticate: Digest realm="example.com", nonce="A", qop="auth"`))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		challenge string
		wantErr   error
		wantNonce string
		wantNC    string
	}{
		{"same nonce, not stale", `Digest realm="example.com", nonce="A", qop="auth"`, ErrRejected, "", ""},
		{"same nonce, stale=false", `Digest realm="example.com", nonce="A", qop="auth", stale=false`, ErrRejected, "", ""},
		{"new nonce, stale", `Digest realm="example.com", nonce="B", qop="auth", stale=true`, nil, "B", "00000001"},
		{"same nonce, stale", `Digest realm="example.com", nonce="A", qop="auth", stale=TRUE`, nil, "A", "00000002"},
		// A new nonce without stale may be a server that renews nonces
		// silently; the caller's retry limit bounds it.
		{"new nonce, not stale", `Digest realm="example.com", nonce="C", qop="auth"`, nil, "C", "00000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.Authorize(first, siptest.Response(t, first, 401, "WWW-Authenticate: "+tt.challenge))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			cr := only(t, out, "Authorization")
			if cr.Nonce != tt.wantNonce || cr.NC != tt.wantNC {
				t.Errorf("nonce %s nc %s, want %s %s", cr.Nonce, cr.NC, tt.wantNonce, tt.wantNC)
			}
			if out.CSeq().Seq != first.CSeq().Seq+1 {
				t.Errorf("CSeq = %v after %v", out.CSeq(), first.CSeq())
			}
		})
	}
}

// TestAuthorizeReplacesCredentialsOfTheRealm: credentials the request
// carried for the challenged realm are replaced, those for other realms
// kept (RFC 3261 §22.3: one set per realm).
func TestAuthorizeReplacesCredentialsOfTheRealm(t *testing.T) {
	req := siptest.Request(t, "INVITE", "sip:bob@example.org",
		`Proxy-Authorization: Digest username="alice", realm="edge", nonce="old", uri="sip:bob@example.org", response="00"`,
		`Proxy-Authorization: Digest username="alice", realm="core", nonce="k", uri="sip:bob@example.org", response="11"`)
	resp := siptest.Response(t, req, 407, `Proxy-Authenticate: Digest realm="edge", nonce="new", qop="auth"`)
	out, err := newClient(alice).Authorize(req, resp)
	if err != nil {
		t.Fatal(err)
	}
	crs := credentials(t, out, "Proxy-Authorization")
	if len(crs) != 2 || crs[0].Realm != "core" || crs[0].Response != "11" || crs[1].Realm != "edge" || crs[1].Nonce != "new" {
		t.Errorf("Proxy-Authorization after retry: %+v", crs)
	}
}

// TestAuthorizeMergedChallenges: a forking proxy's 407 carries the
// challenges of all branches, WWW-Authenticate and Proxy-Authenticate
// (RFC 3261 §16.7 step 6); each is answered in its own header, and a
// realm without an account is left out when others can be answered.
func TestAuthorizeMergedChallenges(t *testing.T) {
	req := siptest.Request(t, "INVITE", "sip:bob@example.org")
	resp := siptest.Response(t, req, 407,
		`WWW-Authenticate: Digest realm="uas1", nonce="1", qop="auth"`,
		`WWW-Authenticate: Digest realm="stranger", nonce="2", qop="auth"`,
		`Proxy-Authenticate: Digest realm="proxy", nonce="3", algorithm=SHA-512-256, qop="auth"`,
		`WWW-Authenticate: Basic realm="uas1"`)
	c := newClient(
		Account{Username: "a1", Password: "p1", Realm: "uas1"},
		Account{Username: "a3", Password: "p3", Realm: "proxy"})
	out, err := c.Authorize(req, resp)
	if err != nil {
		t.Fatal(err)
	}
	www := only(t, out, "Authorization")
	proxy := only(t, out, "Proxy-Authorization")
	if www.Realm != "uas1" || www.Username != "a1" || proxy.Realm != "proxy" || proxy.Username != "a3" {
		t.Errorf("Authorization %+v\nProxy-Authorization %+v", www, proxy)
	}
	verify(t, out, www, "p1")
	verify(t, out, proxy, "p3")
}

// TestAuthorizeAccountChoice: an account for the exact realm wins over
// a catch-all; with no account for the realm the error is
// ErrNoCredentials; a username that cannot be written is refused.
func TestAuthorizeAccountChoice(t *testing.T) {
	tests := []struct {
		name     string
		accounts []Account
		wantUser string
		wantErr  error
	}{
		{"exact over catch-all", []Account{{Username: "any", Password: "x"}, {Username: "exact", Password: "y", Realm: "example.com"}}, "exact", nil},
		{"catch-all", []Account{{Username: "other", Password: "x", Realm: "other.com"}, {Username: "any", Password: "y"}}, "any", nil},
		{"no matching realm", []Account{{Username: "other", Password: "x", Realm: "other.com"}}, "", ErrNoCredentials},
		{"no accounts", nil, "", ErrNoCredentials},
		// The sip package's header edits accept a line break in this
		// header's value, so a username must not smuggle one in.
		{"line break in username", []Account{{Username: "a\r\nX-Injected: 1", Password: "x"}}, "", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := siptest.Request(t, "REGISTER", "sip:example.com")
			resp := siptest.Response(t, req, 401, `WWW-Authenticate: Digest realm="example.com", nonce="n", qop="auth"`)
			out, err := newClient(tt.accounts...).Authorize(req, resp)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && only(t, out, "Authorization").Username != tt.wantUser {
				t.Errorf("username = %s, want %s", only(t, out, "Authorization").Username, tt.wantUser)
			}
		})
	}
}

// TestAuthorizeAuthIntCoversBody: with only auth-int offered, the body
// is part of the digest (RFC 3261 §22.4, RFC 2617 §3.2.2.3); when auth
// is offered too, auth is used.
func TestAuthorizeAuthIntCoversBody(t *testing.T) {
	req := siptest.Request(t, "INVITE", "sip:bob@biloxi.com")
	if err := req.SetBody([]byte(sipExampleBody), "application/sdp"); err != nil {
		t.Fatal(err)
	}
	c := newClient(alice)
	out, err := c.Authorize(req, siptest.Response(t, req, 401, `WWW-Authenticate: Digest realm="r", nonce="n", qop="auth-int"`))
	if err != nil {
		t.Fatal(err)
	}
	cr := only(t, out, "Authorization")
	if cr.QOP != "auth-int" {
		t.Fatalf("qop = %q", cr.QOP)
	}
	verify(t, out, cr, "secret")
	if other, _ := FromCredentials(cr, "INVITE", []byte("v=0\r\n")).Response("secret"); other == cr.Response {
		t.Error("a different body gives the same auth-int response")
	}

	out, err = c.Authorize(req, siptest.Response(t, req, 401, `WWW-Authenticate: Digest realm="r", nonce="m", qop="auth-int, auth"`))
	if err != nil {
		t.Fatal(err)
	}
	if cr := only(t, out, "Authorization"); cr.QOP != "auth" {
		t.Errorf("qop = %q with auth offered, want auth", cr.QOP)
	}
}

// TestAuthorizeRefusals: responses that are no usable challenge and
// requests that cannot be retried give the matching sentinel.
func TestAuthorizeRefusals(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		code    int
		headers []string
		want    error
	}{
		{"200", "REGISTER", 200, nil, ErrNotChallenge},
		{"401 without challenge", "REGISTER", 401, nil, ErrNotChallenge},
		{"Basic only", "REGISTER", 401, []string{`WWW-Authenticate: Basic realm="r"`}, ErrUnsupported},
		{"unknown algorithm", "REGISTER", 401, []string{`WWW-Authenticate: Digest realm="r", nonce="n", algorithm=SHA-1`}, ErrUnsupported},
		{"unknown qop", "REGISTER", 401, []string{`WWW-Authenticate: Digest realm="r", nonce="n", qop="auth-conf"`}, ErrUnsupported},
		// RFC 2617 §3.2.2: -sess needs a cnonce, which is sent only with a qop.
		{"sess without qop", "REGISTER", 401, []string{`WWW-Authenticate: Digest realm="r", nonce="n", algorithm=MD5-sess`}, ErrUnsupported},
		{"malformed challenge", "REGISTER", 401, []string{`WWW-Authenticate: Digest realm="r", realm="s"`}, ErrUnsupported},
		{"no nonce", "REGISTER", 401, []string{`WWW-Authenticate: Digest realm="r", qop="auth"`}, ErrInvalid},
		{"control character in nonce", "REGISTER", 401, []string{"WWW-Authenticate: Digest realm=\"r\", nonce=\"a\\\x01b\""}, ErrInvalid},
		// RFC 3261 §22.1: ACK and CANCEL cannot be resubmitted.
		{"CANCEL", "CANCEL", 401, []string{`WWW-Authenticate: Digest realm="r", nonce="n"`}, ErrUnsupported},
		{"ACK", "ACK", 407, []string{`Proxy-Authenticate: Digest realm="r", nonce="n"`}, ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := siptest.Request(t, tt.method, "sip:example.com")
			resp := siptest.Response(t, req, tt.code, tt.headers...)
			out, err := newClient(alice).Authorize(req, resp)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if out != nil {
				t.Errorf("a request was returned with the error:\n%s", out)
			}
		})
	}
}

// TestAuthorizeCSeqLimit: RFC 3261 §8.1.1.5 keeps CSeq below 2**31, so
// a request at the limit cannot be retried.
func TestAuthorizeCSeqLimit(t *testing.T) {
	req := siptest.Request(t, "REGISTER", "sip:example.com", "CSeq: 2147483647 REGISTER")
	resp := siptest.Response(t, req, 401, `WWW-Authenticate: Digest realm="r", nonce="n", qop="auth"`)
	if _, err := newClient(alice).Authorize(req, resp); !errors.Is(err, ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
}

// TestCNonceIsRandom: the default cnonce source gives distinct values
// of at least 128 bits (RFC 7616 §3.4 wants it unpredictable).
func TestCNonceIsRandom(t *testing.T) {
	var c Client
	a, b := c.cnonce(), c.cnonce()
	if a == b || len(a) < 26 {
		t.Errorf("cnonces %q and %q", a, b)
	}
}
