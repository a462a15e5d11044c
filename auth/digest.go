package auth

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/sipkit/sipkit/sip"
)

// hashAlg is one row of the digest hash table: RFC 7616 §6.1 (the IANA
// "HTTP Digest Algorithm Values" registry), as RFC 8760 §2.2 admits them
// to SIP.
type hashAlg struct {
	name     string
	new      func() hash.Hash
	strength int // RFC 8760 §2.4: the client uses the strongest it supports
}

var hashAlgs = [...]hashAlg{
	{"MD5", md5.New, 1},
	{"SHA-256", sha256.New, 2},
	{"SHA-512-256", sha512.New512_256, 3},
}

const sessSuffix = "-sess"

// lookupAlg finds the hash of an algorithm value, which may carry the
// -sess suffix. Names compare case-insensitively: servers write "md5".
// An empty name is MD5 (RFC 7616 §3.3, RFC 3261 §22.4).
func lookupAlg(name string) (a *hashAlg, sess bool, err error) {
	base := name
	if n := len(name) - len(sessSuffix); n > 0 && strings.EqualFold(name[n:], sessSuffix) {
		base, sess = name[:n], true
	}
	if base == "" && !sess {
		base = "MD5"
	}
	for i := range hashAlgs {
		if strings.EqualFold(hashAlgs[i].name, base) {
			return &hashAlgs[i], sess, nil
		}
	}
	return nil, false, fmt.Errorf("%w: algorithm %q", ErrUnsupported, shorten(name))
}

// Supported reports whether this package implements the digest
// algorithm named in a challenge ("" means MD5).
func Supported(algorithm string) bool {
	_, _, err := lookupAlg(algorithm)
	return err == nil
}

// strength ranks a supported algorithm, higher is stronger; 0 for one
// not supported. The -sess variant ranks with its hash.
func strength(algorithm string) int {
	a, _, err := lookupAlg(algorithm)
	if err != nil {
		return 0
	}
	return a.strength
}

// h returns the lowercase hex hash of the parts joined by ':', the
// H(data) and KD(secret, data) = H(secret ":" data) of RFC 7616 §3.4.1.
func (a *hashAlg) h(parts ...string) string {
	hh := a.new()
	for i, p := range parts {
		if i > 0 {
			io.WriteString(hh, ":")
		}
		io.WriteString(hh, p)
	}
	var sum [64]byte
	return hex.EncodeToString(hh.Sum(sum[:0]))
}

func (a *hashAlg) hBytes(b []byte) string {
	hh := a.new()
	hh.Write(b)
	var sum [64]byte
	return hex.EncodeToString(hh.Sum(sum[:0]))
}

// Digest holds the inputs of a request-digest: RFC 2617 §3.2.2 and
// RFC 7616 §3.4.1 as RFC 3261 §22.4 and RFC 8760 apply them to SIP.
// A client fills it from the challenge and the request it sends; a
// server from the credentials it received (FromCredentials) and the
// request they came in, and compares the result with their response.
type Digest struct {
	// Algorithm is the algorithm value of the challenge: MD5, SHA-256,
	// SHA-512-256 or one of them with -sess, in any case. Empty means MD5.
	Algorithm string
	Username  string
	Realm     string
	Nonce     string
	// CNonce is required with a QOP and with a -sess algorithm.
	CNonce string
	// NC is the nonce-count as written on the wire (8 hex digits),
	// required with a QOP.
	NC string
	// QOP is "auth", "auth-int" or empty. Empty is the RFC 2069 form
	// RFC 3261 §22.4 keeps for compatibility: no cnonce, no nonce-count.
	QOP string
	// Method is the request method: the digest covers it (RFC 3261 §22.4).
	Method string
	// URI is the digest-uri, the Request-URI as written on the wire.
	URI string
	// Body is the message body, hashed into the digest with auth-int.
	Body []byte
}

// FromCredentials returns the digest inputs of received credentials for
// a request with the given method and body, for a server to recompute
// the response. It does not check the credentials against a challenge.
func FromCredentials(c sip.Credentials, method string, body []byte) Digest {
	return Digest{
		Algorithm: c.Algorithm, Username: c.Username, Realm: c.Realm, Nonce: c.Nonce,
		CNonce: c.CNonce, NC: c.NC, QOP: c.QOP, Method: method, URI: c.URI, Body: body,
	}
}

// HA1 returns H(username ":" realm ":" password) with the hash of
// algorithm, whose -sess suffix is ignored: the value a server may store
// instead of the password (RFC 7616 §3.4.2), one per hash.
func HA1(algorithm, username, realm, password string) (string, error) {
	a, _, err := lookupAlg(algorithm)
	if err != nil {
		return "", err
	}
	return a.h(username, realm, password), nil
}

// Response returns the request-digest for the password, in lowercase hex.
func (d Digest) Response(password string) (string, error) {
	a, sess, err := lookupAlg(d.Algorithm)
	if err != nil {
		return "", err
	}
	return d.response(a, sess, a.h(d.Username, d.Realm, password))
}

// ResponseHA1 returns the request-digest from a stored HA1 (see HA1)
// instead of the password; for a -sess algorithm it derives the session
// key from it.
func (d Digest) ResponseHA1(ha1 string) (string, error) {
	a, sess, err := lookupAlg(d.Algorithm)
	if err != nil {
		return "", err
	}
	return d.response(a, sess, strings.ToLower(ha1))
}

// response computes, from the HA1 of the password:
//
//	-sess:     A1 key = H(HA1 ":" nonce ":" cnonce)
//	qop auth:  HA2 = H(method ":" uri), auth-int: H(method ":" uri ":" H(body))
//	qop:       KD(HA1, nonce ":" nc ":" cnonce ":" qop ":" HA2)
//	no qop:    KD(HA1, nonce ":" HA2)
func (d Digest) response(a *hashAlg, sess bool, ha1 string) (string, error) {
	if sess {
		if d.CNonce == "" {
			return "", fmt.Errorf("%w: %s without cnonce", ErrInvalid, d.Algorithm)
		}
		ha1 = a.h(ha1, d.Nonce, d.CNonce)
	}
	var ha2 string
	switch {
	case d.QOP == "":
		return a.h(ha1, d.Nonce, a.h(d.Method, d.URI)), nil
	case strings.EqualFold(d.QOP, "auth"):
		ha2 = a.h(d.Method, d.URI)
	case strings.EqualFold(d.QOP, "auth-int"):
		ha2 = a.h(d.Method, d.URI, a.hBytes(d.Body))
	default:
		return "", fmt.Errorf("%w: qop %q", ErrUnsupported, shorten(d.QOP))
	}
	if d.CNonce == "" || d.NC == "" {
		return "", fmt.Errorf("%w: qop without cnonce or nc", ErrInvalid)
	}
	// The qop is hashed as written: the other side hashes what it sees.
	return a.h(ha1, d.Nonce, d.NC, d.CNonce, d.QOP, ha2), nil
}

// shorten bounds a value quoted in an error message.
func shorten(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
