package models

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/elsewhere-dev/elsewhere/models/device"
)

// DeviceCookies mints and checks device cookies: the long-lived value that tells a
// browser the account signed in from before (a known device: no "new device" alert, and
// a sign-in budget of its own that no stranger can exhaust). A value is a random part and
// the server's MAC over it, so a value the server did not issue is never adopted: a
// browser that brings one is given a fresh cookie, and is a new device.
type DeviceCookies struct {
	key []byte
}

// NewDeviceCookies returns the minter; its key is derived from secret (the stamp secret),
// for this use alone.
func NewDeviceCookies(secret []byte) *DeviceCookies {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("elsewhere device cookie v1"))
	return &DeviceCookies{key: m.Sum(nil)}
}

// New returns a fresh device cookie value.
func (dc *DeviceCookies) New() string {
	r, _ := NewToken()
	return r + "." + dc.mac(r)
}

// Issued reports whether v is a value New made under this secret.
func (dc *DeviceCookies) Issued(v string) bool {
	r, m, ok := strings.Cut(v, ".")
	return ok && WellFormedToken(r) && hmac.Equal([]byte(m), []byte(dc.mac(r)))
}

func (dc *DeviceCookies) mac(r string) string {
	m := hmac.New(sha256.New, dc.key)
	m.Write([]byte(r))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// DeviceHash is the form in which the account knows a browser: a SHA-256 of its device
// cookie together with its browser family, platform and device type ("Chrome", "macOS",
// "desktop"; no versions, which change with updates). The same cookie copied into another
// kind of browser is another device, and the owner hears of it.
func DeviceHash(cookie string, d device.Device) []byte {
	h := sha256.New()
	for _, part := range []string{cookie, family(d.Browser), family(d.OS), string(d.Type)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// family is a browser or platform name without its version: "Chrome 131" is "Chrome",
// "Windows 11" is "Windows", "Mac OS X 10.15" is "Mac OS X".
func family(name string) string {
	words := strings.Fields(name)
	for i, w := range words {
		if unicode.IsDigit([]rune(w)[0]) {
			return strings.Join(words[:i], " ")
		}
	}
	return name
}

// KnowsDevice reports whether the account with that email signed in before from the
// browser whose device hash is one of hashes (nil ones are skipped). It answers in the
// same way and with the same query whether or not the account exists.
func (u *Users) KnowsDevice(ctx context.Context, email string, hashes ...[]byte) (bool, error) {
	for _, h := range hashes {
		if h == nil {
			continue
		}
		var one int
		err := u.db.Read.QueryRowContext(ctx, `SELECT 1 FROM known_devices k JOIN users u ON u.id = k.user_id
			WHERE u.email = ? AND k.device_hash = ?`, email, h).Scan(&one)
		switch {
		case err == nil:
			return true, nil
		case !errors.Is(err, sql.ErrNoRows):
			return false, fmt.Errorf("known device: %w", err)
		}
	}
	return false, nil
}
