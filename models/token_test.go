package models

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		token, hash := NewToken()
		if !WellFormedToken(token) {
			t.Fatalf("NewToken made %q, which WellFormedToken refuses", token)
		}
		if b, _ := base64.RawURLEncoding.DecodeString(token); len(b) != 32 {
			t.Fatalf("token carries %d bytes, want 32 (256 bits)", len(b))
		}
		if sum := sha256.Sum256([]byte(token)); string(hash) != string(sum[:]) {
			t.Fatal("the hash is not the token's SHA-256")
		}
		if strings.Contains(string(hash), token) || seen[token] {
			t.Fatal("repeated token, or the token inside its hash")
		}
		seen[token] = true
	}
	if h := newHandle(); len(h) != 32 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Errorf("handle %q is not 32 hex digits", h)
	}
}

func TestWellFormedTokenRefuses(t *testing.T) {
	good, _ := NewToken()
	for name, s := range map[string]string{
		"empty":          "",
		"short":          good[:42],
		"long":           good + "A",
		"padded":         good[:42] + "=",
		"std alphabet":   strings.Repeat("+", 43),
		"space":          good[:42] + " ",
		"non-ASCII":      good[:41] + "é",
		"NUL":            good[:42] + "\x00",
		"percent-quoted": "%41" + good[3:],
	} {
		if WellFormedToken(s) {
			t.Errorf("%s: WellFormedToken(%q) = true", name, s)
		}
	}
}

// FuzzToken: WellFormedToken never panics, accepts only what could be a token, and
// HashToken is a SHA-256 of whatever it is given.
func FuzzToken(f *testing.F) {
	good, _ := NewToken()
	for _, s := range []string{good, good[:42], good + "=", "", strings.Repeat("A", 43), strings.Repeat("/", 43), "\xff\xfe", strings.Repeat("-_", 22)[:43]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if WellFormedToken(s) {
			b, err := base64.RawURLEncoding.DecodeString(s)
			if len(s) != 43 || err != nil || len(b) != 32 {
				t.Fatalf("accepted %q (%d bytes, %v)", s, len(b), err)
			}
		}
		sum := sha256.Sum256([]byte(s))
		if h := HashToken(s); len(h) != 32 || string(h) != string(sum[:]) {
			t.Fatalf("HashToken(%q) is not its SHA-256", s)
		}
	})
}
