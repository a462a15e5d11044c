package sip

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

func streamMsg(callID, body string) string {
	return "MESSAGE sip:a@192.0.2.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 192.0.2.2;branch=z9hG4bK" + callID + "\r\n" +
		"From: <sip:b@192.0.2.2>;tag=1\r\nTo: <sip:a@192.0.2.1>\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: 1 MESSAGE\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

func readAll(t *testing.T, sr *StreamReader) (ids []string, err error) {
	t.Helper()
	for {
		m, err := sr.ReadMessage()
		if err != nil {
			return ids, err
		}
		ids = append(ids, m.CallID()+":"+string(m.Body()))
	}
}

// TestStreamFraming: messages framed by Content-Length (RFC 3261 §18.3),
// whatever the read sizes, with keep-alive CRLFs between them (RFC 5626
// §3.5.1).
func TestStreamFraming(t *testing.T) {
	input := "\r\n\r\n" + streamMsg("one", "hello") + "\r\n\r\n" + streamMsg("two", "") + "\r\n" + streamMsg("three", "x\r\n\r\ny")
	want := []string{"one:hello", "two:", "three:x\r\n\r\ny"}
	for _, tc := range []struct {
		name string
		r    func() io.Reader
	}{
		{"whole", func() io.Reader { return bytes.NewReader([]byte(input)) }},
		{"byte by byte", func() io.Reader { return iotest.OneByteReader(bytes.NewReader([]byte(input))) }},
		{"half", func() io.Reader { return iotest.HalfReader(bytes.NewReader([]byte(input))) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sr := NewStreamReader(tc.r(), Limits{})
			pings := 0
			sr.OnPing = func() { pings++ }
			ids, err := readAll(t, sr)
			if err != io.EOF {
				t.Fatalf("err = %v, want EOF", err)
			}
			eq(t, "messages", len(ids), len(want))
			for i := range want {
				if i < len(ids) {
					eq(t, "message", ids[i], want[i])
				}
			}
			eq(t, "pings", pings, 2)
		})
	}
}

// TestStreamWithoutContentLength: a stream message must carry
// Content-Length (RFC 3261 §18.3); without it framing is lost for good.
func TestStreamWithoutContentLength(t *testing.T) {
	msg := "OPTIONS sip:a@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.2;branch=z9hG4bK1\r\n\r\n"
	sr := NewStreamReader(bytes.NewReader([]byte(msg+streamMsg("next", ""))), Limits{})
	_, err := sr.ReadMessage()
	if !errors.Is(err, ErrNoContentLength) || !errors.Is(err, ErrFraming) {
		t.Fatalf("err = %v, want ErrNoContentLength and ErrFraming", err)
	}
	if _, err2 := sr.ReadMessage(); !errors.Is(err2, ErrFraming) {
		t.Errorf("second read err = %v, want the framing error again", err2)
	}
}

// TestStreamConflictingContentLength: two Content-Length values make
// framing impossible (RFC 4475 §3.3.9).
func TestStreamConflictingContentLength(t *testing.T) {
	sr := NewStreamReader(bytes.NewReader(readTorture(t, "mcl01")), Limits{})
	_, err := sr.ReadMessage()
	if !errors.Is(err, ErrFraming) || !errors.Is(err, ErrDuplicateHeader) {
		t.Fatalf("err = %v", err)
	}
}

// TestStreamBadMessageKeepsStream: a framed message that fails to parse
// is reported, and the next one is still read.
func TestStreamBadMessageKeepsStream(t *testing.T) {
	bad := "OPTIONS sip:a@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.2;branch=z9hG4bK1\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n"
	sr := NewStreamReader(bytes.NewReader([]byte(bad+streamMsg("good", "ok"))), Limits{})
	if _, err := sr.ReadMessage(); err == nil || errors.Is(err, ErrFraming) {
		t.Fatalf("first message: err = %v, want a non-framing parse error", err)
	}
	m, err := sr.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "Call-ID", m.CallID(), "good")
}

// TestStreamMessageTooLarge: a peer that never ends its headers is cut
// off at MaxMessageSize.
func TestStreamMessageTooLarge(t *testing.T) {
	endless := io.MultiReader(bytes.NewReader([]byte("OPTIONS sip:a@192.0.2.1 SIP/2.0\r\n")), bytes.NewReader(bytes.Repeat([]byte("X-A: b\r\n"), 10000)))
	sr := NewStreamReader(endless, Limits{MaxMessageSize: 4096})
	_, err := sr.ReadMessage()
	if !errors.Is(err, ErrMessageTooLarge) || !errors.Is(err, ErrFraming) {
		t.Fatalf("err = %v", err)
	}
}

// TestStreamTruncated: EOF in the middle of a message is
// io.ErrUnexpectedEOF.
func TestStreamTruncated(t *testing.T) {
	msg := streamMsg("cut", "hello")
	sr := NewStreamReader(bytes.NewReader([]byte(msg[:len(msg)-2])), Limits{})
	if _, err := sr.ReadMessage(); err != io.ErrUnexpectedEOF {
		t.Fatalf("err = %v", err)
	}
}

// TestStreamMessageOwnsBuffer: a message stays intact while the reader
// goes on reading into its buffer.
func TestStreamMessageOwnsBuffer(t *testing.T) {
	sr := NewStreamReader(bytes.NewReader([]byte(streamMsg("first", "aaaa")+streamMsg("second", "bbbb"))), Limits{})
	m1, err := sr.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sr.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	eq(t, "first Call-ID", m1.CallID(), "first")
	eq(t, "first body", string(m1.Body()), "aaaa")
}

// TestStreamHeaderEndAcrossReads: the search for the end of the headers
// resumes where it stopped, and must still see an empty line whose bytes
// arrive in separate reads, CRLF or bare LF.
func TestStreamHeaderEndAcrossReads(t *testing.T) {
	crlfMsg := streamMsg("crlf", "body")
	lfMsg := strings.ReplaceAll(streamMsg("lf", "body"), "\r\n", "\n")
	sr := NewStreamReader(iotest.OneByteReader(bytes.NewReader([]byte(crlfMsg+lfMsg))), Limits{})
	ids, err := readAll(t, sr)
	if err != io.EOF {
		t.Fatalf("err = %v", err)
	}
	if strings.Join(ids, " ") != "crlf:body lf:body" {
		t.Errorf("read %q", ids)
	}
}

// BenchmarkStreamOneByteReads reads a message with 8 KiB of headers one
// byte per Read, as a slow peer sends it: the cost per message must stay
// linear in its size.
func BenchmarkStreamOneByteReads(b *testing.B) {
	msg := []byte(strings.Replace(streamMsg("slow", ""), "Call-ID:", strings.Repeat("X-Pad: "+strings.Repeat("p", 57)+"\r\n", 128)+"Call-ID:", 1))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		sr := NewStreamReader(iotest.OneByteReader(bytes.NewReader(msg)), Limits{})
		if _, err := sr.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}
