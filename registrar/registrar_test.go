package registrar

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipkit/sipkit/auth"
	"github.com/sipkit/sipkit/location"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/siptest"
	"github.com/sipkit/sipkit/transport"
)

const bobAOR = "sip:bob@example.com"

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

var phone = transport.Source{
	Transport: "UDP",
	Local:     netip.MustParseAddrPort("127.0.0.1:5060"),
	Remote:    netip.MustParseAddrPort("127.0.0.1:5072"),
}

// harness is a registrar on a memory store with a fake clock.
type harness struct {
	t     *testing.T
	now   time.Time
	store *location.Memory
	reg   *Registrar
}

func newHarness(t *testing.T, edit func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, now: t0, store: location.NewMemory(0)}
	t.Cleanup(func() { h.store.Close() })
	cfg := Config{Store: h.store, Now: func() time.Time { return h.now }}
	if edit != nil {
		edit(&cfg)
	}
	reg, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.reg = reg
	return h
}

// request builds a REGISTER for bob; headers replace or add to the
// siptest defaults ("Call-ID: x", "CSeq: 2 REGISTER", "Contact: ...").
func (h *harness) request(headers ...string) *sip.Request {
	h.t.Helper()
	if !slices.ContainsFunc(headers, func(s string) bool { return strings.HasPrefix(s, "To:") }) {
		headers = append([]string{"To: <" + bobAOR + ">"}, headers...)
	}
	return siptest.Request(h.t, "REGISTER", "sip:example.com", headers...)
}

func (h *harness) send(req *sip.Request) *sip.Response {
	h.t.Helper()
	resp := h.reg.Register(context.Background(), req, phone)
	// What goes on the wire must parse.
	if _, err := sip.Parse([]byte(resp.String())); err != nil {
		h.t.Fatalf("response does not parse: %v\n%s", err, resp)
	}
	if resp.ToTag() == "" {
		h.t.Errorf("response without To tag (RFC 3261 §8.2.6.2):\n%s", resp)
	}
	return resp
}

func (h *harness) register(headers ...string) *sip.Response {
	h.t.Helper()
	return h.send(h.request(headers...))
}

// mustOK registers and fails the test unless the answer is 200.
func (h *harness) mustOK(headers ...string) *sip.Response {
	h.t.Helper()
	resp := h.register(headers...)
	if resp.StatusCode() != 200 {
		h.t.Fatalf("got %s, want 200", resp.StartLine())
	}
	return resp
}

// listed returns the Contacts of a 200 as "uri;expires=N[;q=Q]".
func listed(t *testing.T, resp *sip.Response) []string {
	t.Helper()
	var out []string
	for _, c := range resp.Contacts() {
		e, ok := c.Expires()
		if !ok {
			t.Errorf("Contact %s without expires (RFC 3261 §10.3 step 8)", c)
		}
		s := c.URI.String() + ";expires=" + strconv.FormatUint(uint64(e), 10)
		if q, ok := c.Params.Get("q"); ok {
			s += ";q=" + q
		}
		out = append(out, s)
	}
	return out
}

// stored returns the bindings of bob at the harness time.
func (h *harness) stored() []location.Binding {
	h.t.Helper()
	bs, err := h.store.Lookup(context.Background(), bobAOR, h.now)
	if err != nil {
		h.t.Fatal(err)
	}
	return bs
}

func storedContacts(bs []location.Binding) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Contact)
	}
	return out
}

func wantListed(t *testing.T, resp *sip.Response, want ...string) {
	t.Helper()
	if got := listed(t, resp); !slices.Equal(got, want) {
		t.Errorf("200 lists %q, want %q", got, want)
	}
}

func wantStatus(t *testing.T, resp *sip.Response, code int, reasonHas string) {
	t.Helper()
	if resp.StatusCode() != code || !strings.Contains(resp.Reason(), reasonHas) {
		t.Errorf("got %q, want %d with reason containing %q", resp.StartLine(), code, reasonHas)
	}
}

// TestRegisterAddsBinding: a new contact becomes a binding of the AOR
// with the REGISTER's Call-ID, CSeq, source and User-Agent (RFC 3261
// §10.3 step 7), and the 200 lists it (step 8).
func TestRegisterAddsBinding(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.mustOK("Call-ID: a1@127.0.0.1", "CSeq: 7 REGISTER",
		"Contact: \"Bob\" <sip:bob@127.0.0.1:5072;transport=udp>;expires=600;+sip.instance=\"<urn:uuid:1>\"",
		"User-Agent: phone/1.0")
	wantListed(t, resp, "sip:bob@127.0.0.1:5072;transport=udp;expires=600")
	got := h.stored()
	want := []location.Binding{{
		AOR: bobAOR, Contact: "sip:bob@127.0.0.1:5072;transport=udp", Q: 1000,
		Expires: t0.Add(600 * time.Second), CallID: "a1@127.0.0.1", CSeq: 7,
		Received: "udp:127.0.0.1:5072", UserAgent: "phone/1.0",
	}}
	if !equalBindings(got, want) {
		t.Errorf("stored\n %+v\nwant\n %+v", got, want)
	}
}

func equalBindings(a, b []location.Binding) bool {
	return slices.EqualFunc(a, b, func(x, y location.Binding) bool {
		return x.AOR == y.AOR && x.Contact == y.Contact && x.Q == y.Q && x.Expires.Equal(y.Expires) &&
			x.CallID == y.CallID && x.CSeq == y.CSeq && slices.Equal(x.Path, y.Path) &&
			x.Received == y.Received && x.UserAgent == y.UserAgent
	})
}

// TestRegisterExpiry: the expires parameter of a contact wins over the
// Expires header, which wins over the registrar's default; the
// registrar may shorten an interval to its maximum (RFC 3261 §10.3
// step 7), and the 200 says what it chose (step 8).
func TestRegisterExpiry(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    string
	}{
		{"default", []string{"Contact: <sip:bob@127.0.0.1:5072>"}, "expires=3600"},
		{"Expires header", []string{"Contact: <sip:bob@127.0.0.1:5072>", "Expires: 120"}, "expires=120"},
		{"param over header", []string{"Contact: <sip:bob@127.0.0.1:5072>;expires=300", "Expires: 120"}, "expires=300"},
		{"param over header, shorter", []string{"Contact: <sip:bob@127.0.0.1:5072>;expires=90", "Expires: 7200"}, "expires=90"},
		{"capped to max", []string{"Contact: <sip:bob@127.0.0.1:5072>", "Expires: 100000"}, "expires=86400"},
		{"huge capped", []string{"Contact: <sip:bob@127.0.0.1:5072>;expires=99999999999"}, "expires=86400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			wantListed(t, h.mustOK(tt.headers...), "sip:bob@127.0.0.1:5072;"+tt.want)
		})
	}
	t.Run("configured default and max", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.DefaultExpires = 10 * time.Minute; c.MaxExpires = time.Hour })
		wantListed(t, h.mustOK("Contact: <sip:a@127.0.0.1:5072>, <sip:b@127.0.0.1:5074>;expires=7200"),
			"sip:a@127.0.0.1:5072;expires=600", "sip:b@127.0.0.1:5074;expires=3600")
	})
}

// TestRegisterSameContactTwice: a contact listed twice in one REGISTER
// is one binding, with the last value (RFC 3261 §10.3 step 7 processes
// the contacts in order, so the later one updates what the earlier one
// set).
func TestRegisterSameContactTwice(t *testing.T) {
	tests := []struct {
		name    string
		contact string
		want    []string
	}{
		{"refreshed", "Contact: <sip:a@127.0.0.1:5072>;expires=300, <sip:a@127.0.0.1:5072>;expires=600", []string{"sip:a@127.0.0.1:5072;expires=600"}},
		{"added then removed", "Contact: <sip:a@127.0.0.1:5072>;expires=300, <sip:A@127.0.0.1:5072>, <sip:a@127.0.0.1:5072>;expires=0", []string{"sip:A@127.0.0.1:5072;expires=3600"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			wantListed(t, h.mustOK(tt.contact), tt.want...)
			if n := len(h.stored()); n != len(tt.want) {
				t.Errorf("%d bindings stored, want %d", n, len(tt.want))
			}
		})
	}
}

// TestRegisterRefreshUpdatesExpiry: a REGISTER for a contact already
// bound (compared as URIs, RFC 3261 §19.1.4, not as text) refreshes that
// binding instead of adding one (§10.3 step 7).
func TestRegisterRefreshUpdatesExpiry(t *testing.T) {
	h := newHarness(t, nil)
	h.mustOK("Call-ID: a1@127.0.0.1", "CSeq: 1 REGISTER", "Contact: <sip:bob@127.0.0.1:5072;transport=udp>", "Expires: 600")
	h.now = h.now.Add(500 * time.Second)
	resp := h.mustOK("Call-ID: a1@127.0.0.1", "CSeq: 2 REGISTER",
		"Contact: <sip:bob@127.0.0.1:5072;TRANSPORT=UDP>;q=0.7", "Expires: 600")
	wantListed(t, resp, "sip:bob@127.0.0.1:5072;TRANSPORT=UDP;expires=600;q=0.7")
	bs := h.stored()
	if len(bs) != 1 || bs[0].CSeq != 2 || !bs[0].Expires.Equal(h.now.Add(600*time.Second)) || bs[0].Q != 700 {
		t.Errorf("after refresh: %+v, want one binding, CSeq 2, q 700, expiring 600 s from now", bs)
	}
}

// TestRegisterRemove: an expiry of zero, from the contact's parameter or
// the Expires header, removes that binding and no other (RFC 3261
// §10.2.2, §10.3 step 7).
func TestRegisterRemove(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
	}{
		{"expires param", []string{"Contact: <sip:a@127.0.0.1:5072;transport=udp>;expires=0"}},
		{"Expires header", []string{"Contact: <sip:a@127.0.0.1:5072;transport=udp>", "Expires: 0"}},
		{"param over header", []string{"Contact: <sip:a@127.0.0.1:5072;transport=udp>;expires=0", "Expires: 600"}},
		{"equivalent URI", []string{"Contact: <sip:a@127.0.0.1:5072;Transport=UDP>;expires=0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.mustOK("Call-ID: a1@127.0.0.1", "CSeq: 1 REGISTER", "Contact: <sip:a@127.0.0.1:5072;transport=udp>")
			h.mustOK("Call-ID: b1@127.0.0.1", "CSeq: 1 REGISTER", "Contact: <sip:b@127.0.0.1:5074>")
			resp := h.mustOK(append([]string{"Call-ID: a1@127.0.0.1", "CSeq: 2 REGISTER"}, tt.headers...)...)
			wantListed(t, resp, "sip:b@127.0.0.1:5074;expires=3600")
			if got := storedContacts(h.stored()); !slices.Equal(got, []string{"sip:b@127.0.0.1:5074"}) {
				t.Errorf("stored %q", got)
			}
		})
	}
	t.Run("unknown contact", func(t *testing.T) {
		h := newHarness(t, nil)
		wantListed(t, h.mustOK("Contact: <sip:a@127.0.0.1:5072>;expires=0"))
		if len(h.stored()) != 0 {
			t.Error("removing an unknown contact stored something")
		}
	})
}

// TestRegisterWildcard: Contact: * removes every binding, but only alone
// and with Expires: 0; otherwise 400 (RFC 3261 §10.3 step 6).
func TestRegisterWildcard(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		code    int
		reason  string
	}{
		{"with Expires 0", []string{"Contact: *", "Expires: 0"}, 200, ""},
		{"without Expires", []string{"Contact: *"}, 400, "Expires: 0"},
		{"with Expires 60", []string{"Contact: *", "Expires: 60"}, 400, "Expires: 0"},
		{"with another contact", []string{"Contact: *, <sip:c@127.0.0.1:5076>", "Expires: 0"}, 400, "only Contact"},
		{"with another Contact header", []string{"Contact: <sip:c@127.0.0.1:5076>", "Contact: *", "Expires: 0"}, 400, "only Contact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.mustOK("Contact: <sip:a@127.0.0.1:5072>")
			h.mustOK("Contact: <sip:b@127.0.0.1:5074>")
			resp := h.register(tt.headers...)
			wantStatus(t, resp, tt.code, tt.reason)
			left := len(h.stored())
			if tt.code == 200 && (left != 0 || len(resp.Contacts()) != 0) {
				t.Errorf("%d bindings left, %d listed; want none", left, len(resp.Contacts()))
			}
			if tt.code != 200 && left != 2 {
				t.Errorf("%d bindings left after a refused request, want 2", left)
			}
		})
	}
}

// TestRegisterSeveralContacts: an AOR has as many bindings as contacts
// registered, each with its q-value; the 200 lists them highest q first
// (RFC 3261 §10.2.1.2, §10.3 step 8) and so does the store.
func TestRegisterSeveralContacts(t *testing.T) {
	h := newHarness(t, nil)
	h.mustOK("Call-ID: desk@127.0.0.1", "Contact: <sip:desk@127.0.0.1:5072>;q=0.5")
	resp := h.mustOK("Call-ID: mobile@127.0.0.1",
		"Contact: <sip:mobile@127.0.0.1:5074>;q=1.0, <sip:voicemail@127.0.0.1:5076>;q=0.1", "Expires: 600")
	wantListed(t, resp,
		"sip:mobile@127.0.0.1:5074;expires=600",
		"sip:desk@127.0.0.1:5072;expires=3600;q=0.5",
		"sip:voicemail@127.0.0.1:5076;expires=600;q=0.1")
	want := []string{"sip:mobile@127.0.0.1:5074", "sip:desk@127.0.0.1:5072", "sip:voicemail@127.0.0.1:5076"}
	if got := storedContacts(h.stored()); !slices.Equal(got, want) {
		t.Errorf("Lookup order %q, want %q", got, want)
	}
}

// TestRegisterQuery: a REGISTER without Contact changes nothing and is
// answered with the current bindings (RFC 3261 §10.2.3, §10.3 step 8),
// their expires counting down.
func TestRegisterQuery(t *testing.T) {
	h := newHarness(t, nil)
	h.mustOK("Contact: <sip:a@127.0.0.1:5072>", "Expires: 600")
	h.now = h.now.Add(100 * time.Second)
	resp := h.mustOK()
	wantListed(t, resp, "sip:a@127.0.0.1:5072;expires=500")
	if bs := h.stored(); len(bs) != 1 || !bs[0].Expires.Equal(t0.Add(600*time.Second)) {
		t.Errorf("query changed the bindings: %+v", bs)
	}
	empty := newHarness(t, nil)
	wantListed(t, empty.mustOK())
}

// TestRegisterIntervalTooBrief: a nonzero expiry under one hour and under
// the minimum gets 423 with Min-Expires, and changes nothing (RFC 3261
// §10.3 step 7, §20.23); zero is a removal and never too brief; an hour
// or more is never too brief, whatever the minimum.
func TestRegisterIntervalTooBrief(t *testing.T) {
	tests := []struct {
		name       string
		min        time.Duration
		headers    []string
		code       int
		minExpires string
	}{
		{"header below min", 0, []string{"Contact: <sip:a@127.0.0.1:5072>", "Expires: 59"}, 423, "60"},
		{"param below min", 0, []string{"Contact: <sip:a@127.0.0.1:5072>;expires=30", "Expires: 600"}, 423, "60"},
		{"one of two below min", 0, []string{"Contact: <sip:a@127.0.0.1:5072>, <sip:b@127.0.0.1:5074>;expires=1"}, 423, "60"},
		{"at min", 0, []string{"Contact: <sip:a@127.0.0.1:5072>", "Expires: 60"}, 200, ""},
		{"zero", 0, []string{"Contact: <sip:a@127.0.0.1:5072>", "Expires: 0"}, 200, ""},
		{"configured min", 5 * time.Minute, []string{"Contact: <sip:a@127.0.0.1:5072>", "Expires: 299"}, 423, "300"},
		{"hour never too brief", 2 * time.Hour, []string{"Contact: <sip:a@127.0.0.1:5072>", "Expires: 3600"}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.MinExpires = tt.min })
			resp := h.register(tt.headers...)
			wantStatus(t, resp, tt.code, "")
			if got, _ := resp.Get("Min-Expires"); got != tt.minExpires {
				t.Errorf("Min-Expires %q, want %q", got, tt.minExpires)
			}
			if tt.code == 423 && len(h.stored()) != 0 {
				t.Error("a 423 request stored bindings")
			}
		})
	}
}

// TestRegisterCallIDCSeq: a binding last set by the same Call-ID is only
// changed by a higher CSeq; otherwise the request fails with 500 and
// nothing changes, so a REGISTER that arrives late is not applied over a
// newer one. A different Call-ID (the UA restarted) replaces the
// binding whatever its CSeq (RFC 3261 §10.3 steps 6 and 7).
func TestRegisterCallIDCSeq(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		code    int
		callID  string
		cseq    uint32
	}{
		{"same Call-ID, higher CSeq", []string{"Call-ID: a1@127.0.0.1", "CSeq: 11 REGISTER"}, 200, "a1@127.0.0.1", 11},
		{"same Call-ID, same CSeq", []string{"Call-ID: a1@127.0.0.1", "CSeq: 10 REGISTER"}, 500, "a1@127.0.0.1", 10},
		{"same Call-ID, lower CSeq", []string{"Call-ID: a1@127.0.0.1", "CSeq: 9 REGISTER"}, 500, "a1@127.0.0.1", 10},
		{"other Call-ID, lower CSeq", []string{"Call-ID: a2@127.0.0.1", "CSeq: 1 REGISTER"}, 200, "a2@127.0.0.1", 1},
		{"same Call-ID, lower CSeq, removal", []string{"Call-ID: a1@127.0.0.1", "CSeq: 9 REGISTER", "Contact: <sip:a@127.0.0.1:5072>;expires=0"}, 500, "a1@127.0.0.1", 10},
		{"same Call-ID, lower CSeq, Contact *", []string{"Call-ID: a1@127.0.0.1", "CSeq: 9 REGISTER", "Contact: *", "Expires: 0"}, 500, "a1@127.0.0.1", 10},
		{"same Call-ID, same CSeq, Contact *", []string{"Call-ID: a1@127.0.0.1", "CSeq: 10 REGISTER", "Contact: *", "Expires: 0"}, 500, "a1@127.0.0.1", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.mustOK("Call-ID: a1@127.0.0.1", "CSeq: 10 REGISTER", "Contact: <sip:a@127.0.0.1:5072>", "Expires: 600")
			h.now = h.now.Add(time.Minute)
			headers := tt.headers
			if !slices.ContainsFunc(headers, func(h string) bool { return strings.HasPrefix(h, "Contact:") }) {
				headers = append([]string{"Contact: <sip:a@127.0.0.1:5072>", "Expires: 900"}, headers...)
			}
			resp := h.register(headers...)
			wantStatus(t, resp, tt.code, "")
			bs := h.stored()
			if len(bs) != 1 || bs[0].CallID != tt.callID || bs[0].CSeq != tt.cseq {
				t.Fatalf("stored %+v, want one binding from %s CSeq %d", bs, tt.callID, tt.cseq)
			}
			wantExp := t0.Add(600 * time.Second)
			if tt.code == 200 {
				wantExp = h.now.Add(900 * time.Second)
			}
			if !bs[0].Expires.Equal(wantExp) {
				t.Errorf("expires %v, want %v", bs[0].Expires, wantExp)
			}
		})
	}
}

// TestRegisterAllOrNothing: when one contact of a REGISTER fails the
// CSeq rule, the others are not applied either (RFC 3261 §10.3 step 7:
// updates are committed only if all succeed).
func TestRegisterAllOrNothing(t *testing.T) {
	h := newHarness(t, nil)
	h.mustOK("Call-ID: a1@127.0.0.1", "CSeq: 10 REGISTER", "Contact: <sip:a@127.0.0.1:5072>")
	resp := h.register("Call-ID: a1@127.0.0.1", "CSeq: 5 REGISTER",
		"Contact: <sip:new@127.0.0.1:5080>, <sip:a@127.0.0.1:5072>")
	wantStatus(t, resp, 500, "Out of order")
	if got := storedContacts(h.stored()); !slices.Equal(got, []string{"sip:a@127.0.0.1:5072"}) {
		t.Errorf("stored %q after a failed request", got)
	}
}

// TestRegister200ListsAllBindings: the 200 lists every binding of the
// AOR, including those other UAs registered, each with the time it has
// left, and carries a Date (RFC 3261 §10.3 step 8, §20.17).
func TestRegister200ListsAllBindings(t *testing.T) {
	h := newHarness(t, nil)
	h.mustOK("Call-ID: desk@127.0.0.1", "Contact: <sip:desk@127.0.0.1:5072>", "Expires: 600")
	h.now = h.now.Add(10 * time.Second)
	resp := h.mustOK("Call-ID: mobile@127.0.0.1", "Contact: <sip:mobile@127.0.0.1:5074>", "Expires: 300")
	wantListed(t, resp, "sip:mobile@127.0.0.1:5074;expires=300", "sip:desk@127.0.0.1:5072;expires=590")
	date, ok := resp.Get("Date")
	if !ok {
		t.Fatal("no Date header")
	}
	if date != "Sat, 01 Mar 2025 12:00:10 GMT" {
		t.Errorf("Date %q, want the registrar's time in RFC 1123 GMT form", date)
	}
}

// TestRegisterPath: the Path of a REGISTER is stored with its bindings
// in order, and returned in the 200 to a UA that supports path; the
// registrar says it supports path (RFC 3327 §5.3; like Kamailio's
// path_mode "lazy", a UA that does not support path is registered
// without the Path echoed).
func TestRegisterPath(t *testing.T) {
	path := []string{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"}
	tests := []struct {
		name    string
		headers []string
		echo    bool
	}{
		{"Supported path", []string{"Supported: path, 100rel"}, true},
		{"Require path", []string{"Require: path"}, true},
		{"no support", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			headers := append([]string{"Contact: <sip:a@127.0.0.1:5072>",
				"Path: <sip:p1.example.com;lr>", "Path: <sip:p2.example.com;lr>"}, tt.headers...)
			resp := h.mustOK(headers...)
			bs := h.stored()
			if len(bs) != 1 || !slices.Equal(bs[0].Path, path) {
				t.Errorf("stored %+v, want Path %q", bs, path)
			}
			var echoed []string
			for v := range resp.Values("Path") {
				echoed = append(echoed, v)
			}
			if tt.echo && !slices.Equal(echoed, path) || !tt.echo && echoed != nil {
				t.Errorf("200 Path %q, echo %v", echoed, tt.echo)
			}
			if !resp.HasToken("Supported", "path") {
				t.Error("200 without Supported: path")
			}
		})
	}
}

// TestRegisterRequire: an option tag in Require that the registrar does
// not support gets 420 listing it in Unsupported (RFC 3261 §8.2.2.3,
// §10.3 step 2); path is supported (RFC 3327).
func TestRegisterRequire(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.register("Contact: <sip:a@127.0.0.1:5072>", "Require: path, gruu, foo")
	wantStatus(t, resp, 420, "")
	if got, _ := resp.Get("Unsupported"); got != "gruu, foo" {
		t.Errorf("Unsupported %q, want \"gruu, foo\"", got)
	}
	if len(h.stored()) != 0 {
		t.Error("a 420 request stored bindings")
	}
}

// TestRegisterBadInput: malformed values get 400 with a reason naming
// the problem (RFC 3261 §8.2, §21.4.1), and nothing is stored.
func TestRegisterBadInput(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		reason  string
	}{
		{"expires param", []string{"Contact: <sip:a@127.0.0.1:5072>;expires=soon"}, "expires parameter"},
		{"negative expires", []string{"Contact: <sip:a@127.0.0.1:5072>;expires=-1"}, "expires parameter"},
		{"Expires header", []string{"Contact: <sip:a@127.0.0.1:5072>", "Expires: soon"}, "Expires header"},
		{"q too big", []string{"Contact: <sip:a@127.0.0.1:5072>;q=2"}, "q parameter"},
		{"q malformed", []string{"Contact: <sip:a@127.0.0.1:5072>;q=high"}, "q parameter"},
		{"Path", []string{"Contact: <sip:a@127.0.0.1:5072>", "Path: <sip:p1.example.com"}, "Path header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			wantStatus(t, h.register(tt.headers...), 400, tt.reason)
			if len(h.stored()) != 0 {
				t.Error("a refused request stored bindings")
			}
		})
	}
}

// TestRegisterBadCSeqMethod: a request whose CSeq method is not
// REGISTER (built, not parsed, since the parser refuses it) gets 400
// rather than a panic (RFC 3261 §8.2.6, §20.16).
func TestRegisterBadCSeqMethod(t *testing.T) {
	h := newHarness(t, nil)
	req := h.request("Contact: <sip:a@127.0.0.1:5072>")
	if err := req.SetHeader("CSeq", "1 INVITE"); err != nil {
		t.Skipf("cannot build the request: %v", err)
	}
	wantStatus(t, h.reg.Register(context.Background(), req, phone), 400, "CSeq")
}

// TestRegisterNotServed: an AOR the registrar does not keep bindings for
// gets 404 (RFC 3261 §10.3 step 5), and so does a To URI that is not a
// SIP URI.
func TestRegisterNotServed(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.AOR = func(to sip.URI) (string, bool) {
			return location.Key(to), strings.EqualFold(to.Host, "example.com")
		}
	})
	wantStatus(t, h.register("To: <sip:bob@other.example.com>", "Contact: <sip:a@127.0.0.1:5072>"), 404, "Domain not served")
	wantStatus(t, h.register("To: <tel:+15551234567>", "Contact: <sip:a@127.0.0.1:5072>"), 404, "")
	if len(h.stored()) != 0 {
		t.Error("a 404 request stored bindings")
	}
	h.mustOK("Contact: <sip:a@127.0.0.1:5072>")
}

// TestRegisterMaxContacts: a REGISTER that would take the AOR beyond
// MaxContacts is refused with 503, like Kamailio's max_contacts;
// refreshing and removing bindings at the limit still work.
func TestRegisterMaxContacts(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxContacts = 2 })
	h.mustOK("Call-ID: a@127.0.0.1", "Contact: <sip:a@127.0.0.1:5072>, <sip:b@127.0.0.1:5074>")
	wantStatus(t, h.register("Contact: <sip:c@127.0.0.1:5076>"), 503, "Too many")
	h.mustOK("Call-ID: a@127.0.0.1", "CSeq: 2 REGISTER", "Contact: <sip:a@127.0.0.1:5072>")
	h.mustOK("Call-ID: a@127.0.0.1", "CSeq: 3 REGISTER", "Contact: <sip:a@127.0.0.1:5072>;expires=0, <sip:c@127.0.0.1:5076>")
	if got := storedContacts(h.stored()); len(got) != 2 || !slices.Contains(got, "sip:c@127.0.0.1:5076") {
		t.Errorf("stored %q", got)
	}
}

// failingStore fails every call.
type failingStore struct{}

func (failingStore) Lookup(context.Context, string, time.Time) ([]location.Binding, error) {
	return nil, errors.New("down")
}
func (failingStore) Update(context.Context, string, time.Time, func([]location.Binding) ([]location.Binding, error)) error {
	return errors.New("down")
}
func (failingStore) Len() int { return 0 }

// TestRegisterStoreFailure: when the bindings cannot be committed the
// request fails with 500 (RFC 3261 §10.3 step 7).
func TestRegisterStoreFailure(t *testing.T) {
	reg, err := New(Config{Store: failingStore{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, headers := range [][]string{{"Contact: <sip:a@127.0.0.1:5072>"}, nil} {
		req := siptest.Request(t, "REGISTER", "sip:example.com", append([]string{"To: <" + bobAOR + ">"}, headers...)...)
		wantStatus(t, reg.Register(context.Background(), req, phone), 500, "")
	}
}

// TestRegisterAuth: with digest authentication, a REGISTER without
// credentials is challenged (RFC 3261 §10.3 step 3, §22.1), valid
// credentials register, a wrong password is challenged again, an
// expired nonce gets stale=true (RFC 7616 §3.3), and a user may only
// register their own AOR (§10.3 step 4: 403).
func TestRegisterAuth(t *testing.T) {
	users := map[string]string{"bob": "secret", "alice": "wonder"}
	setup := func(t *testing.T) *harness {
		h := newHarness(t, nil)
		srv := &auth.Server{
			Realm:       "example.com",
			Credentials: func(u string) (string, bool) { p, ok := users[u]; return p, ok },
			Now:         func() time.Time { return h.now },
		}
		h.reg.cfg.Auth = srv
		return h
	}
	// authorized sends req, answers its 401 as acct and returns the
	// response to the retry.
	authorized := func(h *harness, acct auth.Account, advance time.Duration) *sip.Response {
		t.Helper()
		req := h.request("Contact: <sip:bob@127.0.0.1:5072>")
		ch := h.send(req)
		if ch.StatusCode() != 401 || !ch.Has("WWW-Authenticate") {
			t.Fatalf("first REGISTER: %s, want 401 with WWW-Authenticate", ch.StartLine())
		}
		if len(h.stored()) != 0 {
			t.Fatal("an unauthenticated REGISTER stored bindings")
		}
		retry, err := (&auth.Client{Accounts: []auth.Account{acct}}).Authorize(req, ch)
		if err != nil {
			t.Fatal(err)
		}
		m, err := sip.Parse([]byte(retry.String()))
		if err != nil {
			t.Fatal(err)
		}
		h.now = h.now.Add(advance)
		return h.send(m.(*sip.Request))
	}

	t.Run("valid", func(t *testing.T) {
		h := setup(t)
		wantStatus(t, authorized(h, auth.Account{Username: "bob", Password: "secret"}, 0), 200, "")
		if len(h.stored()) != 1 {
			t.Error("not registered")
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		h := setup(t)
		resp := authorized(h, auth.Account{Username: "bob", Password: "guess"}, 0)
		wantStatus(t, resp, 401, "")
		if ch, _ := resp.WWWAuthenticate(); len(ch) == 0 || ch[0].Stale {
			t.Errorf("challenges %+v, want fresh ones without stale", ch)
		}
	})
	t.Run("other user's AOR", func(t *testing.T) {
		h := setup(t)
		wantStatus(t, authorized(h, auth.Account{Username: "alice", Password: "wonder"}, 0), 403, "")
		if len(h.stored()) != 0 {
			t.Error("a 403 request stored bindings")
		}
	})
	t.Run("stale nonce", func(t *testing.T) {
		h := setup(t)
		resp := authorized(h, auth.Account{Username: "bob", Password: "secret"}, 301*time.Second)
		wantStatus(t, resp, 401, "")
		if ch, _ := resp.WWWAuthenticate(); len(ch) == 0 || !ch[0].Stale {
			t.Errorf("challenges %+v, want stale=true", ch)
		}
	})
}

// TestNewValidates: New refuses a Config it cannot work with.
func TestNewValidates(t *testing.T) {
	store := location.NewMemory(0)
	defer store.Close()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no store", Config{}},
		{"negative expires", Config{Store: store, DefaultExpires: -time.Second}},
		{"min above max", Config{Store: store, MinExpires: 2 * time.Hour, MaxExpires: time.Hour}},
		{"auth without realm", Config{Store: store, Auth: &auth.Server{}}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: New = %v, want ErrConfig", tt.name, err)
		}
	}
}

// TestFormatQ: q-values are written as RFC 3261 §25.1 qvalue.
func TestFormatQ(t *testing.T) {
	for q, want := range map[int]string{0: "0", 1: "0.001", 10: "0.01", 500: "0.5", 750: "0.75", 999: "0.999", 1000: "1"} {
		if got := formatQ(q); got != want {
			t.Errorf("formatQ(%d) = %q, want %q", q, got, want)
		}
	}
}
