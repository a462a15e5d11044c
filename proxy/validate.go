package proxy

import (
	"strings"

	"github.com/sipkit/sipkit/sip"
)

// check is request validation, RFC 3261 §16.3 (syntax was checked by the
// parser; the transport answered 400 to what did not parse): URI scheme
// (416), Max-Forwards (483; an OPTIONS the proxy answers itself),
// Proxy-Require (420). It returns the status to answer with, or 0, and
// extra headers for it. Loop detection (step 4) comes after route
// preprocessing, which it depends on.
func (p *Proxy) check(in *sip.Request) (code int, reason string, hdrs []string) {
	ruri := in.RequestURI()
	if !ruri.IsSIP() {
		return 416, "", nil // §16.3 step 2
	}
	if mf, ok := in.MaxForwards(); ok && mf == 0 {
		// §16.3 step 3: an OPTIONS may be answered here instead.
		if in.Method() == sip.OPTIONS {
			return 200, "", []string{"Allow", allow}
		}
		return 483, "", nil
	}
	if in.Has("Proxy-Require") {
		tags, err := in.Tokens("Proxy-Require")
		if err != nil {
			return 400, "Bad Proxy-Require", nil
		}
		// This proxy implements no option that needs Proxy-Require
		// (Kamailio's stock config neither): every tag is unsupported.
		if len(tags) > 0 {
			return 420, "", []string{"Unsupported", strings.Join(tags, ", ")}
		}
	}
	return 0, "", nil
}

const allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, UPDATE, PRACK, SUBSCRIBE, NOTIFY, REFER, MESSAGE"
