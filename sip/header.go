package sip

import "strings"

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
// and first letter and a case-insensitive comparison.
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

// foldedKind recognises the long names in any other spelling, which is
// rare: the length and first letter pick at most two candidates.
func foldedKind(name string) HeaderKind {
	if len(name) <= 1 || len(name) >= len(kindIndex) {
		return KindOther
	}
	c := name[0] & 31 // the same for both cases of a letter
	k := kindIndex[len(name)][c]
	if k == KindOther {
		return KindOther
	}
	if equalFold(canonicalNames[k], name) {
		return k
	}
	if k2 := kindIndex2[len(name)][c]; k2 != KindOther && equalFold(canonicalNames[k2], name) {
		return k2
	}
	return KindOther
}

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

// knownName recognises, at s[i] (which exists), the header names nearly every message
// carries, spelled as RFC 3261 spells them and followed at once by the
// colon, and returns the kind and the end of the name; (KindOther, i)
// otherwise, and the caller scans the name as a token. Comparing with
// constant strings compiles to a few word loads (names over eight bytes
// are compared in two parts, or the compiler calls memequal), where the
// token scan and the name switch cost a lookup and a branch per byte and
// then a second pass.
func knownName(s string, i int) (HeaderKind, int) {
	t := s[i:]
	if len(t) > 1 && t[1] == ':' {
		if k := compactKinds[t[0]]; k != KindOther {
			return k, i + 1
		}
		return KindOther, i
	}
	switch t[0] {
	case 'V':
		if strings.HasPrefix(t, "Via:") {
			return KindVia, i + 3
		}
	case 'T':
		if strings.HasPrefix(t, "To:") {
			return KindTo, i + 2
		}
	case 'F':
		if strings.HasPrefix(t, "From:") {
			return KindFrom, i + 4
		}
	case 'C':
		switch {
		case strings.HasPrefix(t, "Call-ID:"):
			return KindCallID, i + 7
		case strings.HasPrefix(t, "CSeq:"):
			return KindCSeq, i + 4
		case strings.HasPrefix(t, "Contact:"):
			return KindContact, i + 7
		case len(t) >= 15 && t[:8] == "Content-" && t[8:15] == "Length:":
			return KindContentLength, i + 14
		case len(t) >= 13 && t[:8] == "Content-" && t[8:13] == "Type:":
			return KindContentType, i + 12
		}
	case 'M':
		if len(t) >= 13 && t[:8] == "Max-Forw" && t[8:13] == "ards:" {
			return KindMaxForwards, i + 12
		}
	case 'R':
		switch {
		case strings.HasPrefix(t, "Route:"):
			return KindRoute, i + 5
		case len(t) >= 13 && t[:8] == "Record-R" && t[8:13] == "oute:":
			return KindRecordRoute, i + 12
		}
	case 'A':
		if strings.HasPrefix(t, "Allow:") {
			return KindAllow, i + 5
		}
	case 'S':
		switch {
		case len(t) >= 10 && t[:8] == "Supporte" && t[8:10] == "d:":
			return KindSupported, i + 9
		case strings.HasPrefix(t, "Server:"):
			return KindServer, i + 6
		}
	case 'U':
		if len(t) >= 11 && t[:8] == "User-Age" && t[8:11] == "nt:" {
			return KindUserAgent, i + 10
		}
	case 'E':
		if strings.HasPrefix(t, "Expires:") {
			return KindExpires, i + 7
		}
	}
	return KindOther, i
}
