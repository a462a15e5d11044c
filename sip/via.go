package sip

// MagicCookie starts every RFC 3261 branch parameter (§8.1.1.7).
const MagicCookie = "z9hG4bK"

// Via is one value of a Via header (RFC 3261 §20.42). Strings alias the
// message.
type Via struct {
	Protocol  string // "SIP"
	Version   string // "2.0"
	Transport string // as written: "UDP", "TCP", "TLS", "SCTP", "WS", "WSS", or an extension
	Host      string // sent-by host; IPv6 references keep their brackets
	Port      int    // 0 when absent
	Params    Params // via-params with leading ';'
	Branch    string // value of the branch parameter, "" if absent
}

// Received returns the received parameter (RFC 3261 §18.2.1).
func (v Via) Received() (string, bool) { return v.Params.Get("received") }

// RPort returns the rport parameter (RFC 3581): present reports whether
// the parameter is there at all, port is its value (0 when it is empty,
// as a client sends it).
func (v Via) RPort() (port int, present bool) {
	s, ok := v.Params.Get("rport")
	if !ok {
		return 0, false
	}
	n, _ := parseUint(s, 65535)
	return int(n), true
}

// Maddr returns the maddr parameter (RFC 3261 §18.2.2).
func (v Via) Maddr() (string, bool) { return v.Params.Get("maddr") }

// RFC3261Branch reports whether the branch carries the RFC 3261 magic
// cookie, so transactions can be matched by it (§17.2.3). A branch that is
// only the cookie (RFC 4475 badbranch) does not count.
func (v Via) RFC3261Branch() bool {
	return len(v.Branch) > len(MagicCookie) && v.Branch[:len(MagicCookie)] == MagicCookie
}

// SentBy returns host[:port] as written in the Via.
func (v Via) SentBy() string {
	if v.Port == 0 {
		return v.Host
	}
	var buf [64]byte
	return string(appendHostPort(buf[:0], v.Host, v.Port))
}

// AppendTo appends the Via value in canonical form.
func (v Via) AppendTo(b []byte) []byte {
	p, ver := v.Protocol, v.Version
	if p == "" {
		p = "SIP"
	}
	if ver == "" {
		ver = "2.0"
	}
	b = append(b, p...)
	b = append(b, '/')
	b = append(b, ver...)
	b = append(b, '/')
	b = append(b, v.Transport...)
	b = append(b, ' ')
	b = appendHostPort(b, v.Host, v.Port)
	if v.Params != "" {
		b = append(b, v.Params...)
	} else if v.Branch != "" {
		b = append(b, ";branch="...)
		b = append(b, v.Branch...)
	}
	return b
}

// String returns the Via value in canonical form.
func (v Via) String() string { return string(v.AppendTo(nil)) }

// parseVia parses one via-parm starting at s[i] and returns the index
// where it ends (at a ',' or the end of s).
func parseVia(s string, i int) (v Via, next int, problem string) {
	var p viaPos
	next, problem = scanVia(&p, s, i)
	if problem != "" {
		return v, next, problem
	}
	v.Protocol, v.Version = s[p.proto:p.protoEnd], s[p.ver:p.verEnd]
	v.Transport = s[p.transport:p.transportEnd]
	v.Host, v.Port = s[p.host:p.hostEnd], p.port
	v.Params = Params(s[p.params:p.paramsEnd])
	v.Branch = s[p.branch:p.branchEnd]
	return v, next, ""
}

// viaPos locates the parts of one via-parm in its header value.
type viaPos struct {
	proto, protoEnd         int
	ver, verEnd             int
	transport, transportEnd int
	host, hostEnd, port     int
	params, paramsEnd       int
	branch, branchEnd       int
}

// scanVia checks the via-parm at s[i], fills p with where its parts are
// and returns where it ends (at a ',' or the end of s). It keeps
// positions, not strings, as Parse checks every Via of every message, and
// fills the caller's p rather than returning a struct to be copied.
func scanVia(p *viaPos, s string, i int) (next int, problem string) {
	i = skipWS(s, i)
	if len(s)-i > 8 && s[i:i+8] == "SIP/2.0/" {
		// Fast path for the protocol every Via has.
		p.proto, p.protoEnd, p.ver, p.verEnd = i, i+3, i+4, i+7
		i += 8
	} else {
		j := scanToken(s, i)
		if j == i {
			return i, "missing protocol"
		}
		p.proto, p.protoEnd = i, j
		if i = skipWS(s, j); i >= len(s) || s[i] != '/' {
			return i, "malformed protocol"
		}
		i = skipWS(s, i+1)
		if j = scanToken(s, i); j == i {
			return i, "missing version"
		}
		p.ver, p.verEnd = i, j
		if i = skipWS(s, j); i >= len(s) || s[i] != '/' {
			return i, "malformed protocol"
		}
		i = skipWS(s, i+1)
	}
	var j int
	switch {
	// The transports of nearly every Via, compared as words.
	case len(s)-i > 4 && (s[i:i+4] == "UDP " || s[i:i+4] == "TCP " || s[i:i+4] == "TLS " || s[i:i+4] == "WSS "):
		j = i + 3
	case len(s)-i > 3 && s[i:i+3] == "WS ":
		j = i + 2
	default:
		if j = scanToken(s, i); j == i {
			return i, "missing transport"
		}
	}
	p.transport, p.transportEnd = i, j
	if i = skipWS(s, j); i == j {
		return i, "missing sent-by"
	}
	if j = scanHost(s, i); j < 0 {
		return i, "malformed sent-by host"
	}
	p.host, p.hostEnd = i, j
	i = skipWS(s, j)
	if i < len(s) && s[i] == ':' {
		i = skipWS(s, i+1)
		k := i
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		port, ok := parseUint(s[i:k], 65535)
		if !ok || port == 0 {
			return i, "malformed sent-by port"
		}
		p.port = int(port)
		i = k
	}
	// Nearly every Via carries its branch first, written plainly: take
	// it without the general parameter scan, which then checks the rest.
	bs, be, rest, want := 0, 0, i, "branch"
	if len(s)-i > 8 && s[i:i+8] == ";branch=" {
		if e := scanWhile(s, i+8, &charClass, cParamValue); e > i+8 {
			bs, be, rest, want = i+8, e, e, ""
		}
	}
	end, fs, fe, prob := scanParamsFind(s, rest, want)
	if prob != "" {
		return end, prob
	}
	if want != "" {
		bs, be = fs, fe
	}
	// The params span without surrounding whitespace.
	ps, pe := skipWS(s, i), end
	for pe > ps && isWS(s[pe-1]) {
		pe--
	}
	p.params, p.paramsEnd, p.branch, p.branchEnd = ps, pe, bs, be
	return end, ""
}

// scanHost scans a sent-by host (hostname, IPv4address or IPv6reference,
// with the URI host rules) at s[i] and returns its end, or -1.
func scanHost(s string, i int) int {
	if i < len(s) && s[i] == '[' {
		if end, err := scanIPv6Ref(s, i); err == nil {
			return end
		}
		return -1
	}
	end, ok := uriScanHost(s, i)
	if !ok {
		return -1
	}
	return end
}
