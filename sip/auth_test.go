package sip

import (
	"errors"
	"reflect"
	"testing"
)

// RFC 7616 §3.9.1 example values, reused by several tables.
const (
	rfc7616Nonce  = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
	rfc7616Opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
	rfc7616CNonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
)

var challengeTests = []struct {
	name string
	in   string
	want Challenge
}{
	// RFC 3261 §20.44 WWW-Authenticate example.
	{"rfc3261 20.44", `Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth", ` +
		`nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5`,
		Challenge{Scheme: "Digest", Realm: "atlanta.com", Domain: "sip:boxesbybob.com", QOP: "auth",
			Nonce: "f84f1cec41e6cbe5aea9c8e88d359", Algorithm: "MD5"}},
	// RFC 3261 §20.28 Proxy-Authenticate example.
	{"rfc3261 20.28", `Digest realm="atlanta.com", domain="sip:ss1.carrier.com", qop="auth", ` +
		`nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5`,
		Challenge{Scheme: "Digest", Realm: "atlanta.com", Domain: "sip:ss1.carrier.com", QOP: "auth",
			Nonce: "f84f1cec41e6cbe5aea9c8e88d359", Algorithm: "MD5"}},
	// RFC 7616 §3.9.1, folded over lines as printed there (RFC 3261 §7.3.1
	// folding), with the qop list holding a comma inside quotes.
	{"rfc7616 3.9.1 folded", "Digest\r\n       realm=\"http-auth@example.org\",\r\n       qop=\"auth, auth-int\",\r\n" +
		"       algorithm=SHA-256,\r\n       nonce=\"" + rfc7616Nonce + "\",\r\n       opaque=\"" + rfc7616Opaque + "\"",
		Challenge{Scheme: "Digest", Realm: "http-auth@example.org", QOP: "auth, auth-int", Algorithm: "SHA-256",
			Nonce: rfc7616Nonce, Opaque: rfc7616Opaque}},
	// RFC 8760: SIP challenges with SHA-256 and SHA-512-256, one per header.
	{"rfc8760 sha-256", `Digest realm="atlanta.com", nonce="84a4cc6f3082121f32b42a2187831a9e", qop="auth", algorithm=SHA-256`,
		Challenge{Scheme: "Digest", Realm: "atlanta.com", Nonce: "84a4cc6f3082121f32b42a2187831a9e", QOP: "auth", Algorithm: "SHA-256"}},
	{"rfc8760 sha-512-256 stale", `Digest realm="atlanta.com", nonce="n", qop="auth", algorithm=SHA-512-256, stale=true`,
		Challenge{Scheme: "Digest", Realm: "atlanta.com", Nonce: "n", QOP: "auth", Algorithm: "SHA-512-256", Stale: true}},
	// RFC 3261 §25.1 quoted-pair in a quoted-string; RFC 7235 §2.1 names
	// are case-insensitive and values may be token or quoted-string.
	{"escapes and case", `digest REALM="say \"hi\" \\o/", Nonce=abc, STALE="TRUE", Algorithm="MD5-sess"`,
		Challenge{Scheme: "digest", Realm: `say "hi" \o/`, Nonce: "abc", Stale: true, Algorithm: "MD5-sess"}},
	// RFC 3261 §25.1: LWS around EQUAL and COMMA.
	{"lws around separators", "Digest  realm = \"a\" ,\tnonce=\r\n \"b\"  ",
		Challenge{Scheme: "Digest", Realm: "a", Nonce: "b"}},
	// RFC 7616 §3.3 charset and userhash, and other auth-params, kept in order.
	{"extension params", `Digest realm="r", charset=UTF-8, nonce="n", userhash=true, x-foo="a, b"`,
		Challenge{Scheme: "Digest", Realm: "r", Nonce: "n",
			Params: []AuthParam{{"charset", "UTF-8"}, {"userhash", "true"}, {"x-foo", `"a, b"`}}}},
	// RFC 7616 §3.3: stale other than "true" means false.
	{"odd stale", `Digest realm="r", stale=maybe`, Challenge{Scheme: "Digest", Realm: "r"}},
	// RFC 3261 §25.1 other-challenge, and token68 data (RFC 7235 §2.1).
	{"other scheme", `Newauth realm="apps", type=1, title="Login to \"apps\""`,
		Challenge{Scheme: "Newauth", Realm: "apps", Params: []AuthParam{{"type", "1"}, {"title", `"Login to \"apps\""`}}}},
	{"token68", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
		Challenge{Scheme: "Basic", Params: []AuthParam{{"", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="}}}},
	{"scheme only", "Basic", Challenge{Scheme: "Basic"}},
}

var credentialsTests = []struct {
	name string
	in   string
	want Credentials
}{
	// RFC 3261 §20.7 Authorization example.
	{"rfc3261 20.7", `Digest username="Alice", realm="atlanta.com", nonce="84a4cc6f3082121f32b42a2187831a9e", ` +
		`response="7587245234b3434cc3412213e5f113a5432"`,
		Credentials{Scheme: "Digest", Username: "Alice", Realm: "atlanta.com", Nonce: "84a4cc6f3082121f32b42a2187831a9e",
			Response: "7587245234b3434cc3412213e5f113a5432"}},
	// RFC 3261 §20.27 Proxy-Authorization example.
	{"rfc3261 20.27", `Digest username="Alice", realm="atlanta.com", nonce="c60f3082ee1212b402a21831ae", ` +
		`response="245f23415f11432b3434341c022"`,
		Credentials{Scheme: "Digest", Username: "Alice", Realm: "atlanta.com", Nonce: "c60f3082ee1212b402a21831ae",
			Response: "245f23415f11432b3434341c022"}},
	// RFC 7616 §3.9.1 SHA-256 Authorization, folded as printed there.
	{"rfc7616 3.9.1 folded", "Digest username=\"Mufasa\",\r\n       realm=\"http-auth@example.org\",\r\n" +
		"       uri=\"/dir/index.html\",\r\n       algorithm=SHA-256,\r\n       nonce=\"" + rfc7616Nonce + "\",\r\n" +
		"       nc=00000001,\r\n       cnonce=\"" + rfc7616CNonce + "\",\r\n       qop=auth,\r\n" +
		"       response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\",\r\n" +
		"       opaque=\"" + rfc7616Opaque + "\"",
		Credentials{Scheme: "Digest", Username: "Mufasa", Realm: "http-auth@example.org", URI: "/dir/index.html",
			Algorithm: "SHA-256", Nonce: rfc7616Nonce, NC: "00000001", CNonce: rfc7616CNonce, QOP: "auth",
			Response: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", Opaque: rfc7616Opaque}},
	// RFC 8760 SIP credentials with SHA-512-256 and RFC 7616 §3.4.4 userhash.
	{"rfc8760 userhash", `Digest username="488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec", ` +
		`realm="biloxi.com", uri="sip:bob@biloxi.com", algorithm=SHA-512-256, nonce="n", nc=0000000A, ` +
		`cnonce="c", qop=auth, response="r", userhash=TRUE`,
		Credentials{Scheme: "Digest", Username: "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec",
			Realm: "biloxi.com", URI: "sip:bob@biloxi.com", Algorithm: "SHA-512-256", Nonce: "n", NC: "0000000A",
			CNonce: "c", QOP: "auth", Response: "r", Userhash: true}},
	// RFC 7616 §3.4.4 username* and unknown params stay in Params.
	{"username star", `Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm="r", x="1"`,
		Credentials{Scheme: "Digest", Realm: "r", Params: []AuthParam{{"username*", "UTF-8''J%C3%A4s%C3%B8n%20Doe"}, {"x", `"1"`}}}},
	// RFC 3261 §25.1 quoted-pair in username.
	{"escaped username", `Digest username="a\"b", realm="r"`,
		Credentials{Scheme: "Digest", Username: `a"b`, Realm: "r"}},
	// RFC 4475 regaut01: an unknown scheme must not make the message unparsable.
	{"rfc4475 regaut01", "NoOneKnowsThisScheme opaque-data=here",
		Credentials{Scheme: "NoOneKnowsThisScheme", Params: []AuthParam{{"opaque-data", "here"}}}},
	{"bearer token68", "Bearer mF_9.B5f-4.1JqM",
		Credentials{Scheme: "Bearer", Params: []AuthParam{{"", "mF_9.B5f-4.1JqM"}}}},
	{"unknown scheme not params", "Foo a=b c d, e",
		Credentials{Scheme: "Foo", Params: []AuthParam{{"", "a=b c d, e"}}}},
}

// authErrorTests hold Digest values outside the RFC 3261 §25.1 grammar or
// breaking RFC 7235 §2.1 (no repeated names). The same input is fed to
// both parsers; nc is a credentials-only check.
var authErrorTests = []struct {
	in, problem string
}{
	{"", "missing auth scheme"},
	{"  ", "missing auth scheme"},
	{`=Digest realm="a"`, "missing auth scheme"},
	{`Digest,realm="a"`, "invalid auth scheme"},
	{`realm="a"`, "invalid auth scheme"},
	{`Digest realm`, "parameter realm has no value"},
	{`Digest realm=`, "parameter realm has no value"},
	{`Digest realm=,nonce="b"`, "parameter realm has no value"},
	{`Digest realm="a`, "unterminated quoted string"},
	{`Digest realm="a\`, "unterminated quoted string"},
	{`Digest realm="a" nonce="b"`, "missing comma between parameters"},
	{`Digest realm=sip:a`, "missing comma between parameters"},
	{`Digest realm="a",`, "trailing comma"},
	{`Digest realm="a", ,nonce="b"`, "empty parameter name"},
	{`Digest =x`, "empty parameter name"},
	{`Digest realm="a", REALM="b"`, "duplicate realm parameter"},
	{`Digest opaque="", opaque=""`, "duplicate opaque parameter"},
	{`Digest x-a=1, X-A=2`, "duplicate x-a parameter"},
}

func TestParseChallenge(t *testing.T) {
	for _, tt := range challengeTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseChallenge(tt.in)
			if err != nil {
				t.Fatalf("ParseChallenge(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseChallenge(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseCredentials(t *testing.T) {
	for _, tt := range credentialsTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCredentials(tt.in)
			if err != nil {
				t.Fatalf("ParseCredentials(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCredentials(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseAuthErrors(t *testing.T) {
	check := func(fn, hdr, in, problem string, err error) {
		t.Helper()
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrBadHeader) {
			t.Errorf("%s(%q) error = %v, want a bad-header *ParseError", fn, in, err)
			return
		}
		if pe.Header != hdr || pe.Problem != problem {
			t.Errorf("%s(%q) = %q, want %s header problem %q", fn, in, pe.Reason(), hdr, problem)
		}
	}
	for _, tt := range authErrorTests {
		_, err := ParseChallenge(tt.in)
		check("ParseChallenge", "WWW-Authenticate", tt.in, tt.problem, err)
		_, err = ParseCredentials(tt.in)
		check("ParseCredentials", "Authorization", tt.in, tt.problem, err)
	}
	// RFC 3261 §25.1 nc-value = 8LHEX.
	for _, in := range []string{`Digest nc=1`, `Digest nc=000000001`, `Digest nc="0000000g"`} {
		_, err := ParseCredentials(in)
		check("ParseCredentials", "Authorization", in, "nc is not 8 hex digits", err)
	}
	// A non-Digest scheme with broken data is kept raw, not rejected
	// (RFC 4475 regaut01 spirit), but a broken scheme name is an error.
	if c, err := ParseChallenge(`Other realm="a`); err != nil || c.Params[0].Value != `realm="a` {
		t.Errorf(`ParseChallenge("Other realm=\"a") = %+v, %v; want raw data`, c, err)
	}
}

// TestHasQOP checks qop-options matching (RFC 3261 §25.1: a quoted,
// comma-separated list; RFC 7616 §3.3 allows LWS after the commas).
func TestHasQOP(t *testing.T) {
	tests := []struct {
		qop, name string
		want      bool
	}{
		{"auth", "auth", true},
		{"auth,auth-int", "auth-int", true},
		{"auth, auth-int", "auth-int", true},
		{" auth ,\r\n auth-int ", "auth", true},
		{"AUTH", "auth", true},
		{"auth-int", "auth", false},
		{"auth,auth-int", "auth-conf", false},
		{"", "auth", false},
		{"auth,", "", false},
	}
	for _, tt := range tests {
		if got := (Challenge{QOP: tt.qop}).HasQOP(tt.name); got != tt.want {
			t.Errorf("QOP %q HasQOP(%q) = %v, want %v", tt.qop, tt.name, got, tt.want)
		}
	}
	c, err := ParseChallenge(`Digest realm="r", qop="auth, auth-int"`)
	if err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(100, func() { c.HasQOP("auth-int") }); allocs != 0 {
		t.Errorf("HasQOP allocated %v times", allocs)
	}
}

// TestAuthString checks the wire forms, quoting as RFC 7616 §3.3 and
// §3.4 prescribe (realm, nonce, opaque, domain, qop-options quoted;
// algorithm, stale, qop-value, nc bare).
func TestAuthString(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"challenge built", Challenge{Realm: "atlanta.com", Nonce: "y", Algorithm: "SHA-256", QOP: "auth"}.String(),
			`Digest realm="atlanta.com", nonce="y", algorithm=SHA-256, qop="auth"`},
		{"challenge all fields", Challenge{Scheme: "Digest", Realm: "r", Domain: "sip:a sip:b", Nonce: "n", Opaque: "o",
			Stale: true, Algorithm: "MD5", QOP: "auth,auth-int", Params: []AuthParam{{"charset", "UTF-8"}}}.String(),
			`Digest realm="r", domain="sip:a sip:b", nonce="n", opaque="o", stale=true, algorithm=MD5, qop="auth,auth-int", charset=UTF-8`},
		{"challenge escapes", Challenge{Realm: `a"b\c`, Algorithm: "odd value"}.String(),
			`Digest realm="a\"b\\c", algorithm="odd value"`},
		{"challenge scheme only", Challenge{Scheme: "Basic"}.String(), "Basic"},
		{"challenge token68", Challenge{Scheme: "Basic", Params: []AuthParam{{"", "QWxh=="}}}.String(), "Basic QWxh=="},
		{"credentials built", Credentials{Username: "bob", Realm: "biloxi.com", Nonce: "n", URI: "sip:bob@biloxi.com",
			Response: "r", Algorithm: "SHA-256", CNonce: "c", Opaque: "o", QOP: "auth", NC: "00000001"}.String(),
			`Digest username="bob", realm="biloxi.com", nonce="n", uri="sip:bob@biloxi.com", response="r", ` +
				`algorithm=SHA-256, cnonce="c", opaque="o", qop=auth, nc=00000001`},
		{"credentials userhash", Credentials{Username: "h", Userhash: true, Params: []AuthParam{{"x", `"1"`}}}.String(),
			`Digest username="h", userhash=true, x="1"`},
		{"credentials regaut01", Credentials{Scheme: "NoOneKnowsThisScheme", Params: []AuthParam{{"opaque-data", "here"}}}.String(),
			"NoOneKnowsThisScheme opaque-data=here"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, tt.got, tt.want)
		}
	}
}

// TestParseAuthAllocs checks that a challenge or credentials with only
// known parameters allocates nothing, and that an unknown one costs only
// the Params slice.
func TestParseAuthAllocs(t *testing.T) {
	ch := challengeTests[2].in
	cr := credentialsTests[2].in
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseChallenge(ch) }); n != 0 {
		t.Errorf("ParseChallenge allocated %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseCredentials(cr) }); n != 0 {
		t.Errorf("ParseCredentials allocated %v times, want 0", n)
	}
	ext := `Digest realm="r", nonce="n", charset=UTF-8`
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseChallenge(ext) }); n != 1 {
		t.Errorf("ParseChallenge with an extension param allocated %v times, want 1", n)
	}
	c, _ := ParseChallenge(ch)
	if !pointsInto(ch, c.Realm) || !pointsInto(ch, c.Nonce) {
		t.Error("challenge fields do not alias the input")
	}
}

// FuzzParseAuth checks that no input panics the parsers and that a parsed
// value re-parses from its String form to the same fields.
func FuzzParseAuth(f *testing.F) {
	for _, tt := range challengeTests {
		f.Add(tt.in)
	}
	for _, tt := range credentialsTests {
		f.Add(tt.in)
	}
	for _, tt := range authErrorTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if c, err := ParseChallenge(in); err == nil {
			s := c.String()
			c2, err := ParseChallenge(s)
			if err != nil {
				t.Fatalf("ParseChallenge(%q) ok, but its String %q fails: %v", in, s, err)
			}
			if !reflect.DeepEqual(c, c2) {
				t.Fatalf("challenge round trip of %q via %q:\n got %+v\nwant %+v", in, s, c2, c)
			}
		}
		if c, err := ParseCredentials(in); err == nil {
			s := c.String()
			c2, err := ParseCredentials(s)
			if err != nil {
				t.Fatalf("ParseCredentials(%q) ok, but its String %q fails: %v", in, s, err)
			}
			if !reflect.DeepEqual(c, c2) {
				t.Fatalf("credentials round trip of %q via %q:\n got %+v\nwant %+v", in, s, c2, c)
			}
		}
	})
}
