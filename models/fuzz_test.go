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
		if (e == "") == (problem == "") {
			t.Fatalf("NormalizeEmail(%q) = %q, %q: want exactly one", in, e, problem)
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
		if again, p := NormalizeEmail(e); again != e || p != "" {
			t.Fatalf("not idempotent: %q -> %q (%q)", e, again, p)
		}
	})
}

// FuzzCleanText: the result is valid UTF-8 without control characters, within max
// bytes, and a prefix of the input made valid: never empty when the input's first
// visible character fits in max bytes.
func FuzzCleanText(f *testing.F) {
	f.Add("Mozilla/5.0 (Windows NT 10.0)", 512)
	f.Add("\xff\xfe\x00\x1b[31m\u0085x", 8)
	f.Add(strings.Repeat("é", 300), 511)
	f.Add("  padded  ", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		got := CleanText(s, max)
		if len(got) > max || !utf8.ValidString(got) || got != strings.TrimSpace(got) {
			t.Fatalf("CleanText(%q, %d) = %q", s, max, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("control character %U kept", r)
			}
		}
		// The input made valid, without its leading blanks: got is a prefix of it (with
		// each control character shown as a space), and holds at least its first
		// character whenever that character ends within max bytes of the valid input.
		isControl := func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
		valid := strings.ToValidUTF8(s, "\uFFFD")
		rest, end := valid, 0
		for i, r := range valid {
			if !isControl(r) && !unicode.IsSpace(r) {
				rest, end = valid[i:], i+utf8.RuneLen(r)
				break
			}
			rest, end = "", 0
		}
		if rest != "" && end <= max && got == "" {
			t.Fatalf("CleanText(%q, %d) = \"\", but %q ends within %d bytes", s, max, []rune(rest)[0], max)
		}
		want := []rune(rest)
		for i, r := range []rune(got) {
			if i >= len(want) || (r != want[i] && !(r == ' ' && isControl(want[i]))) {
				t.Fatalf("CleanText(%q, %d) = %q is not a prefix of the valid input %q", s, max, got, rest)
			}
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
