package sip

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTablesUpToDate regenerates the tables into a scratch file and
// compares it with the committed tables_gen.go, so an edit to the data in
// gen_tables.go cannot be merged without its output.
func TestTablesUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found:", err)
	}
	out := filepath.Join(t.TempDir(), "tables_gen.go")
	cmd := exec.Command(gobin, "run", "gen_tables.go", "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen_tables.go: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("tables_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("tables_gen.go is stale; run `go generate ./sip` and commit the result")
	}
}

// TestStatusText checks registered phrases: RFC 3261 §21 for the base
// codes and the IANA registry for extensions.
func TestStatusText(t *testing.T) {
	tests := []struct {
		code int
		want string
	}{
		{StatusTrying, "Trying"}, // RFC 3261 §21.1.1
		{StatusOK, "OK"},         // RFC 3261 §21.2.1
		{202, "Accepted"},        // RFC 6665: deprecated, still registered
		{StatusCallTransactionDoesNotExist, "Call/Transaction Does Not Exist"},                 // RFC 3261 §21.4.19
		{StatusRequestURITooLong, "Request-URI Too Long"},                                      // RFC 3261 §21.4.12
		{StatusLoopDetected, "Loop Detected"},                                                  // RFC 3261 §21.4.20
		{StatusTooManyHops, "Too Many Hops"},                                                   // RFC 3261 §21.4.21
		{StatusRequestTerminated, "Request Terminated"},                                        // RFC 3261 §21.4.25
		{StatusMaxBreadthExceeded, "Max-Breadth Exceeded"},                                     // RFC 5393
		{StatusServerInternalError, "Server Internal Error"},                                   // RFC 3261 §21.5.1
		{StatusServerTimeout, "Server Time-out"},                                               // RFC 3261 §21.5.5
		{StatusPushNotificationServiceNotSupported, "Push Notification Service Not Supported"}, // RFC 8599
		{StatusNotAcceptable, "Not Acceptable"},                                                // RFC 3261 §21.4.7
		{StatusNotAcceptableAnywhere, "Not Acceptable"},                                        // RFC 3261 §21.6.4
		{StatusRejected, "Rejected"},                                                           // RFC 8688
		{409, ""},                                                                              // unassigned
		{490, ""},                                                                              // unassigned
		{0, ""},
		{-1, ""},
		{700, ""},
	}
	for _, tt := range tests {
		if got := StatusText(tt.code); got != tt.want {
			t.Errorf("StatusText(%d) = %q, want %q", tt.code, got, tt.want)
		}
	}
}

// TestReasonPhrase checks the class fallback: RFC 3261 §8.1.3.2 treats an
// unknown response code as the x00 code of its class.
func TestReasonPhrase(t *testing.T) {
	tests := []struct {
		code int
		want string
	}{
		{StatusRinging, "Ringing"},
		{StatusBusyHere, "Busy Here"},
		{189, "Trying"},
		{299, "OK"},
		{399, "Multiple Choices"},
		{499, "Bad Request"},
		{599, "Server Internal Error"},
		{699, "Busy Everywhere"},
		{99, ""},
		{700, ""},
		{1000, ""},
	}
	for _, tt := range tests {
		if got := ReasonPhrase(tt.code); got != tt.want {
			t.Errorf("ReasonPhrase(%d) = %q, want %q", tt.code, got, tt.want)
		}
	}
}

// TestIsKnownMethod checks that methods compare case-sensitively
// (RFC 3261 §7.1) and that extension methods are not "known".
func TestIsKnownMethod(t *testing.T) {
	tests := []struct {
		m    string
		want bool
	}{
		{INVITE, true},
		{ACK, true},
		{"PRACK", true},  // RFC 3262
		{"UPDATE", true}, // RFC 3311
		{"REFER", true},  // RFC 3515
		{"invite", false},
		{"FOO", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isKnownMethod(tt.m); got != tt.want {
			t.Errorf("isKnownMethod(%q) = %v, want %v", tt.m, got, tt.want)
		}
	}
}
