package sip

import (
	"errors"
	"io"
	"strings"
	"unsafe"
)

// StreamReader reads messages from a stream transport (TCP, TLS): it
// frames them by Content-Length (RFC 3261 §18.3), skips the CRLFs that
// keep-alive sends between messages (RFC 5626 §3.5.1), and copes with
// messages split across reads or several in one read.
type StreamReader struct {
	// OnPing, if set, is called for every CRLFCRLF keep-alive ping seen
	// between messages, so the transport can answer with a CRLF pong.
	OnPing func()

	r     io.Reader
	lim   Limits
	buf   []byte
	start int // first unconsumed byte of buf
	end   int // end of valid data in buf
	crlf  int // consecutive keep-alive line ends seen
	// scanned bytes of the message at start were searched for the end of
	// its headers without finding it: the next search resumes there, so
	// a peer sending one byte at a time costs linear, not quadratic, work.
	scanned int
	err     error
}

// NewStreamReader returns a reader with the given limits (zero fields
// take their defaults).
func NewStreamReader(r io.Reader, l Limits) *StreamReader {
	return &StreamReader{r: r, lim: l.withDefaults()}
}

// ErrFraming is wrapped by the errors after which the stream cannot be
// read any further (the message boundary is lost): the connection should
// be closed.
var ErrFraming = errors.New("sip: stream framing lost")

type framingError struct{ err error }

func (e *framingError) Error() string   { return e.err.Error() }
func (e *framingError) Unwrap() []error { return []error{e.err, ErrFraming} }

// ReadMessage returns the next message. A message that is framed
// correctly but does not parse is returned with its error (the message
// may be nil): the stream stays usable. Errors wrapping ErrFraming, and
// read errors such as io.EOF, are final.
func (sr *StreamReader) ReadMessage() (Message, error) {
	data, err := sr.ReadFrame()
	if err != nil {
		return nil, err
	}
	return parse(data, sr.lim, true)
}

// ReadFrame returns the bytes of the next message, framed by its
// Content-Length but not parsed, in a buffer of their own that the caller
// keeps. Errors are final, as for ReadMessage.
func (sr *StreamReader) ReadFrame() ([]byte, error) {
	if sr.err != nil {
		return nil, sr.err
	}
	for {
		msgLen, err := sr.frame()
		if err != nil {
			sr.err = &framingError{err}
			return nil, sr.err
		}
		if msgLen > 0 {
			// The message gets its own buffer so it can outlive the
			// next read.
			data := make([]byte, msgLen)
			copy(data, sr.buf[sr.start:sr.start+msgLen])
			sr.start += msgLen
			sr.scanned = 0
			return data, nil
		}
		if err := sr.fill(); err != nil {
			if err == io.EOF && sr.end > sr.start {
				err = io.ErrUnexpectedEOF
			}
			sr.err = err
			return nil, err
		}
	}
}

// fill reads more data, growing or compacting the buffer as needed.
func (sr *StreamReader) fill() error {
	if sr.start == sr.end {
		sr.start, sr.end = 0, 0
	}
	if sr.end-sr.start >= sr.lim.MaxMessageSize {
		sr.err = &framingError{perr(ErrMessageTooLarge, "", "message too large")}
		return sr.err
	}
	if len(sr.buf)-sr.end < 2048 {
		if sr.start > 0 {
			n := copy(sr.buf, sr.buf[sr.start:sr.end])
			sr.start, sr.end = 0, n
		}
		if len(sr.buf)-sr.end < 2048 {
			nb := make([]byte, max(4096, 2*len(sr.buf)))
			copy(nb, sr.buf[:sr.end])
			sr.buf = nb
		}
	}
	n, err := sr.r.Read(sr.buf[sr.end:])
	sr.end += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// frame returns the length of the complete message at the start of the
// buffer, 0 if more data is needed, or a framing error.
func (sr *StreamReader) frame() (int, error) {
	// Keep-alive: CRLFs between messages are skipped; a double CRLF is
	// a ping.
	for sr.start < sr.end {
		c := sr.buf[sr.start]
		if c == '\n' {
			sr.crlf++
			if sr.crlf == 2 {
				sr.crlf = 0
				if sr.OnPing != nil {
					sr.OnPing()
				}
			}
		} else if c != '\r' {
			break
		}
		sr.start++
	}
	if sr.start == sr.end {
		return 0, nil
	}
	sr.crlf = 0
	data := sr.buf[sr.start:sr.end]
	s := unsafe.String(unsafe.SliceData(data), len(data))
	hdrEnd := headerEnd(s, sr.scanned)
	if hdrEnd < 0 {
		sr.scanned = max(0, len(s)-2)
		if len(s) > sr.lim.MaxMessageSize {
			return 0, perr(ErrMessageTooLarge, "", "message too large")
		}
		return 0, nil
	}
	cl, err := scanContentLength(s[:hdrEnd])
	if err != nil {
		return 0, err
	}
	total := hdrEnd + cl
	if total > sr.lim.MaxMessageSize {
		return 0, perr(ErrMessageTooLarge, "", "message too large")
	}
	if total > len(s) {
		return 0, nil
	}
	return total, nil
}

// headerEnd returns the index just after the empty line ending the
// header section, or -1. The search starts at from, which must be before
// any line end whose following bytes were not yet looked at.
func headerEnd(s string, from int) int {
	for i := from; ; {
		k := strings.IndexByte(s[i:], '\n')
		if k < 0 {
			return -1
		}
		i += k + 1
		if i < len(s) && s[i] == '\n' {
			return i + 1
		}
		if i+1 < len(s) && s[i] == '\r' && s[i+1] == '\n' {
			return i + 2
		}
		if i >= len(s)-1 {
			return -1
		}
	}
}

// scanContentLength finds the Content-Length of a header section for
// framing: it must be present, well formed, and not given twice with
// different values (RFC 4475 mcl01).
func scanContentLength(s string) (int, error) {
	cl := -1
	for i := strings.IndexByte(s, '\n') + 1; i < len(s); {
		ls := i
		for { // the header's end, following folded lines
			k := strings.IndexByte(s[i:], '\n')
			if k < 0 {
				i = len(s)
				break
			}
			i += k + 1
			if i >= len(s) || (s[i] != ' ' && s[i] != '\t') {
				break
			}
		}
		line := s[ls:i]
		n := scanToken(line, 0)
		if LookupKind(line[:n]) != KindContentLength {
			continue
		}
		c := skipWS(line, n)
		if c >= len(line) || line[c] != ':' {
			continue
		}
		v, ok := parseUint(trimWS(line[c+1:]), 1<<31-1)
		if !ok {
			return 0, headerErr("Content-Length", "not a valid length")
		}
		if cl >= 0 && int(v) != cl {
			return 0, perr(ErrDuplicateHeader, "Content-Length", "conflicting values")
		}
		cl = int(v)
	}
	if cl < 0 {
		return 0, perr(ErrNoContentLength, "Content-Length", "missing on a stream transport")
	}
	return cl, nil
}
