package handlers_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/elsewhere-dev/elsewhere/handlers"
)

// Payloads that would run script if any of them reached the page unescaped.
const (
	xssScript = `<script>alert(1)</script>`
	xssImg    = `"><img src=x onerror=alert(1)>`
	xssSQL    = `' OR 1=1 --`
)

// chunked hides a reader's length, so the request goes out with Transfer-Encoding: chunked.
func chunked(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }

// assertNoInjectedMarkup fails when body holds markup that a payload could have made:
// an inline script, an event-handler attribute, or an element whose src is "x".
func assertNoInjectedMarkup(t testing.TB, where, body string) {
	t.Helper()
	for _, raw := range []string{"<script>alert", "<img src=x", "<svg onload"} {
		if strings.Contains(body, raw) {
			t.Errorf("%s: the raw payload %q is in the markup", where, raw)
		}
	}
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if n.Data == "script" && !strings.HasPrefix(attr(n, "src"), "/static/") {
			t.Errorf("%s: an inline or foreign <script> %v", where, n.Attr)
		}
		if n.Data == "img" {
			t.Errorf("%s: an <img> element %v", where, n.Attr)
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("%s: <%s> has an event-handler attribute %s=%q", where, n.Data, a.Key, a.Val)
			}
		}
	}
}

// byAttr returns the first element whose attribute key has value val, or nil.
func byAttr(t testing.TB, body, key, val string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && attr(n, key) == val {
			return n
		}
	}
	return nil
}

// TestHostileDeviceHeadersAreDefused signs in with markup, quotes and SQL in every
// request header that reaches the page: nothing of it is markup on any page or fragment.
func TestHostileDeviceHeadersAreDefused(t *testing.T) {
	ta := newTestApp(t)
	owner := ta.device("owner", uaChromeMac, "203.0.113.10")
	owner.signup("ann@example.com", testPassword)
	evilUA := "Mozilla/5.0 (" + xssScript + ") " + xssImg + " Evil&amp;Browser/1.0 " + xssSQL + " '); DROP TABLE sessions; --"
	evil := ta.device("evil", evilUA, xssScript) // an X-Forwarded-For that is no address
	r := evil.do("POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}, false,
		"Sec-CH-UA", `"`+xssImg+`";v="131", "Chromium";v="131"`,
		"Sec-CH-UA-Platform", `"`+xssScript+`"`, "Sec-CH-UA-Platform-Version", `"1<b>"`,
		"Sec-CH-UA-Model", `"><svg onload=alert(1)>`, "Sec-CH-UA-Mobile", "?1<i>")
	if r.status != http.StatusSeeOther {
		t.Fatalf("login: %d", r.status)
	}
	if got := ta.query(`SELECT user_agent FROM sessions ORDER BY id DESC LIMIT 1`); got != evilUA {
		t.Errorf("the user agent was not stored as the data it is: %q", got)
	}
	if n := ta.query(`SELECT COUNT(*) FROM sessions`); n != "2" {
		t.Errorf("%s sessions, want 2", n)
	}
	evilHandle := evil.handle()
	rows, body := owner.page()
	assertNoInjectedMarkup(t, "security page", body)
	for _, rw := range rows {
		if rw.sessionID == evilHandle && rw.ip != "127.0.0.1" {
			t.Errorf("a forged X-Forwarded-For became the address %q", rw.ip)
		}
	}
	assertNoInjectedMarkup(t, "live refresh", owner.do("GET", "/account/security", nil, true).body)
	assertNoInjectedMarkup(t, "refused confirmation page", owner.post("/account/sessions/"+evilHandle+"/revoke", pw("wrong password")).body)
	r = owner.hxPost("/account/sessions/"+evilHandle+"/revoke", pw(testPassword))
	if r.status != http.StatusOK {
		t.Fatalf("revoke: %d", r.status)
	}
	assertNoInjectedMarkup(t, "revoke fragment", r.body)
	_, body = owner.page()
	assertNoInjectedMarkup(t, "security page after the revoke", body)
}

// TestViewsEscapeWhatTheDatabaseHolds puts markup straight into the stored labels,
// addresses and security log (as an older version or a parser bug might have left
// them) and checks every place that shows them: a stored label is shown only when it is
// made of the parser's names (device.Known), so these read as unknown, and what is shown
// (the addresses, the event kind) is the very same text, escaped.
func TestViewsEscapeWhatTheDatabaseHolds(t *testing.T) {
	ta := newTestApp(t)
	a, b, _ := threeDevices(t, ta)
	bID := b.handle()
	const browser, osName, ip = xssScript, xssImg, xssSQL + "<b>"
	stored := browser + " on " + osName
	// B is the iPhone: its model is a name the parser writes, its browser and system not.
	const label, logLabel = "iPhone · Unknown browser", "Unknown device"
	if _, err := ta.db.Write.Exec(`UPDATE sessions SET browser = ?, os = ?, ip = ? WHERE handle = ?`, browser, osName, ip, bID); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.db.Write.Exec(`UPDATE events SET detail = ?, device = ?, ip = ?`, stored, stored, ip); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.db.Write.Exec(`INSERT INTO events (user_id, kind, at, ip, device, detail)
		SELECT user_id, ?, at, ?, ?, ? FROM events LIMIT 1`, xssImg, ip, stored, stored); err != nil {
		t.Fatal(err)
	}
	ta.wroteBehindTheModels() // or an app server goes on showing what it remembers

	checkPage := func(where, body string) {
		t.Helper()
		assertNoInjectedMarkup(t, where, body)
		row := findByID(t, body, "session-"+bID)
		if row == nil {
			t.Fatalf("%s: no row for B", where)
		}
		for _, rw := range parseRows(t, body) {
			if rw.sessionID == bID && (rw.label != label || rw.ip != ip) {
				t.Errorf("%s: row shows %q from %q, want the stored text %q from %q", where, rw.label, rw.ip, label, ip)
			}
		}
		if btn := byAttr(t, body, "formaction", "/account/sessions/"+bID+"/revoke"); btn == nil || attr(btn, "aria-label") != "Sign out "+label {
			t.Errorf("%s: the sign-out button's aria-label is not the label as text", where)
		}
		log := findByID(t, body, "security-log")
		if log == nil || !strings.Contains(textOf(log), "Signed in on "+logLabel) || !strings.Contains(textOf(log), ip) {
			t.Errorf("%s: the security log does not show the stored text", where)
		}
		if byAttr(t, body, "data-event", xssImg) == nil {
			t.Errorf("%s: the odd event kind is not kept as an attribute value", where)
		}
	}
	_, body := a.page()
	checkPage("security page", body)
	checkPage("live refresh", a.do("GET", "/account/security", nil, true).body)

	// No JavaScript: the row's button leads to the confirmation as a page of its own,
	// titled with the label, and a refused confirmation shows it again.
	r := a.get("/account/sessions/" + bID + "/revoke")
	assertNoInjectedMarkup(t, "confirmation page", r.body)
	if h := findByID(t, r.body, "main"); r.status != http.StatusOK || h == nil || !strings.Contains(textOf(h), "Sign out "+label+"?") {
		t.Errorf("the confirmation page (%d) is not titled with the label as text", r.status)
	}
	r = a.post("/account/sessions/"+bID+"/revoke", pw("wrong password"))
	assertNoInjectedMarkup(t, "confirmation page", r.body)
	if h := findByID(t, r.body, "main"); h == nil || !strings.Contains(textOf(h), "Sign out "+label+"?") {
		t.Errorf("the confirmation page's title is not the label as text")
	}
	// The notice, once through htmx and once through the redirect.
	r = a.hxPost("/account/sessions/"+bID+"/revoke", pw(testPassword))
	assertNoInjectedMarkup(t, "revoke fragment", r.body)
	if n := findByID(t, r.body, "notice"); n == nil || textOf(n) != "Signed out "+label {
		t.Errorf("fragment notice is not the label as text: %q", textOf(n))
	}
	c := ta.device("C2", uaFirefoxWindow, "")
	c.login("ann@example.com", testPassword)
	cID := c.handle()
	if _, err := ta.db.Write.Exec(`UPDATE sessions SET browser = ?, os = ? WHERE handle = ?`, browser, osName, cID); err != nil {
		t.Fatal(err)
	}
	if r := a.post("/account/sessions/"+cID+"/revoke", pw(testPassword)); r.status != http.StatusSeeOther {
		t.Fatalf("plain revoke: %d", r.status)
	}
	_, body = a.page()
	assertNoInjectedMarkup(t, "page with the notice", body)
	if n := findByID(t, body, "notice"); n == nil || !strings.Contains(textOf(n), "Signed out Computer · Unknown browser") {
		t.Errorf("the notice after the redirect is not the label as text")
	}
}

// TestSQLMetacharactersAreData: quotes and comments in every field are stored and
// compared as the text they are.
func TestSQLMetacharactersAreData(t *testing.T) {
	ta := newTestApp(t)
	const sqlPassword = xssSQL + " '; DROP TABLE users; --"
	d := ta.device("A", "'); DELETE FROM sessions; --", "")
	d.signup("ann@example.com", sqlPassword)
	anon := ta.device("anon", uaChromeMac, "")
	for _, tc := range []struct {
		email, password string
		status          int
	}{
		{xssSQL, xssSQL, 401},
		{"ann@example.com", xssSQL, 401},
		{"ann@example.com' --", sqlPassword, 401},
		{`ann@example.com" OR ""="`, sqlPassword, 401},
		{"ann@example.com", "' OR '1'='1", 401},
		{"ann@example.com", sqlPassword, 303},
	} {
		r := anon.post("/login", url.Values{"email": {tc.email}, "password": {tc.password}})
		if r.status != tc.status {
			t.Errorf("login %q / %q: %d, want %d", tc.email, tc.password, r.status, tc.status)
		}
	}
	for _, email := range []string{xssSQL, "x' OR 1=1 --@example.com", "a@example.com'; DROP TABLE users; --"} {
		if r := ta.device("new", uaChromeMac, "").post("/signup", url.Values{"email": {email}, "password": {testPassword}}); r.status != 422 ||
			!strings.Contains(r.body, "does not look like an email") {
			t.Errorf("signup %q: %d, want 422 with a message", email, r.status)
		}
	}
	if r := d.post("/account/sessions/"+url.PathEscape(xssSQL)+"/revoke", pw(sqlPassword)); r.status != 404 {
		t.Errorf("revoke %q: %d, want 404", xssSQL, r.status)
	}
	if n := ta.query(`SELECT COUNT(*) FROM users`); n != "1" {
		t.Errorf("%s users, want 1", n)
	}
	if n := ta.query(`SELECT COUNT(*) FROM sessions`); n != "2" {
		t.Errorf("%s sessions, want 2", n)
	}
	if ua := ta.query(`SELECT user_agent FROM sessions ORDER BY id LIMIT 1`); ua != d.ua {
		t.Errorf("user agent stored as %q", ua)
	}
}

// TestNoHeaderInjection: no value a client sends reaches a response header as anything
// but data, and HX-Retarget is only ever built from a handle the user owns.
func TestNoHeaderInjection(t *testing.T) {
	ta := newTestApp(t)
	a, b, _ := threeDevices(t, ta)
	bID := b.handle()
	// What the client sends never comes back in a header, not even with its line
	// breaks made spaces (net/http does that to a header value, hiding an injection):
	// neither a password, nor the injected text, nor the session token it presented.
	submitted := []string{"wrong password", testPassword, "guess", "X-Injected", "x=y", url.QueryEscape(testPassword)}
	injected := func(where string, r response, sentToken ...string) {
		t.Helper()
		if r.header.Get("X-Injected") != "" || len(r.header.Values("Set-Cookie")) > 2 {
			t.Errorf("%s: a header was injected: %v", where, r.header)
		}
		for k, vs := range r.header {
			for _, v := range vs {
				for _, sub := range append(slices.Clone(submitted), sentToken...) {
					if sub != "" && strings.Contains(v, sub) {
						t.Errorf("%s: header %s echoes what the client sent (%q): %q", where, k, sub, v)
					}
				}
			}
		}
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if c.Name == "x" {
				t.Errorf("%s: an injected cookie %v", where, c)
			}
		}
		for k, vs := range r.header {
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n") {
					t.Errorf("%s: header %s carries a line break: %q", where, k, v)
				}
			}
		}
	}
	crlf := "\r\nX-Injected: 1\r\nSet-Cookie: x=y"
	for _, path := range []string{
		"/account/sessions/" + url.PathEscape(bID+crlf) + "/revoke",
		"/account/sessions/" + url.PathEscape(crlf) + "/revoke",
		"/account/sessions/%0d%0aX-Injected:%201/revoke",
	} {
		for _, hx := range []bool{false, true} {
			token := a.cookie()
			r := a.do("POST", path, pw("wrong password"), hx)
			if r.status != http.StatusNotFound {
				t.Errorf("POST %s: %d, want 404", path, r.status)
			}
			if r.header.Get("HX-Retarget") != "" {
				t.Errorf("POST %s: HX-Retarget %q for a handle the user does not own", path, r.header.Get("HX-Retarget"))
			}
			injected(path, r, token)
		}
	}
	token := a.cookie()
	r := a.hxPost("/account/sessions/"+bID+"/revoke", pw("wrong password"+crlf))
	if r.header.Get("HX-Retarget") != "#confirm-device-error" {
		t.Errorf("HX-Retarget = %q", r.header.Get("HX-Retarget"))
	}
	injected("refused confirmation", r, token)
	for _, tc := range []struct {
		form   url.Values
		status int
	}{
		{url.Values{"email": {"ann@example.com" + crlf}, "password": {testPassword}}, 401},
		{url.Values{"email": {"ann@example.com"}, "password": {testPassword + crlf}}, 401},
		{url.Values{"email": {"ann@example.com"}, "password": {testPassword}, "remember": {"on" + crlf}}, 303},
	} {
		r := ta.device("x", uaChromeMac, "").post("/login", tc.form)
		if r.status != tc.status {
			t.Errorf("login %q: %d, want %d", tc.form, r.status, tc.status)
		}
		injected("login", r)
	}
	// Lock sign-in, so Retry-After is set, with line breaks in every field.
	for range 10 {
		r = ta.device("x", uaChromeMac, "198.51.100.77").post("/login", url.Values{"email": {"ann@example.com"}, "password": {"guess" + crlf}})
	}
	if r.status != 429 || !regexp.MustCompile(`^[0-9]+$`).MatchString(r.header.Get("Retry-After")) {
		t.Errorf("lockout: %d Retry-After=%q", r.status, r.header.Get("Retry-After"))
	}
	injected("lockout", r)
	// A flash cookie is never echoed into a header or the page.
	a.client.Jar.SetCookies(mustURL(ta.srv.URL), []*http.Cookie{{Name: "elsewhere_notice", Value: "e1%0d%0aX-Injected:%201", Path: "/"}})
	token = a.cookie()
	r = a.get("/account/security")
	injected("flash", r, token)
	assertNoInjectedMarkup(t, "flash", r.body)
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestOversizedBodies: every body over 64 KiB gets 413, whether it says its length or
// comes chunked, on every route that takes a POST; nothing is stored.
func TestOversizedBodies(t *testing.T) {
	ta := newTestApp(t)
	a, _, _ := threeDevices(t, ta)
	before := ta.query(`SELECT COUNT(*) FROM sessions`) + "/" + ta.query(`SELECT COUNT(*) FROM events`)
	form := "password=" + url.QueryEscape(testPassword) + "&email=ann%40example.com&pad="
	big := form + strings.Repeat("a", handlers.MaxBodyBytes)
	justFits := form + strings.Repeat("a", handlers.MaxBodyBytes-len(form))
	const ct = "application/x-www-form-urlencoded"
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("email", "ann@example.com")
	mw.WriteField("password", testPassword)
	mw.WriteField("pad", strings.Repeat("a", handlers.MaxBodyBytes))
	mw.Close()

	for _, path := range []string{"/login", "/signup", "/logout", "/account/sessions/others/revoke",
		"/account/sessions/" + strings.Repeat("0", 32) + "/revoke", "/account/password", "/nope"} {
		for name, send := range map[string]func() response{
			"with length": func() response { return a.send("POST", path, strings.NewReader(big), ct) },
			"chunked":     func() response { return a.send("POST", path, chunked(big), ct) },
			"multipart":   func() response { return a.send("POST", path, chunked(mp.String()), mw.FormDataContentType()) },
			"htmx":        func() response { return a.send("POST", path, chunked(big), ct, "HX-Request", "true") },
		} {
			r := send()
			if path == "/nope" && r.status == http.StatusNotFound {
				continue // no route: nothing reads the body
			}
			if r.status != http.StatusRequestEntityTooLarge {
				t.Errorf("POST %s %s: %d, want 413", path, name, r.status)
			}
		}
	}
	assertSignedIn(t, a)
	if after := ta.query(`SELECT COUNT(*) FROM sessions`) + "/" + ta.query(`SELECT COUNT(*) FROM events`); after != before {
		t.Errorf("sessions/events went from %s to %s", before, after)
	}
	// A body of exactly 64 KiB is read.
	if len(justFits) != handlers.MaxBodyBytes {
		t.Fatalf("justFits is %d bytes", len(justFits))
	}
	for _, body := range []io.Reader{strings.NewReader(justFits), chunked(justFits)} {
		if r := ta.device("x", uaChromeMac, "").send("POST", "/login", body, ct); r.status != http.StatusSeeOther {
			t.Errorf("a 64 KiB sign-in: %d, want 303", r.status)
		}
	}
}

// TestMalformedForms get 422 with a message, never 500.
func TestMalformedForms(t *testing.T) {
	ta := newTestApp(t)
	a, b, _ := threeDevices(t, ta)
	paths := []string{"/login", "/signup", "/account/sessions/others/revoke", "/account/sessions/" + b.handle() + "/revoke", "/account/password"}
	for _, path := range paths {
		for _, tc := range []struct{ name, body, ct string }{
			{"bad percent-encoding", "email=%zz&password=%", "application/x-www-form-urlencoded"},
			{"truncated escape", "password=abc%2", "application/x-www-form-urlencoded"},
			{"bad multipart", "--zz\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nx", "multipart/form-data; boundary=zz"},
			{"multipart without boundary", "x", "multipart/form-data"},
		} {
			for _, hx := range []string{"", "true"} {
				r := a.send("POST", path, strings.NewReader(tc.body), tc.ct, "HX-Request", hx)
				if r.status != http.StatusUnprocessableEntity {
					t.Errorf("POST %s %s (htmx=%q): %d, want 422", path, tc.name, hx, r.status)
				}
				if !strings.Contains(r.body, "could not be read") {
					t.Errorf("POST %s %s: no message: %.200q", path, tc.name, r.body)
				}
			}
		}
		if r := a.send("POST", path+"?x=%zz", strings.NewReader("password=x"), "application/x-www-form-urlencoded"); r.status != 422 {
			t.Errorf("POST %s with a bad query string: %d, want 422", path, r.status)
		}
	}
	assertSignedIn(t, a)
	assertSignedIn(t, b)
}

// TestUserAgentsAreCutAndMadeValid: a user agent is kept to 512 bytes of valid UTF-8,
// exactly (512 kept, the 513th dropped), cut on a character boundary, and shown the same.
func TestUserAgentsAreCutAndMadeValid(t *testing.T) {
	ta := newTestApp(t)
	owner := ta.device("owner", uaChromeMac, "")
	owner.signup("ann@example.com", testPassword)
	for name, ua := range map[string]string{
		"long":         uaChromeMac + strings.Repeat(" x", 4000),
		"long, é":      strings.Repeat("é", 2000),
		"invalid":      "Mozilla/5.0 \xff\xfe\xc0\x80 (Windows NT 10.0) \xed\xa0\x80 Firefox/133.0",
		"cut in a run": strings.Repeat("a", 511) + "€",
	} {
		t.Run(name, func(t *testing.T) {
			d := ta.device(name, ua, "")
			d.login("ann@example.com", testPassword)
			stored := ta.query(`SELECT user_agent FROM sessions WHERE handle = ?`, d.handle())
			if len(stored) > 512 || !utf8.ValidString(stored) {
				t.Errorf("stored %d bytes, valid=%v", len(stored), utf8.ValidString(stored))
			}
			if !strings.HasPrefix(strings.ToValidUTF8(ua, "\uFFFD"), stored) {
				t.Errorf("stored %.60q is not the start of the user agent", stored)
			}
			for _, col := range []string{"browser", "os", "device_model"} {
				if v := ta.query(`SELECT `+col+` FROM sessions WHERE handle = ?`, d.handle()); !utf8.ValidString(v) {
					t.Errorf("%s is not valid UTF-8: %q", col, v)
				}
			}
			r := owner.get("/account/security")
			if !utf8.ValidString(r.body) {
				t.Error("the page is not valid UTF-8")
			}
		})
	}
	// The boundary exactly: the 512th byte is kept, the 513th dropped, and a character
	// that would cross it goes whole.
	a := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct{ name, ua, want string }{
		{"512 bytes", a(512), a(512)},
		{"513 bytes", a(512) + "b", a(512)},
		{"2-byte character ending at 512", a(510) + "é" + "b", a(510) + "é"},
		{"2-byte character across 512", a(511) + "é", a(511)},
		{"3-byte character ending at 512", a(509) + "€" + "b", a(509) + "€"},
		{"3-byte character across 512", a(510) + "€", a(510)},
		{"4-byte character across 512", a(509) + "😀", a(509)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ta.device(tc.name, tc.ua, "")
			d.login("ann@example.com", testPassword)
			if stored := ta.query(`SELECT user_agent FROM sessions WHERE handle = ?`, d.handle()); stored != tc.want {
				t.Errorf("stored %d bytes ending %q, want %d bytes ending %q",
					len(stored), stored[max(0, len(stored)-8):], len(tc.want), tc.want[len(tc.want)-8:])
			}
		})
	}
}

// TestEmailsAreBoundedAndValid: long and invalid emails are refused with a message.
func TestEmailsAreBoundedAndValid(t *testing.T) {
	ta := newTestApp(t)
	for _, tc := range []struct{ name, email, want string }{
		{"255 characters", strings.Repeat("a", 243) + "@example.com", "too long"},
		{"10,000 characters", strings.Repeat("a", 10000) + "@example.com", "too long"},
		{"invalid UTF-8", "ann\xff@example.com", "does not look like an email"},
		{"control characters", "ann\x00@example.com", "does not look like an email"},
		{"right-to-left override", "ann\u202e@example.com", "does not look like an email"},
		{"zero-width space", "ann\u200b@example.com", "does not look like an email"},
		{"markup", "<b>@example.com", "does not look like an email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ta.device("x", uaChromeMac, "").post("/signup", url.Values{"email": {tc.email}, "password": {testPassword}})
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, tc.want) {
				t.Errorf("signup: %d, want 422 %q", r.status, tc.want)
			}
			if !utf8.ValidString(r.body) {
				t.Error("the page is not valid UTF-8")
			}
			if in := byAttr(t, r.body, "name", "email"); in == nil || len(attr(in, "value")) > 300 {
				t.Error("the form gives back more than a bounded email")
			}
			if r := ta.device("x", uaChromeMac, "").post("/login", url.Values{"email": {tc.email}, "password": {testPassword}}); r.status != http.StatusUnauthorized {
				t.Errorf("login: %d, want 401", r.status)
			}
		})
	}
	if n := ta.query(`SELECT COUNT(*) FROM users`); n != "0" {
		t.Errorf("%s users stored", n)
	}
	// 254 characters is the most there is room for.
	ta.device("x", uaChromeMac, "").signup(strings.Repeat("a", 242)+"@example.com", testPassword)
}

// TestLongPasswordsAreRefusedBeforeHashing counts argon2id runs: a 10,000-character
// password is refused on every form without hashing it.
func TestLongPasswordsAreRefusedBeforeHashing(t *testing.T) {
	ta := newTestApp(t)
	a, b, _ := threeDevices(t, ta)
	long := strings.Repeat("x", 10000)
	runs := func() uint64 { return ta.app.Hasher().Runs() }
	for _, tc := range []struct {
		name   string
		send   func() response
		status int
		hashes uint64
	}{
		{"signup", func() response {
			return ta.device("x", uaChromeMac, "").post("/signup", url.Values{"email": {"new@example.com"}, "password": {long}})
		}, 422, 0},
		{"login, existing email", func() response {
			return ta.device("x", uaChromeMac, "").post("/login", url.Values{"email": {"ann@example.com"}, "password": {long}})
		}, 401, 0},
		{"login, unknown email", func() response {
			return ta.device("x", uaChromeMac, "").post("/login", url.Values{"email": {"nobody@example.com"}, "password": {long}})
		}, 401, 0},
		{"confirm a revoke", func() response { return a.hxPost("/account/sessions/"+b.handle()+"/revoke", pw(long)) }, 422, 0},
		{"confirm log out others", func() response { return a.post("/account/sessions/others/revoke", pw(long)) }, 422, 0},
		{"current password", func() response {
			return a.post("/account/password", url.Values{"current_password": {long}, "new_password": {"a new passphrase"}})
		}, 422, 0},
		// The current password is checked (one run); the new one is never hashed.
		{"new password", func() response {
			return a.post("/account/password", url.Values{"current_password": {testPassword}, "new_password": {long}})
		}, 422, 1},
	} {
		before := runs()
		if r := tc.send(); r.status != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, r.status, tc.status)
		}
		if n := runs() - before; n != tc.hashes {
			t.Errorf("%s: %d argon2id runs, want %d", tc.name, n, tc.hashes)
		}
	}
	// The counter does count: a sign-in with a normal password hashes once.
	before := runs()
	ta.device("x", uaChromeMac, "").login("ann@example.com", testPassword)
	if n := runs() - before; n != 1 {
		t.Errorf("a sign-in made %d runs, want 1", n)
	}
}

// TestReplayedAndExpiredCookies: a token that was revoked, signed out, replaced or
// expired is simply "not signed in" on every route, and brings no row back.
func TestReplayedAndExpiredCookies(t *testing.T) {
	ta := newTestApp(t)
	a, b, c := threeDevices(t, ta)
	bob := ta.otherUser()
	revoked, loggedOut := b.cookie(), c.cookie()
	if r := a.hxPost("/account/sessions/"+b.handle()+"/revoke", pw(testPassword)); r.status != 200 {
		t.Fatalf("revoke: %d", r.status)
	}
	if r := c.post("/logout", nil); r.status != 303 {
		t.Fatalf("logout: %d", r.status)
	}
	replaced := bob.cookie()
	bob.login("bob@example.com", testPassword)
	idle := ta.device("idle", uaFirefoxWindow, "")
	idle.login("ann@example.com", testPassword)
	expired := idle.cookie()
	for _, step := range []time.Duration{time.Hour, time.Hour + time.Minute} {
		ta.clock.Advance(step)
		a.page()
		bob.page()
	}
	count := ta.query(`SELECT COUNT(*) FROM sessions`)

	for name, token := range map[string]string{
		"revoked": revoked, "signed out": loggedOut, "replaced": replaced, "expired": expired,
		"never issued": strings.Repeat("Q", 43), "the public handle": a.handle(),
		"quoted": `"` + revoked + `"`, "doubled": revoked + revoked, "with padding": revoked + "=",
	} {
		t.Run(name, func(t *testing.T) {
			d := ta.device(name, uaChromeMac, "")
			for _, req := range []struct {
				method, path string
				form         url.Values
				hx           bool
			}{
				{"GET", "/account/security", nil, false},
				{"GET", "/account/security", nil, true},
				{"POST", "/account/sessions/others/revoke", pw(testPassword), false},
				{"POST", "/account/sessions/others/revoke", pw(testPassword), true},
				{"POST", "/account/password", url.Values{"current_password": {testPassword}, "new_password": {"x new passphrase"}}, false},
				{"GET", "/", nil, false},
				{"POST", "/logout", nil, false},
			} {
				d.setCookie(token)
				r := d.do(req.method, req.path, req.form, req.hx)
				want := []int{http.StatusSeeOther}
				if req.hx && strings.HasPrefix(req.path, "/account/") {
					want = []int{http.StatusUnauthorized}
				}
				if r.status != want[0] || (r.location() != "/login" && r.header.Get("HX-Redirect") != "/login") {
					t.Errorf("%s %s (htmx=%v): %d %q, want %d to /login", req.method, req.path, req.hx, r.status, r.location(), want[0])
				}
			}
		})
	}
	if got := ta.query(`SELECT COUNT(*) FROM sessions`); got != count {
		t.Errorf("sessions went from %s to %s", count, got)
	}
	rows, _ := a.page()
	if len(rows) != 1 {
		t.Errorf("A lists %d devices, want 1 (itself)", len(rows))
	}
	if rows, _ := bob.page(); len(rows) != 1 {
		t.Errorf("bob lists %d devices, want 1", len(rows))
	}
}

// TestForwardedForIsBelievedOnlyFromTrustedProxies: with no trusted proxies every
// request is from its peer, whatever it claims; behind a trusted proxy the right-most
// address the proxy did not add is used, and what the client wrote to its left is not.
func TestForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	t.Run("no trusted proxies", func(t *testing.T) {
		ta := newTestAppBehind(t, nil)
		d := ta.device("A", uaChromeMac, "1.1.1.1, 2.2.2.2")
		r := d.do("POST", "/signup", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}, false,
			"X-Real-IP", "3.3.3.3", "Forwarded", "for=4.4.4.4")
		if r.status != http.StatusSeeOther {
			t.Fatalf("signup: %d", r.status)
		}
		ta.clock.Advance(2 * time.Minute) // the next request records its address again
		d.ip = "5.5.5.5"
		rows, body := d.page()
		if rows[0].ip != "127.0.0.1" {
			t.Errorf("row shows %q, want the peer 127.0.0.1", rows[0].ip)
		}
		if log := findByID(t, body, "security-log"); log == nil || !strings.Contains(textOf(log), "127.0.0.1") ||
			regexp.MustCompile(`[1-5]\.[1-5]\.[1-5]\.[1-5]`).MatchString(textOf(log)) {
			t.Errorf("security log shows a forged address: %q", textOf(log))
		}
		// Nor does rotating the header get around the sign-in limit.
		for i := range 10 {
			ta.device("x", uaChromeMac, fmt.Sprintf("198.51.100.%d", i)).post("/login",
				url.Values{"email": {fmt.Sprintf("u%d@example.com", i)}, "password": {"guess"}})
		}
		r = ta.device("x", uaChromeMac, "192.0.2.200").post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}})
		if r.status != http.StatusTooManyRequests {
			t.Errorf("after 10 failures with forged addresses: %d, want 429", r.status)
		}
	})
	t.Run("behind a trusted proxy", func(t *testing.T) {
		ta := newTestApp(t) // trusts 127.0.0.1
		owner := ta.device("owner", uaChromeMac, "")
		owner.signup("ann@example.com", testPassword)
		for _, tc := range []struct{ xff, want string }{
			{"1.1.1.1, 2.2.2.2", "2.2.2.2"},
			{"6.6.6.6, 1.1.1.1, 127.0.0.1", "1.1.1.1"},
			{"2001:db8::1", "2001:db8::1"},
			{xssScript, "127.0.0.1"},
			{"", "127.0.0.1"},
		} {
			d := ta.device(tc.xff, uaFirefoxWindow, tc.xff)
			d.login("ann@example.com", testPassword)
			rows, _ := d.page()
			if rows[0].ip != tc.want {
				t.Errorf("X-Forwarded-For %q: row shows %q, want %q", tc.xff, rows[0].ip, tc.want)
			}
		}
	})
}

// TestSecurityHeadersOnEveryResponse checks the headers on pages, fragments, redirects
// and errors, signed in and out, over http and (as configured) https.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	for _, base := range []string{"http://127.0.0.1", "https://elsewhere.example"} {
		t.Run(base, func(t *testing.T) {
			https := strings.HasPrefix(base, "https")
			ta := newTestApp(t, func(c *handlers.Config) { c.BaseURL = base })
			newDevice := func(name, ua string) *device {
				d := ta.device(name, ua, "")
				if https {
					d.client.Jar = httpsJar{d.client.Jar}
				}
				return d
			}
			a := newDevice("A", uaChromeMac)
			r := a.do("POST", "/signup", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}, false)
			if r.status != http.StatusSeeOther {
				t.Fatalf("signup: %d", r.status)
			}
			prefix := map[bool]string{true: "__Host-", false: ""}[https]
			cookies := map[string]*http.Cookie{}
			for _, ck := range (&http.Response{Header: r.header}).Cookies() {
				cookies[ck.Name] = ck
			}
			for _, name := range []string{prefix + "elsewhere_session", prefix + "elsewhere_device"} {
				if ck := cookies[name]; ck == nil || ck.Secure != https || !ck.HttpOnly || ck.Path != "/" || ck.SameSite != http.SameSiteLaxMode {
					t.Errorf("cookie %s = %v, want HttpOnly, Path=/, SameSite=Lax, Secure=%v (cookies: %v)", name, ck, https, cookies)
				}
			}
			b := newDevice("B", uaSafariIPhone)
			b.do("POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}, false)
			bID := ""
			for _, rw := range parseRows(t, a.get("/account/security").body) {
				if !rw.current {
					bID = rw.sessionID
				}
			}
			responses := map[string]response{
				"GET /login (signed out)":  ta.device("x", uaChromeMac, "").get("/login"),
				"GET /signup":              ta.device("x", uaChromeMac, "").get("/signup"),
				"POST /login 401":          ta.device("x", uaChromeMac, "").post("/login", pw("nope")),
				"GET / signed in":          a.get("/"),
				"GET /login signed in":     a.get("/login"),
				"GET /account/security":    a.get("/account/security"),
				"live refresh":             a.do("GET", "/account/security", nil, true),
				"refused confirmation":     a.hxPost("/account/sessions/"+bID+"/revoke", pw("wrong password")),
				"404 revoke":               a.post("/account/sessions/"+strings.Repeat("0", 32)+"/revoke", pw(testPassword)),
				"revoke fragment":          a.hxPost("/account/sessions/"+bID+"/revoke", pw(testPassword)),
				"log out others, redirect": a.post("/account/sessions/others/revoke", nil),
				"password, 422":            a.post("/account/password", nil),
				"413":                      a.send("POST", "/login", chunked(strings.Repeat("a", 70000)), "application/x-www-form-urlencoded"),
				"422 malformed":            a.send("POST", "/login", strings.NewReader("%"), "application/x-www-form-urlencoded"),
				"403 cross-origin":         a.do("POST", "/login", nil, false, "Sec-Fetch-Site", "cross-site"),
				"404":                      a.get("/nope"),
				"405":                      a.do("PUT", "/login", nil, false),
				"healthz":                  a.get("/healthz"),
				"signed-out redirect":      ta.device("x", uaChromeMac, "").get("/account/security"),
				"signed-out htmx":          ta.device("x", uaChromeMac, "").do("GET", "/account/security", nil, true),
			}
			for name, r := range responses {
				csp := r.header.Get("Content-Security-Policy")
				for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
					if !strings.Contains(csp, want) {
						t.Errorf("%s (%d): CSP %q lacks %q", name, r.status, csp, want)
					}
				}
				if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
					t.Errorf("%s: CSP allows unsafe-*: %q", name, csp)
				}
				if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Referrer-Policy") == "" {
					t.Errorf("%s: nosniff=%q Referrer-Policy=%q", name, r.header.Get("X-Content-Type-Options"), r.header.Get("Referrer-Policy"))
				}
				if cc := r.header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("%s (%d): Cache-Control %q, want no-store", name, r.status, cc)
				}
				if hsts := r.header.Get("Strict-Transport-Security"); (hsts != "") != https || https && !strings.Contains(hsts, "max-age=") {
					t.Errorf("%s: HSTS %q with base %s", name, hsts, base)
				}
			}
			// Versioned static assets may be cached, and still carry the other headers.
			_, page := a.page()
			var js *html.Node
			for n := range mustParse(t, page).Descendants() {
				if n.Type == html.ElementNode && n.Data == "script" {
					js = n
				}
			}
			if js == nil {
				t.Fatal("no script on the page")
			}
			r = a.get(attr(js, "src"))
			if r.status != 200 || !strings.Contains(r.header.Get("Cache-Control"), "immutable") || r.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("static %s: %d Cache-Control=%q", attr(js, "src"), r.status, r.header.Get("Cache-Control"))
			}
		})
	}
}

func mustParse(t testing.TB, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// httpsJar keeps cookies as if the server were https, so a test over plain http can
// carry a Secure (and __Host-) session cookie.
type httpsJar struct{ http.CookieJar }

func (j httpsJar) up(u *url.URL) *url.URL {
	v := *u
	v.Scheme = "https"
	return &v
}
func (j httpsJar) SetCookies(u *url.URL, cs []*http.Cookie) { j.CookieJar.SetCookies(j.up(u), cs) }
func (j httpsJar) Cookies(u *url.URL) []*http.Cookie        { return j.CookieJar.Cookies(j.up(u)) }
