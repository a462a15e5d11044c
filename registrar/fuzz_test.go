package registrar

import (
	"context"
	"testing"
	"time"

	"github.com/sipkit/sipkit/auth"
	"github.com/sipkit/sipkit/location"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// FuzzRegister answers whatever parses as a REGISTER: every request gets
// a response and none panics; a 200 lists only bindings that parse again.
func FuzzRegister(f *testing.F) {
	for _, s := range []string{
		"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK1\r\nFrom: <sip:bob@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\nContact: <sip:bob@127.0.0.1:5072>;q=0.5;expires=60, <sip:bob@127.0.0.1:5073>\r\nPath: <sip:p@127.0.0.2;lr>\r\nSupported: path\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n",
		"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK2\r\nFrom: <sip:bob@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: r1\r\nCSeq: 2 REGISTER\r\nContact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n",
		"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK3\r\nFrom: <sip:bob@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: r3\r\nCSeq: 1 REGISTER\r\nAuthorization: Digest username=\"bob\", realm=\"x\", nonce=\"n\", uri=\"sip:127.0.0.1\", response=\"0\"\r\nContact: <sip:bob@127.0.0.1:5072>;expires=1\r\nRequire: path, foo\r\nContent-Length: 0\r\n\r\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	store := location.NewMemory(0)
	defer store.Close()
	now := time.Unix(1_800_000_000, 0)
	plain, err := New(Config{Store: store, Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	authed, err := New(Config{Store: store, Now: func() time.Time { return now },
		Auth: &auth.Server{Realm: "x", Now: func() time.Time { return now },
			Credentials: func(string) (string, bool) { return "secret", true }}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, withAuth bool) {
		msg, err := sip.Parse(data)
		req, ok := msg.(*sip.Request)
		if err != nil || !ok {
			return
		}
		r := plain
		if withAuth {
			r = authed
		}
		resp := r.Register(context.Background(), req, transport.Source{Transport: transport.UDP})
		if resp == nil {
			t.Fatal("no response")
		}
		if resp.StatusCode() == 200 {
			for _, c := range resp.Contacts() {
				if _, err := sip.ParseURI(c.URI.String()); err != nil {
					t.Fatalf("200 lists a Contact that does not parse: %q", c.URI.String())
				}
			}
		}
		if _, err := sip.Parse(resp.AppendTo(nil)); err != nil {
			t.Fatalf("response does not parse again: %v\n%s", err, resp.AppendTo(nil))
		}
	})
}
