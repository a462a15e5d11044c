package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
)

// FuzzAuthorize feeds arbitrary WWW-Authenticate values inside a valid
// 401 to Authorize. It must not panic; an error must wrap one of the
// package's sentinels; and a retry it builds must parse back from the
// wire with credentials that verify as a server would check them
// (RFC 3261 §22.4).
func FuzzAuthorize(f *testing.F) {
	for _, seed := range []string{
		`Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5`,
		`Digest realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
		`Digest realm="r", nonce="n", qop="auth-int", algorithm=SHA-512-256-sess`,
		`Digest realm="r", nonce="n", qop="auth, auth-int", algorithm=sha-256, stale=true, userhash=true, charset=UTF-8`,
		"Digest\r\n realm=\"http-auth@example.org\",\r\n qop=\"auth, auth-int\",\r\n algorithm=SHA-256,\r\n nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\"",
		`Digest realm="say \"hi\" \\o/", nonce="a\"b", opaque="\\"`,
		`Digest realm="r", nonce="n", algorithm=MD5-sess`,
		`Digest realm="r", qop=auth`,
		`Basic realm="r"`,
		`Bearer mF_9.B5f-4.1JqM`,
		`Digest`,
		`Digest realm="r", nonce="n", qop="auth", realm="s"`,
	} {
		f.Add(seed)
	}
	req := siptest.Request(f, "REGISTER", "sip:example.com")
	head := "SIP/2.0 401 Unauthorized\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-fuzz\r\n" +
		"From: <sip:alice@example.com>;tag=f\r\n" +
		"To: <sip:example.com>;tag=t\r\n" +
		"Call-ID: fuzz@example.com\r\n" +
		"CSeq: 1 REGISTER\r\n" +
		"WWW-Authenticate: "
	tail := "\r\nContent-Length: 0\r\n\r\n"
	sentinels := []error{ErrNotChallenge, ErrUnsupported, ErrNoCredentials, ErrRejected, ErrInvalid, sip.ErrInvalidHeaderEdit}

	f.Fuzz(func(t *testing.T, value string) {
		m, err := sip.Parse([]byte(head + value + tail))
		if err != nil {
			return
		}
		resp, ok := m.(*sip.Response)
		if !ok {
			return
		}
		c := newClient(Account{Username: "alice", Password: "secret"})
		out, err := c.Authorize(req, resp)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		wire := out.String()
		m2, err := sip.Parse([]byte(wire))
		if err != nil {
			t.Fatalf("retry does not parse: %v\n%q", err, wire)
		}
		retry := m2.(*sip.Request)
		if retry.CSeq() != (sip.CSeq{Seq: 2, Method: "REGISTER"}) {
			t.Fatalf("CSeq %v", retry.CSeq())
		}
		n := 0
		for v := range retry.Values("Authorization") {
			n++
			cr, err := sip.ParseCredentials(v)
			if err != nil {
				t.Fatalf("Authorization %q does not parse: %v", v, err)
			}
			if cr.URI != "sip:example.com" || cr.Username != "alice" {
				t.Fatalf("Authorization %+v", cr)
			}
			want, err := FromCredentials(cr, "REGISTER", nil).Response("secret")
			if err != nil || want != cr.Response {
				t.Fatalf("Authorization %q does not verify: %v", v, err)
			}
		}
		if n == 0 || strings.Count(wire, "\r\nAuthorization:") != n {
			t.Fatalf("%d Authorization headers in\n%s", n, wire)
		}
	})
}
