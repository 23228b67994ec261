package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// sessionRow is one device as the Security page shows it.
type sessionRow struct {
	ID      string `json:"id"`
	Current bool   `json:"current"`
	Label   string `json:"label"`
	Icon    string `json:"icon"`  // the icon's classes, "device-icon device-phone"
	Badge   string `json:"badge"` // "This device" on the current one
	Button  string `json:"button"`
}

// sessionRows reads the device list in the order a person sees it.
func sessionRows(d *device) []sessionRow {
	d.t.Helper()
	raw := js[string](d, `JSON.stringify(Array.from(document.querySelectorAll("#sessions > li")).map(function (li) {
		var q = function (s) { var e = li.querySelector(s); return e ? e : null; };
		var btn = q(".session-actions button[data-dialog=confirm-device]");
		return {
			id: li.dataset.sessionId || "",
			current: li.dataset.current === "true",
			label: q(".session-label") ? q(".session-label").innerText.trim() : "",
			icon: q(".device-icon") ? q(".device-icon").className : "",
			badge: q(".badge") ? q(".badge").innerText.trim() : "",
			button: btn ? btn.getAttribute("aria-label") || btn.innerText.trim() : ""
		};
	}))`)
	var rows []sessionRow
	if err := json.Unmarshal([]byte(raw), &rows); err != nil {
		d.t.Fatalf("%s: read the device list: %v", d.name, err)
	}
	return rows
}

// rowLabelled returns the row whose label matches re, failing when there is none.
func rowLabelled(d *device, re string) sessionRow {
	d.t.Helper()
	rx := regexp.MustCompile(re)
	rows := sessionRows(d)
	for _, r := range rows {
		if rx.MatchString(r.Label) {
			return r
		}
	}
	d.t.Fatalf("%s: no device matching %q in the list %+v", d.name, re, rows)
	return sessionRow{}
}

// hasRowJS is a JavaScript condition: a row whose label matches the regexp re is listed.
func hasRowJS(re string) string {
	return fmt.Sprintf(`Array.from(document.querySelectorAll("#sessions .session-label")).some(function (e) { return /%s/.test(e.innerText) })`, re)
}

const (
	labelChromeMac     = `^Mac · Chrome \d+$`
	labelSafariIPhone  = `^iPhone · Safari \d+$`
	labelFirefoxWin    = `^Windows PC · Firefox \d+$`
	labelChromeAndroid = `^Pixel 8 · Chrome \d+$` // the model from the client hints the sign-in page asks for
	labelSafariIPad    = `^iPad · Safari \d+$`    // the Mac's user agent, told apart by the sign-in form's touch points
)

// setMarker puts a value on window that only survives while no page is loaded.
func setMarker(d *device) {
	d.t.Helper()
	js[bool](d, `window.__marker = "no page load"; true`)
}

// assertNoPageLoad fails when the page was loaded again since setMarker.
func assertNoPageLoad(d *device) {
	d.t.Helper()
	if got := js[string](d, `String(window.__marker)`); got != "no page load" {
		d.t.Errorf("%s: the page was loaded again (window.__marker is %q), want an in-place update", d.name, got)
	}
}

// wrongPasswordOn types a wrong password into a confirmation on d's open Security page,
// sent as the page's own form would send it: a change in the log, so every open page of
// the account is told to refresh.
func wrongPasswordOn(d *device) {
	d.t.Helper()
	d.expect(`status of 422`)
	js[bool](d, `(function () {
		window.__wrong = 0;
		fetch("/account/sessions/others/revoke", {method: "POST", headers: {"HX-Request": "true"},
			body: new URLSearchParams({password: "not-the-password"})})
			.then(function (r) { window.__wrong = r.status; }, function () { window.__wrong = -1; });
		return true;
	})()`)
	d.waitUntil("the wrong password to be refused (422)", `window.__wrong === 422`)
}

// waitSignedOut waits until the device's open page has gone to the sign-in page by
// itself, with the explanation.
func waitSignedOut(t *testing.T, d *device) {
	t.Helper()
	// The page hears "signed-out" on its live stream and goes to the server, which sends
	// it to the sign-in page. Were the stream down, the polling refresh would find the
	// session gone instead and get 401 with HX-Redirect, which the browser reports.
	d.expect(`status of 401 .*/account/security`)
	d.waitUntil("the open page to go to the sign-in page by itself", `location.pathname === "/login" && document.querySelector("form[action='/login']")`)
	if got := d.text("main"); !strings.Contains(got, endedText) {
		t.Errorf("%s: the sign-in page says %q, want the explanation %q", d.name, got, endedText)
	}
}

// TestSecurityPage is the story of one account on four devices, in order: each step
// builds on the one before, so a failed step skips the rest.
func TestSecurityPage(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	base := startApp(t)
	const email = "ada@example.com"
	a := newDevice(t, base, chromeMac)
	b := newDevice(t, base, safariIPhone)
	c := newDevice(t, base, firefoxWindows)

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"A sees every device it signed in on, itself first", func(t *testing.T) {
			a.signUp(email)
			b.mustSignIn(email, password)
			c.mustSignIn(email, password)
			a.open("/account/security")

			rows := sessionRows(a)
			if len(rows) != 3 {
				t.Fatalf("A lists %d devices, want 3: %+v", len(rows), rows)
			}
			if !rows[0].Current || rows[0].Badge != "This device" || !regexp.MustCompile(labelChromeMac).MatchString(rows[0].Label) {
				t.Errorf("first row is %+v, want A itself (Chrome on macOS) marked \"This device\"", rows[0])
			}
			for _, want := range []struct{ label, icon string }{
				{labelChromeMac, "device-desktop"}, {labelSafariIPhone, "device-phone"}, {labelFirefoxWin, "device-desktop"},
			} {
				r := rowLabelled(a, want.label)
				if !strings.Contains(" "+r.Icon+" ", " device-icon ") || !strings.Contains(r.Icon, want.icon) {
					t.Errorf("%q has icon %q, want .device-icon.%s", r.Label, r.Icon, want.icon)
				}
				if !r.Current && r.Button != "Sign out "+r.Label {
					t.Errorf("%q: its sign-out button is named %q, want %q", r.Label, r.Button, "Sign out "+r.Label)
				}
				if r.Current && r.Button != "" {
					t.Errorf("the current device has a sign-out button %q; that is what the top bar's Sign out is for", r.Button)
				}
			}
			for _, r := range rows[1:] {
				if r.Current || r.Badge != "" {
					t.Errorf("%q is marked as this device too", r.Label)
				}
			}
			if got := a.text("#session-count"); got != "3 devices" {
				t.Errorf("count says %q, want %q", got, "3 devices")
			}
			// Each device sees itself as the current one.
			if r := sessionRows(b)[0]; !r.Current || !regexp.MustCompile(labelSafariIPhone).MatchString(r.Label) {
				t.Errorf("B's own page starts with %+v, want Safari on iOS as this device", r)
			}
		}},

		{"A signs B out after confirming the password", func(t *testing.T) {
			setMarker(a)
			bRow := rowLabelled(a, labelSafariIPhone)
			dlg := "confirm-device"
			a.openDialog("#session-"+bRow.ID+" button[data-dialog=confirm-device]", dlg)
			if got := js[string](a, `document.activeElement.id`); got != dlg+"-password" {
				t.Errorf("focus is on #%s when the dialog opens, want the password field #%s-password", got, dlg)
			}
			if got := a.text("#" + dlg + "-title"); got != "Sign out "+bRow.Label+"?" {
				t.Errorf("the dialog every row shares is titled %q, want it to name B", got)
			}

			// A wrong password: the message shows in the dialog, which stays open.
			a.expect(`status of 422 .*/account/sessions/` + bRow.ID + `/revoke`)
			a.typeInto("#"+dlg+"-password", "not my password")
			a.click("#" + dlg + " button[type=submit]")
			a.waitUntil("the error in the dialog", fmt.Sprintf(`document.getElementById(%q).innerText.trim() !== ""`, dlg+"-error"))
			if got := a.text("#" + dlg + "-error"); !strings.Contains(got, "password is not right") {
				t.Errorf("the dialog says %q, want that the password is not right", got)
			}
			if !js[bool](a, fmt.Sprintf(`document.getElementById(%q).open`, dlg)) {
				t.Fatalf("the dialog closed after a wrong password")
			}
			if got := js[string](a, `document.activeElement.id + "=" + document.activeElement.value`); got != dlg+"-password=" {
				t.Errorf("after the error, focus and value are %q, want an empty, focused password field", got)
			}
			if rows := sessionRows(a); len(rows) != 3 {
				t.Errorf("a wrong password changed the list: %+v", rows)
			}

			// The right password: the dialog closes, the row fades out and goes.
			js[bool](a, fmt.Sprintf(`(function () {
				var row = document.getElementById(%q);
				window.__faded = false;
				new MutationObserver(function () { if (row.classList.contains("htmx-swapping")) window.__faded = true; })
					.observe(row, { attributes: true, attributeFilter: ["class"] });
				return true;
			})()`, "session-"+bRow.ID))
			a.typeInto("#"+dlg+"-password", password)
			a.click("#" + dlg + " button[type=submit]")
			a.waitUntil("B's row to go and the notice to say so", fmt.Sprintf(`!document.getElementById(%q) && document.getElementById("notice").innerText.includes(%q)`,
				"session-"+bRow.ID, "Signed out "+bRow.Label))
			assertNoPageLoad(a)
			if !js[bool](a, `window.__faded`) {
				t.Errorf("B's row went without fading out (it never had .htmx-swapping)")
			}
			if js[bool](a, `!!document.querySelector("dialog[open]")`) {
				t.Errorf("a dialog is still open after the sign-out")
			}
			if got := a.text("#session-count"); got != "2 devices" {
				t.Errorf("count says %q, want %q", got, "2 devices")
			}
			if got := a.text("#notice"); !strings.Contains(got, "Signed out "+bRow.Label) {
				t.Errorf("notice says %q, want %q", got, "Signed out "+bRow.Label)
			}
			if js[bool](a, `document.activeElement === document.body`) {
				t.Errorf("focus was dropped to the page body when the row went; a keyboard user has to start again from the top")
			}

			// B's open page notices by itself, and going back does not show the dashboard.
			waitSignedOut(t, b)
			b.do(chromedp.NavigateBack())
			b.waitUntil("the sign-in page after going back", `location.pathname === "/login" && !document.getElementById("sessions")`)
			if b.open("/account/security"); b.path() != "/login" {
				t.Errorf("B opened the Security page after being signed out")
			}
		}},

		{"A logs out every other device", func(t *testing.T) {
			setMarker(a)
			a.openDialog(`#others-action button[commandfor="confirm-others"]`, "confirm-others")
			// A confirmed its password a moment ago, so the dialog does not ask again.
			if js[bool](a, `!!document.getElementById("confirm-others-password")`) {
				t.Errorf("the dialog asks for the password again within the confirmation window")
			}
			a.click(`#confirm-others button[type=submit]`)
			a.waitUntil("only A to be listed and the notice to say so", `document.querySelectorAll("#sessions > li").length === 1 && document.getElementById("notice").innerText.includes("Logged out")`)
			assertNoPageLoad(a)
			if r := sessionRows(a)[0]; !r.Current {
				t.Errorf("the one row left is %+v, want A itself", r)
			}
			if got := a.text("#session-count"); got != "1 device" {
				t.Errorf("count says %q, want %q", got, "1 device")
			}
			if got := a.text("#notice"); !strings.Contains(got, "Logged out 1 other device") {
				t.Errorf("notice says %q, want %q", got, "Logged out 1 other device")
			}
			if js[bool](a, `!!document.querySelector("#others-action button")`) {
				t.Errorf("\"Log out other devices\" is still offered with no other device")
			}

			waitSignedOut(t, c)
			if a.open("/account/security"); a.path() != "/account/security" {
				t.Errorf("A was signed out too")
			}
		}},

		{"changing the password signs the other devices out", func(t *testing.T) {
			b.mustSignIn(email, password)
			c.mustSignIn(email, password)
			a.waitUntil("B and C to appear on A's page", hasRowJS(labelSafariIPhone)+" && "+hasRowJS(labelFirefoxWin))
			setMarker(a)
			if !js[bool](a, `document.querySelector("#password-section input[name=logout_others]").checked`) {
				t.Errorf("\"Sign out other devices\" is not checked by default")
			}
			a.typeInto("#current_password", password)
			a.typeInto("#new_password", newPassword)
			a.click("#password-section button[type=submit]")
			a.waitUntil("the success message", `document.querySelector("#password-section .notice-success")`)
			assertNoPageLoad(a)
			if got := a.text("#password-section .notice-success"); got != "Your password was changed." {
				t.Errorf("the form says %q", got)
			}
			if rows := sessionRows(a); len(rows) != 1 || !rows[0].Current {
				t.Errorf("after the change A lists %+v, want only itself", rows)
			}
			if got := a.text("#notice"); !strings.HasPrefix(got, "Password changed") {
				t.Errorf("notice says %q, want it to start with %q", got, "Password changed")
			}
			if got := js[string](a, `document.getElementById("current_password").value + document.getElementById("new_password").value`); got != "" {
				t.Errorf("the password fields still hold %q after the change", got)
			}

			waitSignedOut(t, b)
			waitSignedOut(t, c)
			if a.open("/account/security"); a.path() != "/account/security" {
				t.Fatalf("A was signed out by its own password change")
			}

			// The old password is refused, the new one works.
			c.expect(`status of 401 .*/login`)
			if p := c.signIn(email, password); p != "/login" {
				t.Errorf("the old password signed C in (now at %s)", p)
			} else if got := c.text(".notice-error"); got != "That email and password do not match an account." {
				t.Errorf("signing in with the old password says %q", got)
			}
			b.mustSignIn(email, newPassword)
		}},

		{"a new sign-in appears on A's open page without a reload", func(t *testing.T) {
			a.waitUntil("B to appear on A's page", hasRowJS(labelSafariIPhone))
			setMarker(a)
			d := newDevice(t, base, chromeAndroid)
			d.mustSignIn(email, newPassword)
			a.waitUntil("D (Chrome on Android) to appear on A's page", hasRowJS(labelChromeAndroid))
			assertNoPageLoad(a)
			if r := rowLabelled(a, labelChromeAndroid); !strings.Contains(r.Icon, "device-phone") {
				t.Errorf("D has icon %q, want device-phone", r.Icon)
			}
			if got := a.text("#session-count"); got != "3 devices" {
				t.Errorf("count says %q, want %q", got, "3 devices")
			}
			if r := sessionRows(a)[0]; !r.Current {
				t.Errorf("after the refresh the first row is %+v, want A itself", r)
			}
			if got := a.text("#security-log li"); !strings.Contains(got, "Signed in on Pixel 8 · Chrome") {
				t.Errorf("the security log's newest entry is %q, want D's sign-in", got)
			}
		}},

		{"the live refresh does not make the list blink", func(t *testing.T) {
			// Sample the rows' opacity every frame across two refreshes (each pushed by a
			// wrong password typed on B, which the log records and every page hears of): a
			// refresh that swaps in the same devices must not start their fade-out.
			js[bool](a, `(function () {
				window.__refreshes = 0;
				window.__minOpacity = 1;
				document.addEventListener("htmx:afterRequest", function (e) {
					if (e.detail.requestConfig && e.detail.requestConfig.verb === "get") window.__refreshes++;
				});
				(function sample() {
					document.querySelectorAll("#sessions .session").forEach(function (r) {
						window.__minOpacity = Math.min(window.__minOpacity, parseFloat(getComputedStyle(r).opacity));
					});
					requestAnimationFrame(sample);
				})();
				return true;
			})()`)
			wrongPasswordOn(b)
			a.waitUntil("a live refresh", `window.__refreshes >= 1`)
			wrongPasswordOn(b)
			a.waitUntil("two live refreshes", `window.__refreshes >= 2`)
			if got := js[float64](a, `window.__minOpacity`); got < 1 {
				t.Errorf("during a live refresh the rows faded to opacity %.2f; they should not move at all", got)
			}
		}},

		{"keyboard focus in the list is not taken away by the live refresh", func(t *testing.T) {
			sel := `#sessions li:not([data-current]) button[data-dialog]`
			a.focus(sel)
			focused := js[string](a, `document.activeElement.getAttribute("formaction") || ""`)
			if focused == "" {
				t.Fatalf("could not focus a sign-out button")
			}
			// A new sign-in gives the refresh something to swap in. While focus is in the
			// list the page holds the refresh back, which shows only as nothing happening:
			// count the page's refresh ticks (app.js's tick re-arms its timer each time),
			// and let three pass after the sign-in, however long a busy machine takes.
			js[bool](a, `(function () {
				if (window.__tickCount) return true;
				window.__ticks = 0;
				var setTimeout = window.setTimeout;
				window.setTimeout = function (fn) {
					if (typeof fn === "function" && fn.name === "tick") window.__ticks++;
					return setTimeout.apply(this, arguments);
				};
				window.__tickCount = true;
				return true;
			})()`)
			e := newDevice(t, base, firefoxWindows)
			e.mustSignIn(email, newPassword)
			ticks := js[int](a, `window.__ticks`)
			a.waitUntil("three live-refresh ticks with focus in the list", fmt.Sprintf(`window.__ticks >= %d`, ticks+3))
			if got := js[string](a, `document.activeElement.getAttribute("formaction") || document.activeElement.tagName`); got != focused {
				t.Errorf("focus moved from the button for %s to %s during the live refresh", focused, got)
			}
			js[bool](a, `document.activeElement.blur(); true`)
			a.waitUntil("the new sign-in to appear once focus has left the list", `document.querySelectorAll("#sessions > li").length === 4`)
		}},
	}
	for _, s := range steps {
		if !step(t, s.name, []*device{a, b, c}, s.run) {
			t.Fatalf("step %q failed; the later steps depend on it", s.name)
		}
	}
}

// step runs one step of a story as a subtest, with the story's devices reporting to it,
// so a failure inside a step ends that step and not the whole test.
func step(t *testing.T, name string, devs []*device, run func(t *testing.T)) bool {
	return t.Run(name, func(t *testing.T) {
		for _, d := range devs {
			d.t = t
		}
		run(t)
	})
}

// TestWithoutJavaScript runs the same flows with scripts turned off on A: plain forms,
// 303 back to the page, the notice shown once.
func TestWithoutJavaScript(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	base := startApp(t)
	const email = "grace@example.com"
	a := newDevice(t, base, chromeMac)
	a.disableScripts(true)
	b := newDevice(t, base, safariIPhone)
	c := newDevice(t, base, firefoxWindows)

	a.signUp(email)
	if js[bool](a, `typeof window.htmx !== "undefined"`) {
		t.Fatalf("scripts still run on A")
	}
	b.mustSignIn(email, password)
	c.mustSignIn(email, password)
	a.open("/account/security")
	if rows := sessionRows(a); len(rows) != 3 {
		t.Fatalf("A lists %d devices, want 3", len(rows))
	}

	devs := []*device{a, b, c}
	step(t, "sign one device out", devs, func(t *testing.T) {
		bRow := rowLabelled(a, labelSafariIPhone)
		// Without JavaScript the row's button leads to the confirmation as a page of its own.
		if st := a.submit("#session-" + bRow.ID + " button[data-dialog=confirm-device]"); st != http.StatusOK ||
			a.path() != "/account/sessions/"+bRow.ID+"/revoke" {
			t.Fatalf("the row's Sign out led to %d %s, want the confirmation page", st, a.path())
		}
		if got := js[string](a, `document.activeElement.id`); got != "confirm-password" {
			t.Errorf("focus is on #%s, want the password field", got)
		}
		if got := a.text("main h1"); got != "Sign out "+bRow.Label+"?" {
			t.Errorf("the confirmation page is titled %q", got)
		}
		a.expect(`status of 422 .*/account/sessions/` + bRow.ID + `/revoke`)
		a.typeInto("#confirm-password", "not my password")
		if st := a.submit("main form button[type=submit]"); st != http.StatusUnprocessableEntity {
			t.Errorf("a wrong password answered %d, want 422", st)
		}
		if got := a.text(".notice-error"); !strings.Contains(got, "password is not right") {
			t.Errorf("the confirmation page says %q", got)
		}
		a.typeInto("#confirm-password", password)
		a.takeRedirects()
		if st := a.submit(`main form button[type=submit]`); st != http.StatusOK || a.path() != "/account/security" {
			t.Fatalf("confirming led to %d %s, want the Security page", st, a.path())
		}
		assertRedirected(t, a, "303 POST /account/sessions/"+bRow.ID+"/revoke")
		if got := a.text("#notice"); !strings.Contains(got, "Signed out "+bRow.Label) {
			t.Errorf("notice says %q, want %q", got, "Signed out "+bRow.Label)
		}
		if got := a.text("#session-count"); got != "2 devices" {
			t.Errorf("count says %q", got)
		}
		a.open("/account/security")
		if got := a.text("#notice"); got != "" {
			t.Errorf("the notice shows again on the next visit: %q", got)
		}
		// B and C have JavaScript on: their open pages go to the sign-in page by themselves.
		waitSignedOut(t, b)
	})

	step(t, "log out other devices", devs, func(t *testing.T) {
		a.openDialog(`#others-action button[commandfor="confirm-others"]`, "confirm-others")
		if js[bool](a, `!!document.getElementById("confirm-others-password")`) {
			t.Errorf("the dialog asks for the password again within the confirmation window")
			a.typeInto("#confirm-others-password", password)
		}
		a.takeRedirects()
		if st := a.submit(`#confirm-others button[type=submit]`); st != http.StatusOK || a.path() != "/account/security" {
			t.Fatalf("led to %d %s", st, a.path())
		}
		assertRedirected(t, a, "303 POST /account/sessions/others/revoke")
		if got := a.text("#notice"); !strings.Contains(got, "Logged out 1 other device") {
			t.Errorf("notice says %q", got)
		}
		if rows := sessionRows(a); len(rows) != 1 || !rows[0].Current {
			t.Errorf("A lists %+v, want only itself", rows)
		}
		waitSignedOut(t, c)
	})

	step(t, "change the password", devs, func(t *testing.T) {
		b.mustSignIn(email, password)
		a.open("/account/security")
		if rows := sessionRows(a); len(rows) != 2 {
			t.Fatalf("A lists %d devices, want 2", len(rows))
		}
		if !js[bool](a, `document.querySelector("#password-section input[name=logout_others]").checked`) {
			t.Errorf("\"Sign out other devices\" is not checked by default")
		}
		a.typeInto("#current_password", password)
		a.typeInto("#new_password", newPassword)
		a.takeRedirects()
		if st := a.submit("#password-section button[type=submit]"); st != http.StatusOK || a.path() != "/account/security" {
			t.Fatalf("led to %d %s", st, a.path())
		}
		assertRedirected(t, a, "303 POST /account/password")
		if got := a.text("#notice"); !strings.HasPrefix(got, "Password changed") {
			t.Errorf("notice says %q", got)
		}
		if rows := sessionRows(a); len(rows) != 1 {
			t.Errorf("A lists %d devices, want 1", len(rows))
		}
		waitSignedOut(t, b)
		b.mustSignIn(email, newPassword)
	})
}

// assertRedirected fails unless the device's last form post was answered with want, a
// redirect such as "303 POST /account/password".
func assertRedirected(t *testing.T, d *device, want string) {
	t.Helper()
	got := d.takeRedirects()
	if len(got) != 1 || got[0] != want {
		t.Errorf("%s: redirects %q, want exactly %q", d.name, got, want)
	}
}

// TestContentSecurityPolicy proves the policy is enforced, not only sent: an injected
// inline script does not run, and the browser reports the violation.
func TestContentSecurityPolicy(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	base := startApp(t)
	d := newDevice(t, base, firefoxWindows)
	d.open("/login")
	d.expect(`violates the following Content Security Policy directive 'script-src 'self''`)
	d.expect(`CSP violation: script-src-elem blocked inline`)
	js[bool](d, `(function () {
		var s = document.createElement("script");
		s.textContent = "window.__inlineRan = true";
		document.head.append(s);
		return true;
	})()`)
	if js[bool](d, `window.__inlineRan === true`) {
		t.Errorf("an inline script ran despite the CSP")
	}
	d.waitProblem("the browser to report the violation", `Content Security Policy`)
}
