// Package agent runs the user agents of `sipkit call` and `sipkit
// answer`: a transport, a ua.UA, and one printed line per call event.
package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"

	"github.com/sipkit/sipkit/auth"
	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
	"github.com/sipkit/sipkit/ua"
)

// Listen is a parsed --listen value, "udp:127.0.0.1:5060".
type Listen struct {
	Transport string
	Addr      netip.AddrPort
}

// ParseListen parses TRANSPORT:HOST:PORT (IPv6 hosts in brackets).
func ParseListen(s string) (Listen, error) {
	tr, addr, ok := strings.Cut(s, ":")
	if !ok {
		return Listen{}, fmt.Errorf("listen %q: want TRANSPORT:HOST:PORT", s)
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return Listen{}, fmt.Errorf("listen %q: %w", s, err)
	}
	switch t := strings.ToUpper(tr); t {
	case transport.UDP, transport.TCP, transport.TLS, transport.WS, transport.WSS:
		return Listen{Transport: t, Addr: ap}, nil
	}
	return Listen{}, fmt.Errorf("listen %q: transport must be udp, tcp, tls, ws or wss", s)
}

// Secure reports whether the listener needs a certificate (TLS, WSS).
func (l Listen) Secure() bool { return l.Transport == transport.TLS || l.Transport == transport.WSS }

// stack is a transport with a UA on it.
type stack struct {
	tl      *transport.Layer
	u       *ua.UA
	local   netip.AddrPort
	tr      string
	printer *printer
}

// newStack listens on l and starts a UA whose Contact is user@ that
// address; events go to the printer, then to onEvent.
func newStack(l Listen, user string, creds *auth.Client, p *printer, onEvent func(ua.Event), onIncoming func(*stack, *ua.IncomingCall)) (*stack, error) {
	if l.Secure() {
		// The user agents have no certificate flags (sipkit proxy has).
		return nil, fmt.Errorf("listen %s: call and answer listen on udp, tcp or ws only", strings.ToLower(l.Transport))
	}
	s := &stack{printer: p, tr: l.Transport}
	var u *ua.UA
	var ready sync.WaitGroup
	ready.Add(1)
	tl, err := transport.New(transport.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handler: transport.HandlerFunc(func(m sip.Message, src transport.Source) {
			ready.Wait()
			u.HandleMessage(m, src)
		}),
	})
	if err != nil {
		return nil, err
	}
	local, err := tl.Listen(l.Transport, l.Addr.String())
	if err != nil {
		return nil, err
	}
	s.tl, s.local = tl, local
	contact := fmt.Sprintf("<sip:%s@%s", user, local)
	if l.Transport != transport.UDP {
		contact += ";transport=" + strings.ToLower(l.Transport)
	}
	contact += ">"
	var incoming func(*ua.IncomingCall)
	if onIncoming != nil {
		incoming = func(ic *ua.IncomingCall) { onIncoming(s, ic) }
	}
	u, err = ua.New(ua.Config{
		Sender:     tl,
		Contact:    contact,
		OnIncoming: incoming,
		Auth:       creds,
		OnEvent: func(ev ua.Event) {
			p.print(ev)
			if onEvent != nil {
				onEvent(ev)
			}
		},
	})
	ready.Done()
	if err != nil {
		tl.Close()
		return nil, err
	}
	s.u = u
	return s, nil
}

func (s *stack) close() { s.tl.Close() }

// sdp is a minimal session description for the calls the tool makes:
// one PCMU audio stream (the tool sends no media).
func sdp(ip netip.Addr) []byte {
	family := "IP4"
	if ip.Is6() {
		family = "IP6"
	}
	return []byte("v=0\r\no=sipkit 1 1 IN " + family + " " + ip.String() + "\r\ns=sipkit\r\nc=IN " + family + " " + ip.String() +
		"\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
}

// printer writes one line per event, as text or JSON.
type printer struct {
	mu   sync.Mutex
	out  io.Writer
	json bool
}

type eventLine struct {
	Event     string `json:"event"`
	CallID    string `json:"call_id"`
	LocalTag  string `json:"local_tag"`
	RemoteTag string `json:"remote_tag,omitempty"`
	Status    int    `json:"status,omitempty"`
	Cause     string `json:"cause,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Missed    *bool  `json:"missed,omitempty"`
}

func (p *printer) print(ev ua.Event) {
	l := eventLine{Event: ev.Kind.String(), CallID: ev.ID.CallID, LocalTag: ev.ID.LocalTag, RemoteTag: ev.ID.RemoteTag}
	if ev.Response != nil {
		l.Status = ev.Response.StatusCode()
	}
	if ev.Status != 0 {
		l.Status = ev.Status
	}
	if ev.Kind == ua.Terminated {
		l.Cause = ev.Cause.String()
		if ev.Request != nil && ev.Request.Method() == sip.CANCEL {
			missed := ev.Missed
			l.Missed = &missed
		}
	}
	if ev.Reason != nil {
		l.Reason = ev.Reason.String()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		b, _ := json.Marshal(l)
		fmt.Fprintf(p.out, "%s\n", b)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s call-id=%s local-tag=%s remote-tag=%s", l.Event, l.CallID, l.LocalTag, l.RemoteTag)
	if l.Status != 0 {
		fmt.Fprintf(&b, " status=%d", l.Status)
	}
	if l.Cause != "" {
		fmt.Fprintf(&b, " cause=%s", l.Cause)
	}
	if l.Reason != "" {
		fmt.Fprintf(&b, " reason=%q", l.Reason)
	}
	if l.Missed != nil {
		fmt.Fprintf(&b, " missed=%v", *l.Missed)
	}
	fmt.Fprintln(p.out, b.String())
}

// credentials returns a digest client for username, or nil.
func credentials(username, password string) *auth.Client {
	if username == "" {
		return nil
	}
	return &auth.Client{Accounts: []auth.Account{{Username: username, Password: password}}}
}
