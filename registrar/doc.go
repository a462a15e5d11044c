// Package registrar is a SIP registrar (RFC 3261 §10.3): it answers
// REGISTER requests by adding, refreshing, removing and listing the
// bindings of an address-of-record in a location.Store, which a proxy
// then reads to route calls (§16.5).
//
// Register takes one REGISTER and returns the final response; the
// caller, the transaction user of a proxy, has already decided that the
// Request-URI is a domain it serves (§10.3 step 1) and sends the
// response on the server transaction:
//
//	store := location.NewMemory(0)
//	reg, err := registrar.New(registrar.Config{
//		Store: store,
//		Auth:  &auth.Server{Realm: "example.com", Credentials: lookupPassword},
//	})
//	...
//	resp := reg.Register(ctx, req, src) // 200, 401, 423, ...
//	tx.Respond(resp)
//
// Choices where the RFCs leave room, and what Kamailio does:
//   - An out-of-order REGISTER (same Call-ID, CSeq not above a binding's,
//     §10.3 steps 6 and 7) fails with 500 and changes nothing, as the RFC
//     says; Kamailio answers 200 without applying it.
//   - More bindings than Config.MaxContacts: 503 "Too many registered
//     contacts", as Kamailio's max_contacts.
//   - An AOR the registrar does not serve: 404 (§10.3 step 5).
//   - A contact without q ranks as q=1.0 (Kamailio's default_q).
//   - Path (RFC 3327): always stored with the bindings, echoed in the
//     200 only to a UA that supports path (Kamailio's path_mode "lazy");
//     Require: path is accepted, any other required extension gets 420.
//   - Credentials must belong to the user of the AOR, or 403 (Kamailio's
//     auth_check with the To user).
//
// RFCs: 3261 §10 (registrations), §8.2.2.3 (Require), §20.10 (q), §20.17
// (Date), §20.23 (Min-Expires), §22 (digest); 3327 (Path).
package registrar
