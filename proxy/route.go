package proxy

import (
	"encoding/binary"
	"hash/maphash"
	"strconv"
	"strings"

	"github.com/sipkit/sipkit/sip"
)

// preprocessRoute is RFC 3261 §16.4. A Request-URI that is a value this
// proxy put in a Record-Route came from a strict router: the last Route
// becomes the Request-URI. Then the proxy's own values on top of the
// Route set are removed (two of them after double record-routing, RFC
// 5658, as Kamailio's loose_route does). It returns a status to answer
// with, or 0.
func (p *Proxy) preprocessRoute(in *sip.Request) int {
	ruri := in.RequestURI()
	// Our Record-Route values all carry lr: a Request-URI without it is
	// addressed to the proxy itself (an OPTIONS ping), not a strict
	// router's copy of one.
	if ruri.User == "" && ruri.Params.Has("lr") && p.IsLocal(ruri) && in.Has("Route") {
		routes, err := in.Routes()
		if err != nil || len(routes) == 0 {
			return 400
		}
		last := routes[len(routes)-1]
		in.SetRequestURI(last.URI)
		if err := removeLastRoute(in, len(routes)); err != nil {
			return 400
		}
	}
	for range 2 {
		if !in.Has("Route") {
			break
		}
		routes, err := in.Routes()
		if err != nil || len(routes) == 0 {
			return 400
		}
		if !p.IsLocal(routes[0].URI) {
			break
		}
		in.RemoveTopRoute()
	}
	return 0
}

// removeLastRoute drops the last of n Route values: the Route headers
// are written again without it.
func removeLastRoute(in *sip.Request, n int) error {
	routes, err := in.Routes()
	if err != nil {
		return err
	}
	vals := make([]string, 0, n-1)
	for _, r := range routes[:n-1] {
		vals = append(vals, r.String())
	}
	in.RemoveHeader("Route")
	for _, v := range vals {
		if err := in.AppendHeader("Route", v); err != nil {
			return err
		}
	}
	return nil
}

// loopHash is the part of a branch that detects loops (RFC 3261 §16.6
// step 8, RFC 5393 §4.2): a hash of what a spiral changes and a loop
// does not — the Request-URI after route preprocessing, the tags,
// Call-ID, CSeq number, Proxy-Require, Proxy-Authorization and Route.
// The top Via is left out: it changes on every hop, loop or not (RFC
// 5393 §4.2.1).
func (p *Proxy) loopHash(in *sip.Request) string {
	var h maphash.Hash
	h.SetSeed(p.seed)
	h.WriteString(in.StartLine())
	h.WriteByte(0)
	h.WriteString(in.FromTag())
	h.WriteByte(0)
	h.WriteString(in.ToTag())
	h.WriteByte(0)
	h.WriteString(in.CallID())
	h.WriteByte(0)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], in.CSeq().Seq)
	h.Write(n[:])
	for _, name := range [...]string{"Proxy-Require", "Proxy-Authorization", "Route"} {
		for v := range in.Values(name) {
			h.WriteByte(1)
			h.WriteString(v)
		}
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// looped is loop detection (§16.3 step 4): a Via of this proxy whose
// branch carries the hash the request has now was added by this proxy
// to this very request, unchanged: it came back. A spiral (a changed
// Request-URI) hashes differently and passes.
func (p *Proxy) looped(in *sip.Request, hash string) bool {
	for _, v := range in.Vias() {
		b := v.Branch
		i := strings.LastIndexByte(b, '.')
		if i < 0 || b[i+1:] != hash {
			continue
		}
		if p.ownVia(v) {
			return true
		}
	}
	return false
}

// branchID is a new branch for a request forwarded with loop hash h.
func branchID(h string) string { return sip.NewBranch() + "." + h }
