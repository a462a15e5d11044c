package sip

import (
	"crypto/rand"
	"encoding/hex"
)

// NewTag returns a random From or To tag (RFC 3261 §19.3: at least 32
// random bits; this has 64).
func NewTag() string { return randomHex(8) }

// NewBranch returns a Via branch with the magic cookie, unique per
// transaction (§8.1.1.7).
func NewBranch() string { return MagicCookie + randomHex(10) }

// NewCallID returns a random Call-ID at host (§8.1.1.4).
func NewCallID(host string) string { return randomHex(16) + "@" + host }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
