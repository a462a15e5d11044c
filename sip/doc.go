// Package sip is the message layer of sipkit: a zero-copy parser and a
// writer for SIP requests and responses, URIs, and the headers every
// other layer reads.
//
// Parse takes a datagram and returns a Request or Response whose strings
// point into the datagram: the message owns the buffer from then on. It
// checks eagerly what every layer needs — the start line, Via, From, To,
// Call-ID, CSeq, Max-Forwards, Content-Length and Contact, the mandatory
// headers and the CSeq method — and keeps the values a transaction reads
// on every message (top branch, tags, Call-ID, CSeq). Other headers are
// parsed when asked for. A StreamReader frames messages on TCP and TLS by
// Content-Length.
//
// Errors are *ParseError values naming the header and the problem; their
// Reason is a ready reason phrase for the 400 a server sends, and Parse
// still returns the message when its headers could be split, so that
// response can be built with NewResponse.
//
// Editing methods (PrependVia, DecrementMaxForwards, PrependRecordRoute,
// SetToTag, AddReason, ...) change a message for forwarding or answering;
// headers they do not touch are written back byte for byte.
//
//	m, err := sip.Parse(datagram)
//	if err != nil { ... }
//	req := m.(*sip.Request)
//	fwd := sip.Clone(req)
//	fwd.DecrementMaxForwards()
//	fwd.PrependVia(sip.Via{Transport: "UDP", Host: "192.0.2.1", Branch: branch})
//	conn.Write(fwd.AppendTo(buf[:0]))
//
// RFCs: 3261 (§7, §8.2.6, §16.6, §18.3, §19–§25), 3326 (Reason), 3581
// (rport), 4475 (torture tests), 5118 (IPv6), 7616 and 8760 (digest
// headers).
package sip
