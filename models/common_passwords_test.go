package models

import "testing"

func TestCommonPasswordsListSize(t *testing.T) {
	if got := len(commonPasswords()); got != 1000 {
		t.Fatalf("common password list has %d distinct entries, want 1000", got)
	}
}

func TestIsCommonPassword(t *testing.T) {
	for _, pw := range []string{"password", "12345678", "iloveyou", "PassWord", "PASSWORD", "ILoveYou"} {
		if !isCommonPassword(pw) {
			t.Errorf("isCommonPassword(%q) = false, want true", pw)
		}
	}
	for _, pw := range []string{"correct horse battery staple 7Qz!", "zq8-Vinyl-Marmot-Lantern-41", ""} {
		if isCommonPassword(pw) {
			t.Errorf("isCommonPassword(%q) = true, want false", pw)
		}
	}
}
