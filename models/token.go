package models

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
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

// codeAlphabet is Crockford's base32: no I, L, O or U, so a code read off a mail and typed
// back survives the usual misreadings (linkSecretHash maps them).
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// codeChars is a mailed code's length: 16 characters of 5 bits, 80 bits, beyond guessing
// however many are tried (a code needs no email beside it, and no attempt limit).
const codeChars = 16

// NewCode returns the short code a mail carries beside its link, for a browser without
// JavaScript (the link's token travels in the URL fragment, which only a script can read),
// shown in groups of four ("K7QM-4XRT-2PZ9-HD3A"), and its hash for the database.
func NewCode() (code string, hash []byte) {
	b := make([]byte, codeChars)
	rand.Read(b)
	var s []byte
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			s = append(s, '-')
		}
		s = append(s, codeAlphabet[c&31]) // 256 is a multiple of 32: no bias
	}
	code = string(s)
	h, _ := linkSecretHash(code)
	return code, h
}

// linkSecretHash is the hash under which a mailed link's secret is kept: a token as
// HashToken has it, or a typed code (spaces, hyphens, case and misread letters ignored)
// under a hash of its own kind. ok is false for anything that could be neither, which is
// not worth a database look-up.
func linkSecretHash(s string) (hash []byte, ok bool) {
	if WellFormedToken(s) {
		return HashToken(s), true
	}
	if len(s) > 4*codeChars {
		return nil, false
	}
	var code []byte
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if !strings.ContainsRune(codeAlphabet, r) {
			return nil, false
		}
		code = append(code, byte(r))
	}
	if len(code) != codeChars {
		return nil, false
	}
	h := sha256.Sum256(append([]byte("code:"), code...))
	return h[:], true
}
