package sip

import "testing"

var sinkHdrs []hdr

func BenchmarkFloorSplit(b *testing.B) {
	data := typicalInvite(b)
	s := string(data)
	var arr [16]hdr
	i := 0
	for ; s[i] != '\n'; i++ {
	}
	for b.Loop() {
		h, _, _ := splitHeaders(s, i+1, arr[:0], DefaultLimits, false)
		sinkHdrs = h
	}
}
