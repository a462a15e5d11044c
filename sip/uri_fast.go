package sip

import "strings"

// The fast path for the URIs nearly every message carries: sip or sips,
// an optional plain user part, a hostname or IPv4 address, an optional
// port and plain parameters, without escapes, passwords, IPv6 references
// or headers. It stops at the first byte that is not part of such a URI
// instead of requiring the exact string, so a name-addr can use it to
// find its '>'. Anything else makes it report false and the caller runs
// the full parser, which also gives the errors: the fast path never
// accepts what the full parser would refuse, and yields the same fields
// (FuzzParseURI checks both).
//
// It returns positions, not strings: Parse validates every URI of a
// message eagerly, and storing strings would cost a write barrier per
// field while the garbage collector runs.

// sipURIPos locates the parts of a simple sip/sips URI in its text.
type sipURIPos struct {
	schemeEnd         int
	user, userEnd     int // user == userEnd when there is no user part
	host, hostEnd     int
	port              int // 0 when absent
	params, paramsEnd int
}

// scanSIPURI checks a simple sip/sips URI at the start of s, fills p
// with where its parts are and returns where it ends.
func scanSIPURI(p *sipURIPos, s string) (end int, ok bool) {
	i := 0
	switch {
	case len(s) > 4 && s[3] == ':' && s[0]|0x20 == 's' && s[1]|0x20 == 'i' && s[2]|0x20 == 'p':
		i = 4
	case len(s) > 5 && s[4] == ':' && s[0]|0x20 == 's' && s[1]|0x20 == 'i' && s[2]|0x20 == 'p' && s[3]|0x20 == 's':
		i = 5
	default:
		return 0, false
	}
	p.schemeEnd = i - 1
	p.user, p.userEnd = i, i
	// A user part, if the run of user characters ends at '@'. Host
	// characters are user characters too, so when there is no '@' the
	// run is read again as the host.
	j := scanWhile(s, i, &uriClass, uriCUser)
	if j < len(s) {
		switch s[j] {
		case '@':
			if j == i {
				return 0, false
			}
			p.userEnd = j
			i = j + 1
		case '%', ':':
			// An escape, or a password or a port: if an '@' follows,
			// leave it to the full parser.
			for k := j; k < len(s) && s[k] != '>'; k++ {
				if s[k] == '@' || s[k] == '%' {
					return 0, false
				}
			}
		}
	}
	h, ok := uriScanHost(s, i)
	if !ok || h == i || h < len(s) && (s[h] == '[' || s[h] == '@') {
		return 0, false
	}
	p.host, p.hostEnd = i, h
	i = h
	if i < len(s) && s[i] == ':' {
		j := i + 1
		port := 0
		for j < len(s) && isDigit(s[j]) && j-i <= 5 {
			port = port*10 + int(s[j]-'0')
			j++
		}
		if port == 0 || port > 65535 || j < len(s) && isDigit(s[j]) {
			return 0, false
		}
		p.port = port
		i = j
	}
	p.params, p.paramsEnd = i, i
	for i < len(s) && s[i] == ';' {
		j := scanWhile(s, i+1, &uriClass, uriCParam)
		if j == i+1 {
			return 0, false
		}
		i = j
		if i < len(s) && s[i] == '=' {
			j = scanWhile(s, i+1, &uriClass, uriCParam)
			if j == i+1 {
				return 0, false
			}
			i = j
		}
	}
	p.paramsEnd = i
	if i < len(s) && (s[i] == '%' || s[i] == '?' || uriClass[s[i]]&(uriCUser|uriCParam|uriCHost) != 0) {
		// An escape, headers, or a character the full parser may
		// still take: let it decide.
		return 0, false
	}
	return i, true
}

// toEnd tells validURIPrefix that the URI must fill the string (a byte
// value cannot serve: a NUL is a byte like any other).
const toEnd = -1

// parseSIPPrefix is scanSIPURI filling u (which must be zero).
func (u *URI) parseSIPPrefix(s string) (end int, ok bool) {
	var p sipURIPos
	end, ok = scanSIPURI(&p, s)
	if !ok {
		return 0, false
	}
	u.Scheme, u.Host, u.Port = s[:p.schemeEnd], s[p.host:p.hostEnd], p.port
	if p.userEnd > p.user {
		u.User = s[p.user:p.userEnd]
	}
	if p.paramsEnd > p.params {
		u.Params = Params(s[p.params:p.paramsEnd])
	}
	return end, true
}

// validURIPrefix checks the URI at the start of s without keeping
// anything, and returns where it ends; stop is the byte that must follow
// it ('>' inside a name-addr), or toEnd when it must run to the end of s.
func validURIPrefix(s string, stop int) (end int, problem string) {
	var p sipURIPos
	if end, ok := scanSIPURI(&p, s); ok && (stop == toEnd && end == len(s) || end < len(s) && int(s[end]) == stop) {
		return end, ""
	}
	end = len(s)
	if stop != toEnd {
		if end = strings.IndexByte(s, byte(stop)); end < 0 {
			return 0, "missing '" + string(rune(stop)) + "'"
		}
	}
	var u URI
	if err := u.parseFull(s[:end]); err != nil {
		return 0, uriProblem(err)
	}
	return end, ""
}
