package sip_test

import (
	"fmt"
	"strings"

	"github.com/sipkit/sipkit/sip"
)

func ExampleParse() {
	m, err := sip.Parse([]byte("INVITE sip:bob@192.0.2.4 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK74bf9\r\n" +
		"From: Alice <sip:alice@192.0.2.1>;tag=9fxced76sl\r\n" +
		"To: Bob <sip:bob@192.0.2.4>\r\n" +
		"Call-ID: 3848276298220188511@192.0.2.1\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Max-Forwards: 70\r\n" +
		"Content-Length: 0\r\n\r\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	req := m.(*sip.Request)
	fmt.Println(req.Method(), req.RequestURI().Host, req.Branch(), req.FromTag())
	// Output: INVITE 192.0.2.4 z9hG4bK74bf9 9fxced76sl
}

func ExampleNewResponse() {
	m, _ := sip.Parse([]byte("OPTIONS sip:192.0.2.4 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n" +
		"From: <sip:alice@192.0.2.1>;tag=a\r\n" +
		"To: <sip:192.0.2.4>\r\n" +
		"Call-ID: c1\r\nCSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	resp := sip.NewResponse(m.(*sip.Request), sip.StatusOK, "")
	_ = resp.SetToTag("b")
	fmt.Print(strings.ReplaceAll(resp.String(), "\r\n", "\n"))
	// Output:
	// SIP/2.0 200 OK
	// Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1
	// From: <sip:alice@192.0.2.1>;tag=a
	// To: <sip:192.0.2.4>;tag=b
	// Call-ID: c1
	// CSeq: 7 OPTIONS
	// Content-Length: 0
}

func ExampleParseError() {
	_, err := sip.Parse([]byte("OPTIONS sip:192.0.2.4 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n" +
		"From: <sip:alice@192.0.2.1>;tag=a\r\n" +
		"To: <sip:192.0.2.4>\r\n" +
		"Call-ID: c1\r\nCSeq: 7 INVITE\r\n\r\n"))
	if pe, ok := err.(*sip.ParseError); ok {
		fmt.Println(pe.StatusCode(), pe.Reason())
	}
	// Output: 400 Bad CSeq header: method does not match the request method
}
