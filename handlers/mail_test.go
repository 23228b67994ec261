package handlers_test

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/geo"
	"github.com/elsewhere-dev/elsewhere/models/geo/geotest"
	"github.com/elsewhere-dev/elsewhere/models/mailer"
	"github.com/elsewhere-dev/elsewhere/models/mailer/mailtest"
)

// withMail turns mail on through a real SMTP server at addr, checking the outbox often.
// The test clock moves alerts along: they go once the account has been quiet 30 s.
func withMail(addr string) func(*handlers.Config) {
	return func(c *handlers.Config) {
		m, err := mailer.NewSMTP("smtp://" + addr)
		if err != nil {
			panic(err)
		}
		c.Mailer, c.MailEvery = m, 20*time.Millisecond
	}
}

// path is the link's path, for the test's devices.
func pathOf(t *testing.T, link string) string {
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	// A link mailed before the token moved to the fragment had it in the path; those
	// still work until they expire, and the older tests follow links that way.
	if tok, ok := strings.CutPrefix(u.Fragment, "t="); ok {
		return u.Path + "/" + tok
	}
	return u.Path
}

// waitFor polls the database until query answers want.
func (ta *testApp) waitFor(what, want, query string, args ...any) {
	ta.t.Helper()
	deadline := time.Now().Add(mailtest.Wait)
	for ta.query(query, args...) != want {
		if time.Now().After(deadline) {
			ta.t.Fatalf("waited %v for %s: %s is %s, want %s", mailtest.Wait, what, query, ta.query(query, args...), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mailPass waits until the mail worker has been round at least twice, so what it would
// have sent by now it has sent.
func (ta *testApp) mailPass() {
	ta.t.Helper()
	ta.app.MailOnce(ta.t.Context())
	ta.app.MailOnce(ta.t.Context())
}

// nextMail waits for the next mail and then for the worker to have recorded its send.
// The SMTP server has the mail before the worker writes sent_at; a test that moved its
// clock past the 2-minute claim lease in between would see the mail claimed and sent again.
func (ta *testApp) nextMail(sink *mailtest.Sink) mailtest.Mail {
	ta.t.Helper()
	m := sink.Next(ta.t)
	ta.waitFor("the send to be recorded", "0", `SELECT COUNT(*) FROM outbox WHERE claimed_until <> 0`)
	return m
}

// releaseAlerts moves the clock past the quiet period, so queued alerts go.
func (ta *testApp) releaseAlerts() { ta.clock.Advance(time.Minute) }

// TestNewDeviceAlert: a sign-in from a browser the account has never seen produces one
// alert mail, with the device, address, place and a "This wasn't me" link; the browser
// signing in again later produces none, and neither does the sign-up.
func TestNewDeviceAlert(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr), withPlaces(t))
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.1")
	laptop.signup("ann@example.com", testPassword)
	phone := ta.device("phone", uaSafariIPhone, "203.0.113.9")
	phone.login("ann@example.com", testPassword)
	ta.releaseAlerts()
	m := ta.nextMail(sink)
	if m.To != "ann@example.com" || m.Subject != "New sign-in to your account" {
		t.Errorf("mail to %q, subject %q", m.To, m.Subject)
	}
	if !strings.HasPrefix(m.From, "no-reply@") {
		t.Errorf("mail from %q", m.From)
	}
	if strings.Contains(m.HTML, "&amp;") || !strings.Contains(m.HTML, `style="font-family:`) {
		t.Errorf("the HTML part's styles are mangled:\n%s", m.HTML)
	}
	for _, want := range []string{"A new device signed in: iPhone · Safari 18", "203.0.113.9 (Berlin, Germany)", "/account/not-me#t="} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("the alert does not say %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "Chrome") {
		t.Errorf("the alert names the sign-up's device:\n%s", m.Text)
	}
	link := m.Link(t)
	if n := ta.query(`SELECT COUNT(*) FROM mail_tokens WHERE token_hash = ?`, sha(pathOf(t, link)[len("/account/not-me/"):])); n != "1" {
		t.Errorf("the link's token is not kept as a hash (%s rows)", n)
	}
	if strings.Contains(ta.query(`SELECT body_text FROM outbox`), pathOf(t, link)) {
		t.Error("the outbox keeps the link's token")
	}

	// The same browser again: known, so no alert is even queued.
	phone.post("/logout", nil)
	phone.login("ann@example.com", testPassword)
	if n := ta.query(`SELECT COUNT(*) FROM alert_items`); n != "0" {
		t.Errorf("a known device's sign-in queued %s alert items", n)
	}
	ta.releaseAlerts()
	ta.waitFor("the outbox to be done", "0", `SELECT COUNT(*) FROM outbox WHERE sent_at = 0`)
	sink.None(t, "a known device signed in again")
	if n := ta.query(`SELECT COUNT(*) FROM outbox WHERE sent_at > 0`); n != "1" {
		t.Errorf("%s mails sent, want 1", n)
	}
}

// TestBurstIsOneMail: ten new devices signing in within the quiet period are one mail.
func TestBurstIsOneMail(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	ta.device("laptop", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
	for i := range 10 {
		ta.device("burst", uaFirefoxWindow, "198.51.100."+string(rune('1'+i%9))).login("ann@example.com", testPassword)
		ta.clock.Advance(2 * time.Second) // a burst: closer together than the quiet period
	}
	ta.releaseAlerts()
	m := ta.nextMail(sink)
	if m.Subject != "10 new sign-ins to your account" || strings.Count(m.Text, "A new device signed in") != 10 {
		t.Errorf("subject %q; the mail:\n%s", m.Subject, m.Text)
	}
	ta.waitFor("the outbox to be done", "0", `SELECT COUNT(*) FROM outbox WHERE sent_at = 0`)
	if n := ta.query(`SELECT COUNT(*) FROM outbox`); n != "1" {
		t.Errorf("%s mails for the burst, want 1", n)
	}
	sink.None(t, "one burst")
}

// TestNotMeTakesTheAccountBack: a thief holding the phone and its saved password changes
// the password. The owner's alert mail carries a link that, with no signed-in device,
// signs every device out (the thief's too) and sets a new password: the old and the
// thief's passwords stop working. The link works once, and ends every other link.
func TestNotMeTakesTheAccountBack(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.1")
	laptop.signup("ann@example.com", testPassword)
	thief := ta.device("stolen phone", uaSafariIPhone, "198.51.100.66")
	thief.login("ann@example.com", testPassword)
	ta.releaseAlerts()
	firstLink := ta.nextMail(sink).Link(t) // the new device

	const thiefPassword = "the thief's own passphrase 9"
	if r := thief.post("/account/password", url.Values{"current_password": {testPassword},
		"new_password": {thiefPassword}, "logout_others": {"on"}}); r.status != http.StatusSeeOther {
		t.Fatalf("the thief's password change: %d", r.status)
	}
	assertSignedOut(t, laptop, true)
	ta.releaseAlerts()
	m := ta.nextMail(sink)
	if m.Subject != "Security alert: your account was changed" || !strings.Contains(m.Text, "Password changed") ||
		!strings.Contains(m.Text, "from iPhone · Safari 18") {
		t.Errorf("subject %q; the alert:\n%s", m.Subject, m.Text)
	}
	link := pathOf(t, m.Link(t))

	// The owner, on a borrowed laptop: no session.
	borrowed := ta.device("borrowed", uaFirefoxWindow, "203.0.113.50")
	if r := borrowed.get(link); r.status != http.StatusOK || !strings.Contains(r.body, "ann@example.com") ||
		r.header.Get("Cache-Control") != "no-store" || r.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("the link's page: %d, Cache-Control %q, Referrer-Policy %q", r.status, r.header.Get("Cache-Control"), r.header.Get("Referrer-Policy"))
	}
	if r := borrowed.post(link, url.Values{"new_password": {"short"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("a too-short new password: %d, want 422", r.status)
	}
	const ownerPassword = "the owner takes it back 42"
	r := borrowed.post(link, url.Values{"new_password": {ownerPassword}})
	if r.status != http.StatusSeeOther || r.location() != "/account/security" {
		t.Fatalf("following the link: %d %q, want 303 /account/security (signed in on this browser)", r.status, r.location())
	}
	// The rescue ends signed in, with the one device that is left, and says what happened.
	if page := borrowed.get("/account/security"); page.status != http.StatusOK ||
		!strings.Contains(page.body, "This wasn’t me”: 1 device signed out and the password changed") ||
		strings.Count(page.body, `data-session-id=`) != 1 {
		t.Errorf("the page after the take-back: %d\n%s", page.status, page.body)
	}
	assertSignedOut(t, thief, true)
	for _, pw := range []string{testPassword, thiefPassword} {
		if r := ta.device("try", uaChromeMac, "203.0.113.77").post("/login", url.Values{"email": {"ann@example.com"}, "password": {pw}}); r.status != http.StatusUnauthorized {
			t.Errorf("password %q still signs in: %d", pw, r.status)
		}
	}
	borrowed.post("/logout", nil)
	borrowed.login("ann@example.com", ownerPassword)
	if got := borrowed.get("/account/security").body; !strings.Contains(got, `data-event="account-recovered"`) {
		t.Error("the log does not record the take-back")
	}
	// Once only; and the earlier mail's link is dead too.
	for _, l := range []string{link, pathOf(t, firstLink)} {
		if r := ta.device("again", uaChromeMac, "").get(l); r.status != http.StatusNotFound {
			t.Errorf("%s after the take-back: %d, want 404", l, r.status)
		}
	}
	if r := ta.device("again", uaChromeMac, "").post(link, url.Values{"new_password": {"yet another passphrase 7"}}); r.status != http.StatusNotFound {
		t.Errorf("posting the used link: %d, want 404", r.status)
	}
}

// TestOutboxSurvivesARestart: with the SMTP server down, the alert stays in the outbox,
// is tried again with back-off, survives a restart of the app, and goes once the server
// is back, with a link that works.
func TestOutboxSurvivesARestart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there yet
	ta := newTestApp(t, withMail(addr))
	ta.device("laptop", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
	ta.device("phone", uaSafariIPhone, "203.0.113.9").login("ann@example.com", testPassword)
	ta.releaseAlerts()
	ta.waitFor("a failed try", "1", `SELECT COUNT(*) FROM outbox WHERE attempts >= 1 AND sent_at = 0 AND last_error <> ''`)
	if n := ta.query(`SELECT COUNT(*) FROM mail_tokens`); n != "0" {
		t.Errorf("%s links kept for a mail that was not sent", n)
	}

	ta.restart()
	sink := mailtest.Start(t, addr)
	ta.clock.Advance(10 * time.Minute) // past the back-off
	m := ta.nextMail(sink)
	if m.Subject != "New sign-in to your account" {
		t.Errorf("subject %q", m.Subject)
	}
	ta.waitFor("the mail to be recorded as sent", "1", `SELECT COUNT(*) FROM outbox WHERE sent_at > 0`)
	if r := ta.device("owner", uaChromeMac, "").get(pathOf(t, m.Link(t))); r.status != http.StatusOK {
		t.Errorf("the link of the mail sent after the restart: %d", r.status)
	}
}

// TestPasswordResetByMail: the reset request answers the same whether the account exists
// or not and mails only an existing one; the link works once, for an hour, and signs
// every device out.
func TestPasswordResetByMail(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.1")
	laptop.signup("ann@example.com", testPassword)
	ta.releaseAlerts()
	if got := ta.device("anyone", uaChromeMac, "").get("/login").body; !strings.Contains(got, `href="/password/forgot"`) {
		t.Error("the sign-in page does not offer a reset")
	}

	forgot := ta.device("forgetful", uaFirefoxWindow, "203.0.113.20")
	known := forgot.post("/password/forgot", url.Values{"email": {"Ann@Example.com"}})
	unknown := forgot.post("/password/forgot", url.Values{"email": {"nobody@example.com"}})
	if known.status != http.StatusOK || unknown.status != http.StatusOK ||
		strings.ReplaceAll(known.body, "Ann@Example.com", "X") != strings.ReplaceAll(unknown.body, "nobody@example.com", "X") {
		t.Errorf("known and unknown emails are answered differently: %d, %d", known.status, unknown.status)
	}
	m := ta.nextMail(sink)
	if m.To != "ann@example.com" || m.Subject != "Reset your password" {
		t.Errorf("mail to %q, subject %q", m.To, m.Subject)
	}
	ta.waitFor("the outbox to be done", "0", `SELECT COUNT(*) FROM outbox WHERE sent_at = 0`)
	sink.None(t, "a reset for an unknown email")
	if n := ta.query(`SELECT COUNT(*) FROM outbox WHERE kind = 'reset'`); n != "1" {
		t.Errorf("%s reset mails, want 1", n)
	}

	link := pathOf(t, m.Link(t))
	if r := forgot.get(link); r.status != http.StatusOK {
		t.Fatalf("the reset page: %d", r.status)
	}
	const fresh = "a brand new passphrase 5"
	if r := forgot.post(link, url.Values{"new_password": {fresh}}); r.status != http.StatusSeeOther {
		t.Fatalf("reset: %d", r.status)
	}
	assertSignedOut(t, laptop, true)
	if r := forgot.post(link, url.Values{"new_password": {"and another one 77"}}); r.status != http.StatusNotFound {
		t.Errorf("the reset link a second time: %d, want 404", r.status)
	}
	if r := forgot.post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}); r.status != http.StatusUnauthorized {
		t.Errorf("the old password after a reset: %d", r.status)
	}
	forgot.login("ann@example.com", fresh)
	if got := forgot.get("/account/security").body; !strings.Contains(got, `data-event="password-reset"`) {
		t.Error("the log does not record the reset")
	}
	forgot.post("/logout", nil)

	// An hour later a link no longer works.
	forgot.post("/password/forgot", url.Values{"email": {"ann@example.com"}})
	late := pathOf(t, ta.nextMail(sink).Link(t))
	ta.clock.Advance(61 * time.Minute)
	if r := forgot.get(late); r.status != http.StatusNotFound || !strings.Contains(r.body, "doesn’t work") {
		t.Errorf("an expired reset link: %d, want 404 saying it doesn't work", r.status)
	}
	// A reset link is not a "This wasn't me" link, nor a made-up one anything.
	for _, p := range []string{strings.Replace(late, "/password/reset/", "/account/not-me/", 1), "/password/reset/nonsense", "/password/reset/" + strings.Repeat("A", 43)} {
		if r := forgot.get(p); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.status)
		}
	}
}

// TestResetRequestsAreLimited: an inbox cannot be flooded with reset links.
func TestResetRequestsAreLimited(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	ta.device("laptop", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
	var last response
	for i := range 4 {
		last = ta.device("asker", uaChromeMac, "198.51.100."+string(rune('1'+i))).post("/password/forgot", url.Values{"email": {"ann@example.com"}})
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Errorf("the fourth reset request in an hour: %d Retry-After=%q, want 429", last.status, last.header.Get("Retry-After"))
	}
	ta.waitFor("three mails", "3", `SELECT COUNT(*) FROM outbox WHERE sent_at > 0`)
}

// TestMailOffSaysNothing: without a mailer the mail pages do not exist and nothing links to them.
func TestMailOffSaysNothing(t *testing.T) {
	ta := newTestApp(t)
	d := ta.device("anyone", uaChromeMac, "")
	if strings.Contains(d.get("/login").body, "/password/forgot") {
		t.Error("the sign-in page offers a reset with mail off")
	}
	for _, p := range []string{"/password/forgot", "/password/reset/" + strings.Repeat("A", 43), "/account/not-me/" + strings.Repeat("A", 43)} {
		if r := d.get(p); r.status != http.StatusNotFound {
			t.Errorf("GET %s with mail off: %d, want 404", p, r.status)
		}
	}
}

// sha is a token's hash as the database keeps it.
func sha(token string) []byte { return models.HashToken(token) }

// withPlaces names places from a small real .mmdb file.
func withPlaces(t *testing.T) func(*handlers.Config) {
	l, err := geo.Open(geotest.Write(t, "GeoLite2-City"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return func(c *handlers.Config) { c.Places = l }
}

// TestPlacesOnThePage: with a GeoIP file, each device row and log entry says where its
// address is (IPv4 and IPv6); a private address says nothing.
func TestPlacesOnThePage(t *testing.T) {
	ta := newTestApp(t, withPlaces(t))
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.1")
	laptop.signup("ann@example.com", testPassword)
	ta.device("phone", uaSafariIPhone, "2001:db8::7").login("ann@example.com", testPassword)
	ta.device("office", uaFirefoxWindow, "10.0.0.8").login("ann@example.com", testPassword)
	page := laptop.get("/account/security").body
	for _, want := range []string{`<span class="place">Berlin, Germany</span>`, `<span class="place">Tokyo, Japan</span>`} {
		if strings.Count(page, want) < 2 { // the row and the log entry
			t.Errorf("the page shows %q %d times, want the row and the log", want, strings.Count(page, want))
		}
	}
	if n := strings.Count(page, `class="place"`); n != 4 {
		t.Errorf("%d places on the page, want 4 (two rows, two log entries; none for 10.0.0.8)", n)
	}
}

// TestAlertCannotCarryAThiefsWords: the device label in an alert comes from a user agent
// the thief writes; no address or link can be spelled with it in the owner's mail.
func TestAlertCannotCarryAThiefsWords(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	ta.device("laptop", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
	// The parser knows no "evil.example.com" browser: it names none.
	ta.device("thief", "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 evil.example.com/133.0", "198.51.100.66").
		login("ann@example.com", testPassword)
	ta.releaseAlerts()
	m := ta.nextMail(sink)
	for _, part := range []string{m.Text, m.HTML} {
		if strings.Contains(part, "evil.example") || strings.Contains(part, "https://evil") {
			t.Errorf("the alert carries the thief's address:\n%s", part)
		}
	}
	if !strings.Contains(m.Text, "A new device signed in: Linux PC · Unknown browser") {
		t.Errorf("the alert:\n%s", m.Text)
	}
}

// TestThiefCannotBloatTheAlert: a thief who changed the password and then repeats a
// cheap alerted change thousands of times within the batching window cannot grow the
// owner's alert past what a mail server takes: it lists the gravest changes (the password
// change first) and counts the rest.
func TestThiefCannotBloatTheAlert(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	ta.device("laptop", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
	thief := ta.device("stolen phone", uaSafariIPhone, "198.51.100.66")
	thief.login("ann@example.com", testPassword)
	ta.releaseAlerts()
	ta.nextMail(sink)
	const thiefsPassword = "thief owns this account now"
	if r := thief.hxPost("/account/password", url.Values{"current_password": {testPassword},
		"new_password": {thiefsPassword}, "logout_others": {"on"}}); r.status != http.StatusOK {
		t.Fatalf("the thief changes the password: %d", r.status)
	}
	thief.hxPost("/account/sessions/others/revoke", pw(thiefsPassword)) // opens the confirmation window
	// Each round is two alerted changes: a new device signs in, and is signed out again
	// (let through by the confirmation window: no password needed).
	for i := range 50 {
		d := ta.device("another", uaFirefoxWindow, fmt.Sprintf("198.51.100.%d", i+1))
		d.login("ann@example.com", thiefsPassword)
		if r := thief.hxPost("/account/sessions/"+d.handle()+"/revoke", nil); r.status != http.StatusOK {
			t.Fatalf("revoke %d: %d", i, r.status)
		}
	}
	ta.releaseAlerts()
	m := ta.nextMail(sink)
	if !strings.HasPrefix(strings.SplitN(m.Text, "\n- ", 2)[1], "Password changed") || !strings.Contains(m.Text, "and 89 more changes") ||
		strings.Count(m.Text, "\n- ") != 12 {
		t.Errorf("the alert:\n%s", m.Text)
	}
	if len(m.Text) > 8<<10 || len(m.HTML) > 16<<10 {
		t.Errorf("the alert is %d bytes of text and %d of HTML", len(m.Text), len(m.HTML))
	}
	if !strings.Contains(m.Link(t), "/account/not-me#t=") {
		t.Error("no take-back link")
	}
}

// TestAlertMailsPerHour: an account gets at most six alert mails an hour; later changes
// wait for the next allowed mail, gathered into it. (Anyone may sign up with someone
// else's address, and a browser without the device cookie is new at every sign-in.)
func TestAlertMailsPerHour(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	ta.device("attacker", uaChromeMac, "203.0.113.1").signup("victim@example.com", testPassword)
	signIn := func() {
		ta.device("cookieless", uaChromeMac, "203.0.113.1").login("victim@example.com", testPassword)
		ta.releaseAlerts()
	}
	for range 6 {
		signIn()
		ta.nextMail(sink)
	}
	for range 4 { // within the hour: held back
		signIn()
	}
	ta.mailPass()
	sink.None(t, "a seventh alert within the hour")
	if n := ta.query(`SELECT COUNT(*) FROM alert_items`); n != "4" {
		t.Errorf("%s alert items waiting, want 4", n)
	}
	ta.clock.Advance(time.Hour)
	if m := ta.nextMail(sink); m.Subject != "4 new sign-ins to your account" {
		t.Errorf("the next hour's alert: %q", m.Subject)
	}
}

// TestSignedOutDeviceIsNewAgain: the owner signs the phone out from the laptop; whoever
// holds the phone signs in again on it with the saved password, and the owner is told:
// a browser signed out from elsewhere is no longer known to the account.
func TestSignedOutDeviceIsNewAgain(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.1")
	laptop.signup("ann@example.com", testPassword)
	phone := ta.device("phone", uaSafariIPhone, "198.51.100.66")
	phone.login("ann@example.com", testPassword)
	if r := laptop.post("/account/sessions/"+phone.handle()+"/revoke", pw(testPassword)); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	ta.releaseAlerts()
	ta.nextMail(sink) // the new sign-in and the sign-out, in one mail
	phone.login("ann@example.com", testPassword)
	ta.releaseAlerts()
	if m := ta.nextMail(sink); m.Subject != "New sign-in to your account" {
		t.Errorf("the phone's return: %q", m.Subject)
	}
	// Signing out on the device itself keeps it known.
	laptop.post("/logout", nil)
	laptop.login("ann@example.com", testPassword)
	if n := ta.query(`SELECT COUNT(*) FROM alert_items`); n != "0" {
		t.Errorf("the laptop's own sign-out and return queued %s alert items", n)
	}
}
