package sip

//go:generate go run gen_tables.go

// ReasonPhrase returns a reason phrase for code: the registered one when
// StatusText knows the code, otherwise the phrase of the class's x00
// code. That mirrors RFC 3261 §8.1.3.2 and §21, under which an
// unrecognised response is treated as the x00 response of its class, so
// a 499 is described as "Bad Request" and a 299 as "OK". For codes
// outside 100..699 it returns "" and leaves the choice to the caller.
func ReasonPhrase(code int) string {
	if s := StatusText(code); s != "" {
		return s
	}
	if code < 100 || code > 699 {
		return ""
	}
	return StatusText(code / 100 * 100)
}
