// Package dialog keeps SIP dialogs (RFC 3261 §12): their IDs, state,
// route sets, remote targets and CSeq numbers, and a table that finds a
// dialog by every ID an application was given for it.
//
// A UAC dialog exists from the moment its INVITE is sent, under an ID
// without a remote tag; when a response brings a To tag the dialog is
// filed under its full ID too, and the first ID keeps finding it, so an
// application holding the ID from an earlier event never gets "not
// found". Each further remote tag (a forked INVITE) makes a dialog of its
// own in the same call. Lookup by Call-ID returns every dialog of a call.
package dialog

import (
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/sipkit/sipkit/sip"
)

// ID identifies a dialog (RFC 3261 §12): Call-ID and the tags, from this
// side's point of view. A UAC dialog before any tagged response has an
// empty RemoteTag.
type ID struct {
	CallID, LocalTag, RemoteTag string
}

func (id ID) String() string {
	return fmt.Sprintf("call-id=%s;local-tag=%s;remote-tag=%s", id.CallID, id.LocalTag, id.RemoteTag)
}

// State is a dialog state (§12): before a tagged response a UAC dialog
// is Calling; a provisional response with a tag makes it Early, a 2xx
// Confirmed.
type State uint8

const (
	Calling State = iota
	Early
	Confirmed
	Terminated
)

var stateNames = [...]string{"Calling", "Early", "Confirmed", "Terminated"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(?)"
}

// Dialog is one dialog's state. Its methods are safe for concurrent use.
type Dialog struct {
	mu           sync.Mutex
	id           ID
	state        State
	uac          bool
	local        string // our name-addr without tag, as in From (UAC) or To (UAS)
	remote       string // the peer's name-addr without tag
	localSeq     uint32
	remoteSeq    uint32
	remoteTarget sip.URI
	routes       []string // route set, as Route header values (§12.1.1, §12.1.2)
	secure       bool

	filed []ID // the IDs a Table holds it under; guarded by the Table's lock
}

// NewUAC returns the dialog of an INVITE being sent (§12.1.2), in state
// Calling, with no remote tag yet.
func NewUAC(invite *sip.Request) *Dialog {
	from, _ := invite.Get("From")
	to, _ := invite.Get("To")
	return &Dialog{
		id:           ID{CallID: invite.CallID(), LocalTag: invite.FromTag()},
		uac:          true,
		local:        stripTag(from),
		remote:       stripTag(to),
		localSeq:     invite.CSeq().Seq,
		remoteTarget: invite.RequestURI(),
		secure:       invite.RequestURI().IsSecure(),
	}
}

// NewUACFromResponse returns the dialog a 2xx to invite makes, as
// Update would, for a response that arrives after the call it belongs
// to has ended: enough to ACK it and end it with BYE (§13.2.2.4).
func NewUACFromResponse(invite *sip.Request, resp *sip.Response) *Dialog {
	d := NewUAC(invite)
	d.localSeq = resp.CSeq().Seq
	d.Update(resp)
	return d
}

// Fork returns a dialog of the same INVITE for another remote tag (a
// forked request answered by several UASs, §12.1.2, §13.2.2.4).
func (d *Dialog) Fork() *Dialog {
	d.mu.Lock()
	defer d.mu.Unlock()
	return &Dialog{id: ID{CallID: d.id.CallID, LocalTag: d.id.LocalTag}, uac: true,
		local: d.local, remote: d.remote, localSeq: d.localSeq, remoteTarget: d.remoteTarget, secure: d.secure}
}

// NewUAS returns the dialog a UAS creates for an INVITE it answers with
// localTag (§12.1.1), in state Early.
func NewUAS(invite *sip.Request, localTag string) *Dialog {
	from, _ := invite.Get("From")
	to, _ := invite.Get("To")
	d := &Dialog{
		id:        ID{CallID: invite.CallID(), LocalTag: localTag, RemoteTag: invite.FromTag()},
		state:     Early,
		local:     stripTag(to),
		remote:    stripTag(from),
		remoteSeq: invite.CSeq().Seq,
		secure:    invite.RequestURI().IsSecure(),
	}
	// §12.1.1: the route set is the Record-Route list in order; the
	// remote target is the Contact.
	d.routes = routeStrings(invite.RecordRoutes())
	if cs := invite.Contacts(); len(cs) > 0 {
		d.remoteTarget = cs[0].URI
	}
	return d
}

// ID returns the dialog's current ID.
func (d *Dialog) ID() ID {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.id
}

// State returns the dialog's state.
func (d *Dialog) State() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state
}

// IsUAC reports whether this side sent the INVITE.
func (d *Dialog) IsUAC() bool { return d.uac }

// RemoteTarget returns where in-dialog requests go (the peer's Contact).
func (d *Dialog) RemoteTarget() sip.URI {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.remoteTarget
}

// SetRemoteTarget replaces the remote target, from the Contact of a
// target refresh request or response (§12.2).
func (d *Dialog) SetRemoteTarget(u sip.URI) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.remoteTarget = u
}

// Routes returns the route set.
func (d *Dialog) Routes() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.routes...)
}

// Update applies a response to the dialog's INVITE on the UAC side
// (§12.1.2): the To tag, and from a tagged 1xx or 2xx the route set
// (Record-Route reversed) and remote target (Contact); a 2xx confirms
// the dialog, and a later 2xx only refreshes the target (§12.2.1.2).
// It returns the ID the dialog had before.
func (d *Dialog) Update(resp *sip.Response) (old ID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	old = d.id
	code := resp.StatusCode()
	tag := resp.ToTag()
	if tag == "" || code >= 300 || d.state == Terminated {
		return old
	}
	d.id.RemoteTag = tag
	if d.state != Confirmed {
		d.routes = routeStrings(resp.RecordRoutes())
		slices.Reverse(d.routes)
	}
	if cs := resp.Contacts(); len(cs) > 0 {
		d.remoteTarget = cs[0].URI
	}
	if code >= 200 {
		d.state = Confirmed
	} else if d.state == Calling {
		d.state = Early
	}
	return old
}

// SetLocalSeq sets the local CSeq after the UAC sent its INVITE again
// (with credentials, RFC 3261 §22.2).
func (d *Dialog) SetLocalSeq(seq uint32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.localSeq = seq
}

// Confirm moves a UAS dialog to Confirmed (the ACK for its 2xx came).
func (d *Dialog) Confirm() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state != Terminated {
		d.state = Confirmed
	}
}

// Terminate ends the dialog.
func (d *Dialog) Terminate() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.state = Terminated
}

// ReceiveCSeq checks an in-dialog request's CSeq against the remote
// sequence (§12.2.2): lower than the last one is out of order (the UAS
// answers 500); otherwise it is remembered.
func (d *Dialog) ReceiveCSeq(seq uint32) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.remoteSeq != 0 && seq < d.remoteSeq {
		return false
	}
	d.remoteSeq = seq
	return true
}

// NewRequest builds a request within the dialog (§12.2.1.1): Request-URI
// and Route from the remote target and route set (loose or strict
// routing), From and To with the tags, Call-ID, the next local CSeq
// (ACK and CANCEL take cseq instead), Max-Forwards, and a Via with a new
// branch for the transport to complete. contact, if not empty, is
// added as Contact (INVITE, UPDATE).
func (d *Dialog) NewRequest(method string, contact string) *sip.Request {
	d.mu.Lock()
	seq := d.localSeq
	if method != sip.ACK && method != sip.CANCEL {
		d.localSeq++
		seq = d.localSeq
	}
	id, routes, target := d.id, d.routes, d.remoteTarget
	local, remote := d.local, d.remote
	d.mu.Unlock()
	return buildRequest(method, seq, id, local, remote, target, routes, contact)
}

// NewACK builds the ACK for a 2xx to the INVITE with CSeq number seq
// (§13.2.2.4): a request of its own, with a new branch, routed like any
// other in the dialog.
func (d *Dialog) NewACK(seq uint32) *sip.Request {
	d.mu.Lock()
	id, routes, target := d.id, d.routes, d.remoteTarget
	local, remote := d.local, d.remote
	d.mu.Unlock()
	return buildRequest(sip.ACK, seq, id, local, remote, target, routes, "")
}

func buildRequest(method string, seq uint32, id ID, local, remote string, target sip.URI, routes []string, contact string) *sip.Request {
	ruri := target
	// §12.2.1.1: with a strict router first (no lr), it takes the
	// Request-URI and the remote target goes last in the Route list.
	if len(routes) > 0 {
		if first, err := sip.ParseNameAddr(routes[0]); err == nil && !first.URI.Params.Has("lr") {
			ruri = first.URI
			routes = append(append([]string(nil), routes[1:]...), "<"+target.String()+">")
		}
	}
	req := sip.NewRequest(method, ruri)
	req.AppendHeader("Via", "SIP/2.0/UDP 0.0.0.0;rport;branch="+sip.NewBranch())
	for _, r := range routes {
		req.AppendHeader("Route", r)
	}
	req.AppendHeader("Max-Forwards", "70")
	req.AppendHeader("From", withTag(local, id.LocalTag))
	req.AppendHeader("To", withTag(remote, id.RemoteTag))
	req.AppendHeader("Call-ID", id.CallID)
	req.AppendHeader("CSeq", strconv.FormatUint(uint64(seq), 10)+" "+method)
	if contact != "" {
		req.AppendHeader("Contact", contact)
	}
	req.AppendHeader("Content-Length", "0")
	return req
}

func withTag(nameAddr, tag string) string {
	if tag == "" {
		return nameAddr
	}
	return nameAddr + ";tag=" + tag
}

// stripTag removes the tag parameter from a From or To value, keeping
// the rest as written.
func stripTag(v string) string {
	na, err := sip.ParseNameAddr(v)
	if err != nil || na.Tag() == "" {
		return v
	}
	na.Params = na.Params.Delete("tag")
	return na.String()
}

// routeStrings copies a Record-Route list as Route values, so the
// dialog keeps none of the message it came in.
func routeStrings(rrs []sip.NameAddr, err error) []string {
	if err != nil {
		return nil
	}
	out := make([]string, len(rrs))
	for i, rr := range rrs {
		out[i] = rr.String()
	}
	return out
}
