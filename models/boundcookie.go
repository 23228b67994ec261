package models

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// BoundCookies mints and checks the short-lived cookie of a session bound to a device
// key (DBSC). A value is its expiry and the server's MAC over the expiry, the session's
// handle and the key's thumbprint: only the server makes one, only for that session and
// that key, and it says itself when it ends, whatever the browser does with its cookies.
// It is handed out only after a proof signed by the key, so holding a fresh one shows the
// request comes from the device that holds the key.
type BoundCookies struct {
	key []byte
}

// boundValueLen is the decoded length of a value: the expiry (8 bytes) and the MAC.
const boundValueLen = 8 + sha256.Size

// NewBoundCookies returns the minter; its key is derived from secret (the stamp secret),
// for this use alone.
func NewBoundCookies(secret []byte) *BoundCookies {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("elsewhere bound cookie v1"))
	return &BoundCookies{key: m.Sum(nil)}
}

// Make returns a bound cookie value for the session handle and key thumbprint, valid
// until expires.
func (bc *BoundCookies) Make(handle string, thumbprint []byte, expires time.Time) string {
	b := make([]byte, 8, boundValueLen)
	binary.BigEndian.PutUint64(b, uint64(expires.Unix()))
	b = append(b, bc.mac(b[:8], handle, thumbprint)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Valid reports whether v is a value Make made for this session and key that has not
// expired at now.
func (bc *BoundCookies) Valid(v, handle string, thumbprint []byte, now time.Time) bool {
	if len(v) != base64.RawURLEncoding.EncodedLen(boundValueLen) || len(thumbprint) == 0 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) != boundValueLen {
		return false
	}
	if !hmac.Equal(b[8:], bc.mac(b[:8], handle, thumbprint)) {
		return false
	}
	return int64(binary.BigEndian.Uint64(b[:8])) > now.Unix()
}

// Expiry is when the value v, valid for handle and thumbprint, ends (see Valid); ok is
// false for a value that is not valid at now.
func (bc *BoundCookies) Expiry(v, handle string, thumbprint []byte, now time.Time) (time.Time, bool) {
	if !bc.Valid(v, handle, thumbprint, now) {
		return time.Time{}, false
	}
	b, _ := base64.RawURLEncoding.DecodeString(v)
	return time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0), true
}

func (bc *BoundCookies) mac(expiry []byte, handle string, thumbprint []byte) []byte {
	m := hmac.New(sha256.New, bc.key)
	m.Write(expiry)
	m.Write([]byte(handle))
	m.Write([]byte{0})
	m.Write(thumbprint)
	return m.Sum(nil)
}
