package sip

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// torturedir holds the RFC 4475 messages, byte-exact, shared by the
// projects of this workspace.
const tortureDir = "../../shared/testdata/rfc4475"

func readTorture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tortureDir, name+".dat"))
	if err != nil {
		t.Fatalf("RFC 4475 message %s: %v", name, err)
	}
	return b
}

// TestTortureFilesIntact checks the messages against SHA256SUMS, so a
// checkout that rewrote line ends cannot make the torture tests pass
// vacuously.
func TestTortureFilesIntact(t *testing.T) {
	sums, err := os.ReadFile(filepath.Join(tortureDir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(sums))
	n := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		b, err := os.ReadFile(filepath.Join(tortureDir, f[1]))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != f[0] {
			t.Errorf("%s: checksum mismatch (line ends rewritten?)", f[1])
		}
		n++
	}
	if n < 49 {
		t.Errorf("only %d files listed in SHA256SUMS", n)
	}
}

type tortureCase struct {
	name    string
	wantErr error  // nil: must parse
	header  string // for errors: the header the error must name
	check   func(t *testing.T, m Message)
}

// tortureCases covers every message of RFC 4475 (section in the comment).
// Where the RFC lets an element either reject or tolerate, the decision is
// stated.
var tortureCases = []tortureCase{
	// §3.1.1.1 A Short Tortuous INVITE.
	{name: "wsinv", check: func(t *testing.T, m Message) {
		r := m.(*Request)
		eq(t, "method", r.Method(), "INVITE")
		eq(t, "To tag", r.To().Tag(), "1918181833n")
		eq(t, "From tag", r.From().Tag(), "98asjd8")
		eq(t, "From display", r.From().DisplayName(), `J Rosenberg \"`)
		eq(t, "Call-ID", r.CallID(), "wsinv.ndaksdj@192.0.2.1")
		eq(t, "CSeq", r.CSeq().String(), "9 INVITE")
		mf, _ := r.MaxForwards()
		eq(t, "Max-Forwards", mf, 68)
		vias := r.Vias()
		eq(t, "Via count", len(vias), 3)
		eq(t, "Via[0] transport", vias[0].Transport, "UDP")
		eq(t, "Via[0] branch", vias[0].Branch, "390skdjuw")
		eq(t, "Via[1] host", vias[1].Host, "spindle.example.com")
		eq(t, "Via[1] branch", vias[1].Branch, "z9hG4bK9ikj8")
		eq(t, "Via[2] branch", vias[2].Branch, "z9hG4bK30239")
		eq(t, "Contact count", len(r.Contacts()), 1)
		q, _ := r.Contacts()[0].Q()
		eq(t, "Contact q", q, 330)
		nv, _ := m.Get("NewFangledHeader")
		eq(t, "unfolded unknown header", nv, "newfangled value continued newfangled value")
		eq(t, "body length", len(m.Body()), 150)
	}},
	// §3.1.1.2 Wide Range of Valid Characters.
	{name: "intmeth", check: func(t *testing.T, m Message) {
		eq(t, "method", m.(*Request).Method(), "!interesting-Method0123456789_*+`.%indeed'~")
	}},
	// §3.1.1.3 Valid Use of the % Escaping Mechanism.
	{name: "esc01", check: func(t *testing.T, m Message) {
		u := m.(*Request).RequestURI()
		eq(t, "R-URI user", Unescape(u.User), "sips:user@example.com")
		to := m.To()
		eq(t, "To user", Unescape(to.URI.User), "user")
	}},
	// §3.1.1.4 Escaped Nulls in URIs.
	{name: "escnull", check: func(t *testing.T, m Message) {
		eq(t, "To user", Unescape(m.To().URI.User), "null-\x00-null")
		eq(t, "contacts", len(m.(*Request).Contacts()), 2)
	}},
	// §3.1.1.5 Use of % When It Is Not an Escape.
	{name: "esc02", check: func(t *testing.T, m Message) {
		eq(t, "method", m.(*Request).Method(), "RE%47IST%45R")
		eq(t, "contacts (C%6Fntact is an extension header)", len(m.(*Request).Contacts()), 2)
		v, _ := m.Get("C%6Fntact")
		eq(t, "extension header", v, "<sip:alias2@host2.example.com>")
	}},
	// §3.1.1.6 No LWS between display name and <.
	{name: "lwsdisp", check: func(t *testing.T, m Message) {
		eq(t, "From display", m.From().Display, "caller")
		eq(t, "From URI", m.From().URI.User, "caller")
	}},
	// §3.1.1.7 Long Values in Header Fields.
	{name: "longreq", check: func(t *testing.T, m Message) {
		eq(t, "Via count", len(m.Vias()), 34)
		if len(m.From().Tag()) < 150 {
			t.Errorf("From tag truncated: %d bytes", len(m.From().Tag()))
		}
	}},
	// §3.1.1.8 Extra trailing octets in a UDP datagram are ignored.
	{name: "dblreq", check: func(t *testing.T, m Message) {
		eq(t, "method", m.(*Request).Method(), "REGISTER")
		eq(t, "body", len(m.Body()), 0)
		if strings.Contains(m.String(), "INVITE") {
			t.Error("trailing INVITE octets kept in the written message")
		}
	}},
	// §3.1.1.9 Semicolon-separated parameters in the URI user part.
	{name: "semiuri", check: func(t *testing.T, m Message) {
		u := m.(*Request).RequestURI()
		eq(t, "user", u.User, "user;par=u%40example.net")
		eq(t, "host", u.Host, "example.com")
	}},
	// §3.1.1.10 Varied and unknown transport types.
	{name: "transports", check: func(t *testing.T, m Message) {
		var got []string
		for _, v := range m.Vias() {
			got = append(got, v.Transport)
		}
		eq(t, "transports", strings.Join(got, ","), "UDP,SCTP,TLS,UNKNOWN,TCP")
	}},
	// §3.1.1.11 Multipart MIME message with a binary part.
	{name: "mpart01", check: func(t *testing.T, m Message) {
		eq(t, "body", len(m.Body()), 553)
		ct, params, _ := m.(*Request).ContentType()
		eq(t, "Content-Type", ct, "multipart/mixed")
		b, _ := params.Get("boundary")
		eq(t, "boundary", b, "7a9cbec02ceef655")
	}},
	// §3.1.1.12 Unusual reason phrase.
	{name: "unreason", check: func(t *testing.T, m Message) {
		r := m.(*Response)
		eq(t, "code", r.StatusCode(), 200)
		if !strings.HasPrefix(r.Reason(), "= 2**3 * 5**2 но сто девяносто девять") {
			t.Errorf("reason %q", r.Reason())
		}
	}},
	// §3.1.1.13 Empty reason phrase.
	{name: "noreason", check: func(t *testing.T, m Message) {
		eq(t, "code", m.(*Response).StatusCode(), 100)
		eq(t, "reason", m.(*Response).Reason(), "")
	}},
	// §3.1.2.1 Extraneous header field separators.
	{name: "badinv01", wantErr: ErrBadHeader, header: "Via"},
	// §3.1.2.2 Content-Length larger than the message.
	{name: "clerr", wantErr: ErrContentLength, header: "Content-Length"},
	// §3.1.2.3 Negative Content-Length.
	{name: "ncl", wantErr: ErrBadHeader, header: "Content-Length"},
	// §3.1.2.4 Request scalar fields with overlarge values: the CSeq.
	{name: "scalar02", wantErr: ErrBadHeader, header: "CSeq"},
	// §3.1.2.5 Response scalar fields with overlarge values.
	{name: "scalarlg", wantErr: ErrBadHeader, header: "CSeq"},
	// §3.1.2.6 Unterminated quoted string in display name.
	{name: "quotbal", wantErr: ErrBadHeader, header: "To"},
	// §3.1.2.7 <> enclosing Request-URI: rejected.
	{name: "ltgtruri", wantErr: ErrBadURI},
	// §3.1.2.8 Embedded LWS in Request-URI: rejected.
	{name: "lwsruri", wantErr: ErrBadStartLine},
	// §3.1.2.9 Multiple SP separating Request-Line elements: rejected.
	{name: "lwsstart", wantErr: ErrBadStartLine},
	// §3.1.2.10 SP after SIP-Version: tolerated (the RFC allows it, and
	// Kamailio accepts it); the written Request-Line drops it when edited.
	{name: "trws", check: func(t *testing.T, m Message) {
		eq(t, "method", m.(*Request).Method(), "OPTIONS")
	}},
	// §3.1.2.11 Escaped headers in the Request-URI: rejected.
	{name: "escruri", wantErr: ErrBadURI},
	// §3.1.2.12 Invalid time zone in Date: tolerated; Date is not parsed
	// by the stack, as the RFC recommends for elements that do not use it.
	{name: "baddate", check: func(t *testing.T, m Message) {
		d, _ := m.Get("Date")
		eq(t, "Date kept", d, "Fri, 01 Jan 2010 16:00:00 EST")
	}},
	// §3.1.2.13 Failure to enclose a name-addr URI with headers in <>.
	{name: "regbadct", wantErr: ErrBadHeader, header: "Contact"},
	// §3.1.2.14 Spaces within addr-spec.
	{name: "badaspec", wantErr: ErrBadHeader, header: "To"},
	// §3.1.2.15 Non-token characters in display name.
	{name: "baddn", wantErr: ErrBadHeader, header: "From"},
	// §3.1.2.16 Unknown protocol version: 505.
	{name: "badvers", wantErr: ErrUnsupportedVersion},
	// §3.1.2.17 Start line and CSeq method mismatch.
	{name: "mismatch01", wantErr: ErrMethodMismatch, header: "CSeq"},
	// §3.1.2.18 Unknown method with CSeq method mismatch: 400 (allowed).
	{name: "mismatch02", wantErr: ErrMethodMismatch, header: "CSeq"},
	// §3.1.2.19 Overlarge response code.
	{name: "bigcode", wantErr: ErrBadStatusCode},
	// §3.2.1 Missing transaction identifier: parsed; the branch is only
	// the cookie, so it does not count as an RFC 3261 branch and the
	// transaction layer falls back to RFC 2543 matching.
	{name: "badbranch", check: func(t *testing.T, m Message) {
		v := m.Vias()[0]
		eq(t, "branch", v.Branch, "z9hG4bK")
		eq(t, "RFC3261Branch", v.RFC3261Branch(), false)
	}},
	// §3.3.1 Missing required header fields.
	{name: "insuf", wantErr: ErrMissingHeader},
	// §3.3.2 Request-URI with unknown scheme: parses (416 is the TU's job).
	{name: "unkscm", check: func(t *testing.T, m Message) {
		u := m.(*Request).RequestURI()
		eq(t, "scheme", u.Scheme, "nobodyKnowsThisScheme")
		eq(t, "IsSIP", u.IsSIP(), false)
	}},
	// §3.3.3 Request-URI with known but atypical scheme.
	{name: "novelsc", check: func(t *testing.T, m Message) {
		eq(t, "scheme", m.(*Request).RequestURI().Scheme, "soap.beep")
	}},
	// §3.3.4 Unknown URI schemes in header fields.
	{name: "unksm2", check: func(t *testing.T, m Message) {
		eq(t, "To scheme", m.To().URI.Scheme, "isbn")
		eq(t, "From scheme", m.From().URI.Scheme, "http")
		eq(t, "Contact scheme", m.(*Request).Contacts()[0].URI.Scheme, "name")
	}},
	// §3.3.5 Proxy-Require and Require with unknown tags.
	{name: "bext01", check: func(t *testing.T, m Message) {
		r := m.(*Request)
		req, err := r.Tokens("Require")
		if err != nil || len(req) == 0 {
			t.Errorf("Require = %v, %v", req, err)
		}
		if !r.HasToken("Proxy-Require", "noProxiesSupportThis") {
			t.Error("Proxy-Require tag not found")
		}
	}},
	// §3.3.6 Unknown Content-Type.
	{name: "invut", check: func(t *testing.T, m Message) {
		ct, _, err := m.(*Request).ContentType()
		eq(t, "Content-Type", ct, "application/unknownformat")
		eq(t, "err", err, nil)
	}},
	// §3.3.7 Unknown authorization scheme.
	{name: "regaut01", check: func(t *testing.T, m Message) {
		v, _ := m.Get("Authorization")
		c, err := ParseCredentials(v)
		if err != nil || c.Scheme != "NoOneKnowsThisScheme" {
			t.Errorf("Authorization = %+v, %v", c, err)
		}
	}},
	// §3.3.8 Multiple values in single-value required fields.
	{name: "multi01", wantErr: ErrDuplicateHeader, header: "CSeq"},
	// §3.3.9 Multiple Content-Length values.
	{name: "mcl01", wantErr: ErrDuplicateHeader, header: "Content-Length"},
	// §3.3.10 200 OK with broadcast Via: well formed (dropping it is the
	// transport's and proxy's business).
	{name: "bcast", check: func(t *testing.T, m Message) {
		eq(t, "Via[1] host", m.Vias()[1].Host, "255.255.255.255")
	}},
	// §3.3.11 Max-Forwards of zero.
	{name: "zeromf", check: func(t *testing.T, m Message) {
		n, ok := m.(*Request).MaxForwards()
		eq(t, "Max-Forwards", n, 0)
		eq(t, "present", ok, true)
	}},
	// §3.3.12 REGISTER with a contact header parameter.
	{name: "cparam01", check: func(t *testing.T, m Message) {
		c := m.(*Request).Contacts()[0]
		eq(t, "header param", c.Params.Has("unknownparam"), true)
		eq(t, "URI param", c.URI.Params.Has("unknownparam"), false)
	}},
	// §3.3.13 REGISTER with a url-parameter.
	{name: "cparam02", check: func(t *testing.T, m Message) {
		c := m.(*Request).Contacts()[0]
		eq(t, "URI param", c.URI.Params.Has("unknownparam"), true)
		eq(t, "header param", c.Params.Has("unknownparam"), false)
	}},
	// §3.3.14 REGISTER with a URL-escaped header.
	{name: "regescrt", check: func(t *testing.T, m Message) {
		eq(t, "URI headers", m.(*Request).Contacts()[0].URI.Headers, "Route=%3Csip:sip.example.com%3E")
	}},
	// §3.3.15 Unacceptable Accept offering.
	{name: "sdp01", check: func(t *testing.T, m Message) {
		a, _ := m.Get("Accept")
		eq(t, "Accept", a, "text/nobodyKnowsThis")
	}},
	// §3.4.1 INVITE with RFC 2543 syntax.
	{name: "inv2543", check: func(t *testing.T, m Message) {
		_, ok := m.(*Request).MaxForwards()
		eq(t, "Max-Forwards present", ok, false)
		eq(t, "branch", m.Vias()[0].Branch, "")
		eq(t, "From tag", m.From().Tag(), "")
		eq(t, "Content-Length absent", m.(*Request).ContentLength(), -1)
	}},
	// The archive's extra file: no SIP-Version, a header without a colon.
	{name: "test", wantErr: ErrBadStartLine},
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestRFC4475(t *testing.T) {
	manifest, err := os.ReadFile(filepath.Join(tortureDir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, tc := range tortureCases {
		covered[tc.name] = true
	}
	for line := range strings.Lines(string(manifest)) {
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		if name := strings.SplitN(line, "\t", 2)[0]; !covered[name] {
			t.Errorf("RFC 4475 message %s has no test case", name)
		}
	}
	for _, tc := range tortureCases {
		t.Run(tc.name, func(t *testing.T) {
			data := readTorture(t, tc.name)
			m, err := Parse(data)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("err %T is not a *ParseError", err)
				}
				if tc.header != "" && pe.Header != tc.header {
					t.Errorf("error names header %q, want %q (%v)", pe.Header, tc.header, err)
				}
				if pe.Reason() == "" {
					t.Error("empty reason phrase")
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tc.check(t, m)
			// Round trip: writing gives the message bytes back, and
			// they parse to the same start line and headers.
			out := m.String()
			if !strings.HasPrefix(string(data), out) {
				t.Errorf("written message differs from input")
			}
			m2, err := Parse([]byte(out))
			if err != nil {
				t.Fatalf("reparse: %v", err)
			}
			eq(t, "start line", m2.StartLine(), m.StartLine())
			eq(t, "header count", m2.NumHeaders(), m.NumHeaders())
		})
	}
}
