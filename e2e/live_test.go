package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/handlers"
)

// TestLivePush: with polling turned off (one refresh an hour), an open Security page
// learns of a new sign-in, and a signed-out device's open page goes to the sign-in page,
// through the live stream alone. The times are logged; the test waits on the conditions.
func TestLivePush(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	base := startApp(t, func(c *handlers.Config) { c.RefreshEvery = time.Hour })
	const email = "live.push@example.com"
	a := newDevice(t, base, chromeMac)
	b := newDevice(t, base, safariIPhone)
	a.signUp(email)
	b.mustSignIn(email, password)
	a.open("/account/security")
	b.open("/account/security")
	for _, d := range []*device{a, b} {
		d.waitUntil("the live stream to open", `document.getElementById("live").getAttribute("data-state") === "open"`)
	}
	// A hidden page closes its stream (a background tab holds none of the browser's few
	// connections) and opens it again when shown.
	setVisibility := func(d *device, state string) {
		js[bool](d, fmt.Sprintf(`(function () {
			Object.defineProperty(document, "visibilityState", {value: %q, configurable: true});
			document.dispatchEvent(new Event("visibilitychange"));
			return true;
		})()`, state))
	}
	setVisibility(a, "hidden")
	a.waitUntil("the hidden page to close its stream", `!document.getElementById("live")`)
	setVisibility(a, "visible")
	a.waitUntil("the shown page to open its stream again", `document.getElementById("live") && document.getElementById("live").getAttribute("data-state") === "open"`)

	// Count list fetches on A: each must have been asked for by the stream.
	js[bool](a, `(function () {
		window.__gets = 0;
		document.addEventListener("htmx:afterRequest", function (e) {
			if (e.detail.requestConfig && e.detail.requestConfig.verb === "get") window.__gets++;
		});
		return true;
	})()`)
	setMarker(a)

	c := newDevice(t, base, firefoxWindows)
	start := time.Now()
	c.mustSignIn(email, password)
	signedIn := time.Now()
	a.waitUntil("C to appear on A's open page", hasRowJS(labelFirefoxWin))
	t.Logf("C's sign-in appeared on A's page %v after it completed (%v after it began)",
		time.Since(signedIn).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	assertNoPageLoad(a)

	bRow := rowLabelled(a, labelSafariIPhone)
	dlg := "confirm-device"
	a.openDialog("#session-"+bRow.ID+" button[data-dialog=confirm-device]", dlg)
	a.typeInto("#"+dlg+"-password", password)
	start = time.Now()
	a.click("#" + dlg + " button[type=submit]")
	waitSignedOut(t, b)
	t.Logf("B's open page reached the sign-in page %v after A's click", time.Since(start).Round(time.Millisecond))
	if n := js[int](a, `window.__gets`); n > 2 {
		t.Errorf("A fetched its list %d times for two changes", n)
	}
	if got := b.path(); !strings.HasPrefix(got, "/login") {
		t.Errorf("B is at %s", got)
	}
}

// TestRefreshFindingNothingChangedIs304: while the live stream cannot be held, the page
// refreshes its list on a timer, naming the list it shows (If-None-Match): a refresh that
// finds nothing changed is 304 and swaps nothing, and a change still shows at the next.
func TestRefreshFindingNothingChangedIs304(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	noStream := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/account/events" {
				http.Error(w, "no stream here", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	base := startAppWrapped(t, noStream, func(c *handlers.Config) { c.RefreshEvery = 300 * time.Millisecond })
	const email = "refresh.304@example.com"
	a := newDevice(t, base, chromeMac)
	// The stream refused, as this test means it to be, and the SSE extension's report of it.
	a.expect(`status of 503 .*/account/events`)
	a.expect(`console.error: \[object Event\]`)
	a.signUp(email)
	a.open("/account/security")
	js[bool](a, `(function () {
		window.__refreshes = {200: 0, 304: 0};
		document.addEventListener("htmx:afterRequest", function (e) {
			var c = e.detail.requestConfig;
			if (c && c.verb === "get" && e.detail.xhr) window.__refreshes[e.detail.xhr.status] = (window.__refreshes[e.detail.xhr.status] || 0) + 1;
		});
		return true;
	})()`)
	setMarker(a)
	a.waitUntil("a refresh answered 304", `window.__refreshes[304] >= 1`)
	if !js[bool](a, hasRowJS(labelChromeMac)) {
		t.Fatal("after a 304 the list lost its row")
	}
	a.waitUntil("two refreshes answered 304", `window.__refreshes[304] >= 2`)
	b := newDevice(t, base, safariIPhone)
	b.expect(`status of 503 .*/account/events`)
	b.expect(`console.error: \[object Event\]`)
	b.mustSignIn(email, password)
	a.waitUntil("B to appear on A's page", hasRowJS(labelSafariIPhone))
	seen := js[int](a, `window.__refreshes[304]`)
	a.waitUntil("the new list's refreshes to be 304 too", fmt.Sprintf(`window.__refreshes[304] >= %d`, seen+2))
	if !js[bool](a, hasRowJS(labelSafariIPhone)) || !js[bool](a, hasRowJS(labelChromeMac)) {
		t.Error("after 304s the list lost a row")
	}
	assertNoPageLoad(a)
}
