package sip

import "testing"

// TestParseAllocs holds the hot path to its allocation budget: parsing
// the typical INVITE allocates the message and nothing else, and reading
// what a transaction needs (branch, tags, Call-ID, CSeq, the top Via, the
// Request-URI) allocates nothing.
func TestParseAllocs(t *testing.T) {
	data := typicalInvite(t)
	parse := testing.AllocsPerRun(200, func() {
		if _, err := Parse(data); err != nil {
			t.Fatal(err)
		}
	})
	if parse > 1 {
		t.Errorf("Parse allocates %.0f times, want 1", parse)
	}
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	r := m.(*Request)
	read := testing.AllocsPerRun(200, func() {
		v, _ := r.TopVia()
		u := r.RequestURI()
		if v.Branch == "" || r.Branch() == "" || r.FromTag() == "" || r.CallID() == "" || r.CSeq().Seq == 0 || u.Host == "" {
			t.Fatal("missing value")
		}
		_ = r.From()
		_ = r.To()
	})
	if read != 0 {
		t.Errorf("reading the transaction keys allocates %.0f times, want 0", read)
	}
	var buf []byte
	buf = r.AppendTo(buf)
	write := testing.AllocsPerRun(200, func() { buf = r.AppendTo(buf[:0]) })
	if write != 0 {
		t.Errorf("AppendTo into a large enough buffer allocates %.0f times, want 0", write)
	}
}
