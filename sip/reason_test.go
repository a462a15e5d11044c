package sip

import (
	"errors"
	"testing"
	"unsafe"
)

// pointsInto reports whether sub's bytes lie inside s's, that is whether
// a parser handed back a slice of its input instead of a copy.
func pointsInto(s, sub string) bool {
	if sub == "" {
		return true
	}
	base := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	p := uintptr(unsafe.Pointer(unsafe.StringData(sub)))
	return p >= base && p+uintptr(len(sub)) <= base+uintptr(len(s))
}

func TestParseReason(t *testing.T) {
	type want struct {
		proto  string
		cause  int
		text   string
		params string
	}
	tests := []struct {
		name string
		in   string
		want []want
	}{
		// RFC 3326 §2 examples.
		{"rfc3326 sip", `SIP ;cause=200 ;text="Call completed elsewhere"`,
			[]want{{"SIP", 200, "Call completed elsewhere", `;cause=200 ;text="Call completed elsewhere"`}}},
		{"rfc3326 q850", `Q.850 ;cause=16 ;text="Terminated"`,
			[]want{{"Q.850", 16, "Terminated", `;cause=16 ;text="Terminated"`}}},
		// RFC 3326 §2: several reason-values, one per protocol, in one
		// header, with RFC 3261 §7.3.1 folding between them.
		{"two values folded", "SIP ;cause=200 ;text=\"Call completed elsewhere\",\r\n Q.850 ;cause=16 ;text=\"Terminated\"",
			[]want{
				{"SIP", 200, "Call completed elsewhere", `;cause=200 ;text="Call completed elsewhere"`},
				{"Q.850", 16, "Terminated", `;cause=16 ;text="Terminated"`},
			}},
		// RFC 3261 §25.1 SEMI/EQUAL/COMMA allow LWS, folding included.
		{"lws everywhere", "SIP\r\n\t; cause = 600 ;\r\n text = \"Busy Everywhere\" ",
			[]want{{"SIP", 600, "Busy Everywhere", "; cause = 600 ;\r\n text = \"Busy Everywhere\""}}},
		// RFC 3326 §2: protocol = "SIP" / "Q.850" / token; no params.
		{"protocol only", "X-Vendor", []want{{"X-Vendor", -1, "", ""}}},
		{"cause only", "SIP;cause=487", []want{{"SIP", 487, "", ";cause=487"}}},
		// RFC 3326 §2 reason-extension = generic-param.
		{"extension params", `SIP;cause=480;text="Away";x-ext=1;flag;q="a,b"`,
			[]want{{"SIP", 480, "Away", `;cause=480;text="Away";x-ext=1;flag;q="a,b"`}}},
		// RFC 3261 §25.1 quoted-pair inside the text.
		{"escaped text", `SIP;cause=603;text="say \"no\""`,
			[]want{{"SIP", 603, `say "no"`, `;cause=603;text="say \"no\""`}}},
		// RFC 3261 §7.3.1 parameter names are case-insensitive.
		{"upper-case names", `sip;CAUSE=200;Text="x"`, []want{{"sip", 200, "x", `;CAUSE=200;Text="x"`}}},
		// text=token matches reason-extension (RFC 3326 §2), so it is read as text.
		{"token text", "SIP;cause=486;text=busy", []want{{"SIP", 486, "busy", ";cause=486;text=busy"}}},
		{"cause zero", "Q.850;cause=0", []want{{"Q.850", 0, "", ";cause=0"}}},
		{"cause max", "X;cause=65535", []want{{"X", 65535, "", ";cause=65535"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReason(tt.in)
			if err != nil {
				t.Fatalf("ParseReason(%q): %v", tt.in, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d values, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Protocol != w.proto || g.Cause != w.cause || g.Text != w.text || string(g.Params) != w.params {
					t.Errorf("value %d = {%q %d %q %q}, want {%q %d %q %q}",
						i, g.Protocol, g.Cause, g.Text, g.Params, w.proto, w.cause, w.text, w.params)
				}
			}
		})
	}
}

// TestParseReasonErrors covers values outside the RFC 3326 §2 grammar.
func TestParseReasonErrors(t *testing.T) {
	tests := []struct {
		in, problem string
	}{
		{"", "missing protocol"},
		{"   ", "missing protocol"},
		{";cause=200", "missing protocol"},
		{"SIP;cause=200,", "missing protocol"},       // trailing comma, empty reason-value
		{"SIP;cause=200,,Q.850", "missing protocol"}, // empty reason-value
		{"SIP foo;cause=200", "invalid protocol"},    // two words
		{"SIP/2.0;cause=200", "invalid protocol"},    // '/' is not a token char
		{`"SIP";cause=200`, "invalid protocol"},      // not a token
		{"SIP;cause=abc", "non-numeric cause"},       // cause = 1*DIGIT
		{"SIP;cause=-1", "non-numeric cause"},        // cause = 1*DIGIT
		{"SIP;cause=2x0", "non-numeric cause"},       // cause = 1*DIGIT
		{`SIP;cause="200"`, "non-numeric cause"},     // not a quoted-string either
		{"SIP;cause=65536", "cause out of range"},    // past 16 bits
		{"SIP;cause=99999999999999999999999", "cause out of range"},
		{"SIP;cause", "cause without value"},
		{"SIP;cause=", "empty parameter value"},
		{"SIP;cause=200;cause=486", "duplicate cause"},
		{`SIP;text="a";text="b"`, "duplicate text"},
		{`SIP;cause=200;text="unterminated`, "unterminated quoted parameter value"},
		{`SIP;text="bad \`, "unterminated quoted parameter value"},
		{"SIP;;cause=200", "empty parameter name"},
		{"SIP;cause=200 junk", "unexpected character after parameters"},
	}
	for _, tt := range tests {
		_, err := ParseReason(tt.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseReason(%q) error = %v, want a *ParseError", tt.in, err)
			continue
		}
		if !errors.Is(err, ErrBadHeader) || pe.Header != "Reason" || pe.Problem != tt.problem {
			t.Errorf("ParseReason(%q) = %q, want Reason header problem %q", tt.in, pe.Reason(), tt.problem)
		}
	}
}

// TestReasonString checks both output paths: raw Params re-emitted
// compactly, and values built from fields (RFC 3326 §2 syntax).
func TestReasonString(t *testing.T) {
	parsed, err := ParseReason("SIP ;cause=200 ;\r\n text=\"Call completed elsewhere\" ;x")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		r    Reason
		want string
	}{
		{parsed[0], `SIP;cause=200;text="Call completed elsewhere";x`},
		{ReasonCompletedElsewhere(), `SIP;cause=200;text="Call completed elsewhere"`},
		{NewReason("Q.850", 16, "Terminated"), `Q.850;cause=16;text="Terminated"`},
		{NewReason("Q.850", 16, ""), `Q.850;cause=16`},
		{NewReason("X", -1, ""), `X`},
		{NewReason("SIP", 0, `a "b" \c`), `SIP;cause=0;text="a \"b\" \\c"`},
		{ReasonForStatus(StatusBusyHere, ""), `SIP;cause=486;text="Busy Here"`},
		{ReasonForStatus(StatusDecline, "Not now"), `SIP;cause=603;text="Not now"`},
		{ReasonForStatus(499, ""), `SIP;cause=499;text="Bad Request"`},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.r, got, tt.want)
		}
	}

	// Built values parse back to the same fields.
	for _, r := range []Reason{ReasonCompletedElsewhere(), NewReason("Q.850", 127, `x\"y`), NewReason("X", -1, "")} {
		got, err := ParseReason(r.String())
		if err != nil || len(got) != 1 {
			t.Fatalf("ParseReason(%q) = %v, %v", r.String(), got, err)
		}
		if got[0].Protocol != r.Protocol || got[0].Cause != r.Cause || got[0].Text != r.Text {
			t.Errorf("round trip of %q = %+v", r.String(), got[0])
		}
	}
}

// TestReasonCompletedElsewhere checks the RFC 3326 §2 "call completed
// elsewhere" test: protocol SIP in any case, cause 200.
func TestReasonCompletedElsewhere(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`SIP ;cause=200 ;text="Call completed elsewhere"`, true},
		{`sip;cause=200`, true},
		{`SIP;cause=200;text="anything"`, true},
		{`Q.850;cause=200`, false},
		{`SIP;cause=486`, false},
		{`SIP`, false},
	}
	for _, tt := range tests {
		r, err := ParseReason(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := r[0].CompletedElsewhere(); got != tt.want {
			t.Errorf("%q CompletedElsewhere() = %v, want %v", tt.in, got, tt.want)
		}
	}
	if !ReasonCompletedElsewhere().CompletedElsewhere() {
		t.Error("ReasonCompletedElsewhere().CompletedElsewhere() = false")
	}
}

// TestParseReasonAliases checks the promise that parsing does not copy
// unescaped text: the strings point into the input.
func TestParseReasonAliases(t *testing.T) {
	in := `SIP;cause=200;text="Call completed elsewhere"`
	r, err := ParseReason(in)
	if err != nil {
		t.Fatal(err)
	}
	if !pointsInto(in, r[0].Text) {
		t.Errorf("Text %q does not alias the input", r[0].Text)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ParseReason(in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 { // the result slice
		t.Errorf("ParseReason allocated %v times, want at most 1", allocs)
	}
}
