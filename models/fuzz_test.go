package models

import (
	"context"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzNormalizeEmail: an email it accepts is bounded, lower-case, valid text with no
// space, control character or markup, and normalizing it again changes nothing.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ann@example.com", " ANN@Example.COM ", "a@b", "<a>@b.co", "a\xff@b.co", "a\u202e@b.co", "a\u200b@b.co", "a\u00a0@b.co", "\u0085@b.co",
		strings.Repeat("a", 243) + "@example.com", `"a b"@example.com`, "Ann <ann@example.com>", "élève@école.example", "a@b.co\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, problem := NormalizeEmail(in)
		if (e == "") == (problem == nil) {
			t.Fatalf("NormalizeEmail(%q) = %q, %v: want exactly one", in, e, problem)
		}
		if e == "" {
			return
		}
		if len(e) > MaxEmailLen || !utf8.ValidString(e) || e != strings.ToLower(e) || strings.ContainsRune(e, utf8.RuneError) ||
			strings.ContainsAny(e, " <>\"'\\") || strings.Count(e, "@") < 1 {
			t.Fatalf("accepted %q as %q", in, e)
		}
		for _, r := range e {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) {
				t.Fatalf("accepted an invisible character %U: %q", r, e)
			}
		}
		if again, p := NormalizeEmail(e); again != e || p != nil {
			t.Fatalf("not idempotent: %q -> %q (%v)", e, again, p)
		}
	})
}

// FuzzDecodeHash: a stored hash that is not one this code wrote is refused without a
// panic, and parameters that would make a verification a denial of service never pass.
func FuzzDecodeHash(f *testing.F) {
	h, err := NewHasher(HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}, 1)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := h.Hash(context.Background(), "password")
	for _, s := range []string{good, "", "$argon2id$", "$argon2id$v=19$m=4294967295,t=1,p=1$AAAA$AAAA",
		"$argon2id$v=19$m=64,t=4294967295,p=1$AAAA$AAAA", "$argon2id$v=19$m=64,t=1,p=0$AAAA$AAAA",
		"$argon2i$v=19$m=64,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=64,t=1,p=1$$", "$argon2id$v=19$m=-1,t=1,p=1$AAAA$AAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := decodeHash(s)
		if err != nil {
			return
		}
		if p.Memory == 0 || p.Memory > 1<<21 || p.Time == 0 || p.Time > 64 || p.Threads == 0 || len(key) == 0 {
			t.Fatalf("accepted %q with %+v", s, p)
		}
		if p.SaltLen != uint32(len(salt)) || p.KeyLen != uint32(len(key)) {
			t.Fatalf("lengths %+v do not match salt %d key %d", p, len(salt), len(key))
		}
		// Verifying is safe for small costs; large ones are bounded above, not run here.
		if p.Memory <= 256 && p.Time <= 2 && len(key) <= 64 {
			if _, err := h.Verify(context.Background(), "password", s); err != nil {
				t.Fatalf("Verify(%q): %v", s, err)
			}
		}
	})
}
