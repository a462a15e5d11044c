package registrar

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sipkit/sipkit/auth"
	"github.com/sipkit/sipkit/location"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

// Registrar answers REGISTER requests (RFC 3261 §10.3) from the bindings
// in a location.Store. It is safe for concurrent use: REGISTERs for one
// address-of-record are put in order by the Store's atomic Update.
type Registrar struct {
	cfg Config
}

// New returns a Registrar for cfg, or an error wrapping ErrConfig.
func New(cfg Config) (*Registrar, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Registrar{cfg: cfg}, nil
}

// supportedExtensions are the option tags this registrar implements
// (RFC 3261 §8.2.2.3): Path, RFC 3327.
const supportedExtensions = "path"

// Register answers one REGISTER and returns the final response to send.
// The caller has checked that the Request-URI is a domain it serves (RFC
// 3261 §10.3 step 1). Register never panics on bad input: a malformed
// Contact, Expires, Path, Require or CSeq gets a 400 whose reason phrase
// names the problem.
//
// It follows the steps of RFC 3261 §10.3: Require (step 2, 420 for an
// extension other than path), authentication and authorisation (steps 3
// and 4, 401 and 403), the address-of-record (step 5, 404 for a domain
// not served), the Contact: * removal (step 6), adding, refreshing and
// removing bindings with the Call-ID and CSeq rules, all or nothing
// (step 7, 423, 500), and the 200 listing every binding with its expires
// and a Date (step 8). With RFC 3327 Path, the Path of the REGISTER is
// kept with each binding and, if the UA supports path, echoed in the 200.
func (r *Registrar) Register(ctx context.Context, req *sip.Request, src transport.Source) *sip.Response {
	now := r.cfg.Now()
	if req.Method() != sip.REGISTER {
		resp := reply(req, sip.StatusMethodNotAllowed, "")
		resp.SetHeader("Allow", sip.REGISTER)
		return resp
	}
	if cs := req.CSeq(); cs.Method != sip.REGISTER {
		return reply(req, sip.StatusBadRequest, "CSeq method is not REGISTER")
	}
	if req.CallID() == "" {
		return reply(req, sip.StatusBadRequest, "Missing Call-ID")
	}

	// Step 2: extensions the UAC requires (§8.2.2.3).
	required, err := req.Tokens("Require")
	if err != nil {
		return reply(req, sip.StatusBadRequest, "Bad Require header")
	}
	var unsupported []string
	for _, tag := range required {
		if !strings.EqualFold(tag, supportedExtensions) {
			unsupported = append(unsupported, tag)
		}
	}
	if len(unsupported) > 0 {
		resp := reply(req, sip.StatusBadExtension, "")
		resp.SetHeader("Unsupported", strings.Join(unsupported, ", "))
		resp.SetHeader("Supported", supportedExtensions)
		return resp
	}

	// Steps 3 and 4: who is asking, and may they change this AOR?
	to := req.To().URI
	if r.cfg.Auth != nil {
		user, err := r.cfg.Auth.Verify(req, false)
		if err != nil {
			return r.cfg.Auth.ChallengeResponse(req, false, errors.Is(err, auth.ErrStale))
		}
		if !to.IsSIP() || user != sip.Unescape(to.User) {
			return reply(req, sip.StatusForbidden, "Auth ID does not match the AOR")
		}
	}

	// Step 5: the address-of-record, in canonical form.
	if !to.IsSIP() {
		return reply(req, sip.StatusNotFound, "Not a SIP address-of-record")
	}
	key, ok := r.cfg.AOR(to)
	if !ok {
		return reply(req, sip.StatusNotFound, "Domain not served")
	}
	key = strings.Clone(key)

	contacts := req.Contacts()
	if len(contacts) == 0 {
		// A query (§10.2.3): list the bindings, change nothing.
		bs, err := r.cfg.Store.Lookup(ctx, key, now)
		if err != nil {
			return reply(req, sip.StatusServerInternalError, "Location service error")
		}
		return r.ok(req, bs, now)
	}

	hdrExpires, hasExpires := uint32(0), false
	switch e, err := req.Expires(); {
	case err == nil:
		hdrExpires, hasExpires = e, true
	case !errors.Is(err, sip.ErrNoSuchHeader):
		return reply(req, sip.StatusBadRequest, "Bad Expires header")
	}

	var fn func([]location.Binding) ([]location.Binding, error)
	var result []location.Binding
	if wildcard(contacts) {
		// Step 6: Contact: * removes every binding, alone and with
		// Expires: 0 only.
		if len(contacts) != 1 {
			return reply(req, sip.StatusBadRequest, "Contact * must be the only Contact")
		}
		if !hasExpires || hdrExpires != 0 {
			return reply(req, sip.StatusBadRequest, "Contact * requires Expires: 0")
		}
		callID, seq := req.CallID(), req.CSeq().Seq
		fn = func(cur []location.Binding) ([]location.Binding, error) {
			for _, b := range cur {
				if b.CallID == callID && seq <= b.CSeq {
					return nil, errOutOfOrder
				}
			}
			return nil, nil
		}
	} else {
		// Step 7: each contact with its expiry.
		wants, resp := r.parseContacts(req, contacts, hdrExpires, hasExpires)
		if resp != nil {
			return resp
		}
		paths, err := req.Paths()
		if err != nil {
			return reply(req, sip.StatusBadRequest, "Bad Path header")
		}
		tmpl := location.Binding{
			AOR:      key,
			CallID:   strings.Clone(req.CallID()),
			CSeq:     req.CSeq().Seq,
			Received: received(src),
		}
		if ua, ok := req.Get("User-Agent"); ok {
			tmpl.UserAgent = strings.Clone(ua)
		}
		for _, p := range paths {
			tmpl.Path = append(tmpl.Path, p.String())
		}
		fn = func(cur []location.Binding) ([]location.Binding, error) {
			next, err := r.apply(cur, wants, tmpl, now)
			result = next
			return next, err
		}
	}

	switch err := r.cfg.Store.Update(ctx, key, now, fn); {
	case errors.Is(err, errOutOfOrder):
		// §10.3 steps 6 and 7: the update is aborted and the request
		// fails, with 500 since no binding change is committed.
		return reply(req, sip.StatusServerInternalError, "Out of order CSeq for a binding")
	case errors.Is(err, errTooMany):
		return reply(req, sip.StatusServiceUnavailable, "Too many registered contacts")
	case err != nil:
		return reply(req, sip.StatusServerInternalError, "Location service error")
	}
	resp := r.ok(req, result, now)
	// RFC 3327 §5.3: the registrar returns the Path it stored, in the
	// same order, to a UA that supports path (so the UA can check it).
	if req.HasToken("Supported", "path") || req.HasToken("Require", "path") {
		for v := range req.Values("Path") {
			resp.AppendHeader("Path", v)
		}
	}
	return resp
}

// contactWant is one contact of a REGISTER, parsed.
type contactWant struct {
	uri    sip.URI
	text   string // the URI's wire form, owned
	q      int
	expiry time.Duration // 0: remove
}

func wildcard(contacts []sip.NameAddr) bool {
	for _, c := range contacts {
		if c.Wildcard {
			return true
		}
	}
	return false
}

// parseContacts reads the q and expiry of every contact (RFC 3261 §10.3
// step 7), or returns the response for the first bad one: 400 for a
// malformed parameter, 423 for an interval too brief. A contact listed
// twice counts once, with its last value.
func (r *Registrar) parseContacts(req *sip.Request, contacts []sip.NameAddr, hdrExpires uint32, hasExpires bool) ([]contactWant, *sip.Response) {
	wants := make([]contactWant, 0, len(contacts))
	for _, c := range contacts {
		w := contactWant{uri: c.URI, text: c.URI.String(), q: 1000}
		if c.Params.Has("q") {
			q, ok := c.Q()
			if !ok {
				return nil, reply(req, sip.StatusBadRequest, "Bad q parameter in Contact")
			}
			w.q = q
		}
		secs, explicit := hdrExpires, hasExpires
		if c.Params.Has("expires") {
			e, ok := c.Expires()
			if !ok {
				return nil, reply(req, sip.StatusBadRequest, "Bad expires parameter in Contact")
			}
			secs, explicit = e, true
		}
		w.expiry = time.Duration(secs) * time.Second
		if !explicit {
			w.expiry = r.cfg.DefaultExpires
		}
		// 423 only if the interval is nonzero, under an hour and under
		// the minimum (§10.3 step 7): our own default is never refused.
		if explicit && w.expiry > 0 && w.expiry < time.Hour && w.expiry < r.cfg.MinExpires {
			resp := reply(req, sip.StatusIntervalTooBrief, "")
			resp.SetHeader("Min-Expires", strconv.FormatInt(seconds(r.cfg.MinExpires), 10))
			return nil, resp
		}
		w.expiry = min(w.expiry, r.cfg.MaxExpires)
		// The same contact twice: the later one wins.
		for i := range wants {
			if wants[i].uri.Equal(w.uri) {
				wants = append(wants[:i], wants[i+1:]...)
				break
			}
		}
		wants = append(wants, w)
	}
	return wants, nil
}

// apply computes the bindings of the AOR after the REGISTER, from the
// current ones (RFC 3261 §10.3 step 7): a contact with no binding is
// added, unless its expiry is zero; one with a binding from another
// Call-ID replaces it or, with expiry zero, removes it; one with a
// binding from the same Call-ID must have a higher CSeq to do so, or the
// whole request fails. The bindings of this request come first, as the
// most recently registered.
func (r *Registrar) apply(cur []location.Binding, wants []contactWant, tmpl location.Binding, now time.Time) ([]location.Binding, error) {
	fresh := make([]location.Binding, 0, len(wants)+len(cur))
	added := false
	for _, w := range wants {
		i := find(cur, w.uri)
		if i >= 0 {
			b := cur[i]
			if b.CallID == tmpl.CallID && tmpl.CSeq <= b.CSeq {
				return nil, errOutOfOrder
			}
			cur = append(cur[:i], cur[i+1:]...)
		} else if w.expiry > 0 {
			added = true
		}
		if w.expiry > 0 {
			b := tmpl
			b.Path = append([]string(nil), tmpl.Path...)
			b.Contact, b.Q, b.Expires = w.text, w.q, now.Add(w.expiry)
			fresh = append(fresh, b)
		}
	}
	next := append(fresh, cur...)
	if added && len(next) > r.cfg.MaxContacts {
		return nil, errTooMany
	}
	return next, nil
}

// find returns the index of the binding whose contact equals u under
// RFC 3261 §19.1.4, or -1.
func find(bs []location.Binding, u sip.URI) int {
	for i, b := range bs {
		v, err := sip.ParseURI(b.Contact)
		if (err == nil && v.Equal(u)) || (err != nil && b.Contact == u.String()) {
			return i
		}
	}
	return -1
}

// ok builds the 200 of step 8: every current binding with the expires
// the registrar chose, highest q first, and a Date.
func (r *Registrar) ok(req *sip.Request, bs []location.Binding, now time.Time) *sip.Response {
	resp := reply(req, sip.StatusOK, "")
	sortBindings(bs)
	for _, b := range bs {
		left := b.Expires.Sub(now)
		if left <= 0 {
			continue
		}
		v := "<" + b.Contact + ">;expires=" + strconv.FormatInt(seconds(left), 10)
		if b.Q != 1000 {
			v += ";q=" + formatQ(b.Q)
		}
		resp.AppendHeader("Contact", v)
	}
	resp.SetHeader("Date", now.UTC().Format(dateLayout))
	resp.SetHeader("Supported", supportedExtensions)
	return resp
}

// dateLayout is the rfc1123-date of RFC 3261 §20.17, always in GMT.
const dateLayout = "Mon, 02 Jan 2006 15:04:05 GMT"

// reply builds a response with a To tag, which a UAS adds to every
// response to a request without one (RFC 3261 §8.2.6.2).
func reply(req *sip.Request, code int, reason string) *sip.Response {
	resp := sip.NewResponse(req, code, reason)
	if req.ToTag() == "" {
		resp.SetToTag(sip.NewTag())
	}
	return resp
}

// received is the source of the REGISTER as "transport:IP:port".
func received(src transport.Source) string {
	if !src.Remote.IsValid() {
		return ""
	}
	return strings.ToLower(src.Transport) + ":" + src.Remote.String()
}

// seconds rounds d up to whole seconds, so a binding with 0.2 s left is
// listed with expires=1, not 0 (which would read as removed).
func seconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

// formatQ writes a q-value in thousandths as RFC 3261 §25.1 qvalue.
func formatQ(q int) string {
	switch {
	case q >= 1000:
		return "1"
	case q <= 0:
		return "0"
	}
	s := strconv.Itoa(1000 + q)[1:] // three digits
	return "0." + strings.TrimRight(s, "0")
}

// sortBindings orders bindings as location.Store.Lookup does: highest q
// first, the stored (most recent first) order among equals.
func sortBindings(bs []location.Binding) {
	slices.SortStableFunc(bs, func(a, b location.Binding) int { return cmp.Compare(b.Q, a.Q) })
}
