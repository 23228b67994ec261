package handlers_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/elsewhere-dev/elsewhere/models/mailer/mailtest"
)

// User agents and client hints as current browsers send them (late 2025).
const (
	uaSafariMac26     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Safari/605.1.15"
	uaSafariIPhone26  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1"
	uaChromeAndroid   = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36"
	uaSamsungInternet = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/29.0 Chrome/136.0.0.0 Mobile Safari/537.36"
	uaChromeMac143    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"
	uaEdgeWindows     = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0"
	uaChromebook      = "Mozilla/5.0 (X11; CrOS x86_64 16433.47.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"
	uaFirefoxLinux    = "Mozilla/5.0 (X11; Linux x86_64; rv:146.0) Gecko/20100101 Firefox/146.0"
	// The thief's browser of issue 18, finding 8.
	uaThiefsWords = "Mozilla/5.0 (Windows NT 10.0) Call-1-800-555-0199-to-cancel/1"
)

// loginWith signs d in as ann, posting extra form fields (the hidden fields the page
// script adds) and headers (client hints) as that browser does.
func (d *device) loginWith(extra url.Values, hdr ...string) {
	d.t.Helper()
	form := url.Values{"email": {"ann@example.com"}, "password": {testPassword}}
	for k, v := range extra {
		form[k] = v
	}
	if r := d.do("POST", "/login", form, false, hdr...); r.status != http.StatusSeeOther {
		d.t.Fatalf("%s: login: %d\n%s", d.name, r.status, r.body)
	}
}

// rowOf is the row with that handle on the page d sees.
func (d *device) rowOf(handle string) row {
	d.t.Helper()
	rows, _ := d.page()
	for _, r := range rows {
		if r.sessionID == handle {
			return r
		}
	}
	d.t.Fatalf("%s: no row %s", d.name, handle)
	return row{}
}

// TestDevicesNamedAsPeopleKnowThem signs one account in from eight browsers as they
// really present themselves, through the sign-in form, and reads the owner's page: each
// row names the device first and the browser second, with the system in its details.
func TestDevicesNamedAsPeopleKnowThem(t *testing.T) {
	ta := newTestApp(t)
	owner := ta.device("owner", uaFirefoxWindow, "")
	owner.signup("ann@example.com", testPassword)
	chrome143 := `"Google Chrome";v="143", "Chromium";v="143", "Not A(Brand";v="24"`
	for _, tc := range []struct {
		name, ua string
		form     url.Values
		hints    []string
		label    string
		details  string
		icon     string
	}{
		{"iPhone", uaSafariIPhone26, url.Values{"tz": {"Europe/Berlin"}, "touch": {"5"}}, nil,
			"iPhone · Safari 26", "iOS 26", "device-phone"},
		{"iPad: the Mac's user agent, but touch points", uaSafariMac26, url.Values{"tz": {"Europe/Berlin"}, "touch": {"5"}}, nil,
			"iPad · Safari 26", "iPadOS", "device-tablet"},
		{"Pixel: the model from the hints", uaChromeAndroid, nil, []string{"Sec-CH-UA", chrome143, "Sec-CH-UA-Mobile", "?1",
			"Sec-CH-UA-Platform", `"Android"`, "Sec-CH-UA-Platform-Version", `"16.0.0"`, "Sec-CH-UA-Model", `"Pixel 8"`,
			"Sec-CH-UA-Full-Version-List", `"Google Chrome";v="143.0.7499.40", "Chromium";v="143.0.7499.40", "Not A(Brand";v="24.0.0.0"`},
			"Pixel 8 · Chrome 143", "Android 16", "device-phone"},
		{"Samsung", uaSamsungInternet, nil, []string{"Sec-CH-UA", `"Samsung Internet";v="29.0", "Chromium";v="136", "Not.A/Brand";v="99"`,
			"Sec-CH-UA-Mobile", "?1", "Sec-CH-UA-Platform", `"Android"`, "Sec-CH-UA-Platform-Version", `"15.0.0"`, "Sec-CH-UA-Model", `"SM-S928B"`},
			"Galaxy S24 Ultra · Samsung Internet 29", "Android 15", "device-phone"},
		{"Mac", uaChromeMac143, nil, []string{"Sec-CH-UA", chrome143, "Sec-CH-UA-Mobile", "?0", "Sec-CH-UA-Platform", `"macOS"`,
			"Sec-CH-UA-Platform-Version", `"26.1.0"`}, "Mac · Chrome 143", "macOS 26", "device-desktop"},
		{"Windows", uaEdgeWindows, nil, []string{"Sec-CH-UA", `"Microsoft Edge";v="143", "Chromium";v="143", "Not A(Brand";v="24"`,
			"Sec-CH-UA-Mobile", "?0", "Sec-CH-UA-Platform", `"Windows"`, "Sec-CH-UA-Platform-Version", `"19.0.0"`},
			"Windows PC · Edge 143", "Windows 11", "device-desktop"},
		{"Chromebook", uaChromebook, nil, []string{"Sec-CH-UA", chrome143, "Sec-CH-UA-Platform", `"Chrome OS"`},
			"Chromebook", "ChromeOS", "device-desktop"},
		{"Linux", uaFirefoxLinux, url.Values{"tz": {"Europe/Berlin"}, "touch": {"0"}}, nil,
			"Linux PC · Firefox 146", "Linux", "device-desktop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ta.device(tc.name, tc.ua, "")
			d.loginWith(tc.form, tc.hints...)
			r := owner.rowOf(d.handle())
			if r.label != tc.label || !strings.Contains(r.text, tc.details) {
				t.Errorf("row = %q (%q), want %q with %q in its details", r.label, r.text, tc.label, tc.details)
			}
			_, body := owner.page()
			if row := findByID(t, body, "session-"+d.handle()); row == nil || byAttrIn(row, "class", "device-icon "+tc.icon) == nil {
				t.Errorf("row %q has no %s icon", tc.label, tc.icon)
			}
		})
	}
}

// TestSignInPagesAskForHints: the sign-in and sign-up pages ask Chromium for the hints
// that name a device, and insist on them (Critical-CH) so the first sign-in has them;
// their forms carry the hook the page script adds the time zone and touch points to.
func TestSignInPagesAskForHints(t *testing.T) {
	ta := newTestApp(t)
	d := ta.device("d", uaChromeAndroid, "")
	for _, path := range []string{"/login", "/signup"} {
		r := d.get(path)
		accept, critical := r.header.Get("Accept-CH"), r.header.Get("Critical-CH")
		for _, h := range []string{"Sec-CH-UA-Model", "Sec-CH-UA-Platform-Version", "Sec-CH-UA-Full-Version-List"} {
			if !strings.Contains(accept, h) || !strings.Contains(critical, h) {
				t.Errorf("%s: Accept-CH %q, Critical-CH %q; want both to name %s", path, accept, critical, h)
			}
		}
		if form := byAttr(t, r.body, "method", "post"); form == nil || !hasAttr(form, "data-device-hints") {
			t.Errorf("%s: the form lacks data-device-hints", path)
		}
	}
}

// TestHiddenFieldsAcceptOnlyKnownValues: the time zone and touch points come from a form
// anyone can post; only a zone the time package knows and a count a device can have are
// kept, and nothing else changes the label.
func TestHiddenFieldsAcceptOnlyKnownValues(t *testing.T) {
	ta := newTestApp(t)
	ta.device("owner", uaFirefoxWindow, "").signup("ann@example.com", testPassword)
	for _, tc := range []struct {
		tz, touch, wantTZ, wantLabel string
	}{
		{"Europe/Berlin", "5", "Europe/Berlin", "iPad · Safari 26"},
		{"../../../../etc/passwd", "5", "", "iPad · Safari 26"},
		{"Mars/Olympus_Mons", "0", "", "Mac · Safari 26"},
		{"Local", "1", "", "Mac · Safari 26"},
		{"<script>alert(1)</script>", "999", "", "Mac · Safari 26"},
		{"Europe/Berlin\r\nX: y", "-5", "", "Mac · Safari 26"},
		{"UTC", "five", "UTC", "Mac · Safari 26"},
	} {
		d := ta.device("d", uaSafariMac26, "")
		d.loginWith(url.Values{"tz": {tc.tz}, "touch": {tc.touch}})
		hints := ta.query(`SELECT client_hints FROM sessions WHERE handle = ?`, d.handle())
		if got := d.rowOf(d.handle()).label; got != tc.wantLabel {
			t.Errorf("tz %q, touch %q: label %q, want %q", tc.tz, tc.touch, got, tc.wantLabel)
		}
		if tc.wantTZ == "" && strings.Contains(hints, `"tz"`) || tc.wantTZ != "" && !strings.Contains(hints, `"tz":"`+tc.wantTZ+`"`) {
			t.Errorf("tz %q: stored hints %q", tc.tz, hints)
		}
		if strings.Contains(hints, "999") || strings.Contains(hints, "-5") {
			t.Errorf("touch %q stored: %q", tc.touch, hints)
		}
	}
}

// TestRenameKeptAcrossSignIns: a name given from the row belongs to that browser: it is
// there after the browser signs out and in again, with or without JavaScript, and a
// different browser with the very same user agent does not get it.
func TestRenameKeptAcrossSignIns(t *testing.T) {
	ta := newTestApp(t)
	laptop := ta.device("laptop", uaChromeMac143, "")
	laptop.signup("ann@example.com", testPassword)
	ipad := ta.device("ipad", uaSafariMac26, "")
	ipad.loginWith(url.Values{"touch": {"5"}})
	id := ipad.handle()

	// With JavaScript: the row comes back named, the log says so.
	r := laptop.hxPost("/account/sessions/"+id+"/name", url.Values{"name": {"  Anna’s   iPad "}})
	if r.status != http.StatusOK {
		t.Fatalf("rename: %d\n%s", r.status, r.body)
	}
	if row := findByID(t, r.body, "session-"+id); row == nil || !strings.Contains(textOf(row), "Anna’s iPad") ||
		!strings.Contains(textOf(row), "iPad · Safari 26") {
		t.Errorf("the fragment's row is not named: %q", textOf(row))
	}
	if n := findByID(t, r.body, "notice"); n == nil || !strings.Contains(textOf(n), "Anna’s iPad") {
		t.Error("no notice of the name")
	}
	if got := laptop.rowOf(id).label; got != "Anna’s iPad" {
		t.Fatalf("row label %q, want the name", got)
	}
	_, body := laptop.page()
	if log := findByID(t, body, "security-log"); log == nil || !strings.Contains(textOf(log), "A device was named “Anna’s iPad”, from Mac · Chrome 143") {
		t.Errorf("the log does not record the name and who gave it: %q", textOf(log))
	}

	// The iPad signs out and in again: the same browser, so the same name.
	if r := ipad.post("/logout", nil); r.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.status)
	}
	ipad.loginWith(url.Values{"touch": {"5"}})
	if got := laptop.rowOf(ipad.handle()).label; got != "Anna’s iPad" {
		t.Errorf("after signing in again the iPad reads %q, want its name", got)
	}
	// Another browser with the same user agent is another device.
	other := ta.device("other iPad", uaSafariMac26, "")
	other.loginWith(url.Values{"touch": {"5"}})
	if got := laptop.rowOf(other.handle()).label; got != "iPad · Safari 26" {
		t.Errorf("another browser reads %q, want the parsed label", got)
	}

	// Without JavaScript: the page of its own, the form post, 303, the notice once.
	page := laptop.get("/account/sessions/" + other.handle() + "/name")
	if page.status != http.StatusOK || byAttr(t, page.body, "name", "name") == nil {
		t.Fatalf("rename page: %d", page.status)
	}
	r = laptop.post("/account/sessions/"+other.handle()+"/name", url.Values{"name": {"Work iPad"}})
	if r.status != http.StatusSeeOther || r.location() != "/account/security" {
		t.Fatalf("plain rename: %d %s", r.status, r.location())
	}
	if got := laptop.rowOf(other.handle()).label; got != "Work iPad" {
		t.Errorf("after the plain post the row reads %q", got)
	}
	// An empty name goes back to the parsed label; this device can be named too.
	laptop.post("/account/sessions/"+other.handle()+"/name", url.Values{"name": {""}})
	if got := laptop.rowOf(other.handle()).label; got != "iPad · Safari 26" {
		t.Errorf("after clearing the name the row reads %q", got)
	}
	if r := laptop.post("/account/sessions/"+laptop.handle()+"/name", url.Values{"name": {"My Mac"}}); r.status != http.StatusSeeOther {
		t.Errorf("naming this device: %d", r.status)
	}
}

// TestRenameRefusedForAnotherUsersDevice: a handle that is not one of the user's live
// sessions is 404 on the page and the action alike, and changes nothing.
func TestRenameRefusedForAnotherUsersDevice(t *testing.T) {
	ta := newTestApp(t)
	ann := ta.device("ann", uaChromeMac143, "")
	ann.signup("ann@example.com", testPassword)
	annID := ann.handle()
	bob := ta.otherUser()
	for _, r := range []response{
		bob.get("/account/sessions/" + annID + "/name"),
		bob.post("/account/sessions/"+annID+"/name", url.Values{"name": {"Pwned"}}),
		bob.hxPost("/account/sessions/"+annID+"/name", url.Values{"name": {"Pwned"}}),
		bob.post("/account/sessions/"+strings.Repeat("0", 32)+"/name", url.Values{"name": {"Pwned"}}),
	} {
		if r.status != http.StatusNotFound {
			t.Errorf("status %d, want 404", r.status)
		}
	}
	if n := ta.query(`SELECT COUNT(*) FROM known_devices WHERE name <> ''`); n != "0" {
		t.Errorf("%s devices named", n)
	}
	if got := ann.rowOf(annID).label; got != "Mac · Chrome 143" {
		t.Errorf("ann's row reads %q", got)
	}
}

// TestRenameLimitsAndEscapes: a name is at most 40 characters of plain text, is shown as
// the text it is, and never comes from a request header.
func TestRenameLimitsAndEscapes(t *testing.T) {
	ta := newTestApp(t)
	ann := ta.device("ann", uaChromeMac143, "")
	ann.signup("ann@example.com", testPassword)
	id := ann.handle()
	for _, bad := range []string{strings.Repeat("x", 41), "Anna\u202eDAPi", "tab\x00null", "\xff\xfe"} {
		if r := ann.hxPost("/account/sessions/"+id+"/name", url.Values{"name": {bad}}); r.status != http.StatusUnprocessableEntity ||
			r.header.Get("HX-Retarget") != "#name-device-error" {
			t.Errorf("name %q: %d %q, want 422 into the dialog", bad, r.status, r.header.Get("HX-Retarget"))
		}
		if r := ann.post("/account/sessions/"+id+"/name", url.Values{"name": {bad}}); r.status != http.StatusUnprocessableEntity {
			t.Errorf("name %q without JavaScript: %d, want 422", bad, r.status)
		}
	}
	if r := ann.post("/account/sessions/"+id+"/name", url.Values{"name": {strings.Repeat("é", 40)}}); r.status != http.StatusSeeOther {
		t.Errorf("40 characters: %d", r.status)
	}
	markup := `<img src=x onerror=alert(1)> & "Anna's"`
	ann.post("/account/sessions/"+id+"/name", url.Values{"name": {markup}})
	rows, body := ann.page()
	assertNoInjectedMarkup(t, "named row", body)
	if rows[0].label != markup {
		t.Errorf("the name reads %q, want the text as typed", rows[0].label)
	}
	// A browser cannot name itself through what it sends.
	d := ta.device("d", uaChromeAndroid, "")
	d.loginWith(nil, "Sec-CH-UA-Model", `"Anna's iPad"`, "X-Device-Name", "Anna's iPad", "Sec-CH-UA-Platform", `"Android"`)
	if got := ann.rowOf(d.handle()).label; got != "Android phone · Chrome 143" {
		t.Errorf("a sign-in with made-up headers reads %q", got)
	}
}

// TestMailAndLogInTheOwnersTime: the alert tells its times in the zone the owner's
// browser reported, in the order things happened, each naming the device that acted;
// a thief's new browser reporting another zone does not move the owner's clock.
func TestMailAndLogInTheOwnersTime(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	laptop := ta.device("laptop", uaChromeMac143, "203.0.113.1")
	if r := laptop.post("/signup", url.Values{"email": {"ann@example.com"}, "password": {testPassword},
		"tz": {"Europe/Berlin"}}); r.status != http.StatusSeeOther {
		t.Fatalf("signup: %d", r.status)
	}
	// The thief signs in from a new browser saying New York, and changes the password
	// in the same second: the mail lists the sign-in first.
	thief := ta.device("thief", uaEdgeWindows, "198.51.100.66")
	thief.loginWith(url.Values{"tz": {"America/New_York"}})
	if r := thief.post("/account/password", url.Values{"current_password": {testPassword}, "new_password": {"a brand new secret 42"},
		"logout_others": {"on"}}); r.status != http.StatusSeeOther {
		t.Fatalf("password change: %d", r.status)
	}
	if tz := ta.query(`SELECT time_zone FROM users`); tz != "Europe/Berlin" {
		t.Errorf("the account's zone is %q after the thief's sign-in", tz)
	}
	ta.releaseAlerts()
	m := ta.nextMail(sink)
	// The clock starts at 26 Nov 2026, 12:00 UTC: 13:00 in Berlin.
	signIn := strings.Index(m.Text, "A new device signed in: Windows PC · Edge 143")
	changed := strings.Index(m.Text, "Password changed; 1 other device signed out, from Windows PC · Edge 143")
	if signIn < 0 || changed < 0 || signIn > changed {
		t.Errorf("the alert does not list the sign-in, then the password change naming the device:\n%s", m.Text)
	}
	if !strings.Contains(m.Text, "26 Nov 2026, 13:00 CET") || strings.Contains(m.Text, "UTC") || strings.Contains(m.Text, "EST") {
		t.Errorf("the alert's times are not in Berlin time:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, "26 Nov 2026, 13:00 CET") {
		t.Errorf("the HTML alert's times are not in Berlin time:\n%s", m.HTML)
	}

	// The page's log (before the page script rewrites it) is in the reader's zone: the
	// thief's page in New York time, a page of a browser that reported none in the
	// account's.
	_, body := thief.page()
	if log := findByID(t, body, "security-log"); log == nil || !strings.Contains(textOf(log), "26 Nov 2026, 07:00 EST") {
		t.Errorf("the thief's log is not in New York time: %q", textOf(log))
	}
	other := ta.device("other", uaFirefoxLinux, "")
	if r := other.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"a brand new secret 42"},
		"tz": {"Mars/Olympus"}}); r.status != http.StatusSeeOther {
		t.Fatalf("login: %d", r.status)
	}
	_, body = other.page()
	if log := findByID(t, body, "security-log"); log == nil || !strings.Contains(textOf(log), "26 Nov 2026, 13:00 CET") {
		t.Errorf("a page without a zone of its own is not in the account's: %q", textOf(log))
	}
}

// TestThiefsWordsReachNoPageNorMail (issue 18, finding 8): a user agent that spells a
// message puts none of its words in the owner's device list, log or alert mail.
func TestThiefsWordsReachNoPageNorMail(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	laptop := ta.device("laptop", uaChromeMac143, "203.0.113.1")
	laptop.signup("ann@example.com", testPassword)
	thief := ta.device("thief", uaThiefsWords, "198.51.100.66")
	thief.login("ann@example.com", testPassword)
	ta.releaseAlerts()
	m := ta.nextMail(sink)
	rows, page := laptop.page()
	fragment := laptop.do("GET", "/account/security", nil, true).body
	for where, text := range map[string]string{"page": page, "live refresh": fragment, "mail text": m.Text, "mail HTML": m.HTML} {
		for _, word := range []string{"Call", "1-800", "555", "0199", "cancel"} {
			if strings.Contains(text, word) {
				t.Errorf("the %s carries the thief's %q", where, word)
			}
		}
	}
	if got := laptop.rowOf(thief.handle()).label; got != "Windows PC · Unknown browser" || len(rows) != 2 {
		t.Errorf("the thief's row reads %q", got)
	}
	if !strings.Contains(m.Text, "A new device signed in: Windows PC · Unknown browser") {
		t.Errorf("the alert:\n%s", m.Text)
	}
}

// byAttrIn returns the first element under n (n included) whose attribute key is val.
func byAttrIn(n *html.Node, key, val string) *html.Node {
	for e := range n.Descendants() {
		if e.Type == html.ElementNode && attr(e, key) == val {
			return e
		}
	}
	return nil
}

// hasAttr reports whether n carries the attribute key, whatever its value.
func hasAttr(n *html.Node, key string) bool {
	return slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == key })
}

// TestNamedDeviceOnItsConfirmationPages: without JavaScript, "Sign out" and "Lost or
// stolen?" lead to pages titled with the name the owner gave, as the dialogs are.
func TestNamedDeviceOnItsConfirmationPages(t *testing.T) {
	ta := newTestApp(t)
	laptop := ta.device("laptop", uaChromeMac143, "")
	laptop.signup("ann@example.com", testPassword)
	ipad := ta.device("ipad", uaSafariMac26, "")
	ipad.loginWith(url.Values{"touch": {"5"}})
	id := ipad.handle()
	laptop.post("/account/sessions/"+id+"/name", url.Values{"name": {"Anna’s iPad"}})
	for path, want := range map[string]string{"/revoke": "Sign out Anna’s iPad?", "/lost": "Lost or stolen: Anna’s iPad"} {
		r := laptop.get("/account/sessions/" + id + path)
		if h := findByID(t, r.body, "main"); r.status != http.StatusOK || h == nil || !strings.Contains(textOf(h), want) {
			t.Errorf("%s: %d, want a page titled %q", path, r.status, want)
		}
	}
}
