package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// applyConfigFile reads a YAML file whose keys are the command's flag
// names and sets every flag the command line did not: the command line
// wins. A list is a repeated flag. An unknown key is an error, so a typo
// does not pass unnoticed.
//
//	listen: [udp:10.0.0.5:5060, tcp:10.0.0.5:5060]
//	domain: [example.org]
//	trusted: [10.0.0.0/8]
//	no-answer-timeout: 60s
//	metrics: 127.0.0.1:9090
func applyConfigFile(fs *pflag.FlagSet, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fl := fs.Lookup(name)
		if fl == nil || name == "config" || name == "help" {
			return fmt.Errorf("%s: unknown setting %q", path, name)
		}
		if fl.Changed {
			continue
		}
		vals, isList := m[name].([]any)
		if !isList {
			vals = []any{m[name]}
		} else if fl.Value.Type() != "stringArray" {
			return fmt.Errorf("%s: %s takes one value, not a list", path, name)
		}
		for _, v := range vals {
			if v == nil {
				return fmt.Errorf("%s: %s has no value", path, name)
			}
			if err := fs.Set(name, fmt.Sprint(v)); err != nil {
				return fmt.Errorf("%s: %s: %w", path, name, err)
			}
		}
	}
	return nil
}

// readUsers reads a --users file: one USER:PASSWORD per line; blank
// lines and lines starting with # are skipped.
func readUsers(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	users := map[string]string{}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		// The password is everything after the first colon, spaces
		// included; the user name is trimmed.
		u, p, ok := strings.Cut(line, ":")
		u = strings.TrimSpace(u)
		if !ok || u == "" {
			return nil, fmt.Errorf("%s:%d: want USER:PASSWORD", path, n+1)
		}
		if _, dup := users[u]; dup {
			return nil, fmt.Errorf("%s:%d: user %q again", path, n+1, u)
		}
		users[u] = p
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s: no users", path)
	}
	return users, nil
}
