package sip

import (
	"encoding/binary"
	"unsafe"
)

// HeaderKind identifies the headers the stack understands. Unknown
// headers are KindOther and are kept byte-exact.
type HeaderKind uint8

// Header kinds. The order is not significant.
const (
	KindOther HeaderKind = iota
	KindVia
	KindFrom
	KindTo
	KindCallID
	KindCSeq
	KindMaxForwards
	KindContentLength
	KindContact
	KindRoute
	KindRecordRoute
	KindContentType
	KindContentEncoding
	KindExpires
	KindMinExpires
	KindRequire
	KindProxyRequire
	KindSupported
	KindUnsupported
	KindAllow
	KindReason
	KindWWWAuthenticate
	KindProxyAuthenticate
	KindAuthorization
	KindProxyAuthorization
	KindSubject
	KindEvent
	KindAllowEvents
	KindReferTo
	KindReferredBy
	KindSessionExpires
	KindPath
	KindUserAgent
	KindServer
	KindAccept
	KindMaxBreadth
	KindRetryAfter
	KindTimestamp
	kindCount
)

// canonicalNames is indexed by HeaderKind.
var canonicalNames = [kindCount]string{
	KindVia:                "Via",
	KindFrom:               "From",
	KindTo:                 "To",
	KindCallID:             "Call-ID",
	KindCSeq:               "CSeq",
	KindMaxForwards:        "Max-Forwards",
	KindContentLength:      "Content-Length",
	KindContact:            "Contact",
	KindRoute:              "Route",
	KindRecordRoute:        "Record-Route",
	KindContentType:        "Content-Type",
	KindContentEncoding:    "Content-Encoding",
	KindExpires:            "Expires",
	KindMinExpires:         "Min-Expires",
	KindRequire:            "Require",
	KindProxyRequire:       "Proxy-Require",
	KindSupported:          "Supported",
	KindUnsupported:        "Unsupported",
	KindAllow:              "Allow",
	KindReason:             "Reason",
	KindWWWAuthenticate:    "WWW-Authenticate",
	KindProxyAuthenticate:  "Proxy-Authenticate",
	KindAuthorization:      "Authorization",
	KindProxyAuthorization: "Proxy-Authorization",
	KindSubject:            "Subject",
	KindEvent:              "Event",
	KindAllowEvents:        "Allow-Events",
	KindReferTo:            "Refer-To",
	KindReferredBy:         "Referred-By",
	KindSessionExpires:     "Session-Expires",
	KindPath:               "Path",
	KindUserAgent:          "User-Agent",
	KindServer:             "Server",
	KindAccept:             "Accept",
	KindMaxBreadth:         "Max-Breadth",
	KindRetryAfter:         "Retry-After",
	KindTimestamp:          "Timestamp",
}

// compactKinds maps the compact forms (RFC 3261 §7.3.3 and the RFCs that
// registered more) to their kinds.
var compactKinds = [256]HeaderKind{
	'i': KindCallID, 'I': KindCallID,
	'm': KindContact, 'M': KindContact,
	'e': KindContentEncoding, 'E': KindContentEncoding,
	'l': KindContentLength, 'L': KindContentLength,
	'c': KindContentType, 'C': KindContentType,
	'f': KindFrom, 'F': KindFrom,
	's': KindSubject, 'S': KindSubject,
	'k': KindSupported, 'K': KindSupported,
	't': KindTo, 'T': KindTo,
	'v': KindVia, 'V': KindVia,
	'o': KindEvent, 'O': KindEvent, // RFC 6665
	'u': KindAllowEvents, 'U': KindAllowEvents, // RFC 6665
	'r': KindReferTo, 'R': KindReferTo, // RFC 3515
	'b': KindReferredBy, 'B': KindReferredBy, // RFC 3892
	'x': KindSessionExpires, 'X': KindSessionExpires, // RFC 4028
}

// String returns the canonical header name, or "" for KindOther.
func (k HeaderKind) String() string {
	if k < kindCount {
		return canonicalNames[k]
	}
	return ""
}

// LookupKind returns the kind of a header name in any case, long or
// compact, or KindOther. It runs for every header of every message: the
// canonical spellings are matched by a switch, other spellings by length
// and first letter and a word-wise case-insensitive comparison.
func LookupKind(name string) HeaderKind {
	if k := canonicalKind(name); k != KindOther {
		return k
	}
	return foldedKind(name)
}

// canonicalKind recognises the names as RFC 3261 spells them, and the
// compact forms. Nearly every peer spells names so, and a switch on
// constant strings compiles to length dispatch and inline word compares.
func canonicalKind(name string) HeaderKind {
	if len(name) == 1 {
		return compactKinds[name[0]]
	}
	switch name {
	case "Via":
		return KindVia
	case "From":
		return KindFrom
	case "To":
		return KindTo
	case "Call-ID":
		return KindCallID
	case "CSeq":
		return KindCSeq
	case "Max-Forwards":
		return KindMaxForwards
	case "Content-Length":
		return KindContentLength
	case "Contact":
		return KindContact
	case "Route":
		return KindRoute
	case "Record-Route":
		return KindRecordRoute
	case "Content-Type":
		return KindContentType
	case "Content-Encoding":
		return KindContentEncoding
	case "Expires":
		return KindExpires
	case "Min-Expires":
		return KindMinExpires
	case "Require":
		return KindRequire
	case "Proxy-Require":
		return KindProxyRequire
	case "Supported":
		return KindSupported
	case "Unsupported":
		return KindUnsupported
	case "Allow":
		return KindAllow
	case "Reason":
		return KindReason
	case "WWW-Authenticate":
		return KindWWWAuthenticate
	case "Proxy-Authenticate":
		return KindProxyAuthenticate
	case "Authorization":
		return KindAuthorization
	case "Proxy-Authorization":
		return KindProxyAuthorization
	case "Subject":
		return KindSubject
	case "Event":
		return KindEvent
	case "Allow-Events":
		return KindAllowEvents
	case "Refer-To":
		return KindReferTo
	case "Referred-By":
		return KindReferredBy
	case "Session-Expires":
		return KindSessionExpires
	case "Path":
		return KindPath
	case "User-Agent":
		return KindUserAgent
	case "Server":
		return KindServer
	case "Accept":
		return KindAccept
	case "Max-Breadth":
		return KindMaxBreadth
	case "Retry-After":
		return KindRetryAfter
	case "Timestamp":
		return KindTimestamp
	}
	return KindOther
}

// foldedKind recognises the long names in any case. name must be a token
// (see foldedEqual).
func foldedKind(name string) HeaderKind {
	if len(name) <= 1 || len(name) >= len(kindIndex) {
		return KindOther
	}
	c := name[0] & 31 // the same for both cases of a letter
	k := kindIndex[len(name)][c]
	if k == KindOther {
		return KindOther
	}
	if foldedEqual(k, name) {
		return k
	}
	if k2 := kindIndex2[len(name)][c]; k2 != KindOther && foldedEqual(k2, name) {
		return k2
	}
	return KindOther
}

// foldedEqual reports whether name is the canonical name of k in any
// case. Canonical names are letters and '-'; for the token bytes a name
// is made of, c|0x20 equals a lower-case letter only for that letter in
// either case and equals '-' only for '-', so OR-ing 0x20 into every byte
// and comparing words is an exact case-insensitive comparison.
func foldedEqual(k HeaderKind, name string) bool {
	w := &nameWords[k]
	n := len(name)
	if n < 8 {
		return wordOf(name)|0x2020202020202020>>(64-8*n) == w[0]
	}
	if loadWord(name, 0)|0x2020202020202020 != w[0] {
		return false
	}
	if n <= 16 {
		return loadWord(name, n-8)|0x2020202020202020 == w[1]
	}
	return loadWord(name, 8)|0x2020202020202020 == w[1] && loadWord(name, n-8)|0x2020202020202020 == w[2]
}

// loadWord reads s[i:i+8] as a little-endian word in one load.
func loadWord(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s), len(s))[i:])
}

// wordOf packs a string shorter than 8 bytes into a little-endian word.
func wordOf(s string) uint64 {
	if len(s) < 2 {
		if len(s) == 0 {
			return 0
		}
		return uint64(s[0])
	}
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	switch len(b) {
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 3:
		return uint64(binary.LittleEndian.Uint16(b)) | uint64(b[2])<<16
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	case 5:
		return uint64(binary.LittleEndian.Uint32(b)) | uint64(b[4])<<32
	case 6:
		return uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint16(b[4:]))<<32
	default:
		return uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint16(b[4:]))<<32 | uint64(b[6])<<48
	}
}

// nameWords holds each lower-case canonical name as the words
// foldedEqual compares: the whole name if shorter than 8 bytes, else
// bytes 0-7, then 8-15 and the last 8 (overlapping as needed).
var nameWords = func() (t [kindCount][3]uint64) {
	for k := HeaderKind(1); k < kindCount; k++ {
		b := []byte(canonicalNames[k])
		for i := range b {
			b[i] = lower(b[i])
		}
		n := string(b)
		switch {
		case len(n) < 8:
			t[k][0] = wordOf(n)
		case len(n) <= 16:
			t[k][0], t[k][1] = loadWord(n, 0), loadWord(n, len(n)-8)
		default:
			t[k][0], t[k][1], t[k][2] = loadWord(n, 0), loadWord(n, 8), loadWord(n, len(n)-8)
		}
	}
	return t
}()

// kindIndex maps (length, first letter) of the known long names to their
// kind; kindIndex2 holds the second name when two share both (Require and
// Reason are one such pair).
var kindIndex, kindIndex2 = func() (t, t2 [24][32]HeaderKind) {
	for k := HeaderKind(1); k < kindCount; k++ {
		n := canonicalNames[k]
		c := n[0] & 31
		switch {
		case t[len(n)][c] == KindOther:
			t[len(n)][c] = k
		case t2[len(n)][c] == KindOther:
			t2[len(n)][c] = k
		default:
			panic("sip: three header names share length and first letter: " + n)
		}
	}
	return t, t2
}()

// CanonicalName returns the long canonical form of a header name
// ("v" → "Via", "call-id" → "Call-ID"); unknown names are returned as
// they are.
func CanonicalName(name string) string {
	if k := LookupKind(name); k != KindOther {
		return canonicalNames[k]
	}
	return name
}

// unfold replaces each line break of a folded value (and the whitespace
// around it) with one space. It allocates only for folded values.
func unfold(v string) string {
	i := 0
	for i < len(v) && v[i] != '\r' && v[i] != '\n' {
		i++
	}
	if i == len(v) {
		return v
	}
	b := make([]byte, 0, len(v))
	for j := 0; j < len(v); j++ {
		c := v[j]
		if c != '\r' && c != '\n' {
			b = append(b, c)
			continue
		}
		for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
			b = b[:len(b)-1]
		}
		for j+1 < len(v) && isWS(v[j+1]) {
			j++
		}
		b = append(b, ' ')
	}
	return string(b)
}
