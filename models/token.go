package models

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// tokenBytes is the session token's entropy: 256 bits.
const tokenBytes = 32

// NewToken returns a fresh random session token for the cookie, and its SHA-256 for the database.
func NewToken() (token string, hash []byte) {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails (crypto/rand panics instead since Go 1.24)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the form in which a session token is kept at rest.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// WellFormedToken reports whether s could be a token NewToken made; anything else is not
// worth a database look-up.
func WellFormedToken(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == tokenBytes
}

// newHandle returns a public session handle: random, and unrelated to the token.
func newHandle() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
