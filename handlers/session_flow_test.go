package handlers_test

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/handlers"
)

// threeDevices signs one account in from Chrome on macOS (A), Safari on iPhone (B) and
// Firefox on Windows (C), each from its own address.
func threeDevices(t *testing.T, ta *testApp) (a, b, c *device) {
	t.Helper()
	a = ta.device("A", uaChromeMac, "203.0.113.10")
	b = ta.device("B", uaSafariIPhone, "198.51.100.20")
	c = ta.device("C", uaFirefoxWindow, "2001:db8::30")
	a.signup("ann@example.com", testPassword)
	b.login("ann@example.com", testPassword)
	c.login("ANN@Example.com ", testPassword) // email is matched case-insensitively
	return a, b, c
}

func TestSecurityPageListsEveryDevice(t *testing.T) {
	ta := newTestApp(t)
	a, b, c := threeDevices(t, ta)
	other := ta.device("other user", uaChromeMac, "192.0.2.99")
	other.signup("bob@example.com", testPassword)

	want := map[string]struct{ label, os, ip string }{
		"A": {"Mac · Chrome 131", "macOS", "203.0.113.10"},
		"B": {"iPhone · Safari 18", "iOS 18", "198.51.100.20"},
		"C": {"Windows PC · Firefox 133", "Windows", "2001:db8::30"},
	}
	for _, d := range []*device{a, b, c} {
		rows, body := d.page()
		if len(rows) != 3 {
			t.Fatalf("%s sees %d rows, want 3: %+v", d.name, len(rows), rows)
		}
		if !rows[0].current {
			t.Errorf("%s: first row is not the current device: %+v", d.name, rows[0])
		}
		currents := 0
		for _, r := range rows {
			if r.current {
				currents++
			}
			if r.sessionID == "" || r.id != "session-"+r.sessionID {
				t.Errorf("%s: row hooks wrong: id=%q data-session-id=%q", d.name, r.id, r.sessionID)
			}
			if r.ip == "192.0.2.99" {
				t.Errorf("%s sees another user's session", d.name)
			}
		}
		if currents != 1 {
			t.Errorf("%s: %d rows marked current, want 1", d.name, currents)
		}
		w := want[d.name]
		if got := rows[0]; got.label != w.label || !strings.Contains(got.text, w.os) || got.ip != w.ip {
			t.Errorf("%s: current row = %q (%q) from %q, want %s, %s from %s", d.name, got.label, got.text, got.ip, w.label, w.os, w.ip)
		}
		if !strings.Contains(rows[0].text, "This device") {
			t.Errorf("%s: current row does not say This device: %q", d.name, rows[0].text)
		}
		if strings.Contains(body, "bob@example.com") {
			t.Errorf("%s: page mentions another user", d.name)
		}
	}
	// The rest are ordered by last activity: B is used later than C, so B comes first on A.
	ta.clock.Advance(2 * time.Minute)
	b.page()
	rows, _ := a.page()
	if !strings.Contains(rows[1].label, "Safari") || !strings.Contains(rows[2].label, "Firefox") {
		t.Errorf("A's rows not ordered by activity: %q, %q", rows[1].label, rows[2].label)
	}
	if !strings.Contains(rows[2].text, "Last active 2 minutes ago") {
		t.Errorf("C's row should say it was last active 2 minutes ago: %q", rows[2].text)
	}
	bob, _ := other.page()
	if len(bob) != 1 {
		t.Errorf("other user sees %d rows, want only their own", len(bob))
	}
}

func TestSignOutRemovesTheRow(t *testing.T) {
	ta := newTestApp(t)
	a, b, _ := threeDevices(t, ta)
	r := b.post("/logout", nil)
	if r.status != http.StatusSeeOther || r.location() != "/login" {
		t.Fatalf("logout: %d %s", r.status, r.location())
	}
	if b.cookie() != "" {
		t.Error("logout left the session cookie in the browser")
	}
	if r := b.get("/account/security"); r.status != http.StatusSeeOther || r.location() != "/login" {
		t.Errorf("after logout B gets %d %s, want 303 /login", r.status, r.location())
	}
	if r := b.get("/login"); !strings.Contains(r.body, "You are signed out.") {
		t.Error("the sign-in page does not say the device was signed out")
	}
	rows, body := a.page()
	if len(rows) != 2 {
		t.Fatalf("A sees %d rows after B signed out, want 2", len(rows))
	}
	for _, r := range rows {
		if strings.Contains(r.label, "Safari") {
			t.Errorf("B's row is still listed: %+v", r)
		}
	}
	if kinds := logKinds(t, body); len(kinds) == 0 || kinds[0] != "signed-out" {
		t.Errorf("security log = %v, want signed-out first", kinds)
	}
}

func TestExpiredSessionIsNeitherListedNorAccepted(t *testing.T) {
	ta := newTestApp(t)
	a := ta.device("A", uaChromeMac, "203.0.113.10")
	a.signup("ann@example.com", testPassword)
	keep := ta.device("remembered", uaFirefoxWindow, "203.0.113.11")
	keep.loginRemembered("ann@example.com", testPassword)
	idle := ta.device("idle", uaSafariIPhone, "203.0.113.12")
	idle.login("ann@example.com", testPassword)

	// Activity keeps a session alive: A is used every hour, idle never again.
	for range 3 {
		ta.clock.Advance(time.Hour)
		a.page()
	}
	if r := idle.get("/account/security"); r.status != http.StatusSeeOther || r.location() != "/login" {
		t.Errorf("idle device after 3h: %d %s, want 303 /login", r.status, r.location())
	}
	rows, _ := a.page()
	if len(rows) != 2 {
		t.Errorf("A lists %d sessions, want 2 (the idle one expired): %+v", len(rows), rows)
	}
	// A remembered device, even one used every day, lasts 30 days from sign-in, as its
	// cookie does.
	for day := 1; day < 30; day++ {
		ta.clock.Advance(24 * time.Hour)
		if r := keep.get("/account/security"); r.status != http.StatusOK {
			t.Fatalf("remembered device used daily, day %d: %d, want 200", day, r.status)
		}
	}
	ta.clock.Advance(24 * time.Hour)
	if r := keep.get("/account/security"); r.status != http.StatusSeeOther {
		t.Errorf("remembered device 30 days after sign-in: %d, want 303", r.status)
	}
	if n, _, err := ta.app.Sessions().Sweep(t.Context()); err != nil || n != 3 {
		t.Errorf("sweep removed %d rows (%v), want all 3, expired by now", n, err)
	}
}

func TestBadCookiesAreSimplySignedOut(t *testing.T) {
	ta := newTestApp(t)
	a := ta.device("A", uaChromeMac, "")
	a.signup("ann@example.com", testPassword)
	good := a.cookie()
	flipped := []byte(good)
	flipped[5] ^= 1
	if flipped[5] == '-' || flipped[5] == '_' {
		flipped[5] = 'A'
	}
	for name, value := range map[string]string{
		"tampered":  string(flipped),
		"truncated": good[:len(good)-3],
		"garbage":   "%%%not-a-token",
		"empty":     "",
		"huge":      strings.Repeat("A", 3000),
		"hash hex":  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	} {
		t.Run(name, func(t *testing.T) {
			d := ta.device(name, uaChromeMac, "")
			d.setCookie(value)
			if r := d.get("/account/security"); r.status != http.StatusSeeOther || r.location() != "/login" {
				t.Errorf("got %d %s, want 303 /login", r.status, r.location())
			}
			if r := d.do("GET", "/account/security", nil, true); r.status != http.StatusUnauthorized || r.header.Get("HX-Redirect") != "/login" {
				t.Errorf("htmx: got %d HX-Redirect=%q, want 401 /login", r.status, r.header.Get("HX-Redirect"))
			}
			if r := d.get("/"); r.status != http.StatusSeeOther || r.location() != "/login" {
				t.Errorf("GET /: %d %s", r.status, r.location())
			}
		})
	}
	if r := a.get("/"); r.location() != "/account/security" {
		t.Errorf("the real device was affected: GET / -> %s", r.location())
	}
}

func TestTokenNeverStoredOrShown(t *testing.T) {
	ta := newTestApp(t)
	a, b, _ := threeDevices(t, ta)
	for _, d := range []*device{a, b} {
		token := d.cookie()
		if len(token) < 43 {
			t.Fatalf("%s: token %d chars, want >= 43 (256 bits)", d.name, len(token))
		}
		_, body := d.page()
		if strings.Contains(body, token) {
			t.Errorf("%s: the token appears in the page", d.name)
		}
		sum := sha256.Sum256([]byte(token))
		if n := ta.query(`SELECT COUNT(*) FROM sessions WHERE token_hash = ?`, sum[:]); n != "1" {
			t.Errorf("%s: %s rows keyed by the token's SHA-256, want 1", d.name, n)
		}
		if n := ta.query(`SELECT COUNT(*) FROM sessions WHERE CAST(token_hash AS TEXT) = ? OR handle = ? OR data LIKE ?`,
			token, token, "%"+token+"%"); n != "0" {
			t.Errorf("%s: the raw token is stored", d.name)
		}
		rows, _ := d.page()
		if strings.Contains(token, rows[0].sessionID) || rows[0].sessionID == token {
			t.Errorf("%s: public handle is derived from the token", d.name)
		}
	}
}

func TestSignInIssuesANewToken(t *testing.T) {
	ta := newTestApp(t)
	a := ta.device("A", uaChromeMac, "")
	a.signup("ann@example.com", testPassword)
	first := a.cookie()
	// An attacker plants a well-formed token before the victim signs in.
	planted := strings.Repeat("x", 43)
	v := ta.device("victim", uaChromeMac, "")
	v.setCookie(planted)
	v.login("ann@example.com", testPassword)
	if v.cookie() == planted {
		t.Fatal("sign-in kept the planted token (session fixation)")
	}
	// Signing in again on a signed-in device replaces its token and its row.
	a.login("ann@example.com", testPassword)
	if a.cookie() == first {
		t.Error("a second sign-in kept the old token")
	}
	a.setCookie(first)
	if r := a.get("/account/security"); r.status != http.StatusSeeOther {
		t.Errorf("the replaced token still works: %d", r.status)
	}
	if n := ta.query(`SELECT COUNT(*) FROM sessions`); n != "2" {
		t.Errorf("%s session rows, want 2 (the replaced one deleted)", n)
	}
}

func TestRestartKeepsEveryoneSignedIn(t *testing.T) {
	ta := newTestApp(t)
	a, b, c := threeDevices(t, ta)
	ta.restart()
	for _, d := range []*device{a, b, c} {
		rows, _ := d.page()
		if len(rows) != 3 {
			t.Errorf("%s sees %d rows after restart, want 3", d.name, len(rows))
		}
	}
}

func TestCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		base, name string
		secure     bool
	}{
		{"http://127.0.0.1", "elsewhere_session", false},
		{"https://elsewhere.example", "__Host-elsewhere_session", true},
	} {
		t.Run(tc.base, func(t *testing.T) {
			ta := newTestApp(t, func(c *handlers.Config) { c.BaseURL = tc.base })
			d := ta.device("A", uaChromeMac, "")
			r := d.do("POST", "/signup", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}, false,
				"Origin", "", "Sec-Fetch-Site", "")
			if r.status != http.StatusSeeOther {
				t.Fatalf("signup: %d", r.status)
			}
			var ck *http.Cookie
			for _, c := range (&http.Response{Header: r.header}).Cookies() {
				if c.Name == tc.name {
					ck = c
				}
			}
			if ck == nil {
				t.Fatalf("no %s cookie in %v", tc.name, r.header["Set-Cookie"])
			}
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure != tc.secure || ck.Domain != "" {
				t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/, Secure=%v, no Domain", ck, tc.secure)
			}
			if hsts := r.header.Get("Strict-Transport-Security"); (hsts != "") != tc.secure {
				t.Errorf("HSTS = %q with base %s", hsts, tc.base)
			}
		})
	}
}

func TestRoutesAndStatuses(t *testing.T) {
	ta := newTestApp(t)
	anon := ta.device("anon", uaChromeMac, "")
	for _, tc := range []struct {
		method, path string
		form         url.Values
		status       int
		location     string
		contains     string
	}{
		{"GET", "/", nil, 303, "/login", ""},
		{"GET", "/healthz", nil, 200, "", "ok"},
		{"GET", "/login", nil, 200, "", `signed in on this device for 30 days`},
		{"GET", "/signup", nil, 200, "", `name="password"`},
		{"GET", "/account/security", nil, 303, "/login", ""},
		{"POST", "/signup", url.Values{"email": {"not an email"}, "password": {testPassword}}, 422, "", "does not look like an email"},
		{"POST", "/signup", url.Values{"email": {"a@example.com"}, "password": {"short"}}, 422, "", "at least 8 characters"},
		{"POST", "/signup", url.Values{"email": {"a@example.com"}, "password": {"password1"}}, 422, "", "most common"},
		{"POST", "/signup", url.Values{"email": {strings.Repeat("a", 250) + "@example.com"}, "password": {testPassword}}, 422, "", "too long"},
		{"POST", "/signup", url.Values{"email": {"a@example.com"}, "password": {strings.Repeat("x", 10000)}}, 422, "", "at most 256"},
		{"POST", "/signup", url.Values{"email": {"taken@example.com"}, "password": {testPassword}}, 303, "/account/security", ""},
		{"POST", "/signup", url.Values{"email": {"TAKEN@example.com"}, "password": {testPassword}}, 422, "", "already exists"},
		{"POST", "/login", url.Values{"email": {"taken@example.com"}, "password": {"wrong password"}}, 401, "", "do not match"},
		{"POST", "/login", url.Values{"email": {"nobody@example.com"}, "password": {testPassword}}, 401, "", "do not match"},
		{"POST", "/login", url.Values{"email": {""}, "password": {""}}, 401, "", "do not match"},
		{"POST", "/logout", nil, 303, "/login", ""},
		{"GET", "/nope", nil, 404, "", "Page not found"},
	} {
		d := anon
		if tc.path == "/signup" && tc.status == 303 {
			d = ta.device("new", uaChromeMac, "")
		}
		r := d.do(tc.method, tc.path, tc.form, false)
		if r.status != tc.status || r.location() != tc.location || !strings.Contains(r.body, tc.contains) {
			t.Errorf("%s %s %v: got %d %q, want %d %q containing %q", tc.method, tc.path, tc.form.Get("email"),
				r.status, r.location(), tc.status, tc.location, tc.contains)
		}
	}
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	ta := newTestApp(t)
	a := ta.device("A", uaChromeMac, "")
	a.signup("ann@example.com", testPassword)
	form := url.Values{"email": {"ann@example.com"}, "password": {testPassword}}
	for _, tc := range []struct {
		name string
		hdr  []string
		want int
	}{
		{"cross-site fetch", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403},
		{"same-site fetch", []string{"Sec-Fetch-Site", "same-site", "Origin", ""}, 403},
		{"foreign origin", []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}, 403},
		{"null origin", []string{"Sec-Fetch-Site", "", "Origin", "null"}, 403},
		{"no browser headers", []string{"Sec-Fetch-Site", "", "Origin", ""}, 303},
		{"same origin", nil, 303},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/login", "/signup", "/logout", "/account/sessions/others/revoke", "/account/password"} {
				r := a.do("POST", path, form, false, tc.hdr...)
				if tc.want == 403 && r.status != 403 {
					t.Errorf("POST %s: %d, want 403", path, r.status)
				}
				if tc.want != 403 && r.status == 403 {
					t.Errorf("POST %s: refused, want it judged by the rest", path)
				}
			}
			if tc.want == 303 {
				a.login("ann@example.com", testPassword) // /logout above signed A out
			}
		})
	}
}

// TestWritesPerRequest measures how many rows 100 requests from one signed-in device
// write: last_active is written at most once a minute, never on every request.
func TestWritesPerRequest(t *testing.T) {
	ta := newSQLiteTestApp(t)
	a := ta.device("A", uaChromeMac, "203.0.113.10")
	a.signup("ann@example.com", testPassword)
	changes := func() int {
		var n int
		if err := ta.db.Write.QueryRow(`SELECT total_changes()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct {
		name  string
		every time.Duration
		max   int
	}{
		{"100 requests within a minute", 0, 0},
		{"100 requests 10s apart (16.5 minutes)", 10 * time.Second, 17},
	} {
		before := changes()
		for range 100 {
			ta.clock.Advance(tc.every)
			a.page()
		}
		n := changes() - before
		t.Logf("%s: %d rows written", tc.name, n)
		if n > tc.max {
			t.Errorf("%s: %d rows written, want at most %d", tc.name, n, tc.max)
		}
	}
}

func TestClientHintsReachTheLabel(t *testing.T) {
	ta := newTestApp(t)
	a := ta.device("A", uaChromeMac, "")
	if r := a.get("/login"); !strings.Contains(r.header.Get("Accept-CH"), "Sec-CH-UA-Platform-Version") {
		t.Errorf("Accept-CH = %q, want the platform version hint asked for", r.header.Get("Accept-CH"))
	}
	a.signup("ann@example.com", testPassword)
	win := ta.device("W", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36", "")
	r := win.do("POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}, false,
		"Sec-CH-UA", `"Chromium";v="142", "Brave";v="142", "Not_A Brand";v="99"`,
		"Sec-CH-UA-Mobile", "?0",
		"Sec-CH-UA-Platform", `"Windows"`,
		"Sec-CH-UA-Platform-Version", `"15.0.0"`)
	if r.status != http.StatusSeeOther {
		t.Fatalf("login: %d", r.status)
	}
	rows, _ := win.page()
	if got := rows[0]; got.label != "Windows PC · Brave 142" || !strings.Contains(got.text, "Windows 11") {
		t.Errorf("row with hints = %q (%q), want Windows PC · Brave 142 on Windows 11", got.label, got.text)
	}
	if hints := ta.query(`SELECT client_hints FROM sessions WHERE browser LIKE 'Brave%'`); !strings.Contains(hints, "15.0.0") {
		t.Errorf("hints not stored with the session: %q", hints)
	}
}
