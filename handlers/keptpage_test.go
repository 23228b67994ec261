package handlers_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/klauspost/compress/zstd"

	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/views"
)

// view is one GET of the Security page (hx: the list's refresh, as the page script asks
// for it) with extra header pairs.
func (d *device) view(hx bool, hdr ...string) response {
	d.t.Helper()
	if hx {
		hdr = append(hdr, "Elsewhere-Refresh", "auto")
	}
	return d.do("GET", "/account/security", nil, hx, hdr...)
}

// viewOK is view, failing the test unless the answer is 200 with an ETag.
func (d *device) viewOK(hx bool, hdr ...string) response {
	d.t.Helper()
	r := d.view(hx, hdr...)
	if r.status != http.StatusOK || r.header.Get("ETag") == "" {
		d.t.Fatalf("%s: the Security page: %d, ETag %q, want 200 with an ETag\n%s", d.name, r.status, r.header.Get("ETag"), r.location())
	}
	return r
}

// TestEveryChangeShowsOnTheNextView: the page is kept between views, and whatever was
// changed between two views (by this device, another one, another server, the database
// itself or the clock) is on the second, with a new ETag; the first view's ETag then gets
// the new page, not 304. Each change is seen by the page and by the list's refresh.
func TestEveryChangeShowsOnTheNextView(t *testing.T) {
	for _, tc := range []struct {
		name string
		// change changes something between the views; it returns what the second view
		// must show (in the page, and in the list's refresh unless pageOnly).
		change   func(t *testing.T, ta *testApp, laptop, phone *device, phoneID string) (want string, pageOnly bool)
		gone     string // what the second view must no longer show
		goneList bool   // gone is looked for in the list's refresh too
	}{
		{name: "a sign-in", change: func(t *testing.T, ta *testApp, _, _ *device, _ string) (string, bool) {
			ta.device("tablet", uaFirefoxWindow, "192.0.2.44").login("ann@example.com", testPassword)
			return "192.0.2.44", false
		}},
		{name: "a revocation", change: func(t *testing.T, _ *testApp, laptop, _ *device, phoneID string) (string, bool) {
			if r := laptop.hxPost("/account/sessions/"+phoneID+"/revoke", pw(testPassword)); r.status != http.StatusOK {
				t.Fatalf("revoke: %d", r.status)
			}
			return "1 device", false
		}, gone: `<span class="ip">198.51.100.20</span>`, goneList: true},
		{name: "a rename", change: func(t *testing.T, _ *testApp, laptop, _ *device, phoneID string) (string, bool) {
			if r := laptop.post("/account/sessions/"+phoneID+"/name", url.Values{"name": {"Anna's phone"}}); r.status != http.StatusSeeOther {
				t.Fatalf("rename: %d", r.status)
			}
			return "Anna&#39;s phone", false
		}},
		{name: "a minute passing", change: func(t *testing.T, ta *testApp, _, _ *device, _ string) (string, bool) {
			ta.clock.Advance(3 * time.Minute)
			return "Last active 3 minutes ago", false
		}, gone: "Last active just now"},
		{name: "one more minute", change: func(t *testing.T, ta *testApp, laptop, _ *device, _ string) (string, bool) {
			ta.clock.Advance(3 * time.Minute)
			laptop.viewOK(false) // records the laptop's activity
			laptop.viewOK(true)  // drawn with "3 minutes ago"
			ta.clock.Advance(time.Minute)
			return "Last active 4 minutes ago", false
		}, gone: "3 minutes ago", goneList: true},
		{name: "a password change", change: func(t *testing.T, _ *testApp, _, phone *device, _ string) (string, bool) {
			r := phone.hxPost("/account/password", url.Values{"current_password": {testPassword},
				"new_password": {"a brand new passphrase"}})
			if r.status != http.StatusOK {
				t.Fatalf("password change: %d", r.status)
			}
			return `data-event="` + string(models.EventPasswordChanged) + `"`, false
		}},
		{name: "a flash", change: func(t *testing.T, _ *testApp, laptop, _ *device, phoneID string) (string, bool) {
			// A plain form post: 303 to the page, which says once what happened.
			if r := laptop.post("/account/sessions/"+phoneID+"/revoke", pw(testPassword)); r.status != http.StatusSeeOther {
				t.Fatalf("revoke: %d", r.status)
			}
			return `<p class="notice notice-success">`, true
		}},
		{name: "a flash with nothing committed", change: func(t *testing.T, ta *testApp, laptop, _ *device, _ string) (string, bool) {
			// The notice of an event already on the page: only the cookie is new.
			if r := laptop.post("/account/sessions/"+laptop.handle()+"/name", url.Values{"name": {"Work laptop"}}); r.status != http.StatusSeeOther {
				t.Fatalf("rename: %d", r.status)
			}
			flash := laptop.jarCookie("elsewhere_notice")
			if r := laptop.viewOK(false); !strings.Contains(r.body, `<p class="notice notice-success">`) {
				t.Fatal("no notice after the rename")
			}
			if r := laptop.viewOK(false); strings.Contains(r.body, `<p class="notice notice-success">`) {
				t.Fatal("the notice shows twice")
			}
			laptop.setJarCookie("elsewhere_notice", flash)
			return `<p class="notice notice-success">`, true
		}},
		{name: "the confirmation window closing", change: func(t *testing.T, ta *testApp, laptop, _ *device, _ string) (string, bool) {
			tablet := ta.device("tablet", uaFirefoxWindow, "192.0.2.47")
			tablet.login("ann@example.com", testPassword)
			if r := laptop.hxPost("/account/sessions/"+tablet.handle()+"/revoke", pw(testPassword)); r.status != http.StatusOK {
				t.Fatalf("revoke: %d", r.status)
			}
			if r := laptop.viewOK(false); !strings.Contains(r.body, "is not asked again") {
				t.Fatal("no open confirmation window after a confirmed sign-out")
			}
			ta.clock.Advance(15 * time.Minute)
			return `id="confirm-device-password"`, true
		}, gone: "is not asked again"},
		{name: "a lock elsewhere", change: func(t *testing.T, _ *testApp, _, phone *device, _ string) (string, bool) {
			for i := range 5 {
				guessFrom(phone, i+1)
			}
			return "Someone typed wrong passwords on", false
		}},
		{name: "a commit from another server", change: func(t *testing.T, ta *testApp, _, _ *device, _ string) (string, bool) {
			other := newTestAppOn(t, ta.path, ta.proxies)
			other.device("tablet", uaFirefoxWindow, "192.0.2.45").login("ann@example.com", testPassword)
			return "192.0.2.45", false
		}},
		{name: "an operator's change in the database", change: func(t *testing.T, ta *testApp, _, _ *device, phoneID string) (string, bool) {
			if _, err := ta.db.Write.Exec(`UPDATE sessions SET ip = '192.0.2.46' WHERE handle = ?`, phoneID); err != nil {
				t.Fatal(err)
			}
			ta.wroteBehindTheModels()
			return "192.0.2.46", false
		}, gone: `<span class="ip">198.51.100.20</span>`, goneList: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t)
			laptop, phone, phoneID := laptopAndPhone(ta)
			firstPage, firstList := laptop.viewOK(false), laptop.viewOK(true)
			if again := laptop.viewOK(false); again.body != firstPage.body || again.header.Get("ETag") != firstPage.header.Get("ETag") {
				t.Fatal("two views with nothing changed between them differ")
			}
			want, pageOnly := tc.change(t, ta, laptop, phone, phoneID)
			// The list's refresh first: it is not the person's activity, so it commits
			// nothing itself (a page view records activity once a minute).
			for _, hx := range []bool{true, false} {
				if hx && pageOnly {
					continue
				}
				first := firstPage
				if hx {
					first = firstList
				}
				r := laptop.viewOK(hx, "If-None-Match", first.header.Get("ETag"))
				if !strings.Contains(r.body, want) {
					t.Errorf("htmx %v: the view after %s does not show %q", hx, tc.name, want)
				}
				if tc.gone != "" && (!hx || tc.goneList) && strings.Contains(r.body, tc.gone) {
					t.Errorf("htmx %v: the view after %s still shows %q", hx, tc.name, tc.gone)
				}
				if r.header.Get("ETag") == first.header.Get("ETag") {
					t.Errorf("htmx %v: the page changed, its ETag did not", hx)
				}
			}
		})
	}
}

// TestLockCountdownIsNeverKept: a lock warning says how long the lock has left to the
// millisecond, so each view draws it anew.
func TestLockCountdownIsNeverKept(t *testing.T) {
	ta := newTestApp(t)
	_, phone, _ := laptopAndPhone(ta)
	for i := range 5 {
		guessFrom(phone, i+1)
	}
	first := phone.viewOK(false)
	if !strings.Contains(first.body, "confirming is locked here") {
		t.Fatal("no lock warning on the locked device")
	}
	ta.clock.Advance(time.Second)
	second := phone.viewOK(false, "If-None-Match", first.header.Get("ETag"))
	ms := func(body string) string {
		n := findByID(t, body, "lock-warning")
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if v := attr(c, "data-remaining-ms"); v != "" {
				return v
			}
		}
		t.Fatal("no data-remaining-ms")
		return ""
	}
	if ms(first.body) == ms(second.body) {
		t.Errorf("a second later the lock still has %s ms left", ms(second.body))
	}
}

// TestViewersNeverShareAPage: two accounts, and two devices of one account (each its own
// "this device"), each get their own page and their own ETag, and another viewer's ETag
// gets a viewer their own page, never 304.
func TestViewersNeverShareAPage(t *testing.T) {
	ta := newTestApp(t)
	laptop, phone, phoneID := laptopAndPhone(ta)
	bob := ta.otherUser()
	laptopID := laptop.handle()
	type seen struct {
		d         *device
		email     string
		current   string
		page      response
		list      response
		tag, tag2 string
	}
	viewers := []*seen{{d: laptop, email: "ann@example.com", current: laptopID}, {d: phone, email: "ann@example.com", current: phoneID},
		{d: bob, email: "bob@example.com", current: bob.handle()}}
	for range 2 { // the second time from what was kept
		for _, v := range viewers {
			v.page, v.list = v.d.viewOK(false), v.d.viewOK(true)
			rows := parseRows(t, v.page.body)
			if !rows[0].current || rows[0].sessionID != v.current || !strings.Contains(v.page.body, v.email) {
				t.Fatalf("%s sees another viewer's page", v.d.name)
			}
			if lrows := parseRows(t, v.list.body); !lrows[0].current || lrows[0].sessionID != v.current {
				t.Fatalf("%s's list refresh is another viewer's", v.d.name)
			}
		}
	}
	tags := map[string]string{}
	for _, v := range viewers {
		for kind, tag := range map[string]string{"page": v.page.header.Get("ETag"), "list": v.list.header.Get("ETag")} {
			if who, ok := tags[tag]; ok {
				t.Errorf("%s's %s has the ETag of %s", v.d.name, kind, who)
			}
			tags[tag] = v.d.name + "'s " + kind
		}
	}
	for _, v := range viewers {
		for _, o := range viewers {
			if o == v {
				continue
			}
			for _, hx := range []bool{false, true} {
				other := o.page
				mine := v.page
				if hx {
					other, mine = o.list, v.list
				}
				r := v.d.view(hx, "If-None-Match", other.header.Get("ETag"))
				if r.status != http.StatusOK || r.body != mine.body {
					t.Errorf("%s with %s's ETag (htmx %v): %d, not its own page", v.d.name, o.d.name, hx, r.status)
				}
			}
		}
	}
}

// TestNotModifiedOnlyForTheSameBytes: a view that names the ETag of the page as it
// stands gets 304 and no body (the list's refresh too, and whatever the encoding); a
// stale, foreign, "*" or mangled one gets the page.
func TestNotModifiedOnlyForTheSameBytes(t *testing.T) {
	ta := newTestApp(t)
	laptop, _, _ := laptopAndPhone(ta)
	browser := []string{"Accept-Encoding", "gzip, deflate, br, zstd", "Sec-Fetch-Site", "same-origin"}
	for _, hx := range []bool{false, true} {
		r := laptop.viewOK(hx)
		tag := r.header.Get("ETag")
		if !strings.HasPrefix(tag, `W/"`) {
			t.Errorf("ETag %q: want a weak one (one for every encoding of the same bytes)", tag)
		}
		for _, inm := range []string{tag, strings.TrimPrefix(tag, "W/"), `"x", ` + tag} {
			for _, hdr := range [][]string{nil, browser} {
				nm := laptop.view(hx, append([]string{"If-None-Match", inm}, hdr...)...)
				if nm.status != http.StatusNotModified || nm.body != "" || nm.header.Get("ETag") != tag {
					t.Errorf("htmx %v, If-None-Match %s, %q: %d (ETag %q, %d bytes), want 304", hx, inm, hdr, nm.status, nm.header.Get("ETag"), len(nm.body))
				}
				if cc := nm.header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("304: Cache-Control %q", cc)
				}
			}
		}
		for _, inm := range []string{"*", `"` + tag + `"`, tag + "x", `W/""`} {
			if again := laptop.view(hx, "If-None-Match", inm); again.status != http.StatusOK || again.body != r.body {
				t.Errorf("htmx %v, If-None-Match %s: %d, want 200 and the page", hx, inm, again.status)
			}
		}
	}
}

// TestSignedOutDeviceNeverGetsNotModified: a device signed out elsewhere that names the
// ETag of the page it last saw is sent to the sign-in page (htmx: 401), never told that
// its old page still holds.
func TestSignedOutDeviceNeverGetsNotModified(t *testing.T) {
	ta := newTestApp(t)
	laptop, phone, phoneID := laptopAndPhone(ta)
	page, list := phone.viewOK(false), phone.viewOK(true)
	if r := phone.view(false, "If-None-Match", page.header.Get("ETag")); r.status != http.StatusNotModified {
		t.Fatalf("before the sign-out: %d, want 304", r.status)
	}
	if r := laptop.hxPost("/account/sessions/"+phoneID+"/revoke", pw(testPassword)); r.status != http.StatusOK {
		t.Fatalf("revoke: %d", r.status)
	}
	if r := phone.view(true, "If-None-Match", list.header.Get("ETag")); r.status != http.StatusUnauthorized || r.header.Get("HX-Redirect") != "/login" {
		t.Errorf("the signed-out phone's list refresh with its old ETag: %d %q, want 401 to /login", r.status, r.header.Get("HX-Redirect"))
	}
	if r := phone.view(false, "If-None-Match", page.header.Get("ETag")); r.status != http.StatusSeeOther || r.location() != "/login" || r.header.Get("ETag") != "" {
		t.Errorf("the signed-out phone with its old ETag: %d %q, want 303 to /login", r.status, r.location())
	}
}

// TestKeptPageIsCompressedAsDrawn: a browser's view gets the kept page compressed (zstd
// where offered, else gzip), the same bytes as the uncompressed view, with its ETag;
// a request another site started gets it uncompressed, as before.
func TestKeptPageIsCompressedAsDrawn(t *testing.T) {
	ta := newTestApp(t)
	laptop, _, _ := laptopAndPhone(ta)
	plain := laptop.viewOK(false)
	for _, tc := range []struct{ accept, site, want string }{
		{"gzip, deflate, br, zstd", "same-origin", "zstd"},
		{"gzip, deflate, br, zstd", "none", "zstd"},
		{"gzip;q=1, zstd;q=0.5", "same-origin", "gzip"},
		{"gzip", "same-origin", "gzip"},
		{"zstd;q=0, gzip", "same-origin", "gzip"},
		{"br", "same-origin", ""},
		{"gzip, zstd", "cross-site", ""},
		{"gzip, zstd", "", ""},
	} {
		for range 2 { // drawn, then kept
			r := laptop.viewOK(false, "Accept-Encoding", tc.accept, "Sec-Fetch-Site", tc.site)
			if got := r.header.Get("Content-Encoding"); got != tc.want {
				t.Fatalf("%q from %q: Content-Encoding %q, want %q", tc.accept, tc.site, got, tc.want)
			}
			if r.header.Get("ETag") != plain.header.Get("ETag") {
				t.Errorf("%q: another ETag than the uncompressed page's", tc.accept)
			}
			var body []byte
			switch tc.want {
			case "zstd":
				dec, _ := zstd.NewReader(nil)
				b, err := dec.DecodeAll([]byte(r.body), nil)
				if err != nil {
					t.Fatal(err)
				}
				body = b
			case "gzip":
				zr, err := gzip.NewReader(strings.NewReader(r.body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			default:
				body = []byte(r.body)
			}
			if !bytes.Equal(body, []byte(plain.body)) {
				t.Errorf("%q: the page decoded is not the page", tc.accept)
			}
		}
	}
}

// TestHostLayoutIsDrawnEveryTime: a host's layout may draw anything of the request into
// the page (here, a count of the pages it drew), so it is drawn at every view, around
// the kept body; such a page has no ETag (its bytes are the host's to know).
func TestHostLayoutIsDrawnEveryTime(t *testing.T) {
	var drawn atomic.Int64
	ta := newTestApp(t, func(c *handlers.Config) {
		c.Layout = func(p views.Page, body templ.Component) templ.Component {
			return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
				fmt.Fprintf(w, "<!doctype html><nav>host page %d</nav>", drawn.Add(1))
				return body.Render(ctx, w)
			})
		}
	})
	laptop, _, _ := laptopAndPhone(ta)
	var bodies []string
	for range 2 {
		r := laptop.view(false)
		if r.status != http.StatusOK || r.header.Get("ETag") != "" {
			t.Fatalf("the page in a host's layout: %d, ETag %q; want 200 without one", r.status, r.header.Get("ETag"))
		}
		if !strings.Contains(r.body, `id="sessions"`) {
			t.Fatal("the page in a host's layout has no list")
		}
		bodies = append(bodies, r.body)
	}
	n := drawn.Load()
	if !strings.Contains(bodies[0], fmt.Sprintf("host page %d", n-1)) || !strings.Contains(bodies[1], fmt.Sprintf("host page %d", n)) {
		t.Errorf("the host's layout was not drawn at each view")
	}
	if a, b := bodies[0][strings.Index(bodies[0], "</nav>"):], bodies[1][strings.Index(bodies[1], "</nav>"):]; a != b {
		t.Error("the page's body differs between two views with nothing changed")
	}
	laptop.viewOK(true) // the list's refresh is Elsewhere's alone: kept, with its ETag
}
