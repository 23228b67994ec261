package models

import (
	_ "embed"
	"strings"
	"sync"
)

// commonPasswordsText is the list of the 1,000 most common passwords, one per
// line, lower-cased; lines starting with '#' are comments (source and license
// are recorded at the top of the file).
//
//go:embed common_passwords.txt
var commonPasswordsText string

// commonPasswords parses commonPasswordsText once, on first use, into a set.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 1000)
	for line := range strings.Lines(commonPasswordsText) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
})

// isCommonPassword reports whether password is on the list of the most common passwords.
func isCommonPassword(password string) bool {
	_, ok := commonPasswords()[strings.ToLower(password)]
	return ok
}
