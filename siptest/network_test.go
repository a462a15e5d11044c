package siptest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipkit/sipkit/sip"
	"github.com/sipkit/sipkit/transport"
)

var (
	addrA = netip.MustParseAddrPort("127.0.0.1:5060")
	addrB = netip.MustParseAddrPort("127.0.0.1:5070")
	addrC = netip.MustParseAddrPort("127.0.0.1:5080")
)

// received is one delivery seen by a recorder.
type received struct {
	msg sip.Message
	src transport.Source
	at  time.Time
}

// recorder is a transport.Handler that keeps what it is given.
type recorder struct {
	mu  sync.Mutex
	got []received
}

func (r *recorder) HandleMessage(msg sip.Message, src transport.Source) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, received{msg, src, time.Now()})
}

func (r *recorder) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func mustSend(t *testing.T, e *Endpoint, req *sip.Request, to netip.AddrPort) {
	t.Helper()
	if _, err := e.SendRequest(context.Background(), req, transport.Target{Transport: e.Transport(), Addr: to}); err != nil {
		t.Fatalf("SendRequest: %v", err)
	}
}

// RFC 3261 §18.1.1: the transport writes its own transport and sent-by
// into the top Via, keeping the parameters; the receiver gets a message
// parsed from the bytes, and the Source the transport layer would fill.
func TestRequestDeliveredAsParsedCopyWithViaRewritten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		defer n.Close()
		var rb recorder
		a := n.Endpoint("udp", addrA.String(), nil)
		n.Endpoint("UDP", addrB.String(), &rb)

		req := Request(t, "OPTIONS", "sip:bob@127.0.0.1:5070",
			"Via: SIP/2.0/TCP 10.9.9.9:1234;branch=z9hG4bK-keep;rport")
		got, err := a.SendRequest(context.Background(), req, transport.Target{Transport: "TCP", Addr: addrB, Host: "b.example"})
		if err != nil {
			t.Fatal(err)
		}
		if want := (transport.Target{Transport: "UDP", Addr: addrB, Host: "b.example"}); got != want {
			t.Errorf("SendRequest returned %+v, want %+v", got, want)
		}
		const wantVia = "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-keep;rport"
		if v, _ := req.TopVia(); v.String() != wantVia {
			t.Errorf("sender's top Via = %q, want %q", v.String(), wantVia)
		}
		synctest.Wait()

		rs := rb.all()
		if len(rs) != 1 {
			t.Fatalf("delivered %d messages, want 1", len(rs))
		}
		r := rs[0]
		if r.msg == sip.Message(req) {
			t.Error("receiver got the sender's *sip.Request, want a parsed copy")
		}
		if r.msg.String() != req.String() {
			t.Errorf("delivered\n%s\nwant\n%s", r.msg, req)
		}
		if v, _ := r.msg.TopVia(); v.String() != wantVia || v.Branch != "z9hG4bK-keep" {
			t.Errorf("delivered top Via = %q (branch %q), want %q", v.String(), v.Branch, wantVia)
		}
		if want := (transport.Source{Transport: "UDP", Local: addrB, Remote: addrA}); r.src != want {
			t.Errorf("Source = %+v, want %+v", r.src, want)
		}
		// The receiver's copy is its own: editing it changes neither
		// the sender's message nor the log.
		rr := r.msg.(*sip.Request)
		if err := rr.SetHeader("Subject", "edited"); err != nil {
			t.Fatal(err)
		}
		if req.Has("Subject") || n.Log()[0].Msg.(*sip.Request).Has("Subject") {
			t.Error("editing the delivered message changed the sender's or the log's")
		}
	})
}

// A state machine sends while holding its lock; if the network called
// the receiver's handler on the sender's goroutine it would deadlock.
// Here the handler blocks until the sender has returned: called
// synchronously, the bubble deadlocks and synctest fails the test.
func TestDeliveryIsNotOnSendersGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		defer n.Close()
		returned := make(chan struct{})
		handled := make(chan struct{})
		a := n.Endpoint("UDP", addrA.String(), nil)
		n.Endpoint("UDP", addrB.String(), transport.HandlerFunc(func(sip.Message, transport.Source) {
			<-returned
			close(handled)
		}))
		mustSend(t, a, Request(t, "OPTIONS", "sip:b@127.0.0.1:5070"), addrB)
		close(returned)
		<-handled
	})
}

// RFC 3261 §18.2.2: a response goes back where the request came from.
func TestResponseRoutedToSourceRemote(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		defer n.Close()
		var ra, rc recorder
		a := n.Endpoint("UDP", addrA.String(), &ra)
		n.Endpoint("UDP", addrC.String(), &rc)
		b := n.Endpoint("UDP", addrB.String(), nil)
		var sendErr error
		b.SetHandler(transport.HandlerFunc(func(msg sip.Message, src transport.Source) {
			sendErr = b.SendResponse(context.Background(), Response(t, msg.(*sip.Request), 200, "To: <sip:b@127.0.0.1:5070>;tag=b1"), src)
		}))

		req := Request(t, "OPTIONS", "sip:b@127.0.0.1:5070")
		mustSend(t, a, req, addrB)
		synctest.Wait()

		if sendErr != nil {
			t.Fatalf("SendResponse: %v", sendErr)
		}
		rs := ra.all()
		if len(rs) != 1 {
			t.Fatalf("caller got %d messages, want 1", len(rs))
		}
		resp, ok := rs[0].msg.(*sip.Response)
		if !ok || resp.StatusCode() != 200 || resp.ToTag() != "b1" || resp.Branch() != req.Branch() {
			t.Errorf("caller got\n%s\nwant the 200 with To tag b1 and branch %s", rs[0].msg, req.Branch())
		}
		if want := (transport.Source{Transport: "UDP", Local: addrA, Remote: addrB}); rs[0].src != want {
			t.Errorf("Source = %+v, want %+v", rs[0].src, want)
		}
		if len(rc.all()) != 0 {
			t.Error("a bystander received the response")
		}
	})
}

// RFC 3261 §18.2.2, RFC 3581 §4: with no Source, the response goes to
// the top Via's received and rport.
func TestResponseWithoutSourceFollowsVia(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		defer n.Close()
		var rc recorder
		b := n.Endpoint("UDP", addrB.String(), nil)
		n.Endpoint("UDP", addrC.String(), &rc)

		req := Request(t, "OPTIONS", "sip:b@127.0.0.1:5070",
			"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-v;received=127.0.0.1;rport=5080")
		if err := b.SendResponse(context.Background(), Response(t, req, 404), transport.Source{}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if rs := rc.all(); len(rs) != 1 || rs[0].src.Remote != addrB {
			t.Fatalf("127.0.0.1:5080 got %v, want the 404 from %v", rs, addrB)
		}

		bad := Request(t, "OPTIONS", "sip:b@127.0.0.1:5070", "Via: SIP/2.0/UDP host.example;branch=z9hG4bK-h")
		if err := b.SendResponse(context.Background(), Response(t, bad, 404), transport.Source{}); err == nil {
			t.Error("SendResponse to a Via with a host name succeeded, want an error")
		}
	})
}

// Messages to one endpoint arrive in the order sent, with and without
// latency.
func TestDeliveryIsFIFO(t *testing.T) {
	for _, latency := range []time.Duration{0, 30 * time.Millisecond} {
		t.Run(fmt.Sprint("latency=", latency), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := NewNetwork()
				n.Latency = latency
				defer n.Close()
				var rb recorder
				a := n.Endpoint("TCP", addrA.String(), nil)
				n.Endpoint("TCP", addrB.String(), &rb)

				const count = 500
				for i := 1; i <= count; i++ {
					mustSend(t, a, Request(t, "MESSAGE", "sip:b@127.0.0.1:5070", fmt.Sprintf("CSeq: %d MESSAGE", i)), addrB)
					if i%50 == 0 {
						time.Sleep(time.Millisecond) // let some be delivered while others are queued
					}
				}
				time.Sleep(latency)
				synctest.Wait()

				rs := rb.all()
				if len(rs) != count {
					t.Fatalf("delivered %d, want %d", len(rs), count)
				}
				for i, r := range rs {
					if got := r.msg.CSeq().Seq; got != uint32(i+1) {
						t.Fatalf("message %d has CSeq %d, want %d", i, got, i+1)
					}
				}
			})
		})
	}
}

// Latency delays each delivery by exactly Latency after its send time.
func TestLatencyDelaysDeliveryExactly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		n.Latency = 150 * time.Millisecond
		defer n.Close()
		var rb recorder
		a := n.Endpoint("UDP", addrA.String(), nil)
		n.Endpoint("UDP", addrB.String(), &rb)

		start := time.Now()
		mustSend(t, a, Request(t, "OPTIONS", "sip:b@127.0.0.1:5070"), addrB)
		time.Sleep(20 * time.Millisecond)
		mustSend(t, a, Request(t, "OPTIONS", "sip:b@127.0.0.1:5070"), addrB)

		time.Sleep(129 * time.Millisecond) // 149 ms after the first send
		synctest.Wait()
		if got := len(rb.all()); got != 0 {
			t.Fatalf("%d delivered before the latency elapsed", got)
		}
		time.Sleep(time.Second)
		rs := rb.all()
		if len(rs) != 2 {
			t.Fatalf("delivered %d, want 2", len(rs))
		}
		for i, want := range []time.Duration{150 * time.Millisecond, 170 * time.Millisecond} {
			if got := rs[i].at.Sub(start); got != want {
				t.Errorf("message %d delivered at +%v, want +%v", i, got, want)
			}
		}

		n.SetLatency(0)
		before := time.Now()
		mustSend(t, a, Request(t, "OPTIONS", "sip:b@127.0.0.1:5070"), addrB)
		synctest.Wait()
		if rs := rb.all(); len(rs) != 3 || !rs[2].at.Equal(before) {
			t.Errorf("after SetLatency(0): %d delivered, last at %v, want 3 at %v", len(rs), rs[len(rs)-1].at, before)
		}
	})
}

// Drop loses the messages it chooses, and the log says so.
func TestDropDropsAndLogsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		invites := 0
		n.Drop = func(ev Event) bool { // the first two INVITEs are lost
			if IsRequest("INVITE")(ev) {
				invites++
				return invites <= 2
			}
			return false
		}
		defer n.Close()
		var rb recorder
		a := n.Endpoint("UDP", addrA.String(), nil)
		n.Endpoint("UDP", addrB.String(), &rb)

		invite := Request(t, "INVITE", "sip:b@127.0.0.1:5070")
		for range 3 {
			mustSend(t, a, invite, addrB)
		}
		mustSend(t, a, Request(t, "OPTIONS", "sip:b@127.0.0.1:5070"), addrB)
		synctest.Wait()

		rs := rb.all()
		if len(rs) != 2 || rs[0].msg.CSeq().Method != "INVITE" || rs[1].msg.CSeq().Method != "OPTIONS" {
			t.Fatalf("delivered %v, want the third INVITE and the OPTIONS", rs)
		}
		var dropped []bool
		for _, ev := range n.Log() {
			dropped = append(dropped, ev.Dropped)
		}
		if fmt.Sprint(dropped) != "[true true false false]" {
			t.Errorf("log Dropped = %v, want [true true false false]", dropped)
		}

		n.SetDrop(func(Event) bool { return true })
		mustSend(t, a, invite, addrB)
		synctest.Wait()
		if len(rb.all()) != 2 {
			t.Error("a message was delivered after SetDrop(drop everything)")
		}
	})
}

// A datagram to an address nobody listens on is lost without an error.
func TestUDPToNowhereIsSilentlyLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		defer n.Close()
		var rb recorder
		a := n.Endpoint("UDP", addrA.String(), nil)
		n.Endpoint("TCP", addrB.String(), &rb) // another transport does not count

		got, err := a.SendRequest(context.Background(), Request(t, "OPTIONS", "sip:b@127.0.0.1:5070"), transport.Target{Transport: "UDP", Addr: addrB})
		if err != nil || got.Transport != "UDP" {
			t.Fatalf("SendRequest = %v, %v; want UDP target, nil", got, err)
		}
		synctest.Wait()
		if len(rb.all()) != 0 {
			t.Error("the TCP endpoint received a UDP message")
		}
		if log := n.Log(); len(log) != 1 || !log[0].Dropped || log[0].To != addrB {
			t.Errorf("log = %v, want one dropped event to %v", log, addrB)
		}
	})
}

// Over a reliable transport, nobody listening is a refused connection:
// an error the transaction layer turns into a 503 (RFC 3261 §8.1.3.1).
func TestTCPToNowhereReturnsErrUnreachable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		defer n.Close()
		a := n.Endpoint("TCP", addrA.String(), nil)
		n.Endpoint("UDP", addrB.String(), transport.HandlerFunc(func(sip.Message, transport.Source) {}))

		req := Request(t, "OPTIONS", "sip:b@127.0.0.1:5070")
		_, err := a.SendRequest(context.Background(), req, transport.Target{Transport: "TCP", Addr: addrB})
		if !errors.Is(err, ErrUnreachable) {
			t.Errorf("SendRequest error = %v, want ErrUnreachable", err)
		}
		err = a.SendResponse(context.Background(), Response(t, req, 200), transport.Source{Transport: "TCP", Remote: addrC})
		if !errors.Is(err, ErrUnreachable) {
			t.Errorf("SendResponse error = %v, want ErrUnreachable", err)
		}
		if log := n.Log(); len(log) != 0 {
			t.Errorf("log = %v, want nothing: nothing was sent", log)
		}
	})
}

// The log records each message with its fake send time, so a test can
// check retransmission intervals to the millisecond.
func TestLogRecordsFakeSendTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		defer n.Close()
		a := n.Endpoint("UDP", addrA.String(), nil)
		b := n.Endpoint("UDP", addrB.String(), nil)

		start := time.Now()
		req := Request(t, "INVITE", "sip:b@127.0.0.1:5070")
		for _, d := range []time.Duration{0, 500 * time.Millisecond, time.Second, 2 * time.Second} {
			time.Sleep(d)
			mustSend(t, a, req, addrB)
		}
		if err := b.SendResponse(context.Background(), Response(t, req, 100), transport.Source{Remote: addrA}); err != nil {
			t.Fatal(err)
		}

		invites := n.Sent(IsRequest("INVITE"))
		var at []time.Duration
		for _, ev := range invites {
			at = append(at, ev.At.Sub(start))
			if ev.From != addrA || ev.To != addrB || ev.Transport != "UDP" || ev.Dropped || ev.Msg.CSeq().Method != "INVITE" {
				t.Errorf("event %v: want an INVITE from %v to %v over UDP, delivered", ev, addrA, addrB)
			}
		}
		if fmt.Sprint(at) != "[0s 500ms 1.5s 3.5s]" {
			t.Errorf("INVITEs sent at %v, want [0s 500ms 1.5s 3.5s]", at)
		}
		trying := n.Sent(IsResponse(100))
		if len(trying) != 1 || trying[0].From != addrB || trying[0].To != addrA || trying[0].At.Sub(start) != 3500*time.Millisecond {
			t.Errorf("100 events = %v, want one from %v to %v at +3.5s", trying, addrB, addrA)
		}
		if all := n.Sent(nil); len(all) != 5 {
			t.Errorf("Sent(nil) has %d events, want 5", len(all))
		}
	})
}

// A message whose bytes do not parse is dropped at the receiver and
// counted (RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Max-Forwards and
// Via are mandatory).
func TestUnparsableMessageIsDroppedAndCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		defer n.Close()
		var rb recorder
		a := n.Endpoint("UDP", addrA.String(), nil)
		n.Endpoint("UDP", addrB.String(), &rb)

		uri, err := sip.ParseURI("sip:b@127.0.0.1:5070")
		if err != nil {
			t.Fatal(err)
		}
		req := sip.NewRequest("OPTIONS", uri)
		if err := req.PrependVia(sip.Via{Transport: "UDP", Host: "127.0.0.1", Port: 5060, Params: ";branch=z9hG4bK-x"}); err != nil {
			t.Fatal(err)
		}
		mustSend(t, a, req, addrB)
		synctest.Wait()

		if len(rb.all()) != 0 {
			t.Error("an unparsable message was delivered")
		}
		if got := n.ParseErrors(); got != 1 {
			t.Errorf("ParseErrors = %d, want 1", got)
		}
		if log := n.Log(); len(log) != 1 || !log[0].Dropped || log[0].Err == nil || !strings.HasPrefix(string(log[0].Data), "OPTIONS ") {
			t.Errorf("log = %v, want one dropped event with the parse error and the bytes", log)
		}
	})
}

func TestSendRequestWithoutViaFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		defer n.Close()
		a := n.Endpoint("UDP", addrA.String(), nil)
		uri, _ := sip.ParseURI("sip:b@127.0.0.1:5070")
		if _, err := a.SendRequest(context.Background(), sip.NewRequest("OPTIONS", uri), transport.Target{Addr: addrB}); err == nil {
			t.Error("SendRequest of a request with no Via succeeded")
		}
		if len(n.Log()) != 0 {
			t.Error("a request with no Via was logged")
		}
	})
}

// RFC 5118 §4: an IPv6 sent-by is written as a reference, in brackets.
func TestSendRequestIPv6SentBy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		defer n.Close()
		var rb recorder
		a := n.Endpoint("TCP", "[::1]:5060", nil)
		b := n.Endpoint("TCP", "[::1]:5070", &rb)
		mustSend(t, a, Request(t, "OPTIONS", "sip:b@[::1]:5070"), b.Addr())
		synctest.Wait()
		rs := rb.all()
		if len(rs) != 1 {
			t.Fatalf("delivered %d, want 1", len(rs))
		}
		if v, _ := rs[0].msg.TopVia(); v.Transport != "TCP" || v.SentBy() != "[::1]:5060" {
			t.Errorf("top Via = %q, want TCP [::1]:5060", v.String())
		}
		if rs[0].src.Transport != "TCP" || rs[0].src.Remote != a.Addr() {
			t.Errorf("Source = %+v", rs[0].src)
		}
	})
}

// A handler set with SetHandler before traffic receives it; port 0
// picks a free port.
func TestSetHandlerAndPortZero(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		defer n.Close()
		a := n.Endpoint("UDP", "127.0.0.1:0", nil)
		b := n.Endpoint("UDP", "127.0.0.1:0", nil)
		if a.Addr().Port() == 0 || a.Addr() == b.Addr() {
			t.Fatalf("port 0 gave %v and %v, want two distinct ports", a.Addr(), b.Addr())
		}
		var rb recorder
		b.SetHandler(&rb)
		mustSend(t, a, Request(t, "OPTIONS", "sip:b@"+b.Addr().String()), b.Addr())
		synctest.Wait()
		if len(rb.all()) != 1 {
			t.Error("handler set with SetHandler received nothing")
		}
	})
}

func TestEndpointPanicsOnTakenAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		defer n.Close()
		n.Endpoint("UDP", addrA.String(), nil)
		n.Endpoint("TCP", addrA.String(), nil) // another transport may share it
		defer func() {
			if recover() == nil {
				t.Error("a second UDP endpoint at the same address did not panic")
			}
		}()
		n.Endpoint("udp", addrA.String(), nil)
	})
}

// Close stops the delivery goroutines at once, even with a delivery
// waiting out its latency, and later sends fail. (synctest.Test itself
// fails when a goroutine of the bubble is left behind.)
func TestCloseStopsGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		n.Latency = time.Hour
		var rb recorder
		a := n.Endpoint("UDP", addrA.String(), nil)
		n.Endpoint("UDP", addrB.String(), &rb)
		mustSend(t, a, Request(t, "OPTIONS", "sip:b@127.0.0.1:5070"), addrB)
		synctest.Wait()

		start := time.Now()
		n.Close()
		if d := time.Since(start); d != 0 {
			t.Errorf("Close took %v of fake time, want 0", d)
		}
		if len(rb.all()) != 0 {
			t.Error("a pending message was delivered by Close")
		}
		if _, err := a.SendRequest(context.Background(), Request(t, "OPTIONS", "sip:b@127.0.0.1:5070"), transport.Target{Addr: addrB}); !errors.Is(err, net.ErrClosed) {
			t.Errorf("send after Close: %v, want net.ErrClosed", err)
		}
		n.Close() // twice is harmless
	})
}

// Outside synctest, Close waits for every delivery goroutine.
func TestCloseOutsideSynctest(t *testing.T) {
	n := NewNetwork()
	got := make(chan sip.Message, 1)
	a := n.Endpoint("UDP", addrA.String(), nil)
	n.Endpoint("UDP", addrB.String(), transport.HandlerFunc(func(m sip.Message, _ transport.Source) { got <- m }))
	mustSend(t, a, Request(t, "OPTIONS", "sip:b@127.0.0.1:5070"), addrB)
	<-got
	n.Close()
	// A goroutine that has called wg.Done may take a moment to exit.
	var stacks string
	for range 100 {
		buf := make([]byte, 1<<20)
		if stacks = string(buf[:runtime.Stack(buf, true)]); !strings.Contains(stacks, "siptest.(*Endpoint).run") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("delivery goroutine alive after Close:\n%s", stacks)
}
