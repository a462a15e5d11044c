package siptest

import (
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sipkit/sipkit/sip"
)

// seq makes branches, tags and Call-IDs unique across the test binary.
var seq atomic.Uint64

func next() string { return strconv.FormatUint(seq.Add(1), 10) }

// Request returns a valid request for method to ruri (a SIP URI, used as
// the To URI too), parsed from wire text. It has, in order:
//
//	Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-siptest-N
//	Max-Forwards: 70
//	From: <sip:alice@example.com>;tag=siptest-N
//	To: <ruri>
//	Call-ID: siptest-N@example.com
//	CSeq: 1 METHOD
//	Contact: <sip:alice@127.0.0.1:5060>   (INVITE only, RFC 3261 §8.1.1.8)
//	Content-Length: 0
//
// N is a counter, so every request starts a new transaction and call.
// Each of headers is "Name: value": the first one with a default's name
// (long or compact) replaces that default in place, any other is added
// at the end; "Name:" with no value removes the default. Sending rewrites
// the Via's transport and sent-by. Request fails the test if the result
// does not parse.
func Request(t testing.TB, method, ruri string, headers ...string) *sip.Request {
	t.Helper()
	n := next()
	type field struct{ name, value string }
	fields := []field{
		{"Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=" + sip.MagicCookie + "-siptest-" + n},
		{"Max-Forwards", "70"},
		{"From", "<sip:alice@example.com>;tag=siptest-" + n},
		{"To", "<" + ruri + ">"},
		{"Call-ID", "siptest-" + n + "@example.com"},
		{"CSeq", "1 " + method},
	}
	if method == "INVITE" {
		fields = append(fields, field{"Contact", "<sip:alice@127.0.0.1:5060>"})
	}
	fields = append(fields, field{"Content-Length", "0"})
	defaults := len(fields)
	replaced := make([]bool, defaults)

	for _, h := range headers {
		name, value := splitHeader(t, h)
		i := 0
		for ; i < defaults; i++ {
			if !replaced[i] && sameHeader(fields[i].name, name) {
				break
			}
		}
		switch {
		case i < defaults:
			replaced[i] = true
			fields[i] = field{name, value}
		case value != "":
			fields = append(fields, field{name, value})
		}
	}

	var b strings.Builder
	b.WriteString(method + " " + ruri + " SIP/2.0\r\n")
	for _, f := range fields {
		if f.value != "" {
			b.WriteString(f.name + ": " + f.value + "\r\n")
		}
	}
	b.WriteString("\r\n")
	m, err := sip.Parse([]byte(b.String()))
	if err != nil {
		t.Fatalf("siptest.Request: %v\n%s", err, b.String())
	}
	req, ok := m.(*sip.Request)
	if !ok {
		t.Fatalf("siptest.Request: %q is not a request", b.String())
	}
	return req
}

// Response returns the response with code to req, built by
// sip.NewResponse (Via, From, To, Call-ID and CSeq copied from req, no To
// tag added). Each of headers is "Name: value": the first one of a name
// replaces every header of that name (so "To: <sip:bob@example.com>;tag=b1"
// gives the To tag), later ones of the same name are added after it.
// Response fails the test if a header is invalid.
func Response(t testing.TB, req *sip.Request, code int, headers ...string) *sip.Response {
	t.Helper()
	resp := sip.NewResponse(req, code, "")
	var set []string
	for _, h := range headers {
		name, value := splitHeader(t, h)
		var err error
		if slices.ContainsFunc(set, func(s string) bool { return sameHeader(s, name) }) {
			err = resp.AppendHeader(name, value)
		} else {
			set = append(set, name)
			err = resp.SetHeader(name, value)
		}
		if err != nil {
			t.Fatalf("siptest.Response: header %q: %v", h, err)
		}
	}
	return resp
}

func splitHeader(t testing.TB, h string) (name, value string) {
	t.Helper()
	name, value, ok := strings.Cut(h, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		t.Fatalf("siptest: header %q is not \"Name: value\"", h)
	}
	return name, strings.TrimSpace(value)
}

// sameHeader reports whether two header names are the same header:
// known ones by kind, so "v" matches "Via"; others in any case.
func sameHeader(a, b string) bool {
	ka, kb := sip.LookupKind(a), sip.LookupKind(b)
	if ka != sip.KindOther || kb != sip.KindOther {
		return ka == kb
	}
	return strings.EqualFold(a, b)
}
