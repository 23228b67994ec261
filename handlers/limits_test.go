package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestSignInFailuresSurviveARestart: not only lockouts but the failures counted towards
// them are kept in the database, so restarting between guesses buys an attacker nothing.
func TestSignInFailuresSurviveARestart(t *testing.T) {
	ta := newTestApp(t)
	ta.device("owner", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
	guess := func(ip, email string) int {
		return ta.device("x", uaChromeMac, ip).post("/login", url.Values{"email": {email}, "password": {"guess"}}).status
	}
	t.Run("per email", func(t *testing.T) {
		for i := range 9 {
			if i == 5 {
				ta.restart()
			}
			if s := guess(fmt.Sprintf("198.51.100.%d", i), "ann@example.com"); s != 401 {
				t.Fatalf("guess %d: %d", i+1, s)
			}
		}
		ta.restart()
		if s := guess("198.51.100.99", "ann@example.com"); s != 429 {
			t.Errorf("10th guess across two restarts: %d, want 429", s)
		}
	})
	t.Run("per address", func(t *testing.T) {
		for i := range 9 {
			if i == 3 {
				ta.restart()
			}
			if s := guess("192.0.2.50", fmt.Sprintf("u%d@example.com", i)); s != 401 {
				t.Fatalf("guess %d: %d", i+1, s)
			}
		}
		ta.restart()
		if s := guess("192.0.2.50", "someone@example.com"); s != 429 {
			t.Errorf("10th guess from one address across restarts: %d, want 429", s)
		}
	})
	t.Run("the window slides", func(t *testing.T) {
		// Nine failures, then a pause longer than the window: the count starts afresh.
		for i := range 9 {
			guess("192.0.2.60", fmt.Sprintf("v%d@example.com", i))
		}
		ta.clock.Advance(16 * time.Minute)
		for i := range 9 {
			if s := guess("192.0.2.60", fmt.Sprintf("w%d@example.com", i)); s != 401 {
				t.Fatalf("guess %d after the window: %d, want 401", i+1, s)
			}
		}
	})
}

// TestConfirmationLimitIsPerDevice: someone holding several of the user's devices (a
// stolen phone and tablet), each from its own address, gets five wrong answers per device,
// on any form, and each lock holds across a restart; the owner's right password on
// another device always works, and so does another user's.
func TestConfirmationLimitIsPerDevice(t *testing.T) {
	ta := newTestApp(t)
	a, b, c := threeDevices(t, ta)
	d := ta.device("D", uaSafariIPhone, "192.0.2.44")
	d.login("ann@example.com", testPassword)
	aID := a.handle()
	for _, th := range []*device{b, c, d} {
		for i := range 4 {
			th.ip = fmt.Sprintf("198.51.100.%d", 100+i) // a fresh address each time
			if i == 2 {
				ta.restart()
			}
			if r := th.hxPost("/account/sessions/"+aID+"/revoke", pw(fmt.Sprintf("guess %d", i))); r.status != http.StatusUnprocessableEntity {
				t.Fatalf("%s: wrong answer %d: %d, want 422", th.name, i+1, r.status)
			}
		}
		if r := th.post("/account/password", url.Values{"current_password": {"guess 5"}, "new_password": {"stolen passphrase"}}); r.status != http.StatusTooManyRequests {
			t.Fatalf("%s: 5th wrong answer, on another form: %d, want 429", th.name, r.status)
		}
	}
	ta.restart()
	for _, th := range []*device{b, c, d} {
		if r := th.hxPost("/account/sessions/others/revoke", pw(testPassword)); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Errorf("%s with the right password while locked: %d, want 429 with Retry-After", th.name, r.status)
		}
	}
	// Another user is not locked by it.
	bob := ta.otherUser()
	bob2 := ta.device("bob2", uaChromeMac, "")
	bob2.login("bob@example.com", testPassword)
	if r := bob.hxPost("/account/sessions/others/revoke", pw(testPassword)); r.status != http.StatusOK {
		t.Errorf("another user's confirmation: %d, want 200", r.status)
	}
	// The owner's laptop signs every guessing device out.
	if r := a.hxPost("/account/sessions/others/revoke", pw(testPassword)); r.status != http.StatusOK {
		t.Fatalf("the owner with the right password: %d, want 200", r.status)
	}
	for _, th := range []*device{b, c, d} {
		assertSignedOut(t, th, true)
	}
	assertSignedIn(t, a)
}
