package e2e

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models/mailer"
	"github.com/elsewhere-dev/elsewhere/models/mailer/mailtest"
)

// withMail sends the app's mail to a real SMTP server in the test, with alerts going
// as soon as an account has been quiet a moment.
func withMail(t *testing.T, sink *mailtest.Sink) func(*handlers.Config) {
	m, err := mailer.NewSMTP("smtp://" + sink.Addr)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *handlers.Config) {
		c.Mailer, c.MailEvery = m, 50*time.Millisecond
		c.AlertQuiet, c.AlertMaxWait = 200*time.Millisecond, 2*time.Second
	}
}

// linkPath is a mailed link without its origin: the path and the fragment with the token.
func linkPath(t *testing.T, m mailtest.Mail) string {
	u, err := url.Parse(m.Link(t))
	if err != nil {
		t.Fatal(err)
	}
	return u.Path + "#" + u.Fragment
}

// requested reports whether any request the device's browser made had s in its URL.
func (d *device) requested(s string) bool {
	d.mon.mu.Lock()
	defer d.mon.mu.Unlock()
	for _, u := range d.mon.requests {
		if strings.Contains(u, s) {
			return true
		}
	}
	return false
}

// TestNotMeAndReset: the owner follows an alert's "This wasn't me" link on a phone and
// takes the account back (the laptop's open page goes to the sign-in page by itself),
// then resets the password through "Forgot your password?". Each page keeps to the CSP
// (the monitor), passes axe, and lays out at phone and small-phone widths.
func TestNotMeAndReset(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	sink := mailtest.Start(t, "")
	base := startApp(t, withMail(t, sink))
	const email = "mail.owner@example.com"
	laptop := newDevice(t, base, chromeMac)
	phone := newDevice(t, base, safariIPhone)
	small := safariIPhone
	small.width, small.height = 360, 740
	tiny := newDevice(t, base, small)

	laptop.signUp(email)
	phone.mustSignIn(email, password) // a new device: the owner is alerted
	m := sink.Next(t)
	if m.Subject != "New sign-in to your account" {
		t.Fatalf("mail %q", m.Subject)
	}
	notMe := linkPath(t, m)
	laptop.open("/account/security")
	laptop.waitUntil("the live stream to open", `document.getElementById("live").getAttribute("data-state") === "open"`)

	// The link's page, on a phone that is not signed in.
	phone.open("/account/security")
	phone.submit(`form[action="/logout"] button[type=submit]`)
	if st := phone.open(notMe); st != 200 {
		t.Fatalf("the not-me page answered %d", st)
	}
	if got := phone.text("main"); !strings.Contains(got, "every device") {
		t.Errorf("the page says %q", got)
	}
	// The page's script took the token from the fragment into the form, dropped the code
	// field meant for browsers without script, and the token from the address bar.
	token := m.Token(t)
	if !js[bool](phone, `document.querySelector("input[name=token]").value === `+strconv.Quote(token)+
		` && !document.querySelector("[data-link-code]") && location.hash === ""`) {
		t.Error("the page did not take the token from the fragment")
	}
	checkAccessibility(t, phone, "the not-me page")
	checkLayout(t, phone, "the not-me page at 390px")
	tiny.open(notMe)
	checkLayout(t, tiny, "the not-me page at 360px")
	if js[string](phone, `document.activeElement.id`) != "new_password" {
		t.Error("the new-password field does not have the focus")
	}
	phone.typeInto("#new_password", newPassword)
	phone.submit(`main form button[type=submit]`)
	if p := phone.path(); p != "/account/security" {
		t.Fatalf("after taking the account back the phone shows %s, want the Security page (signed in)", p)
	}
	if got := phone.text("#notice"); !strings.Contains(got, "This wasn’t me") || !strings.Contains(got, "signed out and the password changed") {
		t.Errorf("the Security page says %q", got)
	}
	waitSignedOut(t, laptop)
	if phone.requested(token) {
		t.Error("the browser sent the link's token in a request's address")
	}
	tiny.expect(`status of 404`)
	tiny.open("/login") // from the same page, only the fragment would change: no load
	tiny.open(notMe)
	tiny.typeInto("#new_password", "Yet-another-lantern-77")
	tiny.submit(`main form button[type=submit]`)
	if got := tiny.text("h1"); !strings.Contains(got, "doesn’t work") {
		t.Errorf("the used link's page says %q", got)
	}

	// "Forgot your password?" from the sign-in page.
	laptop.click(`a[href="/password/forgot"]`)
	laptop.waitUntil("the reset request page", `location.pathname === "/password/forgot"`)
	checkAccessibility(t, laptop, "the reset request page")
	checkLayout(t, laptop, "the reset request page")
	laptop.typeInto("#email", email)
	laptop.submit(`main form button[type=submit]`)
	if got := laptop.text(".notice"); !strings.Contains(got, "we’ve sent it a link") {
		t.Errorf("after asking, the page says %q", got)
	}
	var code string
	for code == "" { // another mail (an alert) may come first
		if m := sink.Next(t); m.Subject == "Reset your password" {
			code = m.Code(t)
		}
	}
	// Without JavaScript the fragment is out of reach: the code from the mail is typed in.
	tiny.disableScripts(true)
	tiny.open("/password/reset")
	tiny.disableScripts(false) // axe itself needs timers and promises; the page's scripts stay unloaded
	checkAccessibility(t, tiny, "the reset page")
	checkLayout(t, tiny, "the reset page at 360px")
	const third = "Third-lantern-harbour-88"
	tiny.typeInto("#code", strings.ToLower(code))
	tiny.typeInto("#new_password", third)
	tiny.submit(`main form button[type=submit]`)
	if p := tiny.path(); p != "/account/security" {
		t.Fatalf("after the reset the phone shows %s, want the Security page (signed in)", p)
	}
	if got := tiny.text("#notice"); !strings.Contains(got, "Password reset from a mailed link") {
		t.Errorf("after the reset the Security page says %q", got)
	}
	tiny.submit(`form[action="/logout"] button[type=submit]`)
	tiny.mustSignIn(email, third)
}
