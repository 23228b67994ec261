package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSignInReturnsToTheHostPage: /dashboard behind RequireUser sends a signed-out
// browser to sign in with the page it wanted; signing in (or up) returns there. A next
// that could lead off the site is dropped: the browser lands on the Security page.
func TestSignInReturnsToTheHostPage(t *testing.T) {
	base := starter(t)
	a := newBrowser(t, base, uaMac)
	r := a.get("/dashboard?tab=notes")
	login := r.header.Get("Location")
	if r.status != http.StatusSeeOther || login != "/auth/login?next=%2Fdashboard%3Ftab%3Dnotes" {
		t.Fatalf("signed-out /dashboard: %d %q", r.status, login)
	}
	page := a.get(login)
	if !strings.Contains(page.body, `name="next" value="/dashboard?tab=notes"`) ||
		!strings.Contains(page.body, `href="/auth/signup?next=%2Fdashboard%3Ftab%3Dnotes"`) {
		t.Fatalf("the sign-in page does not carry the way back:\n%.2000s", page.body)
	}
	// Signing up from there returns too.
	r = a.do("POST", "/auth/signup", url.Values{"email": {"ann@example.com"}, "password": {password}, "next": {"/dashboard?tab=notes"}}, false)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/dashboard?tab=notes" {
		t.Fatalf("signing up with next: %d %q", r.status, r.header.Get("Location"))
	}
	a.do("POST", "/auth/logout", url.Values{}, false)

	for _, tc := range []struct{ next, want string }{
		{"/dashboard", "/dashboard"},
		{"//evil.example", "/auth/account/security"},
		{"/\\evil.example", "/auth/account/security"},
		{"https://evil.example", "/auth/account/security"},
		{"http:/evil.example", "/auth/account/security"},
		{"evil.example", "/auth/account/security"},
		{"/%0d%0aSet-Cookie:x", "/%0d%0aSet-Cookie:x"}, // escaped: a path like any other
		{"/\r\nLocation: https://evil.example", "/auth/account/security"},
		{"/\t/evil.example", "/auth/account/security"},
		{"javascript:alert(1)", "/auth/account/security"},
		{"/" + strings.Repeat("a", 2000), "/auth/account/security"},
	} {
		b := newBrowser(t, base, uaMac)
		r := b.do("POST", "/auth/login", url.Values{"email": {"ann@example.com"}, "password": {password}, "next": {tc.next}}, false)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != tc.want {
			t.Errorf("sign-in with next %q: %d %q, want 303 %q", tc.next, r.status, r.header.Get("Location"), tc.want)
		}
		if r := b.get("/auth/login?next=" + url.QueryEscape(tc.next)); r.status != http.StatusSeeOther || r.header.Get("Location") != tc.want {
			t.Errorf("the sign-in page, signed in, with next %q: %d %q, want 303 %q", tc.next, r.status, r.header.Get("Location"), tc.want)
		}
	}
	// A wrong password keeps the way back in the form.
	c := newBrowser(t, base, uaMac)
	if r := c.do("POST", "/auth/login", url.Values{"email": {"ann@example.com"}, "password": {"wrong one"}, "next": {"/dashboard"}}, false); r.status != http.StatusUnauthorized ||
		!strings.Contains(r.body, `name="next" value="/dashboard"`) {
		t.Errorf("a failed sign-in: %d, the form without next", r.status)
	}
}
