package sip

import "strconv"

// Reason is one value of a Reason header (RFC 3326): the protocol whose
// cause it carries ("SIP", "Q.850" or another token), the cause, the
// text and any extension parameters. Strings alias the parsed input.
type Reason struct {
	Protocol string
	Cause    int    // -1 when absent
	Text     string // unquoted; an unescaped copy only if it had quoted-pairs; "" if absent
	Params   Params // every parameter as written, cause and text included, starting at ';'
}

// maxReasonCause bounds a cause. RFC 3326 only says 1*DIGIT; SIP causes
// are status codes and Q.850 causes are 1..127, so anything past 16 bits
// is garbage rather than a cause someone could act on.
const maxReasonCause = 65535

// ParseReason parses a whole Reason header value, which may hold several
// comma-separated reason-values (RFC 3326 §2):
//
//	reason-value = protocol *(SEMI reason-params)
//	reason-params = protocol-cause / reason-text / reason-extension
//
// LWS, including folding, is accepted around ';', '=' and ','.
func ParseReason(value string) ([]Reason, error) {
	var out []Reason
	s := value
	i := 0
	for {
		i = skipWS(s, i)
		j := scanToken(s, i)
		if j == i {
			if i >= len(s) || s[i] == ';' || s[i] == ',' {
				return nil, headerErr("Reason", "missing protocol")
			}
			return nil, headerErr("Reason", "invalid protocol")
		}
		r := Reason{Protocol: s[i:j], Cause: -1}
		k := skipWS(s, j)
		end, problem := scanParams(s, k)
		if problem != "" {
			if end == k && k < len(s) && s[k] != ';' {
				// "SIP foo" or "SIP/2.0": the protocol is not one token.
				problem = "invalid protocol"
			}
			return nil, headerErr("Reason", problem)
		}
		r.Params = Params(trimWS(s[k:end]))
		if err := r.fill(); err != nil {
			return nil, err
		}
		out = append(out, r)
		if end >= len(s) {
			return out, nil
		}
		i = end + 1 // past ','
	}
}

// fill sets Cause and Text from the already validated Params.
func (r *Reason) fill() error {
	var problem string
	r.Params.Each(func(name, v string) bool {
		switch {
		case equalFold(name, "cause"):
			if r.Cause >= 0 {
				problem = "duplicate cause"
				return false
			}
			if v == "" {
				problem = "cause without value"
				return false
			}
			n, ok := parseUint(v, maxReasonCause)
			if !ok {
				if reasonAllDigits(v) {
					problem = "cause out of range"
				} else {
					problem = "non-numeric cause"
				}
				return false
			}
			r.Cause = int(n)
		case equalFold(name, "text"):
			if r.Text != "" {
				problem = "duplicate text"
				return false
			}
			// RFC 3326 asks for a quoted-string, but text=token also
			// matches reason-extension (generic-param), so a token is
			// accepted as the text rather than rejected.
			r.Text = Unquote(v)
		}
		return true
	})
	if problem != "" {
		return headerErr("Reason", problem)
	}
	return nil
}

func reasonAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// String formats r as a reason-value. When Params is set (as after
// parsing) the parameters are re-emitted from it in order, with the
// whitespace between them dropped; otherwise the value is built from
// Cause and Text, for example `SIP;cause=200;text="Call completed elsewhere"`.
func (r Reason) String() string {
	b := make([]byte, 0, 64)
	b = append(b, r.Protocol...)
	if r.Params != "" {
		r.Params.Each(func(name, v string) bool {
			b = appendParam(b, name, v)
			return true
		})
		return string(b)
	}
	if r.Cause >= 0 {
		b = append(b, ";cause="...)
		b = strconv.AppendInt(b, int64(r.Cause), 10)
	}
	if r.Text != "" {
		b = append(b, ";text="...)
		b = append(b, Quote(r.Text)...)
	}
	return string(b)
}

// CompletedElsewhere reports whether r is SIP cause 200, which a forking
// proxy puts on the CANCELs it sends once one branch has answered, so
// that the other phones do not log a missed call (RFC 3326 §2).
func (r Reason) CompletedElsewhere() bool {
	return r.Cause == StatusOK && equalFold(r.Protocol, "SIP")
}

// NewReason returns a Reason with the given fields and no raw Params, so
// String builds it from the fields. Pass cause -1 to leave the cause out
// and text "" to leave the text out.
func NewReason(protocol string, cause int, text string) Reason {
	return Reason{Protocol: protocol, Cause: cause, Text: text}
}

// ReasonCompletedElsewhere returns `SIP;cause=200;text="Call completed
// elsewhere"`, the value RFC 3326 §2 gives for the CANCELs of the
// branches that lost a forking race.
func ReasonCompletedElsewhere() Reason {
	return NewReason("SIP", StatusOK, "Call completed elsewhere")
}

// ReasonForStatus returns a SIP Reason for a response code, as sent in a
// CANCEL or BYE to say which final response ended things. An empty text
// is replaced by ReasonPhrase(code), because a receiver showing the
// reason to a user is better served by words than by a bare number.
func ReasonForStatus(code int, text string) Reason {
	if text == "" {
		text = ReasonPhrase(code)
	}
	return NewReason("SIP", code, text)
}
