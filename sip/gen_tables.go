//go:build ignore

// gen_tables writes tables_gen.go: the SIP status code constants with
// their reason phrases, and the method name constants. The data lives
// here rather than in a text file so that a reviewer sees the table, its
// sources and the code that renders it in one place.
//
// Usage (from the sip directory, normally via go generate):
//
//	go run gen_tables.go [-o tables_gen.go]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"
)

// status is one entry of the IANA "Response Codes" registry of the
// "Session Initiation Protocol (SIP) Parameters" group.
type status struct {
	code   int
	phrase string // reason phrase exactly as the defining RFC spells it
	ref    string // defining document
	name   string // Go name after "Status"; derived from phrase when empty
	note   string // extra sentence for the doc comment
}

var statuses = []status{
	// 1xx provisional (RFC 3261 §21.1).
	{code: 100, phrase: "Trying", ref: "RFC 3261 §21.1.1"},
	{code: 180, phrase: "Ringing", ref: "RFC 3261 §21.1.2"},
	{code: 181, phrase: "Call Is Being Forwarded", ref: "RFC 3261 §21.1.3"},
	{code: 182, phrase: "Queued", ref: "RFC 3261 §21.1.4"},
	{code: 183, phrase: "Session Progress", ref: "RFC 3261 §21.1.5"},
	{code: 199, phrase: "Early Dialog Terminated", ref: "RFC 6228"},

	// 2xx success (RFC 3261 §21.2).
	{code: 200, phrase: "OK", ref: "RFC 3261 §21.2.1"},
	{code: 202, phrase: "Accepted", ref: "RFC 3265, deprecated by RFC 6665",
		note: "RFC 6665 forbids sending it, but it stays registered and is kept here so that responses from RFC 3265 and RFC 3515 implementations still read well."},
	{code: 204, phrase: "No Notification", ref: "RFC 5839"},

	// 3xx redirection (RFC 3261 §21.3).
	{code: 300, phrase: "Multiple Choices", ref: "RFC 3261 §21.3.1"},
	{code: 301, phrase: "Moved Permanently", ref: "RFC 3261 §21.3.2"},
	{code: 302, phrase: "Moved Temporarily", ref: "RFC 3261 §21.3.3"},
	{code: 305, phrase: "Use Proxy", ref: "RFC 3261 §21.3.4"},
	{code: 380, phrase: "Alternative Service", ref: "RFC 3261 §21.3.5"},

	// 4xx request failure (RFC 3261 §21.4).
	{code: 400, phrase: "Bad Request", ref: "RFC 3261 §21.4.1"},
	{code: 401, phrase: "Unauthorized", ref: "RFC 3261 §21.4.2"},
	{code: 402, phrase: "Payment Required", ref: "RFC 3261 §21.4.3"},
	{code: 403, phrase: "Forbidden", ref: "RFC 3261 §21.4.4"},
	{code: 404, phrase: "Not Found", ref: "RFC 3261 §21.4.5"},
	{code: 405, phrase: "Method Not Allowed", ref: "RFC 3261 §21.4.6"},
	{code: 406, phrase: "Not Acceptable", ref: "RFC 3261 §21.4.7"},
	{code: 407, phrase: "Proxy Authentication Required", ref: "RFC 3261 §21.4.8"},
	{code: 408, phrase: "Request Timeout", ref: "RFC 3261 §21.4.9"},
	{code: 410, phrase: "Gone", ref: "RFC 3261 §21.4.10"},
	{code: 412, phrase: "Conditional Request Failed", ref: "RFC 3903"},
	{code: 413, phrase: "Request Entity Too Large", ref: "RFC 3261 §21.4.11"},
	{code: 414, phrase: "Request-URI Too Long", ref: "RFC 3261 §21.4.12"},
	{code: 415, phrase: "Unsupported Media Type", ref: "RFC 3261 §21.4.13"},
	{code: 416, phrase: "Unsupported URI Scheme", ref: "RFC 3261 §21.4.14"},
	{code: 417, phrase: "Unknown Resource-Priority", ref: "RFC 4412"},
	{code: 420, phrase: "Bad Extension", ref: "RFC 3261 §21.4.15"},
	{code: 421, phrase: "Extension Required", ref: "RFC 3261 §21.4.16"},
	{code: 422, phrase: "Session Interval Too Small", ref: "RFC 4028"},
	{code: 423, phrase: "Interval Too Brief", ref: "RFC 3261 §21.4.17"},
	{code: 424, phrase: "Bad Location Information", ref: "RFC 6442"},
	{code: 425, phrase: "Bad Alert Message", ref: "RFC 8876"},
	{code: 428, phrase: "Use Identity Header", ref: "RFC 8224"},
	{code: 429, phrase: "Provide Referrer Identity", ref: "RFC 3892"},
	{code: 430, phrase: "Flow Failed", ref: "RFC 5626"},
	{code: 433, phrase: "Anonymity Disallowed", ref: "RFC 5079"},
	{code: 436, phrase: "Bad Identity Info", ref: "RFC 8224"},
	{code: 437, phrase: "Unsupported Credential", ref: "RFC 8224"},
	{code: 438, phrase: "Invalid Identity Header", ref: "RFC 8224"},
	{code: 439, phrase: "First Hop Lacks Outbound Support", ref: "RFC 5626"},
	{code: 440, phrase: "Max-Breadth Exceeded", ref: "RFC 5393"},
	{code: 469, phrase: "Bad Info Package", ref: "RFC 6086"},
	{code: 470, phrase: "Consent Needed", ref: "RFC 5360"},
	{code: 480, phrase: "Temporarily Unavailable", ref: "RFC 3261 §21.4.18"},
	{code: 481, phrase: "Call/Transaction Does Not Exist", ref: "RFC 3261 §21.4.19"},
	{code: 482, phrase: "Loop Detected", ref: "RFC 3261 §21.4.20"},
	{code: 483, phrase: "Too Many Hops", ref: "RFC 3261 §21.4.21"},
	{code: 484, phrase: "Address Incomplete", ref: "RFC 3261 §21.4.22"},
	{code: 485, phrase: "Ambiguous", ref: "RFC 3261 §21.4.23"},
	{code: 486, phrase: "Busy Here", ref: "RFC 3261 §21.4.24"},
	{code: 487, phrase: "Request Terminated", ref: "RFC 3261 §21.4.25"},
	{code: 488, phrase: "Not Acceptable Here", ref: "RFC 3261 §21.4.26"},
	{code: 489, phrase: "Bad Event", ref: "RFC 6665"},
	{code: 491, phrase: "Request Pending", ref: "RFC 3261 §21.4.27"},
	{code: 493, phrase: "Undecipherable", ref: "RFC 3261 §21.4.28"},
	{code: 494, phrase: "Security Agreement Required", ref: "RFC 3329"},

	// 5xx server failure (RFC 3261 §21.5).
	{code: 500, phrase: "Server Internal Error", ref: "RFC 3261 §21.5.1"},
	{code: 501, phrase: "Not Implemented", ref: "RFC 3261 §21.5.2"},
	{code: 502, phrase: "Bad Gateway", ref: "RFC 3261 §21.5.3"},
	{code: 503, phrase: "Service Unavailable", ref: "RFC 3261 §21.5.4"},
	// "Time-out" would derive ServerTimeOut; Go spells the word Timeout
	// (compare net/http.StatusGatewayTimeout).
	{code: 504, phrase: "Server Time-out", ref: "RFC 3261 §21.5.5", name: "ServerTimeout"},
	{code: 505, phrase: "Version Not Supported", ref: "RFC 3261 §21.5.6"},
	{code: 513, phrase: "Message Too Large", ref: "RFC 3261 §21.5.7"},
	{code: 555, phrase: "Push Notification Service Not Supported", ref: "RFC 8599"},
	{code: 580, phrase: "Precondition Failure", ref: "RFC 3312"},

	// 6xx global failure (RFC 3261 §21.6).
	{code: 600, phrase: "Busy Everywhere", ref: "RFC 3261 §21.6.1"},
	{code: 603, phrase: "Decline", ref: "RFC 3261 §21.6.2"},
	{code: 604, phrase: "Does Not Exist Anywhere", ref: "RFC 3261 §21.6.3"},
	{code: 606, phrase: "Not Acceptable", ref: "RFC 3261 §21.6.4", name: "NotAcceptableAnywhere",
		note: "Its phrase is the same as 406's, so its Go name adds Anywhere."},
	{code: 607, phrase: "Unwanted", ref: "RFC 8197"},
	{code: 608, phrase: "Rejected", ref: "RFC 8688"},
}

// method is one entry of the IANA "Methods and Response Codes" registry.
type method struct {
	name string
	ref  string
}

var methods = []method{
	{"INVITE", "RFC 3261"},
	{"ACK", "RFC 3261"},
	{"BYE", "RFC 3261"},
	{"CANCEL", "RFC 3261"},
	{"OPTIONS", "RFC 3261"},
	{"REGISTER", "RFC 3261"},
	{"PRACK", "RFC 3262"},
	{"SUBSCRIBE", "RFC 6665"},
	{"NOTIFY", "RFC 6665"},
	{"PUBLISH", "RFC 3903"},
	{"INFO", "RFC 6086"},
	{"REFER", "RFC 3515"},
	{"MESSAGE", "RFC 3428"},
	{"UPDATE", "RFC 3311"},
}

// goName turns a reason phrase into an identifier: every run of letters
// and digits becomes a word with its first letter upper-cased, and
// everything else is dropped ("Call/Transaction Does Not Exist" →
// CallTransactionDoesNotExist, "Request-URI Too Long" → RequestURITooLong).
func goName(phrase string) string {
	var b strings.Builder
	up := true
	for i := 0; i < len(phrase); i++ {
		c := phrase[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum {
			up = true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		b.WriteByte(c)
	}
	return b.String()
}

// wrap splits text into lines of at most width bytes at spaces, so that
// the generated comments stay readable.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

func generate() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by gen_tables.go; DO NOT EDIT.\n\n")
	b.WriteString("package sip\n\n")

	b.WriteString("// SIP response status codes, as registered at IANA\n")
	b.WriteString("// (Session Initiation Protocol (SIP) Parameters, Response Codes).\n")
	b.WriteString("const (\n")
	seenCode := map[int]bool{}
	seenName := map[string]bool{}
	last := 0
	for _, s := range statuses {
		if s.code < 100 || s.code > 699 || s.code <= last {
			return nil, fmt.Errorf("status %d: codes must be in 100..699 and ascending", s.code)
		}
		last = s.code
		name := s.name
		if name == "" {
			name = goName(s.phrase)
		}
		if seenCode[s.code] || seenName[name] {
			return nil, fmt.Errorf("status %d: duplicate code or name %s", s.code, name)
		}
		seenCode[s.code], seenName[name] = true, true
		fmt.Fprintf(&b, "\t// Status%s is %d %s (%s).", name, s.code, s.phrase, s.ref)
		for _, line := range wrap(s.note, 70) {
			fmt.Fprintf(&b, "\n\t// %s", line)
		}
		fmt.Fprintf(&b, "\n\tStatus%s = %d\n", name, s.code)
	}
	b.WriteString(")\n\n")

	b.WriteString("// StatusText returns the reason phrase registered for code, or \"\"\n")
	b.WriteString("// when the code is not registered. See ReasonPhrase for a variant\n")
	b.WriteString("// that falls back to the class default.\n")
	b.WriteString("func StatusText(code int) string {\n\tswitch code {\n")
	for _, s := range statuses {
		fmt.Fprintf(&b, "\tcase %d:\n\t\treturn %q\n", s.code, s.phrase)
	}
	b.WriteString("\t}\n\treturn \"\"\n}\n\n")

	b.WriteString("// SIP request methods registered at IANA. Method names are\n")
	b.WriteString("// case-sensitive (RFC 3261 §7.1).\n")
	b.WriteString("const (\n")
	seenMethod := map[string]bool{}
	for _, m := range methods {
		if seenMethod[m.name] || goName(m.name) != m.name {
			return nil, fmt.Errorf("method %s: duplicate or not an upper-case token", m.name)
		}
		seenMethod[m.name] = true
		fmt.Fprintf(&b, "\t%s = %q // %s\n", m.name, m.name, m.ref)
	}
	b.WriteString(")\n\n")

	b.WriteString("// isKnownMethod reports whether m is one of the registered methods,\n")
	b.WriteString("// compared case-sensitively as RFC 3261 §7.1 requires.\n")
	b.WriteString("func isKnownMethod(m string) bool {\n\tswitch m {\n\tcase ")
	for i, m := range methods {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.name)
	}
	b.WriteString(":\n\t\treturn true\n\t}\n\treturn false\n}\n")

	return format.Source(b.Bytes())
}

func main() {
	out := flag.String("o", "tables_gen.go", "output file")
	flag.Parse()
	src, err := generate()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
