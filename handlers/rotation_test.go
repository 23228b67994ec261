package handlers_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestRotationDoesNotReviveStaleSessions: when the hash changed behind the sessions'
// backs (a host app's reset, another stamp secret), a later rotation must end the stale
// sessions, not re-stamp them back to life.
func TestRotationDoesNotReviveStaleSessions(t *testing.T) {
	ta := newTestApp(t)
	_, b, c := threeDevices(t, ta)
	ta.resaltBehindTheirBacks()
	fresh := ta.device("fresh", uaChromeMac, "")
	fresh.login("ann@example.com", testPassword)
	if r := fresh.hxPost("/account/sessions/"+handleOf(t, ta, uaFirefoxWindow)+"/revoke", pw(testPassword)); r.status != http.StatusOK {
		t.Fatalf("revoke C: %d %s", r.status, r.body)
	}
	assertSignedOut(t, b, true) // stale since the hash changed; must stay out
	assertSignedOut(t, c, true)
	if rows, _ := fresh.page(); len(rows) != 1 {
		t.Errorf("fresh device lists %d sessions, want only itself", len(rows))
	}
}

// TestPasswordChangeClosesOtherConfirmationWindows: a window opened with the old
// password must not let another device act without the new one.
func TestPasswordChangeClosesOtherConfirmationWindows(t *testing.T) {
	ta := newTestApp(t)
	a, b, c := threeDevices(t, ta)
	if r := b.hxPost("/account/sessions/"+c.handle()+"/revoke", pw(testPassword)); r.status != http.StatusOK {
		t.Fatalf("B revokes C: %d", r.status)
	}
	r := a.hxPost("/account/password", url.Values{"current_password": {testPassword}, "new_password": {"a brand new passphrase"}})
	if r.status != http.StatusOK {
		t.Fatalf("A changes the password (others stay): %d %s", r.status, r.body)
	}
	assertSignedIn(t, b)
	if r := b.hxPost("/account/sessions/"+a.handle()+"/revoke", url.Values{}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("B acts on the old window without the new password: %d, want 422", r.status)
	}
	assertSignedIn(t, a)
}
