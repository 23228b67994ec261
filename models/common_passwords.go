package models

import "strings"

// isCommonPassword reports whether password is on the list of the most common passwords.
func isCommonPassword(password string) bool {
	_, ok := commonPasswords[strings.ToLower(password)]
	return ok
}

var commonPasswords = map[string]struct{}{"password": {}, "12345678": {}, "123456789": {}, "password1": {}}
