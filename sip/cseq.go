package sip

import "strconv"

// CSeq is the CSeq header value (RFC 3261 §20.16).
type CSeq struct {
	Seq    uint32
	Method string
}

// String returns "Seq METHOD".
func (c CSeq) String() string { return strconv.FormatUint(uint64(c.Seq), 10) + " " + c.Method }

// scanCSeq checks a CSeq value and returns the number and where the
// method is.
func scanCSeq(s string) (seq uint32, ms, me int, problem string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	n, ok := parseUint(s[:i], 1<<32-1)
	if !ok {
		if i == 0 {
			return 0, 0, 0, "missing sequence number"
		}
		return 0, 0, 0, "sequence number out of range"
	}
	j := skipWS(s, i)
	if j == i {
		return 0, 0, 0, "missing method"
	}
	k := scanToken(s, j)
	if k == j || k != len(s) {
		return 0, 0, 0, "malformed method"
	}
	return uint32(n), j, k, ""
}
