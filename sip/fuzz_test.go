package sip

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds adds the RFC 4475 messages, the benchmark INVITE and the
// golden files as seeds.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	files, _ := filepath.Glob(filepath.Join(tortureDir, "*.dat"))
	golden, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.sip"))
	for _, p := range append(append(files, golden...), "../../shared/bench/parser/invite.sip") {
		if b, err := os.ReadFile(p); err == nil {
			seeds = append(seeds, b)
		}
	}
	seeds = append(seeds, crlf(basicInvite))
	return seeds
}

// FuzzParse: any datagram parses or fails without panicking; one that
// parses writes back to bytes that parse to the same message, and an
// edit (what a proxy does) keeps it parsable.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(bytes.Clone(data))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError: %v", err, err)
			}
			if pe.Reason() == "" {
				t.Fatal("empty reason")
			}
			if m != nil {
				_ = m.String()
			}
			return
		}
		out := m.String()
		m2, err := Parse([]byte(out))
		if err != nil {
			t.Fatalf("written message does not parse: %v\n%q", err, out)
		}
		if m2.String() != out {
			t.Fatalf("second write differs:\n%q\n%q", out, m2.String())
		}
		if m2.CallID() != m.CallID() || m2.CSeq() != m.CSeq() || m2.FromTag() != m.FromTag() ||
			m2.ToTag() != m.ToTag() || m2.NumHeaders() != m.NumHeaders() {
			t.Fatal("reparsed message differs")
		}
		// Typed views of a parsed message never fail.
		_ = m.Vias()
		_ = m.From()
		_ = m.To()
		if r, ok := m.(*Request); ok {
			_ = r.Contacts()
			c := Clone(r)
			if _, err := c.DecrementMaxForwards(); err == nil {
				if err := c.PrependVia(Via{Transport: "UDP", Host: "192.0.2.1", Branch: "z9hG4bKfuzz"}); err != nil {
					t.Fatalf("PrependVia: %v", err)
				}
				if _, err := Parse([]byte(c.String())); err != nil {
					t.Fatalf("edited message does not parse: %v\n%q", err, c.String())
				}
			}
			resp := NewResponse(r, 200, "")
			if err := resp.SetToTag("fuzz"); err != nil {
				t.Fatalf("SetToTag: %v", err)
			}
			if _, err := Parse([]byte(resp.String())); err != nil {
				t.Fatalf("response does not parse: %v\n%q", err, resp.String())
			}
		}
	})
}

// FuzzStream: the input is split in two reads at a fuzzer-chosen point,
// as a stream transport delivers it; the messages read must be the same
// as when the whole input arrives at once, and nothing panics.
func FuzzStream(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, uint16(len(s)/2))
		f.Add(append(append([]byte("\r\n\r\n"), s...), s...), uint16(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		cut := int(split)
		if cut > len(data) {
			cut = len(data)
		}
		whole := readStream(NewStreamReader(bytes.NewReader(data), Limits{}))
		parts := readStream(NewStreamReader(&chunks{[][]byte{data[:cut], data[cut:]}}, Limits{}))
		if len(whole) != len(parts) {
			t.Fatalf("whole read gave %d results, split read %d", len(whole), len(parts))
		}
		for i := range whole {
			if whole[i] != parts[i] {
				t.Fatalf("result %d differs:\n%q\n%q", i, whole[i], parts[i])
			}
		}
	})
}

// readStream returns what a stream yields: each message written back, or
// its error.
func readStream(sr *StreamReader) []string {
	var out []string
	for range 100 {
		m, err := sr.ReadMessage()
		switch {
		case err != nil && (errors.Is(err, ErrFraming) || m == nil && !isParseError(err)):
			return append(out, "error: "+err.Error())
		case err != nil:
			out = append(out, "bad: "+err.Error())
		default:
			out = append(out, m.String())
		}
	}
	return out
}

func isParseError(err error) bool {
	var pe *ParseError
	return errors.As(err, &pe)
}

// chunks is a reader that returns its chunks one per Read.
type chunks struct{ c [][]byte }

func (c *chunks) Read(p []byte) (int, error) {
	for len(c.c) > 0 && len(c.c[0]) == 0 {
		c.c = c.c[1:]
	}
	if len(c.c) == 0 {
		return 0, errEOF
	}
	n := copy(p, c.c[0])
	c.c[0] = c.c[0][n:]
	return n, nil
}

var errEOF = io.EOF
