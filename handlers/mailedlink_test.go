package handlers_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/mailer/mailtest"
)

// TestMailedLinkKeepsItsTokenOutOfRequestLines: a mailed link carries its token after '#',
// which no browser sends; the page's script posts it in the body. Without a script the
// mail's code, typed in (however spaced and cased), does the same. Neither secret is ever
// in a request's path, and following the link by either ends both.
func TestMailedLinkKeepsItsTokenOutOfRequestLines(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	ta.device("laptop", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
	ta.releaseAlerts()
	forgot := ta.device("forgetful", uaFirefoxWindow, "203.0.113.20")

	forgot.post("/password/forgot", url.Values{"email": {"ann@example.com"}})
	m := ta.nextMail(sink)
	u, err := url.Parse(m.Link(t))
	if err != nil {
		t.Fatal(err)
	}
	token, code := m.Token(t), m.Code(t)
	if u.Path != "/password/reset" || u.RawQuery != "" || strings.Contains(m.Text, "/"+token) {
		t.Fatalf("the mailed link %q puts its token where a browser sends it", m.Link(t))
	}
	if !strings.Contains(m.Text, "Or go to "+ta.base.String()+"/password/reset and enter this code: "+code) {
		t.Errorf("the mail does not say where the code goes:\n%s", m.Text)
	}
	page := forgot.get(u.Path)
	if page.status != http.StatusOK || !strings.Contains(page.body, `name="code"`) || !strings.Contains(page.body, `data-link-token`) ||
		!strings.Contains(page.body, `action="/password/reset"`) || page.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("the link's page: %d\n%s", page.status, page.body)
	}

	// A wrong code is asked again; nothing changes.
	wrong := forgot.post("/password/reset", url.Values{"code": {"0000-0000-0000-0000"}, "new_password": {"a brand new passphrase 5"}})
	if wrong.status != http.StatusUnprocessableEntity || !strings.Contains(wrong.body, "That code doesn’t work") {
		t.Errorf("a wrong code: %d, want 422 asking again", wrong.status)
	}
	// A good code with a bad password: the form again, with the code, not in the address.
	short := forgot.post("/password/reset", url.Values{"code": {code}, "new_password": {"short"}})
	if short.status != http.StatusUnprocessableEntity || !strings.Contains(short.body, `value="`+code+`"`) {
		t.Errorf("a short password: %d, want 422 keeping the code", short.status)
	}
	// Typed as a person types it.
	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	if r := forgot.post("/password/reset", url.Values{"code": {typed}, "new_password": {"a brand new passphrase 5"}}); r.status != http.StatusSeeOther || r.location() != "/account/security" {
		t.Fatalf("the typed code: %d %q, want 303 /account/security (signed in)", r.status, r.location())
	}
	// The token of the same link is spent with the code.
	if r := forgot.post("/password/reset", url.Values{"token": {token}, "new_password": {"yet another one 77"}}); r.status != http.StatusNotFound {
		t.Errorf("the link's token after its code was used: %d, want 404", r.status)
	}
	forgot.login("ann@example.com", "a brand new passphrase 5")
	forgot.post("/logout", nil)

	// With a script: the token from the fragment, posted in the body ("This wasn't me").
	thief := ta.device("thief", uaSafariIPhone, "198.51.100.66")
	thief.login("ann@example.com", "a brand new passphrase 5")
	ta.releaseAlerts()
	alert := ta.nextMail(sink)
	if u, _ := url.Parse(alert.Link(t)); u.Path != "/account/not-me" {
		t.Fatalf("the alert's link: %q", alert.Link(t))
	}
	owner := ta.device("owner", uaChromeMac, "203.0.113.2")
	if r := owner.post("/account/not-me", url.Values{"token": {alert.Token(t)}, "new_password": {"the owner takes it back 42"}}); r.status != http.StatusSeeOther {
		t.Fatalf("following the alert's link with its token in the body: %d", r.status)
	}
	assertSignedOut(t, thief, true)
	if r := owner.post("/account/not-me", url.Values{"code": {alert.Code(t)}, "new_password": {"and once more 99"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("the alert's code after its link was used: %d, want 422", r.status)
	}
	if r := owner.post("/account/not-me", url.Values{"new_password": {"and once more 99"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("no secret at all: %d, want 422", r.status)
	}
}

// TestOldStyleLinkPostsItsTokenInTheBody: a link mailed before the change, its token in
// the path, still works until it expires; its page's form posts the token in the body, to
// the address without it.
func TestOldStyleLinkPostsItsTokenInTheBody(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	ta.device("laptop", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
	ta.releaseAlerts()
	forgot := ta.device("forgetful", uaFirefoxWindow, "203.0.113.20")
	forgot.post("/password/forgot", url.Values{"email": {"ann@example.com"}})
	m := ta.nextMail(sink)
	old := "/password/reset/" + m.Token(t)
	page := forgot.get(old)
	if page.status != http.StatusOK || !strings.Contains(page.body, "ann@example.com") ||
		!strings.Contains(page.body, `action="/password/reset"`) || strings.Contains(page.body, `name="code"`) {
		t.Fatalf("the old-style link's page: %d\n%s", page.status, page.body)
	}
	if r := forgot.post("/password/reset", url.Values{"token": {m.Token(t)}, "new_password": {"a brand new passphrase 5"}}); r.status != http.StatusSeeOther {
		t.Fatalf("its form: %d", r.status)
	}
	if r := forgot.get(old); r.status != http.StatusNotFound {
		t.Errorf("the old-style link once used: %d, want 404", r.status)
	}
}

// TestEachMailSentIsLogged: a self-hoster can tell a mail went (its kind, recipient and
// id), and the log never holds the link's token or code.
func TestEachMailSentIsLogged(t *testing.T) {
	sink := mailtest.Start(t, "")
	var logged syncBuffer
	ta := newTestApp(t, withMail(sink.Addr), func(c *handlers.Config) { c.Logger = slog.New(slog.NewTextHandler(&logged, nil)) })
	ta.device("laptop", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
	ta.releaseAlerts()
	ta.device("forgetful", uaFirefoxWindow, "203.0.113.20").post("/password/forgot", url.Values{"email": {"ann@example.com"}})
	m := ta.nextMail(sink)
	ta.waitFor("the outbox to be done", "0", `SELECT COUNT(*) FROM outbox WHERE sent_at = 0`)
	log := logged.String()
	if !strings.Contains(log, `msg="mail: sent" kind=reset to=ann@example.com mail_id=`) {
		t.Errorf("the sent mail is not logged:\n%s", log)
	}
	if strings.Contains(log, m.Token(t)) || strings.Contains(log, m.Code(t)) {
		t.Errorf("the log holds the link's secret:\n%s", log)
	}
}

// TestRescueReturnsToTheWantedPage: a person sent to sign in on their way to a host page,
// who asks for a reset link instead, lands on that page once the new password is set, in
// the browser that asked; a path that could lead off the site is dropped there as at
// sign-in. "This wasn't me" opened with a next returns there too; without one, and in a
// browser that kept none, the rescue lands on the Security page.
func TestRescueReturnsToTheWantedPage(t *testing.T) {
	sink := mailtest.Start(t, "")
	limits := models.DefaultLimits()
	limits.ResetEmail.Max = 100 // a reset for each case below
	ta := newTestApp(t, withMail(sink.Addr), func(c *handlers.Config) { c.Limits = &limits })
	ta.device("laptop", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
	ta.releaseAlerts()

	forgot := ta.device("forgetful", uaFirefoxWindow, "203.0.113.20")
	login := forgot.get("/login?next=" + url.QueryEscape("/dashboard?tab=notes"))
	if !strings.Contains(login.body, `href="/password/forgot?next=%2Fdashboard%3Ftab%3Dnotes"`) {
		t.Fatalf("the sign-in page's reset link does not carry the way back:\n%.3000s", login.body)
	}
	page := forgot.get("/password/forgot?next=" + url.QueryEscape("/dashboard?tab=notes"))
	if !strings.Contains(page.body, `name="next" value="/dashboard?tab=notes"`) {
		t.Fatalf("the reset request form does not carry the way back:\n%.3000s", page.body)
	}
	forgot.post("/password/forgot", url.Values{"email": {"ann@example.com"}, "next": {"/dashboard?tab=notes"}})
	m := ta.nextMail(sink)
	if strings.Contains(m.Link(t), "dashboard") {
		t.Errorf("the mailed link carries the way back: %q", m.Link(t))
	}
	r := forgot.post("/password/reset", url.Values{"token": {m.Token(t)}, "new_password": {"a brand new passphrase 5"}})
	if r.status != http.StatusSeeOther || r.location() != "/dashboard?tab=notes" {
		t.Fatalf("reset after asking on the way to /dashboard: %d %q", r.status, r.location())
	}
	if r := forgot.get("/account/security"); r.status != http.StatusOK {
		t.Fatalf("not signed in after the reset: %d", r.status)
	}
	// The way back is used once: the next reset from this browser lands on the Security page.
	forgot.post("/password/forgot", url.Values{"email": {"ann@example.com"}})
	m = ta.nextMail(sink)
	if r := forgot.post("/password/reset", url.Values{"token": {m.Token(t)}, "new_password": {"a second new passphrase 6"}}); r.location() != "/account/security" {
		t.Errorf("a reset asked for without a way back: %q, want /account/security", r.location())
	}

	// Ways off the site are dropped, whether kept with the request or sent with the form.
	for _, bad := range []string{"//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)"} {
		b := ta.device("another", uaSafariIPhone, "203.0.113.30")
		b.post("/password/forgot", url.Values{"email": {"ann@example.com"}, "next": {bad}})
		m := ta.nextMail(sink)
		if r := b.post("/password/reset", url.Values{"token": {m.Token(t)}, "new_password": {"a third new passphrase 7"}, "next": {bad}}); r.location() != "/account/security" {
			t.Errorf("reset with next %q: %q, want /account/security", bad, r.location())
		}
		b.setJarCookie("elsewhere_next", url.QueryEscape(bad))
		b.post("/password/forgot", url.Values{"email": {"ann@example.com"}})
		m = ta.nextMail(sink)
		if r := b.post("/password/reset", url.Values{"token": {m.Token(t)}, "new_password": {"a fourth new passphrase 8"}}); r.location() != "/account/security" {
			t.Errorf("reset with %q kept in the cookie: %q, want /account/security", bad, r.location())
		}
	}

	// "This wasn't me" opened with a next.
	thief := ta.device("thief", uaSafariIPhone, "198.51.100.66")
	thief.login("ann@example.com", "a fourth new passphrase 8")
	ta.releaseAlerts()
	alert := ta.nextMail(sink)
	owner := ta.device("owner", uaChromeMac, "203.0.113.2")
	notMe := owner.get("/account/not-me?next=%2Fdashboard")
	if !strings.Contains(notMe.body, `name="next" value="/dashboard"`) {
		t.Fatalf("the not-me form does not carry next:\n%.3000s", notMe.body)
	}
	if r := owner.post("/account/not-me", url.Values{"token": {alert.Token(t)}, "new_password": {"the owner takes it back 42"}, "next": {"/dashboard"}}); r.status != http.StatusSeeOther || r.location() != "/dashboard" {
		t.Fatalf("not-me with next: %d %q", r.status, r.location())
	}
	assertSignedOut(t, thief, true)
}
