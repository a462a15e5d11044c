package auth_test

import (
	"fmt"

	"github.com/sipkit/sipkit/auth"
	"github.com/sipkit/sipkit/sip"
)

func ExampleClient_Authorize() {
	m, _ := sip.Parse([]byte("REGISTER sip:example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n" +
		"From: <sip:alice@example.com>;tag=a\r\n" +
		"To: <sip:alice@example.com>\r\n" +
		"Call-ID: c1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"))
	sent := m.(*sip.Request)
	resp := sip.NewResponse(sent, sip.StatusUnauthorized, "")
	_ = resp.AppendHeader("WWW-Authenticate", `Digest realm="example.com", nonce="n1", algorithm=MD5, qop="auth"`)
	_ = resp.AppendHeader("WWW-Authenticate", `Digest realm="example.com", nonce="n1", algorithm=SHA-256, qop="auth"`)

	c := &auth.Client{Accounts: []auth.Account{{Username: "alice", Password: "secret"}}}
	retry, err := c.Authorize(sent, resp)
	if err != nil {
		fmt.Println(err)
		return
	}
	// A new transaction: new branch.
	_ = retry.SetTopVia(sip.Via{Transport: "UDP", Host: "192.0.2.1", Branch: "z9hG4bK2"})

	cr, _ := retry.Authorization()
	fmt.Println(retry.CSeq(), retry.Branch())
	fmt.Println(cr[0].Username, cr[0].Realm, cr[0].Algorithm, cr[0].QOP, cr[0].NC, cr[0].URI)
	// Output:
	// 2 REGISTER z9hG4bK2
	// alice example.com SHA-256 auth 00000001 sip:example.com
}
