package text

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzClean: the result is valid UTF-8 without control characters, within max
// bytes, and a prefix of the input made valid: never empty when the input's first
// visible character fits in max bytes.
func FuzzClean(f *testing.F) {
	f.Add("Mozilla/5.0 (Windows NT 10.0)", 512)
	f.Add("\xff\xfe\x00\x1b[31m\u0085x", 8)
	f.Add(strings.Repeat("é", 300), 511)
	f.Add("  padded  ", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		got := Clean(s, max)
		if len(got) > max || !utf8.ValidString(got) || got != strings.TrimSpace(got) {
			t.Fatalf("Clean(%q, %d) = %q", s, max, got)
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
			t.Fatalf("Clean(%q, %d) = \"\", but %q ends within %d bytes", s, max, []rune(rest)[0], max)
		}
		want := []rune(rest)
		for i, r := range []rune(got) {
			if i >= len(want) || (r != want[i] && !(r == ' ' && isControl(want[i]))) {
				t.Fatalf("Clean(%q, %d) = %q is not a prefix of the valid input %q", s, max, got, rest)
			}
		}
	})
}

// FuzzLabel: a label is bounded, valid, printable text with single inner spaces and
// no markup, and cleaning it again changes nothing.
func FuzzLabel(f *testing.F) {
	f.Add("Chrome 131", 64)
	f.Add(" <b>\u202e  x\t\ty\u00a0 z\xff", 8)
	f.Add(strings.Repeat("é", 40), 64)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		got := Label(s, max)
		if len(got) > max || !utf8.ValidString(got) || got != strings.TrimSpace(got) ||
			strings.Contains(got, "  ") || strings.ContainsAny(got, "<>\"`\\") {
			t.Fatalf("Label(%q, %d) = %q", s, max, got)
		}
		for _, r := range got {
			if r != ' ' && (!unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r)) {
				t.Fatalf("invisible character %U kept: %q", r, got)
			}
		}
		if again := Label(got, max); again != got {
			t.Fatalf("not idempotent: %q -> %q", got, again)
		}
	})
}
