// Package text sanitises attacker-written text: what a request sends (emails, user
// agents, client hints) before it is stored, and what is read out of it before it is
// shown as a label. Both go through one walk over the runes, so the two cannot drift.
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean makes attacker-supplied text safe to store: valid UTF-8 (each run of invalid
// bytes becomes U+FFFD), control characters turned to spaces, at most max bytes (cut
// on a character boundary), and no surrounding space. Everything else is kept, so the
// result is the start of the input made valid.
func Clean(s string, max int) string {
	return strings.TrimSpace(walk(s, max, false))
}

// Label makes attacker-written text fit to show as a label: valid UTF-8, no control
// or formatting characters (which could reorder or hide text), none of the characters
// that delimit markup (views escape, but labels also reach logs), single spaces, and
// at most max bytes, cut on a character boundary.
func Label(s string, max int) string {
	if isPlain(s, max) {
		return s
	}
	return walk(s, max, true)
}

// walk copies the runes of s that fit in max bytes. Storing (label false) keeps every
// character but turns invalid bytes into U+FFFD and controls into spaces; a label
// drops invalid bytes, invisible characters and markup, and folds runs of space.
func walk(s string, max int, label bool) string {
	var b strings.Builder
	space := false   // a label's pending space, written before the next character
	invalid := false // the last rune was invalid bytes already written as U+FFFD
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		bad := r == utf8.RuneError && size <= 1
		switch {
		case bad && (label || invalid):
			continue
		case label && unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case label && (!unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r) || isMarkup(r)):
			continue
		case !label && isControl(r):
			r = ' '
		}
		invalid = bad
		n := utf8.RuneLen(r)
		if space {
			n++
		}
		if b.Len()+n > max {
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isControl reports whether r is a C0 or C1 control character or DEL.
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)
}

// isPlain reports whether s is already short, printable ASCII with single inner
// spaces, as nearly every label is, so Label can return it as is.
func isPlain(s string, max int) bool {
	if len(s) > max || s != "" && (s[0] == ' ' || s[len(s)-1] == ' ') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' || isMarkup(rune(s[i])) || s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			return false
		}
	}
	return true
}

// isMarkup reports whether r delimits HTML or a quoted string.
func isMarkup(r rune) bool {
	switch r {
	case '<', '>', '"', '`', '\\':
		return true
	}
	return false
}
