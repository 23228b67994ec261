package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/elsewhere-dev/elsewhere/handlers"
)

const lostPassword = "a brand new orchard passphrase"

func lostForm(current, next string) url.Values {
	return url.Values{"password": {current}, "new_password": {next}}
}

// TestLostOrStolen: one step signs the lost device out, sets a new password and signs
// every other device out; only the device that acted stays, and only the new password
// signs in.
func TestLostOrStolen(t *testing.T) {
	for _, hx := range []bool{true, false} {
		t.Run(map[bool]string{true: "htmx", false: "plain form"}[hx], func(t *testing.T) {
			ta := newTestApp(t)
			a, b, c := threeDevices(t, ta)
			bID := b.handle()
			hashBefore := ta.passwordHash("ann@example.com")
			r := a.do("POST", "/account/sessions/"+bID+"/lost", lostForm(testPassword, lostPassword), hx)
			if hx {
				if r.status != http.StatusOK {
					t.Fatalf("htmx lost: %d\n%s", r.status, r.body)
				}
				if rows := parseRows(t, r.body); len(rows) != 1 || !rows[0].current {
					t.Errorf("the fragment lists %d devices, want only this one", len(rows))
				}
				if !strings.Contains(textOf(findByID(t, r.body, "notice")), "signed out as lost or stolen") {
					t.Errorf("notice = %q", textOf(findByID(t, r.body, "notice")))
				}
			} else if r.status != http.StatusSeeOther || r.location() != "/account/security" {
				t.Fatalf("plain lost: %d %s", r.status, r.location())
			}
			assertSignedOut(t, b, true)
			assertSignedOut(t, c, true)
			assertSignedIn(t, a)
			if ta.passwordHash("ann@example.com") == hashBefore {
				t.Error("the password hash did not change")
			}
			if r := ta.device("D", uaChromeMac, "").post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}); r.status != http.StatusUnauthorized {
				t.Errorf("the old password still signs in: %d", r.status)
			}
			ta.device("E", uaChromeMac, "").login("ann@example.com", lostPassword)
			if _, body := a.page(); logKinds(t, body)[1] != "device-lost" {
				t.Errorf("log = %v, want device-lost under the new sign-in", logKinds(t, body))
			}
		})
	}
}

// TestLostOrStolenRefusals: a wrong or missing current password, a weak or unchanged new
// one, an unknown or own device: each gets its answer and nothing changes.
func TestLostOrStolenRefusals(t *testing.T) {
	ta := newTestApp(t)
	a, b, _ := threeDevices(t, ta)
	bID, aID := b.handle(), a.handle()
	bob := ta.otherUser()
	before := ta.passwordHash("ann@example.com")
	for _, tc := range []struct {
		name   string
		id     string
		form   url.Values
		status int
		says   string
	}{
		{"wrong password", bID, lostForm("not my password", lostPassword), 422, "not right"},
		{"no password", bID, lostForm("", lostPassword), 422, "Enter your password"},
		{"common new password", bID, lostForm(testPassword, "password123"), 422, "most common"},
		{"short new password", bID, lostForm(testPassword, "short"), 422, "at least 8"},
		{"unchanged password", bID, lostForm(testPassword, testPassword), 422, "Choose a new password"},
		{"own device", aID, lostForm(testPassword, lostPassword), 409, "this device"},
		{"another user's device", bob.handle(), lostForm(testPassword, lostPassword), 404, "not signed in to your account"},
		{"unknown device", strings.Repeat("ab", 16), lostForm(testPassword, lostPassword), 404, "not signed in to your account"},
	} {
		r := a.post("/account/sessions/"+tc.id+"/lost", tc.form)
		if r.status != tc.status || !strings.Contains(r.body, tc.says) {
			t.Errorf("%s: %d, want %d saying %q\n%.400s", tc.name, r.status, tc.status, tc.says, r.body)
		}
		if tc.status == 422 && tc.name != "no password" {
			// The page without JavaScript asks again, with both fields.
			if findByID(t, r.body, "confirm-new-password") == nil || findByID(t, r.body, "confirm-password") == nil {
				t.Errorf("%s: the confirmation page lacks the password fields", tc.name)
			}
		}
	}
	if ta.passwordHash("ann@example.com") != before {
		t.Error("a refused lost-or-stolen changed the password")
	}
	assertSignedIn(t, b)
	// A weak new password was refused before the current one was checked: only the one
	// wrong password counts towards the lock.
	if n := ta.query(`SELECT COUNT(*) FROM events WHERE kind = 'confirm-failed'`); n != "1" {
		t.Errorf("%s confirmation failures logged, want 1", n)
	}
}

// TestLostOrStolenAlwaysAsksThePassword: an open confirmation window does not let "Lost or
// stolen?" through: it sets a new password, so it needs the current one, as a password
// change does. A thief holding a phone whose window is still open cannot use it to lock
// the owner out.
func TestLostOrStolenAlwaysAsksThePassword(t *testing.T) {
	ta := newTestApp(t)
	a, b, c := threeDevices(t, ta)
	// The phone confirmed a moment ago (its window is open) and is then stolen.
	if r := b.hxPost("/account/sessions/"+c.handle()+"/revoke", pw(testPassword)); r.status != http.StatusOK {
		t.Fatalf("revoke from the phone: %d", r.status)
	}
	if r := b.hxPost("/account/sessions/"+a.handle()+"/lost", lostForm("", "the thief's passphrase")); r.status != http.StatusUnprocessableEntity {
		t.Errorf("lost or stolen through the window: %d, want 422", r.status)
	}
	assertSignedIn(t, a)
	if _, body := b.page(); findByID(t, body, "lost-device-password") == nil {
		t.Error("the Lost or stolen dialog does not ask for the password while the window is open")
	}
}

// TestSignOutDialogPointsToLostOrStolen: the plain "Sign out" dialog no longer tells a
// person in a hurry that their password staying the same is good news.
func TestSignOutDialogPointsToLostOrStolen(t *testing.T) {
	ta := newTestApp(t, func(c *handlers.Config) {})
	a, b, _ := threeDevices(t, ta)
	_, body := a.page()
	dlg := findByID(t, body, "confirm-device")
	if dlg == nil {
		t.Fatal("no sign-out dialog")
	}
	text := textOf(dlg)
	if strings.Contains(text, "password stays the same") || !strings.Contains(text, "Lost or stolen?") {
		t.Errorf("sign-out dialog says %q", text)
	}
	if findByID(t, body, "lost-device") == nil {
		t.Error("no Lost or stolen dialog")
	}
	if btn := byAttr(t, body, "formaction", "/account/sessions/"+b.handle()+"/lost"); btn == nil || attr(btn, "data-dialog") != "lost-device" {
		t.Error("B's row has no Lost or stolen button opening that dialog")
	}
}
