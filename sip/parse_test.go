package sip

import (
	"errors"
	"strings"
	"testing"
)

// crlf turns a readable message with \n line ends into wire text.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

const basicInvite = `INVITE sip:bob@192.0.2.4 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnashds8;rport
Max-Forwards: 70
To: Bob <sip:bob@192.0.2.4>
From: Alice <sip:alice@192.0.2.1>;tag=1928301774
Call-ID: a84b4c76e66710@192.0.2.1
CSeq: 314159 INVITE
Contact: <sip:alice@192.0.2.1>
Content-Length: 0

`

// TestParseRequestFields checks the eager views of a plain INVITE (RFC
// 3261 §24.2 F1, with numeric hosts).
func TestParseRequestFields(t *testing.T) {
	m, err := Parse(crlf(basicInvite))
	if err != nil {
		t.Fatal(err)
	}
	r := m.(*Request)
	eq(t, "method", r.Method(), "INVITE")
	eq(t, "R-URI", r.RequestURI().String(), "sip:bob@192.0.2.4")
	eq(t, "branch", r.Branch(), "z9hG4bKnashds8")
	v, _ := r.TopVia()
	eq(t, "Via host", v.Host, "192.0.2.1")
	eq(t, "Via port", v.Port, 5060)
	p, present := v.RPort()
	eq(t, "rport present", present, true)
	eq(t, "rport value", p, 0)
	eq(t, "From tag", r.FromTag(), "1928301774")
	eq(t, "To tag", r.ToTag(), "")
	eq(t, "To display", r.To().Display, "Bob")
	eq(t, "Call-ID", r.CallID(), "a84b4c76e66710@192.0.2.1")
	eq(t, "CSeq", r.CSeq(), CSeq{314159, "INVITE"})
	mf, _ := r.MaxForwards()
	eq(t, "Max-Forwards", mf, 70)
	eq(t, "Content-Length", r.ContentLength(), 0)
	eq(t, "contacts", len(r.Contacts()), 1)
	eq(t, "headers", r.NumHeaders(), 8)
	eq(t, "written", r.String(), string(crlf(basicInvite)))
}

// TestParseCompactForms checks every compact header name of RFC 3261
// §7.3.3 and later RFCs maps to its long form.
func TestParseCompactForms(t *testing.T) {
	for _, tc := range []struct{ compact, long string }{
		{"i", "Call-ID"}, {"m", "Contact"}, {"e", "Content-Encoding"},
		{"l", "Content-Length"}, {"c", "Content-Type"}, {"f", "From"},
		{"s", "Subject"}, {"k", "Supported"}, {"t", "To"}, {"v", "Via"},
		{"o", "Event"}, {"u", "Allow-Events"}, {"r", "Refer-To"},
		{"b", "Referred-By"}, {"x", "Session-Expires"},
		{"I", "Call-ID"}, {"V", "Via"},
	} {
		eq(t, tc.compact, CanonicalName(tc.compact), tc.long)
		eq(t, tc.long+" case-insensitive", LookupKind(strings.ToUpper(tc.long)), LookupKind(tc.long))
	}
	m, err := Parse(crlf(`OPTIONS sip:192.0.2.4 SIP/2.0
v: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1
f: <sip:a@192.0.2.1>;tag=1
t: <sip:b@192.0.2.4>
i: abc
CSeq: 1 OPTIONS
m: <sip:a@192.0.2.1>
k: timer, 100rel
l: 0

`))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "Call-ID via i", m.CallID(), "abc")
	v, _ := m.Get("Supported")
	eq(t, "Supported via k", v, "timer, 100rel")
	eq(t, "HasToken", m.(*Request).HasToken("supported", "100REL"), true)
}

// TestParseErrors pairs wire text with the error it must give. Each case
// names the rule (RFC 3261 section) it checks.
func TestParseErrors(t *testing.T) {
	base := strings.Split(strings.TrimSuffix(basicInvite, "\n\n"), "\n")
	// with replaces (or, with new == "", deletes) the header starting with prefix.
	with := func(prefix, repl string) []byte {
		var out []string
		for _, l := range base {
			if strings.HasPrefix(l, prefix) {
				if repl == "" {
					continue
				}
				l = repl
			}
			out = append(out, l)
		}
		return crlf(strings.Join(out, "\n") + "\n\n")
	}
	for _, tc := range []struct {
		name   string
		msg    []byte
		want   error
		header string
		reason string
	}{
		{"missing Via (§8.1.1)", with("Via:", ""), ErrMissingHeader, "Via", "Missing Via header"},
		{"missing Call-ID (§8.1.1)", with("Call-ID:", ""), ErrMissingHeader, "Call-ID", ""},
		{"missing From (§8.1.1)", with("From:", ""), ErrMissingHeader, "From", ""},
		{"missing CSeq (§8.1.1)", with("CSeq:", ""), ErrMissingHeader, "CSeq", ""},
		{"CSeq method mismatch (§8.2.2.3)", with("CSeq:", "CSeq: 1 BYE"), ErrMethodMismatch, "CSeq", ""},
		{"CSeq not a number (§20.16)", with("CSeq:", "CSeq: x INVITE"), ErrBadHeader, "CSeq", "Bad CSeq header: missing sequence number"},
		{"CSeq over 2**32-1 (§8.1.1.5)", with("CSeq:", "CSeq: 4294967296 INVITE"), ErrBadHeader, "CSeq", ""},
		{"Max-Forwards over 255 (§20.22)", with("Max-Forwards:", "Max-Forwards: 256"), ErrBadHeader, "Max-Forwards", ""},
		{"Max-Forwards negative", with("Max-Forwards:", "Max-Forwards: -1"), ErrBadHeader, "Max-Forwards", ""},
		{"duplicate To (§20)", with("Call-ID:", "Call-ID: x\nTo: <sip:c@192.0.2.9>"), ErrDuplicateHeader, "To", "Duplicate To header"},
		{"Via without sent-by (§20.42)", with("Via:", "Via: SIP/2.0/UDP"), ErrBadHeader, "Via", ""},
		{"Via bad port", with("Via:", "Via: SIP/2.0/UDP 192.0.2.1:99999;branch=z9hG4bK1"), ErrBadHeader, "Via", ""},
		{"Via empty param (RFC 4475 §3.1.2.1)", with("Via:", "Via: SIP/2.0/UDP 192.0.2.1;;branch=z9hG4bK1"), ErrBadHeader, "Via", ""},
		{"Via IPv6 unbracketed (RFC 5118 §4.1)", with("Via:", "Via: SIP/2.0/UDP 2001:db8::1;branch=z9hG4bK1"), ErrBadHeader, "Via", ""},
		{"From without URI", with("From:", "From: Alice;tag=1"), ErrBadHeader, "From", ""},
		{"Contact unclosed <", with("Contact:", "Contact: <sip:a@192.0.2.1"), ErrBadHeader, "Contact", ""},
		{"Call-ID with space (§25.1)", with("Call-ID:", "Call-ID: a b"), ErrBadHeader, "Call-ID", ""},
		{"Content-Length not a number", with("Content-Length:", "Content-Length: abc"), ErrBadHeader, "Content-Length", ""},
		{"header without colon (§7.3.1)", with("Contact:", "Contact <sip:a@192.0.2.1>"), ErrBadHeader, "", ""},
		{"folded space inside Call-ID (§25.1)", with("Call-ID:", "Call-ID: a84b4c76\n e66710"), ErrBadHeader, "Call-ID", ""},
		{"bare CR inside Call-ID", with("Call-ID:", "Call-ID: a84b\rc76"), ErrBadHeader, "Call-ID", ""},
		{"junk after Via params", with("Via:", "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1 junk"), ErrBadHeader, "Via", ""},
		{"folded junk after CSeq", with("CSeq:", "CSeq: 314159 INVITE\n x"), ErrBadHeader, "CSeq", ""},
		{"junk after Max-Forwards", with("Max-Forwards:", "Max-Forwards: 70 x"), ErrBadHeader, "Max-Forwards", ""},
		{"second To value", with("To:", "To: <sip:b@192.0.2.4>, <sip:c@192.0.2.5>"), ErrBadHeader, "To", ""},
		{"request line with two spaces", crlf("INVITE  sip:a@192.0.2.1 SIP/2.0\n\n"), ErrBadStartLine, "", ""},
		{"request line without version", crlf("INVITE sip:a@192.0.2.1\n\n"), ErrBadStartLine, "", ""},
		{"SIP/3.0 (§8.2.2.1: 505)", crlf("INVITE sip:a@192.0.2.1 SIP/3.0\n\n"), ErrUnsupportedVersion, "", ""},
		{"status 99", crlf("SIP/2.0 99 Too Low\n\n"), ErrBadStatusCode, "", ""},
		{"status 700", crlf("SIP/2.0 700 Too High\n\n"), ErrBadStatusCode, "", ""},
		{"no header end", []byte("OPTIONS sip:a@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4"), ErrIncomplete, "", ""},
		{"empty", nil, ErrIncomplete, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.msg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%T is not *ParseError", err)
			}
			eq(t, "header", pe.Header, tc.header)
			if tc.reason != "" {
				eq(t, "reason", pe.Reason(), tc.reason)
			}
		})
	}
}

// TestParseBadRequestStillAnswerable: a request whose headers split but
// whose values are wrong comes back with the message, so the server can
// build its 400 (RFC 3261 §8.2.6).
func TestParseBadRequestStillAnswerable(t *testing.T) {
	data := crlf(strings.Replace(basicInvite, "CSeq: 314159 INVITE", "CSeq: 314159 BYE", 1))
	m, err := Parse(data)
	if err == nil || m == nil {
		t.Fatalf("m = %v, err = %v", m, err)
	}
	resp := NewResponse(m.(*Request), 400, err.(*ParseError).Reason())
	eq(t, "status line", resp.StartLine(), "SIP/2.0 400 Bad CSeq header: method does not match the request method")
	if !strings.Contains(resp.String(), "Call-ID: a84b4c76e66710@192.0.2.1\r\n") {
		t.Errorf("response lacks Call-ID:\n%s", resp)
	}
	eq(t, "status code", err.(*ParseError).StatusCode(), 400)
}

// TestParseDatagramBody: without Content-Length a datagram's body runs to
// its end; with it, extra octets are ignored (RFC 3261 §18.3).
func TestParseDatagramBody(t *testing.T) {
	for _, tc := range []struct {
		name, msg, body string
		wantErr         error
	}{
		{"no Content-Length", "MESSAGE sip:a@192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK1\nFrom: <sip:b@192.0.2.2>;tag=1\nTo: <sip:a@192.0.2.1>\nCall-ID: 1\nCSeq: 1 MESSAGE\n\nhello", "hello", nil},
		{"shorter Content-Length", "MESSAGE sip:a@192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK1\nFrom: <sip:b@192.0.2.2>;tag=1\nTo: <sip:a@192.0.2.1>\nCall-ID: 1\nCSeq: 1 MESSAGE\nContent-Length: 3\n\nhello", "hel", nil},
		{"longer Content-Length", "MESSAGE sip:a@192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK1\nFrom: <sip:b@192.0.2.2>;tag=1\nTo: <sip:a@192.0.2.1>\nCall-ID: 1\nCSeq: 1 MESSAGE\nContent-Length: 30\n\nhello", "", ErrContentLength},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(strings.ReplaceAll(tc.msg, "\n", "\r\n")))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil {
				eq(t, "body", string(m.Body()), tc.body)
			}
		})
	}
}

// TestParseLimits checks each limit gives its own error (net/textproto
// style bounded parsing).
func TestParseLimits(t *testing.T) {
	long := crlf(strings.Replace(basicInvite, "Contact:", "X-Long: "+strings.Repeat("a", 200)+"\nContact:", 1))
	_, err := ParseWithLimits(long, Limits{MaxLineLength: 100})
	if !errors.Is(err, ErrLineTooLong) {
		t.Errorf("long line: %v", err)
	}
	_, err = ParseWithLimits(crlf(basicInvite), Limits{MaxHeaders: 5})
	if !errors.Is(err, ErrTooManyHeaders) {
		t.Errorf("many headers: %v", err)
	}
	_, err = ParseWithLimits(crlf(basicInvite), Limits{MaxMessageSize: 100})
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("large message: %v", err)
	}
	eq(t, "513 for too large", err.(*ParseError).StatusCode(), 513)
	if _, err := Parse(crlf(basicInvite)); err != nil {
		t.Errorf("default limits reject a plain INVITE: %v", err)
	}
}

// TestParseLFOnly: bare LF line ends are accepted, as Kamailio and PJSIP
// accept them, though RFC 3261 §7 asks for CRLF.
func TestParseLFOnly(t *testing.T) {
	m, err := Parse([]byte(basicInvite))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "Call-ID", m.CallID(), "a84b4c76e66710@192.0.2.1")
}

// TestParseResponse checks a status line and its views (RFC 3261 §7.2).
func TestParseResponse(t *testing.T) {
	m, err := Parse(crlf(`SIP/2.0 180 Ringing
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnashds8;received=192.0.2.101, SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bK2
To: Bob <sip:bob@192.0.2.4>;tag=a6c85cf
From: Alice <sip:alice@192.0.2.1>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 314159 INVITE
Contact: <sip:bob@192.0.2.4>
Content-Length: 0

`))
	if err != nil {
		t.Fatal(err)
	}
	r := m.(*Response)
	eq(t, "code", r.StatusCode(), 180)
	eq(t, "reason", r.Reason(), "Ringing")
	eq(t, "To tag", r.ToTag(), "a6c85cf")
	vias := r.Vias()
	eq(t, "vias", len(vias), 2)
	eq(t, "ViaCount", r.ViaCount(), 2)
	rcv, _ := vias[0].Received()
	eq(t, "received", rcv, "192.0.2.101")
	eq(t, "IPv6 sent-by (RFC 5118 §4.5)", vias[1].Host, "[2001:db8::1]")
	eq(t, "IPv6 port", vias[1].Port, 5070)
	eq(t, "IPv6 sent-by", vias[1].SentBy(), "[2001:db8::1]:5070")
	eq(t, "sent-by without port", Via{Host: "192.0.2.1"}.SentBy(), "192.0.2.1")
}

// TestParseNeverPanicsOnPrefixes parses every prefix of a message; none
// may panic.
func TestParseNeverPanicsOnPrefixes(t *testing.T) {
	data := crlf(basicInvite)
	for i := range data {
		_, _ = Parse(append([]byte(nil), data[:i]...))
	}
}

// TestLookupKindSpellings checks every known name in canonical, lower,
// upper and mixed case, its compact form, and near misses.
func TestLookupKindSpellings(t *testing.T) {
	for k := HeaderKind(1); k < kindCount; k++ {
		n := canonicalNames[k]
		mixed := []byte(strings.ToLower(n))
		for i := 0; i < len(mixed); i += 2 {
			mixed[i] = strings.ToUpper(string(mixed[i]))[0]
		}
		for _, v := range []string{n, strings.ToLower(n), strings.ToUpper(n), string(mixed)} {
			eq(t, v, LookupKind(v), k)
		}
		for _, v := range []string{n[:len(n)-1], n + "x", "x" + n[1:], strings.Replace(n, "-", "_", 1)} {
			if v != n && len(v) > 1 && LookupKind(v) == k {
				t.Errorf("LookupKind(%q) = %v", v, k)
			}
		}
	}
}

// TestKnownNameAgreesWithLookupKind: the split's fast path for common
// names finds the same kind and name end as the token scan and
// LookupKind would, and leaves everything else to them.
func TestKnownNameAgreesWithLookupKind(t *testing.T) {
	var names []string
	for k := HeaderKind(1); k < kindCount; k++ {
		n := canonicalNames[k]
		names = append(names, n, strings.ToLower(n), n[:len(n)-1], n+"x", n+"-1")
	}
	for c := 0; c < 256; c++ {
		names = append(names, string(rune(c)))
	}
	for _, n := range names {
		for _, sep := range []string{":", " :", "\t:", ": ", ";", ""} {
			line := n + sep + "v"
			k, end := knownName(line, 0)
			if end == 0 {
				if k != KindOther {
					t.Errorf("knownName(%q) = %v with no name", line, k)
				}
				continue
			}
			tok := scanToken(line, 0)
			if sep != ":" && sep != ": " || end != tok || end != len(n) || k != LookupKind(n) || k == KindOther {
				t.Errorf("knownName(%q) = %v, %d; token ends at %d, LookupKind %v", line, k, end, tok, LookupKind(n))
			}
		}
	}
}

// TestParseHeaderNameTooLong: names are bounded (the header table keeps
// their length in a byte), and a longer one is a clear 400.
func TestParseHeaderNameTooLong(t *testing.T) {
	msg := crlf(strings.Replace(basicInvite, "Contact:", "X-"+strings.Repeat("n", 300)+": v\nContact:", 1))
	_, err := Parse(msg)
	if pe, ok := err.(*ParseError); !ok || pe.Err != ErrBadHeader || pe.Problem != "header name too long" {
		t.Fatalf("err = %v", err)
	}
}

// TestAuthHeaderViews reads digest challenges and credentials through the
// message (RFC 3261 §22.2, §22.3; RFC 8760 SHA-256).
func TestAuthHeaderViews(t *testing.T) {
	m, err := Parse(crlf(`SIP/2.0 407 Proxy Authentication Required
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1
From: <sip:a@192.0.2.1>;tag=1
To: <sip:b@192.0.2.4>;tag=2
Call-ID: auth1
CSeq: 1 INVITE
Proxy-Authenticate: Digest realm="atlanta.example.com", nonce="f84f1cec41e6cbe5aea9c8e88d359", algorithm=SHA-256, qop="auth"
Proxy-Authenticate: Digest realm="atlanta.example.com", nonce="f84f1cec41e6cbe5aea9c8e88d359", algorithm=MD5, qop="auth"
Content-Length: 0

`))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := m.(*Response).ProxyAuthenticate()
	if err != nil || len(ch) != 2 {
		t.Fatalf("ProxyAuthenticate = %v, %v", ch, err)
	}
	eq(t, "first algorithm", ch[0].Algorithm, "SHA-256")
	eq(t, "second algorithm", ch[1].Algorithm, "MD5")
	eq(t, "realm", ch[0].Realm, "atlanta.example.com")
	if w, _ := m.(*Response).WWWAuthenticate(); len(w) != 0 {
		t.Errorf("WWWAuthenticate = %v", w)
	}

	req := crlf(strings.Replace(basicInvite, "Contact:", `Proxy-Authorization: Digest username="alice", realm="atlanta.example.com", nonce="f84f1cec41e6cbe5aea9c8e88d359", uri="sip:bob@192.0.2.4", response="7587245234b3434cc3412213e5f113a5432", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="0a4f113b"
Contact:`, 1))
	m, err = Parse(req)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := m.(*Request).ProxyAuthorization()
	if err != nil || len(cr) != 1 {
		t.Fatalf("ProxyAuthorization = %v, %v", cr, err)
	}
	eq(t, "username", cr[0].Username, "alice")
	eq(t, "nc", cr[0].NC, "00000001")
	eq(t, "uri", cr[0].URI, "sip:bob@192.0.2.4")
}

// TestParseFoldedEagerHeaders: folding (RFC 3261 §7.3.1) inside the
// headers Parse reads eagerly is LWS, and the header ends at the first
// line end that is not a fold.
func TestParseFoldedEagerHeaders(t *testing.T) {
	m, err := Parse(crlf(`INVITE sip:bob@192.0.2.4 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060
 ;branch=z9hG4bKnashds8 ,
   SIP/2.0/TCP 192.0.2.9;branch=z9hG4bK2
Max-Forwards:
 70
To: Bob
 <sip:bob@192.0.2.4>
From: <sip:alice@192.0.2.1>
 ;tag=1928301774
Call-ID: a84b4c76e66710@192.0.2.1
CSeq: 314159
	INVITE
Content-Length: 0

`))
	if err != nil {
		t.Fatal(err)
	}
	r := m.(*Request)
	eq(t, "branch", r.Branch(), "z9hG4bKnashds8")
	eq(t, "vias", r.ViaCount(), 2)
	mf, _ := r.MaxForwards()
	eq(t, "Max-Forwards", mf, 70)
	eq(t, "From tag", r.FromTag(), "1928301774")
	eq(t, "To display", r.To().Display, "Bob")
	eq(t, "CSeq", r.CSeq(), CSeq{314159, "INVITE"})
	eq(t, "headers", r.NumHeaders(), 7)
	v, _ := r.Get("From")
	eq(t, "From unfolded", v, "<sip:alice@192.0.2.1> ;tag=1928301774")
}

func TestParseNameAddr(t *testing.T) {
	tests := []struct {
		in, uri, tag string
		ok           bool
	}{
		{`"Bob" <sip:bob@example.com>;tag=1`, "sip:bob@example.com", "1", true},
		{"<sip:p1.example.com;lr>", "sip:p1.example.com;lr", "", true},
		{"sip:bob@example.com;tag=x", "sip:bob@example.com", "x", true},
		{" <sip:a@b> ", "sip:a@b", "", true},
		{"<sip:a@b>, <sip:c@d>", "", "", false},
		{"<sip:a@b", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		n, err := ParseNameAddr(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseNameAddr(%q): err %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && (n.URI.String() != tt.uri || n.Tag() != tt.tag) {
			t.Errorf("ParseNameAddr(%q) = %q tag %q", tt.in, n.URI.String(), n.Tag())
		}
	}
}
