package sip

import (
	"os"
	"testing"
)

// typicalInvite is the shared benchmark INVITE (788 bytes, 12 headers,
// SDP body), the same message bench/compare gives sipgo.
func typicalInvite(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile("../../shared/bench/parser/invite.sip")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

var sinkMsg Message

func BenchmarkParseInvite(b *testing.B) {
	data := typicalInvite(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		sinkMsg = m
	}
}

var sinkStr string

// BenchmarkParseInviteRead parses and reads what a transaction layer
// needs: the top branch, both tags, Call-ID and CSeq.
func BenchmarkParseInviteRead(b *testing.B) {
	data := typicalInvite(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		v, _ := m.TopVia()
		sinkStr = v.Branch
		sinkStr = m.FromTag()
		sinkStr = m.ToTag()
		sinkStr = m.CallID()
		sinkStr = m.CSeq().Method
	}
}

var sinkBytes []byte

// BenchmarkParseInviteWrite parses and writes the message back into a
// reused buffer.
func BenchmarkParseInviteWrite(b *testing.B) {
	data := typicalInvite(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	buf := make([]byte, 0, 2048)
	for b.Loop() {
		m, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		buf = m.AppendTo(buf[:0])
	}
	sinkBytes = buf
}

// BenchmarkForwardInvite is what a proxy does per request: parse, clone,
// add a Via and a Record-Route, decrement Max-Forwards, write.
func BenchmarkForwardInvite(b *testing.B) {
	data := typicalInvite(b)
	b.ReportAllocs()
	buf := make([]byte, 0, 2048)
	via := Via{Transport: "UDP", Host: "192.0.2.1", Port: 5060, Params: ";branch=z9hG4bK-proxy-1"}
	rr, _ := ParseURI("sip:192.0.2.1;lr")
	for b.Loop() {
		m, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		r := Clone(m.(*Request))
		if err := r.PrependVia(via); err != nil {
			b.Fatal(err)
		}
		if _, err := r.DecrementMaxForwards(); err != nil {
			b.Fatal(err)
		}
		if err := r.PrependRecordRoute(NameAddr{URI: rr}); err != nil {
			b.Fatal(err)
		}
		buf = r.AppendTo(buf[:0])
	}
	sinkBytes = buf
}
