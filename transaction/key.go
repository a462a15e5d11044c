package transaction

import (
	"strings"

	"github.com/sipkit/sipkit/sip"
)

// serverKey identifies a server transaction (RFC 3261 §17.2.3): the top
// Via's branch and sent-by and the method, ACK counting as INVITE. A
// branch without the magic cookie comes from an RFC 2543 client, and the
// legacy fields then identify the transaction instead. Strings alias the
// request, which the transaction keeps anyway.
type serverKey struct {
	branch string
	host   string
	port   int
	method string
	legacy legacyKey
}

// legacyKey is the RFC 2543 matching of §17.2.3: Request-URI, From tag,
// Call-ID, CSeq number and top Via; the To tag is checked after lookup,
// because an ACK carries the tag of the response, not of the INVITE.
type legacyKey struct {
	ruri, callID, fromTag string
	cseq                  uint32
}

func serverKeyOf(req *sip.Request, method string) serverKey {
	v, _ := req.TopVia()
	k := serverKey{host: v.Host, port: v.Port, method: method}
	if v.RFC3261Branch() {
		k.branch = v.Branch
		return k
	}
	k.branch = v.Branch // part of the top Via, if there is one
	k.legacy = legacyKey{ruri: requestURIText(req), callID: req.CallID(), fromTag: req.FromTag(), cseq: req.CSeq().Seq}
	return k
}

// requestURIText is the Request-URI as written: RFC 2543 compared it as
// text.
func requestURIText(req *sip.Request) string {
	line := req.StartLine()
	_, rest, _ := strings.Cut(line, " ")
	uri, _, _ := strings.Cut(rest, " ")
	return uri
}

// clientKey identifies a client transaction (§17.1.3): the branch of
// the top Via and the CSeq method, so a CANCEL's responses do not reach
// the INVITE it cancels.
type clientKey struct {
	branch, method string
}
