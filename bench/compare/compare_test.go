// Package compare measures sipkit's parser side by side with sipgo in one
// `go test -bench` run, so the ratio holds on a noisy shared machine.
// It is a separate module: the main module never depends on another stack.
package compare

import (
	"os"
	"testing"

	sipgo "github.com/emiago/sipgo/sip"
	"github.com/sipkit/sipkit/sip"
)

func invite(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile("../../../shared/bench/parser/invite.sip")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

var (
	sinkKit sip.Message
	sinkGo  sipgo.Message
	sinkS   string
	sinkB   []byte
)

// Parse only.
func BenchmarkParse(b *testing.B) {
	data := invite(b)
	b.Run("sipkit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, err := sip.Parse(data)
			if err != nil {
				b.Fatal(err)
			}
			sinkKit = m
		}
	})
	b.Run("sipgo", func(b *testing.B) {
		p := sipgo.NewParser()
		b.ReportAllocs()
		for b.Loop() {
			m, err := p.ParseSIP(data)
			if err != nil {
				b.Fatal(err)
			}
			sinkGo = m
		}
	})
}

// Parse and read what a transaction layer needs: top branch, tags,
// Call-ID, CSeq.
func BenchmarkParseRead(b *testing.B) {
	data := invite(b)
	b.Run("sipkit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, err := sip.Parse(data)
			if err != nil {
				b.Fatal(err)
			}
			v, _ := m.TopVia()
			_ = 0
			sinkS = v.Branch
			sinkS = m.FromTag()
			sinkS = m.ToTag()
			sinkS = m.CallID()
			sinkS = m.CSeq().Method
		}
	})
	b.Run("sipgo", func(b *testing.B) {
		p := sipgo.NewParser()
		b.ReportAllocs()
		for b.Loop() {
			m, err := p.ParseSIP(data)
			if err != nil {
				b.Fatal(err)
			}
			r := m.(*sipgo.Request)
			br, _ := r.Via().Params.Get("branch")
			ft, _ := r.From().Params.Get("tag")
			tt, _ := r.To().Params.Get("tag")
			sinkS = br + ft + tt + r.CallID().Value() + string(r.CSeq().MethodName)
		}
	})
}

// Parse and serialise.
func BenchmarkParseWrite(b *testing.B) {
	data := invite(b)
	b.Run("sipkit", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 2048)
		for b.Loop() {
			m, err := sip.Parse(data)
			if err != nil {
				b.Fatal(err)
			}
			buf = m.AppendTo(buf[:0])
		}
		sinkB = buf
	})
	b.Run("sipgo", func(b *testing.B) {
		p := sipgo.NewParser()
		b.ReportAllocs()
		for b.Loop() {
			m, err := p.ParseSIP(data)
			if err != nil {
				b.Fatal(err)
			}
			sinkS = m.String()
		}
	})
}
