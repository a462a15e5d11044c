package sip

import (
	"errors"
	"strings"
	"testing"
)

// validURIs are URIs that must parse, with the fields they must give.
var validURIs = []struct {
	in   string
	want URI
}{
	// RFC 3261 §19.1.3 examples.
	{"sip:alice@atlanta.com", URI{Scheme: "sip", User: "alice", Host: "atlanta.com"}},
	{"sip:alice:secretword@atlanta.com;transport=tcp", URI{Scheme: "sip", User: "alice",
		Password: "secretword", HasPassword: true, Host: "atlanta.com", Params: ";transport=tcp"}},
	{"sips:alice@atlanta.com?subject=project%20x&priority=urgent", URI{Scheme: "sips",
		User: "alice", Host: "atlanta.com", Headers: "subject=project%20x&priority=urgent"}},
	{"sip:+1-212-555-1212:1234@gateway.com;user=phone", URI{Scheme: "sip",
		User: "+1-212-555-1212", Password: "1234", HasPassword: true, Host: "gateway.com",
		Params: ";user=phone"}},
	{"sips:1212@gateway.com", URI{Scheme: "sips", User: "1212", Host: "gateway.com"}},
	{"sip:alice@192.0.2.4", URI{Scheme: "sip", User: "alice", Host: "192.0.2.4"}},
	{"sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com", URI{Scheme: "sip",
		Host: "atlanta.com", Params: ";method=REGISTER", Headers: "to=alice%40atlanta.com"}},
	{"sip:alice;day=tuesday@atlanta.com", URI{Scheme: "sip", User: "alice;day=tuesday",
		Host: "atlanta.com"}},
	// RFC 3261 §19.1.4: scheme and host keep their case.
	{"SIP:ALICE@AtLanTa.CoM;Transport=udp", URI{Scheme: "SIP", User: "ALICE",
		Host: "AtLanTa.CoM", Params: ";Transport=udp"}},
	// RFC 3261 §25.1: port, trailing dot of a hostname, empty password,
	// empty header value, several parameters.
	{"sip:user@host.example.com.:65535", URI{Scheme: "sip", User: "user",
		Host: "host.example.com.", Port: 65535}},
	{"sip:user:@h", URI{Scheme: "sip", User: "user", HasPassword: true, Host: "h"}},
	{"sip:h?subject=", URI{Scheme: "sip", Host: "h", Headers: "subject="}},
	{"sip:proxy.example.com:5060;lr;transport=tcp;maddr=[2001:db8::1]", URI{Scheme: "sip",
		Host: "proxy.example.com", Port: 5060, Params: ";lr;transport=tcp;maddr=[2001:db8::1]"}},

	// RFC 4475 §3.1.1.2 (intmeth): '?', ';' and '/' in the user part.
	{"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
		URI{Scheme: "sip", User: "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*",
			Password: "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)", HasPassword: true,
			Host: "example.com"}},
	// RFC 4475 §3.1.1.3 (esc01).
	{"sip:sips%3Auser%40example.com@example.net", URI{Scheme: "sip",
		User: "sips%3Auser%40example.com", Host: "example.net"}},
	{"sip:%75se%72@example.com", URI{Scheme: "sip", User: "%75se%72", Host: "example.com"}},
	{"sip:I%20have%20spaces@example.net", URI{Scheme: "sip", User: "I%20have%20spaces",
		Host: "example.net"}},
	{"sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31", URI{Scheme: "sip",
		User: "cal%6Cer", Host: "host5.example.net", Params: ";%6C%72;n%61me=v%61lue%25%34%31"}},
	// RFC 4475 §3.1.1.4 (escnull).
	{"sip:null-%00-null@example.com", URI{Scheme: "sip", User: "null-%00-null",
		Host: "example.com"}},
	{"sip:%00@host5.example.com", URI{Scheme: "sip", User: "%00", Host: "host5.example.com"}},
	{"sip:%00%00@host5.example.com", URI{Scheme: "sip", User: "%00%00",
		Host: "host5.example.com"}},
	// RFC 4475 §3.1.1.9 (semiuri).
	{"sip:user;par=u%40example.net@example.com", URI{Scheme: "sip",
		User: "user;par=u%40example.net", Host: "example.com"}},
	// RFC 4475 §3.3.14 (regescrt).
	{"sip:user@example.com?Route=%3Csip:sip.example.com%3E", URI{Scheme: "sip",
		User: "user", Host: "example.com", Headers: "Route=%3Csip:sip.example.com%3E"}},
	// RFC 4475 §3.3.2 (unkscm), §3.3.3 (novelsc), §3.3.4 (unksm2):
	// other schemes are kept opaque.
	{"nobodyKnowsThisScheme:totallyopaquecontent", URI{Scheme: "nobodyKnowsThisScheme",
		Opaque: "totallyopaquecontent"}},
	{"soap.beep://192.0.2.103:3002", URI{Scheme: "soap.beep", Opaque: "//192.0.2.103:3002"}},
	{"isbn:2983792873", URI{Scheme: "isbn", Opaque: "2983792873"}},
	{"http://www.example.com", URI{Scheme: "http", Opaque: "//www.example.com"}},
	// RFC 3261 §19.1 absoluteURI (§25.1).
	{"http://host/x?y=1#f", URI{Scheme: "http", Opaque: "//host/x?y=1#f"}},
	{"mailto:x@y", URI{Scheme: "mailto", Opaque: "x@y"}},
	{"name:John_Smith", URI{Scheme: "name", Opaque: "John_Smith"}},

	// RFC 5118 §4.1.
	{"sip:[2001:db8::10]", URI{Scheme: "sip", Host: "[2001:db8::10]"}},
	// RFC 5118 §4.3: everything inside the brackets is the address.
	{"sip:[2001:db8::10:5070]", URI{Scheme: "sip", Host: "[2001:db8::10:5070]"}},
	// RFC 5118 §4.4.
	{"sip:[2001:db8::10]:5070", URI{Scheme: "sip", Host: "[2001:db8::10]", Port: 5070}},
	{"sip:user@[2001:db8::10]:5070", URI{Scheme: "sip", User: "user",
		Host: "[2001:db8::10]", Port: 5070}},
	// RFC 5118 §4.5 address, as a URI host.
	{"sip:[2001:db8::9:1]", URI{Scheme: "sip", Host: "[2001:db8::9:1]"}},
	// RFC 5118 §4.7.
	{"sip:user@[2001:db8::10];transport=tcp", URI{Scheme: "sip", User: "user",
		Host: "[2001:db8::10]", Params: ";transport=tcp"}},
	// RFC 5118 §4.9: IPv4-mapped.
	{"sip:[::ffff:192.0.2.10]", URI{Scheme: "sip", Host: "[::ffff:192.0.2.10]"}},
	{"sip:ted@[::ffff:192.0.2.2]", URI{Scheme: "sip", User: "ted", Host: "[::ffff:192.0.2.2]"}},
	// RFC 5118 §4.10: both the correct and the RFC 3261 ABNF-bug form.
	{"sip:user@[2001:db8::192.0.2.1]", URI{Scheme: "sip", User: "user",
		Host: "[2001:db8::192.0.2.1]"}},
	{"sip:user@[2001:db8:::192.0.2.1]", URI{Scheme: "sip", User: "user",
		Host: "[2001:db8:::192.0.2.1]"}},

	// RFC 3966 §6 examples.
	{"tel:+1-201-555-0123", URI{Scheme: "tel", User: "+1-201-555-0123"}},
	{"tel:7042;phone-context=example.com", URI{Scheme: "tel", User: "7042",
		Params: ";phone-context=example.com"}},
	{"tel:863-1234;phone-context=+1-914-555", URI{Scheme: "tel", User: "863-1234",
		Params: ";phone-context=+1-914-555"}},
	// RFC 3966 §3: escaped '#', ext parameter, upper-case scheme.
	{"TEL:*67%23;ext=22", URI{Scheme: "TEL", User: "*67%23", Params: ";ext=22"}},
}

// invalidURIs must be refused with an error naming the problem.
var invalidURIs = []struct {
	in, problem string
}{
	// RFC 3261 §19.1.1: a scheme is mandatory.
	{"", "missing scheme"},
	{"atlanta.com", "missing scheme"},
	{"alice@atlanta.com", "missing scheme"},
	{":alice@atlanta.com", "missing scheme"},
	{"1sip:alice@atlanta.com", "missing scheme"},
	// RFC 4475 §3.1.2.7 (ltgtruri): the caller strips <>.
	{"<sip:user@example.com>", "missing scheme"},
	// RFC 4475 §3.1.2.8 (lwsruri) and §3.1.2.14 (badaspec): no LWS.
	{"sip:user@example.com; lr", "whitespace"},
	{"sip:user@example.com ;lr", "whitespace"},
	{"sip:user @example.com", "whitespace"},
	{"sip:user@example.com\r\n", "whitespace"},
	{"sip: user@example.com", "whitespace"},
	{"sip:a@b?x=\x00", "whitespace"},
	{"http://host/a b", "whitespace"},
	// RFC 3261 §25.1: user, password.
	{"sip:@example.com", "empty user part"},
	{"sip:%G1@example.com", "bad escape in user part"},
	{"sip:us%4@example.com", "bad escape in user part"},
	{"sip:a\"b@example.com", "bad character in user part"},
	{"sip:user:pa:ss@example.com", "bad character in password"},
	{"sip:user:pa;ss@example.com", "bad character in password"},
	{"sip:user:p%zzw@example.com", "bad escape in password"},
	// RFC 3261 §25.1: host.
	{"sip:", "missing host"},
	{"sip:user@", "missing host"},
	{"sip:user@;lr", "missing host"},
	{"sip:ho_st.example.com", "bad character after host"},
	{"sip:-host.example.com", "bad host"},
	{"sip:host-.example.com", "bad host"},
	{"sip:a..b", "bad host"},
	{"sip:.", "bad host"},
	{"sip:example.com..", "bad host"},
	{"sip:256.1.1.1", "bad host"},
	{"sip:1.2.3", "bad host"},
	{"sip:1.2.3.4.5", "bad host"},
	{"sip:1.2.3.4.", "bad host"},
	{"sip:1234.1.1.1", "bad host"},
	{"sip:123", "bad host"},
	{"sip:user@example.com@other", "bad character after host"},
	// RFC 3261 §25.1: port.
	{"sip:example.com:", "bad port"},
	{"sip:example.com:0", "bad port"},
	{"sip:example.com:65536", "bad port"},
	{"sip:example.com:99999999999999999999999", "bad port"},
	{"sip:example.com:50x", "bad port"},
	// RFC 5118 §4.2: IPv6 addresses must be bracketed.
	{"sip:user@2001:db8::10", "bad host"},
	{"sip:2001:db8::10", "bad host"},
	{"sip:[2001:db8::10", "unterminated IPv6 reference"},
	{"sip:[2001:db8::10:5070", "unterminated IPv6 reference"},
	{"sip:[]", "bad IPv6 reference"},
	{"sip:[192.0.2.1]", "bad IPv6 reference"},
	{"sip:[2001:db8::g]", "bad IPv6 reference"},
	{"sip:[fe80::1%25eth0]", "bad IPv6 reference"},
	{"sip:[2001:db8::10]x", "bad character after host"},
	{"sip:[2001:db8::10]:", "bad port"},
	// RFC 5118 §4.10: only the ":::" before an IPv4 tail is tolerated.
	{"sip:[2001:db8:::10]", "bad IPv6 reference"},
	{"sip:[::::192.0.2.1]", "bad IPv6 reference"},
	{"sip:[1:2:3:4:5:6:::192.0.2.1]", "bad IPv6 reference"},
	{"sip:[2001::1:::192.0.2.1]", "bad IPv6 reference"},
	// RFC 3261 §25.1: uri-parameters.
	{"sip:example.com;", "empty parameter name"},
	{"sip:example.com;;lr", "empty parameter name"},
	{"sip:example.com;=x", "empty parameter name"},
	{"sip:example.com;a=", "empty parameter value"},
	{"sip:example.com;a=b=c", "bad character in parameters"},
	{"sip:example.com;a=%4", "bad escape in parameters"},
	{"sip:example.com;a\"=b", "bad character in parameters"},
	// RFC 3261 §25.1: headers.
	{"sip:example.com?", "empty header name"},
	{"sip:example.com?a=b&", "empty header name"},
	{"sip:example.com?subject", "missing '=' in header"},
	{"sip:example.com?a&b=c", "missing '=' in header"},
	{"sip:example.com?a=b=c", "bad character in headers"},
	{"sip:example.com?a=%zz", "bad escape in headers"},
	{"sip:example.com?a=<b>", "bad character in headers"},
	// RFC 3966 §3.
	{"tel:", "empty telephone number"},
	{"tel:;phone-context=x", "empty telephone number"},
	{"tel:+1 201", "whitespace"},
	{"tel:+1/201", "bad character in telephone number"},
	{"tel:+1%2", "bad escape in telephone number"},
	{"tel:+1201;ext=", "empty parameter value"},
	{"tel:+1201;ext=1?x=y", "bad character in parameters"},
	// RFC 3261 §25.1 absoluteURI.
	{"mailto:", "empty URI body"},
	{"http://host/<x>", "bad character in URI"},
	{"x:\"y\"", "bad character in URI"},
}

func TestParseURI(t *testing.T) {
	for _, tc := range validURIs {
		u, err := ParseURI(tc.in)
		if err != nil {
			t.Errorf("ParseURI(%q): %v", tc.in, err)
			continue
		}
		if u != tc.want {
			t.Errorf("ParseURI(%q)\n got %#v\nwant %#v", tc.in, u, tc.want)
		}
	}
}

func TestParseURIInvalid(t *testing.T) {
	for _, tc := range invalidURIs {
		u, err := ParseURI(tc.in)
		if err == nil {
			t.Errorf("ParseURI(%q) = %#v, want error %q", tc.in, u, tc.problem)
			continue
		}
		if u != (URI{}) {
			t.Errorf("ParseURI(%q) returned %#v with its error", tc.in, u)
		}
		if !errors.Is(err, ErrBadURI) {
			t.Errorf("ParseURI(%q) error %v is not ErrBadURI", tc.in, err)
		}
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(pe.Problem, tc.problem) {
			t.Errorf("ParseURI(%q) error %q, want problem %q", tc.in, err, tc.problem)
		}
	}
}

// TestURIRoundTrip checks that AppendTo gives back the input and that it
// re-parses to the same fields (RFC 3261 §19.1: the wire form is kept).
func TestURIRoundTrip(t *testing.T) {
	for _, tc := range validURIs {
		u, err := ParseURI(tc.in)
		if err != nil {
			continue // reported by TestParseURI
		}
		out := string(u.AppendTo([]byte("prefix ")))
		if out != "prefix "+tc.in {
			t.Errorf("AppendTo(%q) = %q", tc.in, out)
		}
		if s := u.String(); s != tc.in {
			t.Errorf("String(%q) = %q", tc.in, s)
		}
		v, err := ParseURI(u.String())
		if err != nil || v != u || !v.Equal(u) || !u.Equal(v) {
			t.Errorf("re-parse of %q: %#v, %v", tc.in, v, err)
		}
	}
	// A port with leading zeros is the one part not reproduced byte for
	// byte; the value is.
	u, err := ParseURI("sip:h:05060")
	if err != nil || u.Port != 5060 || u.String() != "sip:h:5060" {
		t.Errorf("leading-zero port: %#v, %v, %q", u, err, u.String())
	}
}

func TestURIAccessors(t *testing.T) {
	tests := []struct {
		in                string
		sip, secure       bool
		transport, hostpt string
	}{
		// RFC 3261 §19.1.1, §19.1.2: transport param and hostport.
		{"sip:alice@atlanta.com", true, false, "", "atlanta.com"},
		{"SIPS:alice@atlanta.com:5061", true, true, "", "atlanta.com:5061"},
		{"sip:h;Transport=TCP", true, false, "tcp", "h"},
		{"sip:h;%74ransport=%55DP", true, false, "udp", "h"},
		{"sip:[2001:db8::1]:5070;lr;transport=sctp", true, false, "sctp", "[2001:db8::1]:5070"},
		// RFC 3966: tel is not SIP.
		{"tel:+1-201-555-0123", false, false, "", ""},
		{"http://x", false, false, "", ""},
	}
	for _, tc := range tests {
		u, err := ParseURI(tc.in)
		if err != nil {
			t.Fatalf("ParseURI(%q): %v", tc.in, err)
		}
		if u.IsSIP() != tc.sip || u.IsSecure() != tc.secure {
			t.Errorf("%q: IsSIP %v IsSecure %v", tc.in, u.IsSIP(), u.IsSecure())
		}
		if got := u.Transport(); got != tc.transport {
			t.Errorf("%q: Transport() = %q, want %q", tc.in, got, tc.transport)
		}
		if got := u.HostPort(); got != tc.hostpt {
			t.Errorf("%q: HostPort() = %q, want %q", tc.in, got, tc.hostpt)
		}
	}
}

func TestURIEqual(t *testing.T) {
	tests := []struct {
		a, b  string
		equal bool
	}{
		// RFC 3261 §19.1.4, the equivalent pairs.
		{"sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp", true},
		{"sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5", true},
		{"sip:carol@chicago.com", "sip:carol@chicago.com;security=on", true},
		{"sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on", true},
		{"sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
			"sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com", true},
		{"sip:alice@atlanta.com?subject=project%20x&priority=urgent",
			"sip:alice@atlanta.com?priority=urgent&subject=project%20x", true},
		// RFC 3261 §19.1.4, the pairs that are not equivalent.
		{"SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP", false},
		{"sip:bob@biloxi.com", "sip:bob@biloxi.com:5060", false},
		{"sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp", false},
		{"sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp", false},
		{"sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting", false},
		{"sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4", false},
		{"sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off", false},

		// RFC 3261 §19.1.4: sip and sips never match; schemes fold.
		{"sip:alice@atlanta.com", "sips:alice@atlanta.com", false},
		{"SIPS:alice@atlanta.com", "sips:alice@atlanta.com", true},
		// Userinfo is case-sensitive, password included.
		{"sip:alice@atlanta.com", "sip:Alice@atlanta.com", false},
		{"sip:alice:pw@atlanta.com", "sip:alice:PW@atlanta.com", false},
		{"sip:alice:p%77@atlanta.com", "sip:alice:pw@atlanta.com", true},
		{"sip:alice:@atlanta.com", "sip:alice@atlanta.com", false},
		{"sip:alice@atlanta.com", "sip:atlanta.com", false},
		// Reserved characters are not equal to their escapes.
		{"sip:a%3Bb@atlanta.com", "sip:a;b@atlanta.com", false},
		{"sip:a%3bb@atlanta.com", "sip:a%3Bb@atlanta.com", true},
		// user, ttl, method, maddr, transport must be on both sides.
		{"sip:alice@atlanta.com;user=phone", "sip:alice@atlanta.com", false},
		{"sip:alice@atlanta.com;ttl=1", "sip:alice@atlanta.com", false},
		{"sip:alice@atlanta.com", "sip:alice@atlanta.com;method=INVITE", false},
		{"sip:alice@atlanta.com;maddr=239.255.255.1", "sip:alice@atlanta.com", false},
		{"sip:alice@atlanta.com;maddr=239.255.255.1", "sip:alice@atlanta.com;MADDR=239.255.255.1", true},
		{"sip:alice@atlanta.com;method=invite", "sip:alice@atlanta.com;method=INVITE", true},
		{"sip:alice@atlanta.com;lr", "sip:alice@atlanta.com;lr;foo=bar", true},
		{"sip:alice@atlanta.com;lr", "sip:alice@atlanta.com;lr=on", false},
		{"sip:alice@atlanta.com;%6C%72;n%61me=v%61lue", "sip:alice@atlanta.com;lr;NAME=Value", true},
		// Headers: every one on both sides, value case-sensitive.
		{"sip:a@b?subject=x", "sip:a@b?Subject=x", true},
		{"sip:a@b?subject=x", "sip:a@b?subject=X", false},
		{"sip:a@b?subject=x&priority=urgent", "sip:a@b?subject=x", false},
		{"sip:a@b?subject=%78", "sip:a@b?subject=x", true},
		// Ports.
		{"sip:a@b:5060", "sip:a@b:5060", true},
		{"sip:a@b:5060", "sip:a@b:5061", false},
		// RFC 5954 §4 / RFC 5118: IPv6 hosts compare as addresses.
		{"sip:bob@[::ffff:192.0.2.128]", "sip:bob@[::ffff:c000:280]", true},
		{"sip:[2001:db8::9:1]", "sip:[2001:DB8:0::9:01]", true},
		{"sip:[2001:db8::192.0.2.1]", "sip:[2001:db8:::192.0.2.1]", true},
		{"sip:[2001:db8::10]", "sip:[2001:db8::11]", false},
		{"sip:[::ffff:192.0.2.10]", "sip:192.0.2.10", false},
		// RFC 3966 §4: tel numbers ignore visual separators; all
		// parameters must match.
		{"tel:+1-201-555-0123", "tel:+1(201)555.0123", true},
		{"tel:+12015550123", "tel:+12015550124", false},
		{"tel:+1201", "tel:+12015", false},
		{"tel:7042;phone-context=example.com", "tel:7042;PHONE-CONTEXT=Example.COM", true},
		{"tel:7042;phone-context=example.com", "tel:7042", false},
		{"tel:7042;isub=1;ext=2", "tel:7042;ext=2;isub=1", true},
		{"tel:*67%23", "TEL:*67%23", true},
		{"tel:+1201", "sip:+1201@h", false},
		// Other schemes: scheme folds, the rest is byte-wise.
		{"HTTP://www.example.com", "http://www.example.com", true},
		{"http://www.example.com", "http://WWW.example.com", false},
	}
	for _, tc := range tests {
		a, err := ParseURI(tc.a)
		if err != nil {
			t.Fatalf("ParseURI(%q): %v", tc.a, err)
		}
		b, err := ParseURI(tc.b)
		if err != nil {
			t.Fatalf("ParseURI(%q): %v", tc.b, err)
		}
		if got := a.Equal(b); got != tc.equal {
			t.Errorf("%q.Equal(%q) = %v, want %v", tc.a, tc.b, got, tc.equal)
		}
		if got := b.Equal(a); got != tc.equal {
			t.Errorf("%q.Equal(%q) = %v, want %v (not symmetric)", tc.b, tc.a, got, tc.equal)
		}
		if !a.Equal(a) || !b.Equal(b) {
			t.Errorf("Equal not reflexive for %q / %q", tc.a, tc.b)
		}
	}
}

// TestURIEqualAllocs checks that comparison decodes escapes on the fly.
func TestURIEqualAllocs(t *testing.T) {
	a, _ := ParseURI("sip:%61lice@[2001:db8::1];transport=TCP;x=1?subject=project%20x&priority=urgent")
	b, _ := ParseURI("sip:alice@[2001:DB8::1];x=1;Transport=tcp?priority=urgent&subject=project%20x")
	if !a.Equal(b) {
		t.Fatal("not equal")
	}
	if n := testing.AllocsPerRun(100, func() { a.Equal(b) }); n != 0 {
		t.Errorf("Equal allocates %v times", n)
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct{ in, want string }{
		// RFC 3261 §25.1 escaped = "%" HEXDIG HEXDIG.
		{"alice", "alice"},
		{"", ""},
		{"%61lice", "alice"},
		{"I%20have%20spaces", "I have spaces"},
		{"sips%3Auser%40example.com", "sips:user@example.com"},
		{"%75se%72", "user"},
		{"v%61lue%25%34%31", "value%41"},
		// RFC 4475 §3.1.1.4: an escaped NUL is decoded, not dropped.
		{"null-%00-null", "null-\x00-null"},
		// RFC 4475 §3.1.1.5: a '%' that is not an escape stays.
		{"%", "%"},
		{"%4", "%4"},
		{"%G1x", "%G1x"},
		{"100%%zz%41", "100%%zzA"},
		{"%e2%82%ac", "\u20ac"},
	}
	for _, tc := range tests {
		if got := Unescape(tc.in); got != tc.want {
			t.Errorf("Unescape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	s := "no-escapes-here"
	if n := testing.AllocsPerRun(100, func() { s = Unescape(s) }); n != 0 {
		t.Errorf("Unescape without '%%' allocates %v times", n)
	}
}

func TestParseURIAllocs(t *testing.T) {
	for _, in := range []string{
		"sip:alice:secret@atlanta.com:5060;transport=tcp;lr?subject=project%20x&priority=urgent",
		"sips:[2001:db8::10]:5061;maddr=[2001:db8::1]",
		"sip:[::ffff:192.0.2.10]",
		"tel:+1-201-555-0123;phone-context=example.com",
		"http://www.example.com/x",
	} {
		var err error
		n := testing.AllocsPerRun(100, func() { _, err = ParseURI(in) })
		if err != nil {
			t.Fatalf("ParseURI(%q): %v", in, err)
		}
		if n != 0 {
			t.Errorf("ParseURI(%q) allocates %v times", in, n)
		}
	}
}

func BenchmarkParseURI(b *testing.B) {
	const in = "sip:alice@atlanta.example.com:5060;transport=tcp;lr"
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := ParseURI(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkURIEqual(b *testing.B) {
	x, _ := ParseURI("sip:%61lice@atlanta.com;transport=TCP;maddr=192.0.2.1;lr")
	y, _ := ParseURI("sip:alice@AtLanTa.CoM;lr;maddr=192.0.2.1;Transport=tcp")
	b.ReportAllocs()
	for b.Loop() {
		if !x.Equal(y) {
			b.Fatal("not equal")
		}
	}
}

func FuzzParseURI(f *testing.F) {
	for _, tc := range validURIs {
		f.Add(tc.in)
	}
	for _, tc := range invalidURIs {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// The fast path must agree with the full parser on every
		// prefix it accepts.
		var fast URI
		if end, ok := fast.parseSIPPrefix(s); ok {
			var full URI
			if err := full.parseFull(s[:end]); err != nil {
				t.Fatalf("fast path accepted %q, full parser: %v", s[:end], err)
			}
			if full != fast {
				t.Fatalf("%q: fast path %#v, full parser %#v", s[:end], fast, full)
			}
		} else if fast != (URI{}) {
			t.Fatalf("fast path left fields set on %q", s)
		}
		u, err := ParseURI(s)
		if err != nil {
			if u != (URI{}) {
				t.Fatalf("ParseURI(%q) returned fields with error %v", s, err)
			}
			return
		}
		out := u.String()
		v, err := ParseURI(out)
		if err != nil {
			t.Fatalf("ParseURI(%q) ok, but its wire form %q fails: %v", s, out, err)
		}
		if v != u {
			t.Fatalf("ParseURI(%q) = %#v, re-parsed %q = %#v", s, u, out, v)
		}
		if !u.Equal(v) || !v.Equal(u) {
			t.Fatalf("%q not Equal to its re-parse %q", s, out)
		}
		// Without a leading-zero port the wire form is the input.
		if out != s && !strings.Contains(s, ":0") {
			t.Fatalf("ParseURI(%q).String() = %q", s, out)
		}
		_ = u.Transport()
		_ = u.HostPort()
		_ = Unescape(u.User)
	})
}

// FuzzURIEqual checks that Equal is reflexive and symmetric, as RFC 3261
// §19.1.4 comparison must be, on any pair of URIs that parse.
func FuzzURIEqual(f *testing.F) {
	f.Add("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp")
	f.Add("sip:a@b;x=1;x=2?h=1&h=2", "sip:a@b;x=1?h=2&h=1")
	f.Add("tel:+1-201;ext=1", "tel:+1201;EXT=1")
	f.Add("sip:[2001:db8:::192.0.2.1]", "sip:[2001:db8::c000:201]")
	f.Fuzz(func(t *testing.T, x, y string) {
		a, err1 := ParseURI(x)
		b, err2 := ParseURI(y)
		if err1 != nil || err2 != nil {
			return
		}
		if !a.Equal(a) || !b.Equal(b) {
			t.Fatalf("Equal not reflexive: %q, %q", x, y)
		}
		if a.Equal(b) != b.Equal(a) {
			t.Fatalf("Equal not symmetric: %q, %q", x, y)
		}
	})
}

// TestURIHandBuilt checks that the methods cope with URIs that were not
// produced by ParseURI.
func TestURIHandBuilt(t *testing.T) {
	odd := []URI{
		{},
		{Scheme: "sip"},
		{Scheme: "sip", User: "%", Password: "%4", Host: "[", Params: "lr;;=x;", Headers: "&&=&a"},
		{Scheme: "sip", Host: "[]", Params: "=", Headers: "="},
		{Scheme: "tel", User: "-%", Params: ";"},
	}
	for _, u := range odd {
		for _, v := range odd {
			if u.Equal(v) != v.Equal(u) {
				t.Errorf("%#v / %#v: Equal not symmetric", u, v)
			}
		}
		_, _, _ = u.String(), u.HostPort(), u.Transport()
	}
	u := URI{Scheme: "sip", User: "bob", Password: "pw", Host: "example.com", Port: 5070,
		Params: ";transport=tls", Headers: "subject=x"}
	if got := u.String(); got != "sip:bob:pw@example.com:5070;transport=tls?subject=x" {
		t.Errorf("String() = %q", got)
	}
}
