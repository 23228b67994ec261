package handlers_test

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/mailer/mailtest"
)

// These tests play the moment of rescue: the owner, whose phone was just stolen, against
// someone who knows the email, holds a device, or floods the account.

// deviceCookie is the device's device cookie ("" when it has none).
func (d *device) deviceCookie() string { return d.jarCookie("elsewhere_device") }

// setDeviceCookie plants a device cookie in the device's jar, as a thief copying one would.
func (d *device) setDeviceCookie(value string) { d.setJarCookie("elsewhere_device", value) }

// lockTheEmail is a stranger at one address typing wrong passwords for email, each time
// from a fresh browser, until the email is locked.
func lockTheEmail(t *testing.T, ta *testApp, email, ip string) {
	t.Helper()
	for i := range models.DefaultLimits().LoginEmail.Max {
		r := ta.device("stranger", uaChromeMac, ip).post("/login", url.Values{"email": {email}, "password": {fmt.Sprintf("guess %d", i)}})
		want := http.StatusUnauthorized
		if i == models.DefaultLimits().LoginEmail.Max-1 {
			want = http.StatusTooManyRequests
		}
		if r.status != want {
			t.Fatalf("stranger's guess %d: %d, want %d", i+1, r.status, want)
		}
	}
}

// TestStrangerCannotLockTheOwnerOut: ten wrong passwords from one address lock the email,
// but only for browsers the account does not know. The owner's own laptop signs in with
// the right password; it has a budget of its own, which its own typos use up. On a
// borrowed laptop the owner is locked out like any stranger, and the way in is the reset
// link: following it signs that browser in, so the rescue never ends at the locked door,
// and that browser signs in again later however often the stranger locks the email.
func TestStrangerCannotLockTheOwnerOut(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.10")
	laptop.signup("ann@example.com", testPassword)
	laptop.post("/logout", nil) // signing out on the device itself keeps it known

	lockTheEmail(t, ta, "ann@example.com", "198.51.100.66")
	if r := ta.device("a stranger's other browser", uaFirefoxWindow, "198.51.100.67").post("/login",
		url.Values{"email": {"ann@example.com"}, "password": {testPassword}}); r.status != http.StatusTooManyRequests {
		t.Errorf("an unknown browser with the right password while the email is locked: %d, want 429", r.status)
	}
	laptop.login("ann@example.com", testPassword) // 303: the owner's known browser is not locked out
	laptop.post("/logout", nil)

	// The laptop's own budget: its typos lock it, not the owner's other browsers.
	for i := range models.DefaultLimits().LoginDevice.Max {
		r := laptop.post("/login", url.Values{"email": {"ann@example.com"}, "password": {fmt.Sprintf("typo %d", i)}})
		if i == models.DefaultLimits().LoginDevice.Max-1 && r.status != http.StatusTooManyRequests {
			t.Errorf("the laptop's 10th typo: %d, want 429", r.status)
		}
	}
	if r := laptop.post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}); r.status != http.StatusTooManyRequests {
		t.Errorf("the laptop after its own ten typos: %d, want 429", r.status)
	}

	// A borrowed laptop: locked out like any stranger, until the reset link signs it in.
	borrowed := ta.device("borrowed", uaFirefoxWindow, "192.0.2.44")
	if r := borrowed.post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}); r.status != http.StatusTooManyRequests {
		t.Errorf("the borrowed laptop while the email is locked: %d, want 429", r.status)
	}
	if r := borrowed.post("/password/forgot", url.Values{"email": {"ann@example.com"}}); r.status != http.StatusOK {
		t.Fatalf("forgot: %d", r.status)
	}
	link := pathOf(t, ta.nextMail(sink).Link(t))
	const fresh = "the owner's brand new passphrase 3"
	r := borrowed.post(link, url.Values{"new_password": {fresh}})
	if r.status != http.StatusSeeOther || r.location() != "/account/security" {
		t.Fatalf("the reset: %d %q, want 303 /account/security", r.status, r.location())
	}
	if _, body := borrowed.page(); !strings.Contains(body, "Password reset from a mailed link") {
		t.Error("the page after the reset does not say what happened")
	}
	borrowed.post("/logout", nil)
	// The email is still locked for strangers; the borrowed laptop is known now.
	if r := ta.device("stranger", uaFirefoxWindow, "198.51.100.67").post("/login",
		url.Values{"email": {"ann@example.com"}, "password": {fresh}}); r.status != http.StatusTooManyRequests {
		t.Errorf("an unknown browser after the reset, the email still locked: %d, want 429", r.status)
	}
	borrowed.login("ann@example.com", fresh)
}

// TestDeviceCookieMustBeIssued: a device cookie the server did not issue is never adopted.
// A browser that brings one (a well-formed token of its own, or a value with a made-up
// signature) signs in as a new device, the owner is alerted, and it is given a cookie of
// the server's; the same forged value brought again is new again.
func TestDeviceCookieMustBeIssued(t *testing.T) {
	ta := newTestApp(t)
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.10")
	laptop.signup("ann@example.com", testPassword)
	issued := laptop.deviceCookie()
	if issued == "" {
		t.Fatal("the sign-up gave no device cookie")
	}
	// Kept only as a 32-byte hash, never in clear.
	if n := ta.query(`SELECT COUNT(*) FROM known_devices WHERE device_hash = ?`, []byte(issued)); n != "0" {
		t.Error("the device cookie is kept in clear")
	}
	if n := ta.query(`SELECT length(device_hash) FROM known_devices`); n != "32" {
		t.Errorf("the device cookie is kept as %s bytes, want a 32-byte hash", n)
	}
	random, _ := models.NewToken()
	forged := map[string]string{
		"a plain token":            random,
		"a made-up signature":      random + "." + random,
		"the laptop's, re-signed":  strings.SplitN(issued, ".", 2)[0] + "." + random,
		"the laptop's, truncated":  issued[:len(issued)-1],
		"the laptop's, lengthened": issued + "A",
	}
	for name, value := range forged {
		for round := range 2 {
			thief := ta.device("thief", uaChromeMac, "198.51.100.66")
			thief.setDeviceCookie(value)
			before := ta.query(`SELECT COUNT(*) FROM alert_items WHERE kind = 'new-device'`)
			thief.login("ann@example.com", testPassword)
			if after := ta.query(`SELECT COUNT(*) FROM alert_items WHERE kind = 'new-device'`); after == before {
				t.Errorf("%s, round %d: signed in as a known device", name, round+1)
			}
			if got := thief.deviceCookie(); got == value || got == "" {
				t.Errorf("%s: the device cookie was kept, not replaced", name)
			}
			h := sha256.Sum256([]byte(value))
			if n := ta.query(`SELECT COUNT(*) FROM known_devices WHERE device_hash = ?`, h[:]); n != "0" {
				t.Errorf("%s: the forged value is kept as a known device", name)
			}
			thief.post("/logout", nil)
		}
	}
}

// TestCopiedDeviceCookieInAnotherBrowser: the laptop's device cookie, copied into another
// kind of browser, does not make that browser known: the owner hears of a new device.
// Copied into the same kind of browser it is as good as the laptop (only a key the device
// keeps could tell them apart; see device-bound sessions).
func TestCopiedDeviceCookieInAnotherBrowser(t *testing.T) {
	ta := newTestApp(t)
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.10")
	laptop.signup("ann@example.com", testPassword)
	for _, tc := range []struct {
		ua  string
		new bool
	}{{uaFirefoxWindow, true}, {uaSafariIPhone, true}, {uaChromeMac, false}} {
		thief := ta.device("thief", tc.ua, "198.51.100.66")
		thief.setDeviceCookie(laptop.deviceCookie())
		before := ta.query(`SELECT COUNT(*) FROM alert_items WHERE kind = 'new-device'`)
		thief.login("ann@example.com", testPassword)
		if after := ta.query(`SELECT COUNT(*) FROM alert_items WHERE kind = 'new-device'`); (after != before) != tc.new {
			t.Errorf("the laptop's cookie in %q: new device %v, want %v", tc.ua, after != before, tc.new)
		}
		thief.post("/logout", nil)
	}
}

// TestCapEvictionIsAlerted: a thief on the stolen laptop copies its device cookie and
// signs in 49 times with it, as a known device each time; the 50-device cap then signs
// the owner's laptop and phone out. The owner is mailed within the minute: both devices
// named as signed out by the cap, from the thief's address, and the burst counted.
func TestCapEvictionIsAlerted(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	laptop, phone, _ := laptopAndPhone(ta)
	stolen := ta.device("stolen laptop", uaFirefoxWindow, "198.51.100.66")
	stolen.login("ann@example.com", testPassword)
	ta.releaseAlerts()
	ta.nextMail(sink) // the phone and the stolen laptop, new devices then
	cookie := stolen.deviceCookie()
	for range 49 {
		d := ta.device("script", uaFirefoxWindow, "198.51.100.66")
		d.setDeviceCookie(cookie)
		d.login("ann@example.com", testPassword)
	}
	assertSignedOut(t, laptop, true)
	assertSignedOut(t, phone, true)
	ta.releaseAlerts()
	m := ta.nextMail(sink)
	if m.Subject != "Security alert: your account was changed" {
		t.Errorf("subject %q", m.Subject)
	}
	for _, want := range []string{
		"Mac · Chrome 131 was signed out: it was the least recently used of too many signed-in devices",
		"iPhone · Safari 18 was signed out: it was the least recently used of too many signed-in devices",
		"from 198.51.100.66",
		"There were 52 sign-ins to your account in the last hour.",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("the alert does not say %q:\n%s", want, m.Text)
		}
	}
}

// TestGraveAlertsAreNeverHeld: an account that had its six alert mails this hour (a flood
// of new sign-ins) still hears at once that the password was changed; a second password
// change within the hour may wait, and so may more sign-ins.
func TestGraveAlertsAreNeverHeld(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	owner := ta.device("owner", uaChromeMac, "203.0.113.1")
	owner.signup("ann@example.com", testPassword)
	for range 6 {
		ta.device("cookieless", uaChromeMac, "203.0.113.1").login("ann@example.com", testPassword)
		ta.releaseAlerts()
		ta.nextMail(sink)
	}
	thief := ta.device("thief", uaSafariIPhone, "198.51.100.66")
	thief.login("ann@example.com", testPassword) // a new device: held, the hour's mails are spent
	const thiefs = "the thief's own passphrase 1"
	if r := thief.post("/account/password", url.Values{"current_password": {testPassword}, "new_password": {thiefs},
		"logout_others": {"on"}}); r.status != http.StatusSeeOther {
		t.Fatalf("the thief's password change: %d", r.status)
	}
	ta.releaseAlerts()
	m := ta.nextMail(sink)
	if !strings.Contains(m.Text, "Password changed") || !strings.Contains(m.Text, "A new device signed in: iPhone · Safari") {
		t.Errorf("the alert past the cap:\n%s", m.Text)
	}
	// The same kind again within the hour: may wait, gathered into the next mail.
	if r := thief.post("/account/password", url.Values{"current_password": {thiefs}, "new_password": {thiefs + "2"},
		"logout_others": {"on"}}); r.status != http.StatusSeeOther {
		t.Fatalf("the second change: %d", r.status)
	}
	ta.releaseAlerts()
	ta.mailPass()
	sink.None(t, "a repeat of a change already told of this hour")
	// A grave change of another kind is news: it goes.
	other := ta.device("another", uaFirefoxWindow, "198.51.100.70")
	other.login("ann@example.com", thiefs+"2")
	if r := thief.post("/account/sessions/"+other.handle()+"/revoke", pw(thiefs+"2")); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	ta.releaseAlerts()
	if m := ta.nextMail(sink); !strings.Contains(m.Text, "Password changed") {
		t.Errorf("the next grave alert does not carry the waiting repeat:\n%s", m.Text)
	}
}

// TestGuessingIsAlerted: the owner is mailed when a device is locked for guessing at the
// password, and again when it is signed out for it.
func TestGuessingIsAlerted(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	_, phone, _ := laptopAndPhone(ta)
	ta.releaseAlerts()
	ta.nextMail(sink) // the phone's sign-in
	for i := range models.DefaultLimits().Confirm.Max {
		guessFrom(phone, i)
	}
	ta.releaseAlerts()
	if m := ta.nextMail(sink); !strings.Contains(m.Text, "Confirmation locked on iPhone · Safari 18 after too many wrong passwords") {
		t.Errorf("the lock's alert:\n%s", m.Text)
	}
	for i := models.DefaultLimits().Confirm.Max; i < models.GuessedOutAfter; i++ {
		guessFrom(phone, i)
	}
	assertSignedOutBecause(t, phone, "signed out after too many wrong passwords")
	ta.releaseAlerts()
	if m := ta.nextMail(sink); !strings.Contains(m.Text, "iPhone · Safari 18 was signed out after too many wrong passwords") {
		t.Errorf("the sign-out's alert:\n%s", m.Text)
	}
}

// TestBystandersStayKnownToTheLock: "Log out other devices" from the laptop signs the
// desktop and the phone out, but they stay the account's browsers for the sign-in lock:
// a stranger who locks the email does not keep the owner's desktop out. Its sign-in
// after being signed out from elsewhere is alerted as a new device all the same. The
// device signed out by name (the phone, revoked) is forgotten: a stranger to the lock.
func TestBystandersStayKnownToTheLock(t *testing.T) {
	ta := newTestApp(t)
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.10")
	laptop.signup("ann@example.com", testPassword)
	desktop := ta.device("desktop", uaFirefoxWindow, "203.0.113.11")
	desktop.login("ann@example.com", testPassword)
	phone := ta.device("phone", uaSafariIPhone, "203.0.113.12")
	phone.login("ann@example.com", testPassword)
	if r := laptop.post("/account/sessions/"+phone.handle()+"/revoke", pw(testPassword)); r.status != http.StatusSeeOther {
		t.Fatalf("revoke the phone: %d", r.status)
	}
	if r := laptop.post("/account/sessions/others/revoke", pw(testPassword)); r.status != http.StatusSeeOther {
		t.Fatalf("log out others: %d", r.status)
	}
	lockTheEmail(t, ta, "ann@example.com", "198.51.100.66")
	before := ta.query(`SELECT COUNT(*) FROM alert_items WHERE kind = 'new-device'`)
	desktop.login("ann@example.com", testPassword) // its own budget: 303
	if after := ta.query(`SELECT COUNT(*) FROM alert_items WHERE kind = 'new-device'`); after == before {
		t.Error("the desktop's sign-in after being signed out from elsewhere was not alerted")
	}
	if r := phone.post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}); r.status != http.StatusTooManyRequests {
		t.Errorf("the revoked phone while the email is locked: %d, want 429 (forgotten)", r.status)
	}
}

// TestRescueIsNotAlertedAsANewDevice: the browser that follows the reset link and is
// signed in by it is not then alerted as "a new device signed in": the mail tells of the
// reset only.
func TestRescueIsNotAlertedAsANewDevice(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.10")
	laptop.signup("ann@example.com", testPassword)
	laptop.post("/password/forgot", url.Values{"email": {"ann@example.com"}})
	link := pathOf(t, ta.nextMail(sink).Link(t))
	if r := laptop.post(link, url.Values{"new_password": {"the owner's new passphrase 4"}}); r.status != http.StatusSeeOther {
		t.Fatalf("reset: %d", r.status)
	}
	ta.releaseAlerts()
	m := ta.nextMail(sink)
	if strings.Contains(m.Text, "A new device signed in") || !strings.Contains(m.Text, "Password reset from a mailed link") {
		t.Errorf("the alert after the owner's own reset:\n%s", m.Text)
	}
}

// TestSignInOverAnotherAccount: on a shared computer signed in as Bob, Ann signs in (or
// follows her link): Bob's session there ends, and Bob's log says he was signed out on it.
func TestSignInOverAnotherAccount(t *testing.T) {
	ta := newTestApp(t)
	bob := ta.otherUser()
	ta.device("ann's laptop", uaChromeMac, "203.0.113.10").signup("ann@example.com", testPassword)
	bobsOther := ta.device("bob's phone", uaSafariIPhone, "203.0.113.20")
	bobsOther.login("bob@example.com", testPassword)
	bob.login("ann@example.com", testPassword) // Ann, on Bob's browser
	_, body := bobsOther.page()
	if kinds := logKinds(t, body); kinds[0] != string(models.EventSignedOut) {
		t.Errorf("Bob's log after Ann signed in on his browser: %q, want signed-out first", kinds)
	}
}

// TestDeviceBudgetIsPerAccount: a browser two accounts know has a sign-in budget for each:
// Bob's typos on the family computer do not lock Ann out of it.
func TestDeviceBudgetIsPerAccount(t *testing.T) {
	ta := newTestApp(t)
	family := ta.device("family computer", uaChromeMac, "203.0.113.10")
	family.signup("ann@example.com", testPassword)
	family.post("/logout", nil)
	ta.device("bob", uaSafariIPhone, "203.0.113.20").signup("bob@example.com", testPassword)
	family.login("bob@example.com", testPassword)
	family.post("/logout", nil)
	for i := range models.DefaultLimits().LoginDevice.Max {
		family.post("/login", url.Values{"email": {"bob@example.com"}, "password": {fmt.Sprintf("typo %d", i)}})
	}
	family.ip = "203.0.113.11" // the address's own budget is spent too; it is not what this tests
	family.login("ann@example.com", testPassword)
}

// TestSigningOutALeftoverSessionKeepsTheBrowser: a browser that signed in again after a
// restart (its session cookie gone, its old session still live) lists two sessions; signing
// the leftover one out from the browser itself keeps the browser known: a stranger who
// locks the email does not lock its holder out.
func TestSigningOutALeftoverSessionKeepsTheBrowser(t *testing.T) {
	ta := newTestApp(t)
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.10")
	laptop.signup("ann@example.com", testPassword)
	leftover := laptop.handle()
	restarted := ta.device("laptop, restarted", uaChromeMac, "203.0.113.10")
	restarted.setDeviceCookie(laptop.deviceCookie())
	restarted.login("ann@example.com", testPassword)
	if r := restarted.post("/account/sessions/"+leftover+"/revoke", pw(testPassword)); r.status != http.StatusSeeOther {
		t.Fatalf("sign the leftover session out: %d", r.status)
	}
	if n := ta.query(`SELECT COUNT(*) FROM known_devices`); n != "1" {
		t.Errorf("%s known devices after signing out the browser's own leftover session, want 1", n)
	}
	restarted.post("/logout", nil)
	lockTheEmail(t, ta, "ann@example.com", "198.51.100.66")
	restarted.login("ann@example.com", testPassword)
}

// TestRescueFormsCarryTheDeviceHints: the mailed-link pages' forms ask the page script for
// the same hints as the sign-in form (touch points, time zone), so an iPad that follows a
// link is signed in as the iPad it is, not as a Mac, and known under the same hash.
func TestRescueFormsCarryTheDeviceHints(t *testing.T) {
	ta := newTestApp(t, withMail(mailtest.Start(t, "").Addr))
	for _, p := range []string{"/password/reset", "/account/not-me", "/login", "/signup"} {
		body := ta.device("anyone", uaChromeMac, "").get(p).body
		if !strings.Contains(body, "data-device-hints") {
			t.Errorf("GET %s: the form does not ask for the device hints", p)
		}
	}
}
