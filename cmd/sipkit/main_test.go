package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCheck runs the check command on a valid and an invalid RFC 4475
// message.
func TestCheck(t *testing.T) {
	dir := "../../../shared/testdata/rfc4475/"
	var out bytes.Buffer
	status := check([]string{dir + "wsinv.dat", dir + "badvers.dat"}, &out)
	if status != 1 {
		t.Errorf("status = %d, want 1", status)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("output:\n%s", out.String())
	}
	if !strings.HasSuffix(lines[0], "ok: INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0") {
		t.Errorf("valid message: %s", lines[0])
	}
	if !strings.HasSuffix(lines[1], ": 505 Unsupported SIP version") {
		t.Errorf("SIP/7.0: %s", lines[1])
	}
}
