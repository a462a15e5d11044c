package sip

import "testing"

var sinkV Via
var sinkN NameAddr
var sinkU URI
var sinkK HeaderKind

func BenchmarkMicroVia(b *testing.B) {
	for b.Loop() {
		sinkV, _, _ = parseVia("SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport", 0)
	}
}
func BenchmarkMicroFrom(b *testing.B) {
	for b.Loop() {
		sinkN, _, _, _ = parseNameAddr(`"Alice" <sip:alice@atlanta.example.com>;tag=1928301774`, 0, false)
	}
}
func BenchmarkMicroURI(b *testing.B) {
	for b.Loop() {
		sinkU, _ = ParseURI("sip:alice@pc33.atlanta.example.com:5060;transport=udp")
	}
}
func BenchmarkMicroLookup(b *testing.B) {
	for b.Loop() {
		sinkK = LookupKind("Content-Length") + LookupKind("User-Agent") + LookupKind("Via") + LookupKind("Supported")
	}
}
func BenchmarkMicroAlloc(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkMsg = new(Request)
	}
}
