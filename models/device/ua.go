package device

import "strings"

// This file holds the small, allocation-free scanners the device parser uses to
// read a User-Agent string: product tokens ("Chrome/131.0"), bare words
// ("Brave"), and version numbers.

// isTokenEdge reports whether b may stand just before or after a token in a
// User-Agent string.
func isTokenEdge(b byte) bool {
	switch b {
	case ' ', '(', ')', ';', ',', '[', ']':
		return true
	}
	return false
}

// asciiLower lowers the ASCII letters of s and leaves every other byte alone,
// so that an index into the result is an index into s. (strings.ToLower
// rewrites invalid UTF-8 and changes lengths.)
func asciiLower(s string) string {
	i := 0
	for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if b[i] >= 'A' && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

// untilEdge returns the start of s up to the end of its first token.
func untilEdge(s string) string {
	end := 0
	for end < len(s) && !isTokenEdge(s[end]) {
		end++
	}
	return s[:end]
}

// productVersion finds the product named by needle (which ends in '/', as in
// "Chrome/") at the start of a token and returns the version that follows it.
func productVersion(ua, needle string) (string, bool) {
	for from := 0; from < len(ua); {
		i := strings.Index(ua[from:], needle)
		if i < 0 {
			return "", false
		}
		i += from
		if i == 0 || isTokenEdge(ua[i-1]) {
			return untilEdge(ua[i+len(needle):]), true
		}
		from = i + len(needle)
	}
	return "", false
}

// hasWord reports whether word stands in ua as a whole token, or as a product
// name followed by '/'.
func hasWord(ua, word string) bool {
	for from := 0; from < len(ua); {
		i := strings.Index(ua[from:], word)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(word)
		if (i == 0 || isTokenEdge(ua[i-1])) && (end == len(ua) || isTokenEdge(ua[end]) || ua[end] == '/') {
			return true
		}
		from = end
	}
	return false
}

// leadingNumber returns the run of ASCII digits that starts s, at most six of
// them: the major part of a version such as "131.0.6778.86".
func leadingNumber(s string) string {
	n := 0
	for n < len(s) && n < 6 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return s[:n]
}

// versionNumber is the value of the digits that start s (at most six), 0 when none.
func versionNumber(s string) int {
	n := 0
	for _, c := range []byte(leadingNumber(s)) {
		n = n*10 + int(c-'0')
	}
	return n
}

// versionAfter returns the number that follows marker in s, with '_' read as
// '.', as in "iPhone OS 18_6" or "Android 14".
func versionAfter(s, marker string) (string, bool) {
	for from := 0; from < len(s); {
		i := strings.Index(s[from:], marker)
		if i < 0 {
			return "", false
		}
		start := from + i + len(marker)
		if start < len(s) && s[start] >= '0' && s[start] <= '9' {
			end := start
			for end < len(s) && end-start < 16 && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || s[end] == '_') {
				end++
			}
			return strings.TrimRight(s[start:end], "._"), true
		}
		from = start
	}
	return "", false
}

// splitVersion returns the first two numeric parts of a version written with
// '.' or '_' separators: "10_15_7" gives "10", "15".
func splitVersion(v string) (major, minor string) {
	major = leadingNumber(v)
	rest := v[len(major):]
	if len(rest) > 1 && (rest[0] == '.' || rest[0] == '_') {
		minor = leadingNumber(rest[1:])
	}
	return major, minor
}

// platformComment returns the first parenthesised comment of a User-Agent
// string, where browsers put the platform: "Windows NT 10.0; Win64; x64".
func platformComment(ua string) string {
	open := strings.IndexByte(ua, '(')
	if open < 0 {
		return ""
	}
	closing := strings.IndexByte(ua[open:], ')')
	if closing < 0 {
		return ua[open+1:]
	}
	return ua[open+1 : open+closing]
}

// isLowerASCII reports whether b is an ASCII lower-case letter.
func isLowerASCII(b byte) bool { return b >= 'a' && b <= 'z' }

// isLetterASCII reports whether b is an ASCII letter.
func isLetterASCII(b byte) bool { return isLowerASCII(b) || b >= 'A' && b <= 'Z' }
