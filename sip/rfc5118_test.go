package sip

import (
	"errors"
	"strings"
	"testing"
)

// ipv6Msg builds a REGISTER in the style of the RFC 5118 messages, with
// the Request-URI, Via and Contact given.
func ipv6Msg(ruri, via, contact string) []byte {
	return crlf("REGISTER " + ruri + " SIP/2.0\n" +
		"To: sip:user@example.com\n" +
		"From: sip:user@example.com;tag=81x2\n" +
		"Via: " + via + "\n" +
		"Call-ID: SSG9559905523997077@hlau_4100\n" +
		"Max-Forwards: 70\n" +
		"Contact: " + contact + "\n" +
		"CSeq: 98176 REGISTER\n" +
		"Content-Length: 0\n\n")
}

// TestRFC5118 covers the parser cases of RFC 5118 (IPv6 torture tests).
func TestRFC5118(t *testing.T) {
	const via = "SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111"
	for _, tc := range []struct {
		name    string
		msg     []byte
		wantErr error
		check   func(t *testing.T, r *Request)
	}{
		// §4.1 Valid SIP message with IPv6 references.
		{"ipv6-good", ipv6Msg("sip:[2001:db8::10]", via, `"Caller" <sip:caller@[2001:db8::1]>`), nil, func(t *testing.T, r *Request) {
			eq(t, "R-URI host", r.RequestURI().Host, "[2001:db8::10]")
			v, _ := r.TopVia()
			eq(t, "Via host", v.Host, "[2001:db8::9:1]")
			eq(t, "Contact host", r.Contacts()[0].URI.Host, "[2001:db8::1]")
		}},
		// §4.2 An IPv6 reference without brackets in the Request-URI.
		{"ipv6-bad", ipv6Msg("sip:[2001:db8::10", via, "<sip:caller@[2001:db8::1]>"), ErrBadURI, nil},
		{"ipv6-bad-unbracketed", ipv6Msg("sip:2001:db8::10", via, "<sip:caller@[2001:db8::1]>"), ErrBadURI, nil},
		// §4.3 Port ambiguous: the whole bracketed text is the address.
		{"port-ambiguous", ipv6Msg("sip:[2001:db8::10:5070]", via, "<sip:caller@[2001:db8::1]>"), nil, func(t *testing.T, r *Request) {
			u := r.RequestURI()
			eq(t, "host", u.Host, "[2001:db8::10:5070]")
			eq(t, "port", u.Port, 0)
		}},
		// §4.4 Port unambiguous.
		{"port-unambiguous", ipv6Msg("sip:[2001:db8::10]:5070", via, "<sip:caller@[2001:db8::1]>"), nil, func(t *testing.T, r *Request) {
			u := r.RequestURI()
			eq(t, "host", u.Host, "[2001:db8::10]")
			eq(t, "port", u.Port, 5070)
		}},
		// §4.5 received with and without IPv6 reference delimiters;
		// both must be accepted.
		{"via-received-param-with-delim", ipv6Msg("sip:[2001:db8::10]", "SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111;received=[2001:db8::9:255]", "<sip:caller@[2001:db8::1]>"), nil, func(t *testing.T, r *Request) {
			v, _ := r.TopVia()
			rcv, _ := v.Received()
			eq(t, "received", rcv, "[2001:db8::9:255]")
			eq(t, "port", v.Port, 6050)
			eq(t, "branch", r.Branch(), "z9hG4bKas3-111")
		}},
		{"via-received-param-no-delim", ipv6Msg("sip:[2001:db8::10]", "SIP/2.0/UDP [2001:db8::9:1]:6050;received=2001:db8::9:255;branch=z9hG4bKas3", "<sip:caller@[2001:db8::1]>"), nil, func(t *testing.T, r *Request) {
			v, _ := r.TopVia()
			rcv, _ := v.Received()
			eq(t, "received", rcv, "2001:db8::9:255")
			eq(t, "branch", r.Branch(), "z9hG4bKas3")
		}},
		// §4.7 Several IP addresses, IPv4 and IPv6, in one header.
		{"mult-ip-in-header", ipv6Msg("sip:[2001:db8::10]", "SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK1, SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK2", "<sip:caller@[2001:db8::1]>, <sip:caller@192.0.2.5>"), nil, func(t *testing.T, r *Request) {
			eq(t, "vias", r.ViaCount(), 2)
			eq(t, "second Via host", r.Vias()[1].Host, "192.0.2.1")
			eq(t, "contacts", len(r.Contacts()), 2)
		}},
		// §4.9 IPv4-mapped IPv6 address.
		{"ipv4-mapped", ipv6Msg("sip:[::ffff:192.0.2.10]", "SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19", "<sip:user@[::ffff:192.0.2.10]:19823>"), nil, func(t *testing.T, r *Request) {
			eq(t, "R-URI host", r.RequestURI().Host, "[::ffff:192.0.2.10]")
			eq(t, "Contact port", r.Contacts()[0].URI.Port, 19823)
		}},
		// §4.10 The RFC 3261 ABNF bug: three colons before an embedded
		// IPv4 address are tolerated, two are correct.
		{"ipv6-bug-abnf-3-colons", ipv6Msg("sip:[2001:db8:::192.0.2.1]", via, "<sip:caller@[2001:db8::1]>"), nil, nil},
		{"ipv6-correct-abnf-2-colons", ipv6Msg("sip:[2001:db8::192.0.2.1]", via, "<sip:caller@[2001:db8::1]>"), nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(tc.msg)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if tc.check != nil {
				tc.check(t, m.(*Request))
			}
			if out := m.String(); !strings.EqualFold(out, string(tc.msg)) {
				t.Errorf("round trip differs:\n%s", out)
			}
		})
	}
}
