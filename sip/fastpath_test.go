package sip

import (
	"math/rand/v2"
	"testing"
)

// TestFirstParamFastPath: Via and From/To take a plainly written first
// ";branch=" or ";tag=" without the general parameter scan. Over many
// parameter lists, those that start that way and those that do not,
// they find the same value, end and problem as the general scan alone.
// (FuzzParse covers the rest of the grammar.)
func TestFirstParamFastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{";", "=", "branch", "tag", "Branch", "TAG", "x", "z9hG4bK1", " ", "\t", `"q"`, "[::1]", ":", ",", "@", "lr"}
	tails := []string{"", ";branch=a;branch=b", ";tag=a;tag=b", ";branch=", ";tag=", ";branch=\"q\"", ";tag=[::1]", ";branch=a ;x", ";tag=a,", ";branch=a@", ";x;branch=b"}
	for range 20000 {
		var b []byte
		for range r.IntN(7) {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		tails = append(tails, string(b), ";branch="+string(b), ";tag="+string(b))
	}
	for _, tail := range tails {
		if k := skipWS(tail, 0); k < len(tail) && tail[k] != ';' {
			continue // not a parameter list: a port, or junk
		}
		s := "SIP/2.0/UDP h" + tail
		var v viaPos
		next, prob := scanVia(&v, s, 0)
		end, bs, be, want := scanParamsFind(s, len(s)-len(tail), "branch")
		if next != end || prob != want || prob == "" && (v.branch != bs || v.branchEnd != be) {
			t.Errorf("Via %q: end %d %q branch %d-%d; general scan %d %q %d-%d", s, next, prob, v.branch, v.branchEnd, end, want, bs, be)
		}
		s = "<sip:h>" + tail
		var n nameAddrPos
		next, prob = scanNameAddr(&n, s, 0, true)
		end, ts, te, want := scanParamsFind(s, len(s)-len(tail), "tag")
		if next != end || prob != want || prob == "" && (n.tag != ts || n.tagEnd != te) {
			t.Errorf("name-addr %q: end %d %q tag %d-%d; general scan %d %q %d-%d", s, next, prob, n.tag, n.tagEnd, end, want, ts, te)
		}
	}
}

// TestWordFastPaths: the Via's transport, compared as a word for the
// common ones, ends where a token scan ends.
func TestWordFastPaths(t *testing.T) {
	words := []string{"INVITE", "INFO", "ACK", "BYE", "CANCEL", "REGISTER", "REFER", "OPTIONS", "NOTIFY", "SUBSCRIBE", "MESSAGE", "PRACK", "PUBLISH", "UPDATE",
		"UDP", "TCP", "TLS", "WS", "WSS", "SCTP", "udp", "INVITEX", "INVIT", "REGISTERS", "SUBSCRIBER", "W", "", "X-1"}
	for _, w := range words {
		for _, after := range []string{" sip:a@h SIP/2.0", "  h", "\th", "", " ", "x sip:a@h SIP/2.0", "/h"} {
			line := w + after
			via := "SIP/2.0/" + line
			var v viaPos
			_, prob := scanVia(&v, via, 0)
			if want := scanToken(via, 8); prob == "" && v.transportEnd != want || prob == "" && want == 8 {
				t.Errorf("Via %q: transport ends at %d (%q), token at %d", via, v.transportEnd, prob, want)
			}
		}
	}
}
