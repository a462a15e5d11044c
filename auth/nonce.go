package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// A nonce is base64url(issued ‖ random ‖ mac): the issue time in Unix
// nanoseconds (8 bytes, big-endian), 12 random bytes, and the first 16
// bytes of HMAC-SHA-256(secret, realm ‖ issued ‖ random). Any server
// holding the secret can tell, without state, whether it issued a
// nonce, for which realm, and when (RFC 7616 §3.3 suggests such a
// time-stamped, keyed construction).
const (
	nonceTimeLen = 8
	nonceRandLen = 12
	nonceMACLen  = 16
	nonceRawLen  = nonceTimeLen + nonceRandLen + nonceMACLen
)

var nonceEncoding = base64.RawURLEncoding

// newNonce returns a fresh nonce issued at now.
func (s *Server) newNonce(now time.Time) string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:nonceTimeLen], uint64(now.UnixNano()))
	rand.Read(raw[nonceTimeLen : nonceTimeLen+nonceRandLen])
	copy(raw[nonceTimeLen+nonceRandLen:], s.nonceMAC(raw[:nonceTimeLen+nonceRandLen]))
	return nonceEncoding.EncodeToString(raw[:])
}

// parseNonce checks that this server (its secret, its realm) issued
// nonce and returns when, in Unix nanoseconds.
func (s *Server) parseNonce(nonce string) (issued int64, ok bool) {
	if nonceEncoding.EncodedLen(nonceRawLen) != len(nonce) {
		return 0, false
	}
	var raw [nonceRawLen]byte
	if n, err := nonceEncoding.Decode(raw[:], []byte(nonce)); err != nil || n != nonceRawLen {
		return 0, false
	}
	body, mac := raw[:nonceTimeLen+nonceRandLen], raw[nonceTimeLen+nonceRandLen:]
	if !hmac.Equal(mac, s.nonceMAC(body)) {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(raw[:nonceTimeLen])), true
}

func (s *Server) nonceMAC(body []byte) []byte {
	h := hmac.New(sha256.New, s.secret)
	// The realm is length-prefixed so that no (realm, body) pair can
	// be shifted into another.
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(s.Realm)))
	h.Write(n[:])
	h.Write([]byte(s.Realm))
	h.Write(body)
	return h.Sum(nil)[:nonceMACLen]
}

// maxTrackedNonces bounds the replay table. Past it the oldest entry is
// dropped, and every nonce issued no later than it is from then on
// treated as stale (re-challenged), so dropping never opens a replay.
const maxTrackedNonces = 1 << 16

// nonceUses remembers, per nonce in use, the highest nonce-count
// accepted (RFC 7616 §3.4: the server checks the count increases to
// detect replays), and which nonces were used without qop (RFC 2069
// form, which has no count: such a nonce is good for one request).
// Entries go when their nonce expires: a replay after that meets the
// expiry check instead. Guarded by Server.mu.
type nonceUses struct {
	m     map[string]*nonceUse
	order []string // insertion order, oldest first, from head
	head  int
	// floor: nonces issued at or before it (Unix ns) that are not in m
	// were dropped for room and count as stale. Valid when dropped.
	floor   int64
	dropped bool
}

type nonceUse struct {
	nc      uint32
	noQOP   bool
	issued  int64
	expires time.Time
}

// useResult is what the replay check decided.
type useResult int

const (
	useOK useResult = iota
	useReplay
	useStale
)

// use records one use of nonce with nonce-count nc (qop false: the RFC
// 2069 form, no count) at now, and says whether it is allowed.
func (t *nonceUses) use(nonce string, issued int64, expires time.Time, nc uint32, qop bool, now time.Time, limit int) useResult {
	t.purge(now)
	if e, ok := t.m[nonce]; ok {
		if !qop || e.noQOP || nc <= e.nc {
			return useReplay
		}
		e.nc = nc
		return useOK
	}
	if t.dropped && issued <= t.floor {
		return useStale
	}
	if t.m == nil {
		t.m = make(map[string]*nonceUse)
	}
	for len(t.m) >= limit {
		t.dropOldest()
	}
	t.m[nonce] = &nonceUse{nc: nc, noQOP: !qop, issued: issued, expires: expires}
	t.order = append(t.order, nonce)
	return useOK
}

// purge forgets the expired nonces at the head of the insertion order
// (nonces are used soon after they are issued, so that order is close
// to the order of expiry; the rest go when they reach the head, and the
// table stays bounded either way).
func (t *nonceUses) purge(now time.Time) {
	for t.head < len(t.order) {
		e, ok := t.m[t.order[t.head]]
		if ok && e.expires.After(now) {
			break
		}
		delete(t.m, t.order[t.head])
		t.pop()
	}
}

func (t *nonceUses) dropOldest() {
	n := t.order[t.head]
	if e, ok := t.m[n]; ok {
		if !t.dropped || e.issued > t.floor {
			t.floor = e.issued
		}
		t.dropped = true
		delete(t.m, n)
	}
	t.pop()
}

func (t *nonceUses) pop() {
	t.order[t.head] = ""
	t.head++
	if t.head > len(t.order)/2 && t.head > 64 {
		t.order = append(t.order[:0], t.order[t.head:]...)
		t.head = 0
	}
}
