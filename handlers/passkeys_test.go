package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/mailer/mailtest"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

// newPasskeyApp is the app at a base URL with a domain (WebAuthn has no relying party for
// an IP address), and a software authenticator at its origin.
func newPasskeyApp(t *testing.T) *testApp {
	t.Helper()
	return newTestApp(t, func(c *handlers.Config) { c.BaseURL = "http://localhost" })
}

func (ta *testApp) authenticator() *modelstest.Authenticator {
	return &modelstest.Authenticator{Origin: ta.base.Scheme + "://" + ta.base.Host}
}

// addPasskey adds a passkey on auth for the signed-in device d, confirming with the
// password, and fails the test unless it is kept.
func (d *device) addPasskey(auth *modelstest.Authenticator, name string) {
	d.t.Helper()
	r := d.post("/account/passkeys/new", url.Values{"password": {testPassword}, "name": {name}})
	if r.status != http.StatusOK {
		d.t.Fatalf("%s: passkey options: %d %s", d.name, r.status, r.body)
	}
	resp, err := auth.Create([]byte(r.body))
	if err != nil {
		d.t.Fatal(err)
	}
	r = d.post("/account/passkeys", url.Values{"credential": {string(resp)}, "name": {name}})
	if r.status != http.StatusOK || !strings.Contains(r.body, `"redirect"`) {
		d.t.Fatalf("%s: add passkey: %d %s", d.name, r.status, r.body)
	}
}

// passkeySignIn signs d in with cred on auth (nil: its first) and returns the answer.
func (d *device) passkeySignIn(auth *modelstest.Authenticator, cred *modelstest.Credential) response {
	d.t.Helper()
	r := d.post("/login/passkey/options", url.Values{})
	if r.status != http.StatusOK {
		d.t.Fatalf("%s: sign-in options: %d %s", d.name, r.status, r.body)
	}
	resp, err := auth.Get([]byte(r.body), cred)
	if err != nil {
		d.t.Fatal(err)
	}
	return d.post("/login/passkey", url.Values{"credential": {string(resp)}})
}

// passkeyAssertion answers d's session's confirmation challenge with auth.
func (d *device) passkeyAssertion(auth *modelstest.Authenticator) string {
	d.t.Helper()
	r := d.post("/account/passkeys/confirm-options", url.Values{})
	if r.status != http.StatusOK {
		d.t.Fatalf("%s: confirm options: %d %s", d.name, r.status, r.body)
	}
	resp, err := auth.Get([]byte(r.body), nil)
	if err != nil {
		d.t.Fatal(err)
	}
	return string(resp)
}

// TestPasskeyAddNeedsAFreshConfirmation: the add options are given only for a password
// (or passkey) given with the request; an open confirmation window is not enough.
func TestPasskeyAddNeedsAFreshConfirmation(t *testing.T) {
	ta := newPasskeyApp(t)
	laptop, _, _ := laptopAndPhone(ta)
	// A confirmed action opens the window.
	if r := laptop.post("/account/sessions/others/revoke", url.Values{"password": {testPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("log out others: %d", r.status)
	}
	if got := ta.query(`SELECT CAST(confirmed_until AS TEXT) FROM sessions WHERE handle = ?`, laptop.handle()); got == "0" {
		t.Fatal("the window did not open")
	}
	r := laptop.post("/account/passkeys/new", url.Values{})
	if r.status != http.StatusUnprocessableEntity || strings.Contains(r.body, "challenge") {
		t.Fatalf("add options inside the window, without a password: %d %s, want 422", r.status, r.body)
	}
	r = laptop.post("/account/passkeys/new", url.Values{"password": {"wrong password entirely"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("add options with a wrong password: %d %s, want 422", r.status, r.body)
	}
	auth := ta.authenticator()
	laptop.addPasskey(auth, "Laptop")
	if kinds := ta.query(`SELECT kind FROM events ORDER BY id DESC LIMIT 1`); kinds != "passkey-added" {
		t.Fatalf("the log: %s", kinds)
	}
	if n := ta.query(`SELECT CAST(COUNT(*) AS TEXT) FROM alert_items WHERE kind = 'passkey-added'`); n != "1" {
		t.Fatalf("alert items for the added passkey: %s, want 1", n)
	}
	// A second one with a passkey as the fresh confirmation.
	r = laptop.post("/account/passkeys/new", url.Values{"passkey": {laptop.passkeyAssertion(auth)}})
	if r.status != http.StatusOK {
		t.Fatalf("add options confirmed with a passkey: %d %s", r.status, r.body)
	}
}

// TestPasskeySignInOverHTTP: a passkey signs a new browser in through the same sign-in
// as a password (a session row, the log, the device cookie); every refused answer is a
// 401 on the sign-in page: a replay, another origin, another relying party, no user
// verification, a counter gone backwards, a challenge past its lifetime.
func TestPasskeySignInOverHTTP(t *testing.T) {
	ta := newPasskeyApp(t)
	laptop, _, _ := laptopAndPhone(ta)
	auth := ta.authenticator()
	laptop.addPasskey(auth, "Laptop")

	tablet := ta.device("tablet", uaFirefoxWindow, "192.0.2.30")
	r := tablet.post("/login/passkey/options", url.Values{})
	resp, err := auth.Get([]byte(r.body), nil)
	if err != nil {
		t.Fatal(err)
	}
	r = tablet.post("/login/passkey", url.Values{"credential": {string(resp)}})
	if r.status != http.StatusSeeOther || r.location() != "/account/security" {
		t.Fatalf("passkey sign-in: %d %s\n%s", r.status, r.location(), r.body)
	}
	if tablet.cookie() == "" || tablet.jarCookie("elsewhere_device") == "" {
		t.Fatal("the passkey sign-in set no session or device cookie")
	}
	if kinds := ta.query(`SELECT kind FROM events ORDER BY id DESC LIMIT 1`); kinds != "signed-in" {
		t.Fatalf("the log after a passkey sign-in: %s", kinds)
	}
	if p := tablet.get("/account/security"); p.status != http.StatusOK {
		t.Fatalf("the signed-in tablet: %d", p.status)
	}

	stranger := ta.device("stranger", uaFirefoxWindow, "192.0.2.99")
	refused := func(name string, r response) {
		t.Helper()
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "passkey was not accepted") || stranger.cookie() != "" {
			t.Fatalf("%s: %d, cookie %q, want 401 and no session", name, r.status, stranger.cookie())
		}
	}
	refused("a replayed answer", stranger.post("/login/passkey", url.Values{"credential": {string(resp)}}))
	evil := *auth
	evil.Origin = "http://localhost.evil.example"
	refused("another origin", stranger.passkeySignIn(&evil, auth.Creds[0]))
	evil = *auth
	evil.RPID = "evil.example"
	refused("another relying party id", stranger.passkeySignIn(&evil, auth.Creds[0]))
	evil = *auth
	evil.NoUV = true
	refused("no user verification", stranger.passkeySignIn(&evil, auth.Creds[0]))
	auth.Creds[0].Count = 0 // a clone copied before the last sign-in
	refused("a counter gone backwards", stranger.passkeySignIn(auth, auth.Creds[0]))
	auth.Creds[0].Count = 50

	r = stranger.post("/login/passkey/options", url.Values{})
	resp, _ = auth.Get([]byte(r.body), nil)
	ta.clock.Advance(models.PasskeyChallengeLife + 1)
	refused("a challenge past its lifetime", stranger.post("/login/passkey", url.Values{"credential": {string(resp)}}))
	// Garbage is refused the same way, from addresses of their own (the sign-in limits
	// count refused passkeys per address: the stranger's is nearly spent).
	for i, bad := range []string{"", "{", `{"id":"x"}`, strings.Repeat("A", 20000)} {
		stranger = ta.device("stranger", uaFirefoxWindow, "192.0.2."+strconv.Itoa(100+i))
		refused("garbage", stranger.post("/login/passkey", url.Values{"credential": {bad}}))
	}
}

// TestPasskeyConfirmsAndCountsTowardTheLock: a passkey's assertion confirms a sign-out in
// place of the password; bob's passkey does not confirm for ann; a refused assertion
// counts toward the device's lock as a wrong password does.
func TestPasskeyConfirmsAndCountsTowardTheLock(t *testing.T) {
	ta := newPasskeyApp(t)
	laptop, phone, phoneID := laptopAndPhone(ta)
	auth := ta.authenticator()
	laptop.addPasskey(auth, "Laptop")
	bob := ta.otherUser()
	bobAuth := ta.authenticator()
	bob.addPasskey(bobAuth, "Bob's")

	// Bob's passkey answering ann's challenge.
	r := laptop.post("/account/passkeys/confirm-options", url.Values{})
	resp, _ := bobAuth.Get([]byte(r.body), bobAuth.Creds[0])
	r = laptop.post("/account/sessions/"+phoneID+"/revoke", url.Values{"passkey": {string(resp)}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bob's passkey confirming for ann: %d, want 422", r.status)
	}
	// Without user verification.
	lazy := *auth
	lazy.NoUV = true
	r = laptop.post("/account/sessions/"+phoneID+"/revoke", url.Values{"passkey": {laptop.passkeyAssertion(&lazy)}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "passkey was not accepted") {
		t.Fatalf("a passkey without user verification: %d, want 422", r.status)
	}
	if n := ta.query(`SELECT CAST(wrong_passwords AS TEXT) FROM sessions WHERE handle = ?`, laptop.handle()); n != "2" {
		t.Fatalf("wrong confirmations counted on the laptop: %s, want 2", n)
	}
	// Ann's own, with user verification: the phone is signed out.
	r = laptop.post("/account/sessions/"+phoneID+"/revoke", url.Values{"passkey": {laptop.passkeyAssertion(auth)}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("ann's passkey confirming: %d %s", r.status, r.body)
	}
	if r := phone.get("/account/security"); r.status != http.StatusSeeOther {
		t.Fatalf("the phone after its sign-out: %d", r.status)
	}
	if n := ta.query(`SELECT CAST(wrong_passwords AS TEXT) FROM sessions WHERE handle = ?`, laptop.handle()); n != "0" {
		t.Fatalf("wrong confirmations after a right one: %s, want 0", n)
	}
}

// TestLostDeviceLosesItsPasskeysOverHTTP: "Lost or stolen?" from the laptop removes the
// passkey the phone added, and the phone's passkey signs in no more; the laptop's stays.
// "This wasn't me" is tested in TestTakeBackRemovesEveryPasskey.
func TestLostDeviceLosesItsPasskeysOverHTTP(t *testing.T) {
	ta := newPasskeyApp(t)
	laptop, phone, phoneID := laptopAndPhone(ta)
	phoneAuth, laptopAuth := ta.authenticator(), ta.authenticator()
	phone.addPasskey(phoneAuth, "Phone")
	laptop.addPasskey(laptopAuth, "Laptop")
	r := laptop.post("/account/sessions/"+phoneID+"/lost", url.Values{"passkey": {laptop.passkeyAssertion(laptopAuth)},
		"new_password": {"a completely new passphrase"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("lost, confirmed with a passkey: %d %s", r.status, r.body)
	}
	if n := ta.query(`SELECT CAST(COUNT(*) AS TEXT) FROM passkeys`); n != "1" {
		t.Fatalf("passkeys after the phone was lost: %s, want the laptop's only", n)
	}
	thief := ta.device("thief", uaSafariIPhone, "198.51.100.20")
	if r := thief.passkeySignIn(phoneAuth, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("the lost phone's passkey signing in: %d, want 401", r.status)
	}
	if r := laptop.get("/account/security"); !strings.Contains(r.body, "Passkeys removed so no one else keeps them: Phone") {
		t.Fatal("the log does not say which passkey went")
	}
}

// TestTakeBackRemovesEveryPasskey: the thief holding the phone (and its saved password)
// adds a passkey of their own. The owner's alert mail tells of it, with "This wasn't me";
// the link signs everyone out, and removes every passkey (a link cannot tell whose they
// are), so the thief's passkey signs in no more; the log names the passkeys that went.
func TestTakeBackRemovesEveryPasskey(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr), func(c *handlers.Config) { c.BaseURL = "http://localhost" })
	laptop, thief, _ := laptopAndPhone(ta)
	ta.releaseAlerts()
	ta.nextMail(sink) // the phone's sign-in, which the owner made
	ownerAuth, thiefAuth := ta.authenticator(), ta.authenticator()
	laptop.addPasskey(ownerAuth, "Laptop")
	thief.addPasskey(thiefAuth, "Mine now")
	ta.releaseAlerts()
	m := ta.nextMail(sink)
	if !strings.Contains(m.Text, "Passkey added: Mine now, from iPhone") {
		t.Fatalf("the alert does not tell of the thief's passkey:\n%s", m.Text)
	}
	owner := ta.device("borrowed", uaFirefoxWindow, "203.0.113.50")
	r := owner.post(pathOf(t, m.Link(t)), url.Values{"new_password": {"the owner takes it back 42"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("following the link: %d", r.status)
	}
	if n := ta.query(`SELECT CAST(COUNT(*) AS TEXT) FROM passkeys`); n != "0" {
		t.Fatalf("passkeys after the take-back: %s, want none", n)
	}
	if r := ta.device("thief again", uaSafariIPhone, "198.51.100.7").passkeySignIn(thiefAuth, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("the thief's passkey after the take-back: %d, want 401", r.status)
	}
	if page := owner.get("/account/security"); !strings.Contains(page.body, "Passkeys removed so no one else keeps them: Laptop, Mine now") {
		t.Error("the page does not say which passkeys went")
	}
}

// TestRefusedPasskeysCountTowardTheSignInLimit: refused passkey sign-ins from one address
// count as failed sign-ins do: past the address's limit, even a good passkey waits (429).
func TestRefusedPasskeysCountTowardTheSignInLimit(t *testing.T) {
	ta := newPasskeyApp(t)
	laptop, _, _ := laptopAndPhone(ta)
	auth := ta.authenticator()
	laptop.addPasskey(auth, "Laptop")
	lazy := *auth
	lazy.NoUV = true
	guesser := ta.device("guesser", uaFirefoxWindow, "192.0.2.66")
	for i := range models.DefaultLimits().LoginIP.Max {
		if r := guesser.passkeySignIn(&lazy, auth.Creds[0]); r.status != http.StatusUnauthorized && r.status != http.StatusTooManyRequests {
			t.Fatalf("refused passkey %d: %d", i+1, r.status)
		}
	}
	if r := guesser.passkeySignIn(auth, nil); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("a good passkey past the limit: %d, want 429 with Retry-After", r.status)
	}
}

// TestRemoveAndRenameAPasskey: removing a passkey is confirmed as a sign-out is (the
// password, a passkey, or the open window), logged and alerted; renaming is logged;
// another account's passkey is 404 for both, before any password is asked.
func TestRemoveAndRenameAPasskey(t *testing.T) {
	ta := newTestApp(t, func(c *handlers.Config) { c.BaseURL, c.ConfirmWindow = "http://localhost", 0 })
	laptop, _, _ := laptopAndPhone(ta)
	auth := ta.authenticator()
	laptop.addPasskey(auth, "Laptop")
	id := ta.query(`SELECT CAST(id AS TEXT) FROM passkeys`)
	bob := ta.otherUser()
	for _, p := range []string{"/account/passkeys/" + id + "/remove", "/account/passkeys/" + id + "/name", "/account/passkeys/x/remove"} {
		if r := bob.get(p); r.status != http.StatusNotFound {
			t.Errorf("bob GET %s: %d, want 404", p, r.status)
		}
		if r := bob.post(p, url.Values{"password": {testPassword}, "name": {"bob's now"}}); r.status != http.StatusNotFound {
			t.Errorf("bob POST %s: %d, want 404", p, r.status)
		}
	}
	if r := laptop.post("/account/passkeys/"+id+"/name", url.Values{"name": {"Work <laptop>"}}); r.status != http.StatusSeeOther {
		t.Fatalf("rename: %d", r.status)
	}
	if page := laptop.get("/account/security").body; !strings.Contains(page, "Work &lt;laptop&gt;") {
		t.Error("the renamed passkey is not shown, escaped")
	}
	if r := laptop.post("/account/passkeys/"+id+"/remove", url.Values{}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("remove without a confirmation: %d, want 422", r.status)
	}
	if r := laptop.post("/account/passkeys/"+id+"/remove", url.Values{"passkey": {laptop.passkeyAssertion(auth)}}); r.status != http.StatusSeeOther {
		t.Fatalf("remove confirmed with the passkey itself: %d", r.status)
	}
	if n := ta.query(`SELECT CAST(COUNT(*) AS TEXT) FROM passkeys`); n != "0" {
		t.Fatalf("passkeys after the removal: %s", n)
	}
	if n := ta.query(`SELECT CAST(COUNT(*) AS TEXT) FROM alert_items WHERE kind = 'passkey-removed'`); n != "1" {
		t.Fatalf("alert items for the removal: %s, want 1", n)
	}
	if r := ta.device("x", uaFirefoxWindow, "192.0.2.8").passkeySignIn(auth, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("the removed passkey signing in: %d, want 401", r.status)
	}
	if r := laptop.post("/account/passkeys/confirm-options", url.Values{}); r.status != http.StatusConflict {
		t.Fatalf("confirm options without passkeys: %d, want 409", r.status)
	}
}

// TestPasskeyConfirmsAPasswordChange: the change-password form takes a passkey in place
// of the current password; the new password then signs in and the old one does not.
func TestPasskeyConfirmsAPasswordChange(t *testing.T) {
	ta := newPasskeyApp(t)
	laptop, _, _ := laptopAndPhone(ta)
	auth := ta.authenticator()
	laptop.addPasskey(auth, "Laptop")
	const next = "a new passphrase, passkey-confirmed"
	if r := laptop.post("/account/password", url.Values{"new_password": {next}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("a password change with neither password nor passkey: %d, want 422", r.status)
	}
	r := laptop.post("/account/password", url.Values{"passkey": {laptop.passkeyAssertion(auth)}, "new_password": {next}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("a password change confirmed with a passkey: %d %s", r.status, r.body)
	}
	if r := ta.device("old", uaChromeMac, "192.0.2.40").post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}); r.status != http.StatusUnauthorized {
		t.Fatalf("the old password after the change: %d, want 401", r.status)
	}
	ta.device("new", uaChromeMac, "192.0.2.41").login("ann@example.com", next)
}
