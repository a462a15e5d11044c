package sip

// The fast path for the URIs nearly every message carries: sip or sips,
// an optional plain user part, a hostname or IPv4 address, an optional
// port and plain parameters, without escapes, passwords, IPv6 references
// or headers. It does in one function, with no calls but the host check,
// what parseSIP does with several, and it stops at the first byte that is
// not part of such a URI instead of requiring the exact string, so a
// name-addr can use it to find its '>'. Anything else makes it report
// false and the caller runs the full parser, which also gives the errors:
// the fast path never accepts what the full parser would refuse, and
// fills the same fields (FuzzParseURI checks both).

// parseSIPPrefix parses a sip/sips URI at the start of s into u (which
// must be zero) and returns where it ends. ok is false when the URI is
// not of the simple form.
func (u *URI) parseSIPPrefix(s string) (end int, ok bool) {
	i := 0
	switch {
	case len(s) > 4 && s[3] == ':' && s[0]|0x20 == 's' && s[1]|0x20 == 'i' && s[2]|0x20 == 'p':
		i = 4
	case len(s) > 5 && s[4] == ':' && s[0]|0x20 == 's' && s[1]|0x20 == 'i' && s[2]|0x20 == 'p' && s[3]|0x20 == 's':
		i = 5
	default:
		return 0, false
	}
	scheme := s[:i-1]
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
			u.User = s[i:j]
			i = j + 1
		case '%', ':':
			// An escape, or a password or a port: if an '@' follows,
			// leave it to the full parser.
			for k := j; k < len(s) && s[k] != '>'; k++ {
				if s[k] == '@' || s[k] == '%' {
					*u = URI{}
					return 0, false
				}
			}
		}
	}
	h, ok := uriScanHost(s, i)
	if !ok || h == i || h < len(s) && (s[h] == '[' || s[h] == '@') {
		*u = URI{}
		return 0, false
	}
	u.Scheme, u.Host = scheme, s[i:h]
	i = h
	if i < len(s) && s[i] == ':' {
		j := i + 1
		p := 0
		for j < len(s) && isDigit(s[j]) && j-i <= 5 {
			p = p*10 + int(s[j]-'0')
			j++
		}
		if p == 0 || p > 65535 || j < len(s) && isDigit(s[j]) {
			*u = URI{}
			return 0, false
		}
		u.Port = p
		i = j
	}
	if i < len(s) && s[i] == ';' {
		ps := i
		for i < len(s) && s[i] == ';' {
			j := scanWhile(s, i+1, &uriClass, uriCParam)
			if j == i+1 {
				*u = URI{}
				return 0, false
			}
			i = j
			if i < len(s) && s[i] == '=' {
				j = scanWhile(s, i+1, &uriClass, uriCParam)
				if j == i+1 {
					*u = URI{}
					return 0, false
				}
				i = j
			}
		}
		u.Params = Params(s[ps:i])
	}
	if i < len(s) && (s[i] == '%' || s[i] == '?' || uriClass[s[i]]&(uriCUser|uriCParam|uriCHost) != 0) {
		// An escape, headers, or a character the full parser may
		// still take: let it decide.
		*u = URI{}
		return 0, false
	}
	return i, true
}
