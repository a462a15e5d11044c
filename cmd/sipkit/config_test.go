package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// --config: a YAML file of flag names; the command line wins, lists are
// repeated flags, and an unknown or malformed setting is an error.
func TestProxyConfigFile(t *testing.T) {
	write := func(text string) string {
		p := filepath.Join(t.TempDir(), "proxy.yaml")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var code int
	cmd := proxyCmd(context.Background(), &code)
	fs := cmd.Flags()
	if err := fs.Parse([]string{"--trusted", "192.0.2.0/24"}); err != nil {
		t.Fatal(err)
	}
	file := write("listen: [udp:127.0.0.1:5070, tcp:127.0.0.1:5070]\ntrusted: [10.0.0.0/8]\nno-answer-timeout: 45s\nmetrics: 127.0.0.1:9099\n")
	if err := applyConfigFile(fs, file); err != nil {
		t.Fatal(err)
	}
	listen, _ := fs.GetStringArray("listen")
	trusted, _ := fs.GetStringArray("trusted")
	nat, _ := fs.GetDuration("no-answer-timeout")
	metrics, _ := fs.GetString("metrics")
	if !slices.Equal(listen, []string{"udp:127.0.0.1:5070", "tcp:127.0.0.1:5070"}) {
		t.Errorf("listen = %q", listen)
	}
	if !slices.Equal(trusted, []string{"192.0.2.0/24"}) {
		t.Errorf("trusted = %q, want the command line's", trusted)
	}
	if nat.String() != "45s" || metrics != "127.0.0.1:9099" {
		t.Errorf("no-answer-timeout %v, metrics %q", nat, metrics)
	}

	for _, bad := range []string{"lissen: [udp:127.0.0.1:5070]\n", "no-answer-timeout: 45\n", "listen: [\n",
		"realm:\n", "metrics: [127.0.0.1:1, 127.0.0.1:2]\n", "domain: [example.org, ~]\n"} {
		fs := proxyCmd(context.Background(), &code).Flags()
		if err := applyConfigFile(fs, write(bad)); err == nil {
			t.Errorf("config %q accepted", strings.TrimSpace(bad))
		}
	}
}

// --users: USER:PASSWORD lines, comments and blank lines skipped, a line
// without a colon refused.
func TestReadUsers(t *testing.T) {
	p := filepath.Join(t.TempDir(), "users")
	os.WriteFile(p, []byte("# phones\r\nbob:s3cret\r\n\n carol : two words \nalice:pa:ss\n"), 0o644)
	users, err := readUsers(p)
	if err != nil || len(users) != 3 || users["bob"] != "s3cret" || users["alice"] != "pa:ss" || users["carol"] != " two words " {
		t.Errorf("readUsers = %q, %v", users, err)
	}
	for _, bad := range []string{"bob\n", "bob:a\nbob:b\n", ":pw\n", "# only a comment\n"} {
		os.WriteFile(p, []byte(bad), 0o644)
		if _, err := readUsers(p); err == nil {
			t.Errorf("users file %q accepted", bad)
		}
	}
}
