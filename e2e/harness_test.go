package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

const (
	// refreshEvery is the live-refresh period of the Security page in these tests; the
	// app's default is 15 s, which would only make the suite slow.
	refreshEvery = time.Second
	// patience bounds a wait when the test binary has no deadline (-timeout 0). With one,
	// waits run until shortly before it: on a busy machine a step may take long, and
	// only the test's own deadline says when it has taken too long.
	patience = 5 * time.Minute
	// password is the account's password; newPassword replaces it in the password test.
	password    = "Lantern-harbour-7-violet"
	newPassword = "Quiet-orchard-52-copper"
	// endedText is what a device signed out from elsewhere reads on the sign-in page.
	endedText = "You were signed out because your password changed or this device was signed out from another one."
)

// fastHash keeps argon2id cheap; the real parameters are measured by benchmarks.
var fastHash = modelstest.FastHash()

// startApp serves the real app over a fresh SQLite file on a real listening socket;
// mod adjusts its configuration.
func startApp(t *testing.T, mod ...func(*handlers.Config)) string {
	t.Helper()
	return startAppWrapped(t, nil, mod...)
}

// startAppWrapped is startApp with the app's handler inside wrap (nil: none), for a test
// that watches every request the browser makes.
func startAppWrapped(t *testing.T, wrap func(http.Handler) http.Handler, mod ...func(*handlers.Config)) string {
	t.Helper()
	d := modelstest.OpenDB(t)
	// The app's workers (sweeper, mail) stop before the database closes: cleanups run last
	// registered first.
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	srv := httptest.NewUnstartedServer(nil)
	cfg := handlers.Config{
		BaseURL:       "http://" + srv.Listener.Addr().String(),
		SignupOpen:    true,
		ConfirmWindow: 15 * time.Minute, // as `elsewhere serve` has it by default
		HashParams:    &fastHash,
		RefreshEvery:  refreshEvery,
		Logger:        slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, m := range mod {
		m(&cfg)
	}
	app, err := handlers.New(ctx, d, cfg)
	if err != nil {
		t.Fatalf("build app: %v", err)
	}
	h, err := app.Handler(nil)
	if err != nil {
		t.Fatalf("handler: %v", err)
	}
	if wrap != nil {
		h = wrap(h)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// testWriter sends the app's warnings and errors to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Logf("app: %s", strings.TrimSpace(string(p)))
	return len(p), nil
}

// profile is what a device looks like to the server and to the page.
type profile struct {
	name          string
	userAgent     string
	hints         *emulation.UserAgentMetadata // nil for browsers that send no client hints
	width, height int64
	scale         float64
	mobile        bool
	touchPoints   int64         // navigator.maxTouchPoints with touch on (0: one, the default)
	clockAhead    time.Duration // how far the page's clock (Date) runs ahead of the server's
}

var (
	chromeMac = profile{
		name:      "Chrome on macOS",
		userAgent: modelstest.UAChromeMac,
		hints: &emulation.UserAgentMetadata{
			Brands: []*emulation.UserAgentBrandVersion{
				{Brand: "Google Chrome", Version: "131"}, {Brand: "Chromium", Version: "131"}, {Brand: "Not_A Brand", Version: "24"},
			},
			Platform: "macOS", PlatformVersion: "14.5.0", Architecture: "arm",
		},
		width: 1280, height: 800, scale: 1,
	}
	safariIPhone = profile{
		name:      "Safari on iPhone",
		userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		width:     390, height: 844, scale: 3, mobile: true,
	}
	// Safari on an iPad asks for desktop sites: it sends the Mac's user agent and no client
	// hints; only its touch screen (five touch points, which the sign-in form reports)
	// tells it from a Mac.
	safariIPad = profile{
		name:      "Safari on iPad",
		userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Safari/605.1.15",
		width:     820, height: 1180, scale: 2, mobile: true, touchPoints: 5,
	}
	firefoxWindows = profile{
		name:      "Firefox on Windows",
		userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
		width:     1280, height: 800, scale: 1,
	}
	chromeAndroid = profile{
		name:      "Chrome on Android",
		userAgent: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
		hints: &emulation.UserAgentMetadata{
			Brands: []*emulation.UserAgentBrandVersion{
				{Brand: "Google Chrome", Version: "131"}, {Brand: "Chromium", Version: "131"}, {Brand: "Not_A Brand", Version: "24"},
			},
			Platform: "Android", PlatformVersion: "14.0.0", Model: "Pixel 8", Mobile: true,
		},
		width: 412, height: 915, scale: 2.625, mobile: true,
	}
)

// device is one browser context: its own cookies, user agent and screen, one tab.
type device struct {
	t      *testing.T
	name   string
	base   string // the app's URL
	prefix string // the path Elsewhere is mounted under ("" at the root)
	ctx    context.Context
	mon    *monitor
}

// newDevice opens a tab in a new browser context that looks like p.
func newDevice(t *testing.T, base string, p profile) *device {
	t.Helper()
	needBrowser(t)
	return newDeviceIn(t, browser.ctx, true, base, p)
}

// newDeviceIn opens a tab in the browser of parent that looks like p: in a new browser
// context of its own (fresh cookies) when isolated, else in the browser's own profile.
// Each of listeners hears the tab's events too.
func newDeviceIn(t *testing.T, parent context.Context, isolated bool, base string, p profile, listeners ...func(any)) *device {
	t.Helper()
	mon := &monitor{base: base, device: p.name, requests: map[network.RequestID]string{}}
	opts := []chromedp.ContextOption{chromedp.WithListener(mon.listen)}
	for _, l := range listeners {
		opts = append(opts, chromedp.WithListener(l))
	}
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(parent, opts...)
	t.Cleanup(cancel)
	d := &device{t: t, name: p.name, base: base, ctx: ctx, mon: mon}
	// The first run opens the tab and ties it to the context it is given: that must be
	// the device's own context, not one with a time limit.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open a tab: %v", p.name, err)
	}
	d.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
			UserAgent: p.userAgent, UserAgentMetadata: p.hints,
		}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: p.width, Height: p.height, DeviceScaleFactor: p.scale, Mobile: p.mobile,
		}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{
			Enabled: p.mobile, MaxTouchPoints: p.touchPoints,
		}); err != nil {
			return err
		}
		// Every tab behaves as the focused window, as the one a person is looking at.
		if _, err := cdp.Call(ctx, tg, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
			return err
		}
		// Report CSP violations to the console, where the monitor sees them. Chromium logs
		// them itself too; this also catches ones it reports only as an event.
		if _, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `document.addEventListener("securitypolicyviolation", function (e) {
				console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline code") + " at " + e.sourceFile + ":" + e.lineNumber);
			});`,
		}); err != nil {
			return err
		}
		if p.clockAhead != 0 {
			// A device whose clock is off: every Date the page makes is shifted.
			if _, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: fmt.Sprintf(`(function () {
					var Real = Date, off = %d;
					function Shifted() { return arguments.length ? new (Function.prototype.bind.apply(Real, [null].concat([].slice.call(arguments))))() : new Real(Real.now() + off); }
					Shifted.now = function () { return Real.now() + off; };
					Shifted.parse = Real.parse; Shifted.UTC = Real.UTC; Shifted.prototype = Real.prototype;
					window.Date = Shifted;
				})();`, p.clockAhead.Milliseconds()),
			}); err != nil {
				return err
			}
		}
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchJS})
		return err
	}))
	t.Cleanup(func() { d.mon.check(t) })
	return d
}

// watchJS runs in every document before the page's own scripts and records what the
// tests wait for but cannot see in the DOM: htmx announcing, with htmx:load on the body,
// that it has processed the page; and each dialog's toggle event having reached every
// listener (the page's script moves focus there), per dialog. With scripts turned off
// it still runs but its listeners do not, and neither do htmx and app.js, so a missing
// window.htmx says there is nothing to wait for.
const watchJS = `window.__e2e = { htmxLoaded: false, toggles: {}, refreshes: 0 };
document.addEventListener("htmx:beforeRequest", function (e) {
	var c = e.detail && e.detail.requestConfig;
	if (c && c.verb === "get" && c.elt && c.elt.id === "sessions") window.__e2e.refreshes++;
});
document.addEventListener("htmx:load", function (e) {
	if (e.target === document.body) window.__e2e.htmxLoaded = true;
});
document.addEventListener("toggle", function (e) {
	var dlg = e.target;
	if (!(dlg instanceof HTMLDialogElement)) return;
	// After the page's own listeners, which run later in this same dispatch.
	setTimeout(function () { window.__e2e.toggles[dlg.id] = e.newState; }, 0);
}, true);`

// settledJS is a JavaScript condition: the page has loaded, htmx (where the page runs
// it) has processed it, and nothing is moving: no htmx request in flight, no swap or
// settle under way, no transition running. Only then does a node found now stay the
// node a click or a key reaches, and does a check see the page a person would look at.
// The live refresh of the Security page starts a request every period, so a settled
// page is settled for a moment; the helpers below re-check after acting.
const settledJS = `(document.readyState === "complete" &&
	(!window.htmx || (window.__e2e && window.__e2e.htmxLoaded)) &&
	!document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added") &&
	document.getAnimations().every(function (a) { return a.playState !== "running"; }))`

// actionableJS is a JavaScript condition: the page is settled and the first element
// matching sel can take a click or keys from a person: it is shown, enabled, and not
// made inert by a modal dialog it is not in.
func actionableJS(sel string) string {
	return fmt.Sprintf(`(function () {
		if (!%s) return false;
		var el = document.querySelector(%q);
		if (!el || !el.checkVisibility() || el.disabled || el.closest("[inert]")) return false;
		var modal = document.querySelector("dialog:modal");
		return !modal || modal.contains(el);
	})()`, settledJS, sel)
}

// deadline is when a wait gives up: shortly before the test binary's deadline, leaving
// time to report which wait it was; or, without one, patience from now.
func (d *device) deadline() time.Time {
	if dl, ok := d.t.Deadline(); ok {
		return dl.Add(-min(30*time.Second, time.Until(dl)/10))
	}
	return time.Now().Add(patience)
}

// bounded is the device's context, ending at the deadline.
func (d *device) bounded() (context.Context, context.CancelFunc) {
	return context.WithDeadline(d.ctx, d.deadline())
}

// do runs actions, waiting as long as the test may, and fails the test on an error.
func (d *device) do(actions ...chromedp.Action[chromedp.Void]) {
	d.t.Helper()
	ctx, cancel := d.bounded()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		d.t.Fatalf("%s: %v", d.name, err)
	}
}

// open navigates to path, waits until the page is ready (loaded, and processed by htmx
// where it runs), and returns the final response's status.
func (d *device) open(path string) int64 {
	d.t.Helper()
	ctx, cancel := d.bounded()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(d.base+path))
	if err != nil {
		d.t.Fatalf("%s: open %s: %v", d.name, path, err)
	}
	d.waitUntil("the page "+path+" to be ready", settledJS)
	return resp.Status
}

// submit clicks a button that submits a plain form and waits for the page it leads to.
func (d *device) submit(button string) int64 {
	d.t.Helper()
	var resp *network.Response
	d.act("submit with "+button, actionableJS(button), func(ctx context.Context) error {
		var err error
		resp, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button)))
		return err
	})
	if resp == nil {
		d.t.Fatalf("%s: clicking %s loaded no page", d.name, button)
	}
	d.waitUntil("the page after "+button+" to be ready", settledJS)
	return resp.Status
}

// act waits until ready (a JavaScript condition) holds, then runs f. An htmx swap can
// replace the element between the check and the action: the node id the action found
// is then gone, and the action is tried again on the element now matching.
func (d *device) act(what, ready string, f func(ctx context.Context) error) {
	d.t.Helper()
	for {
		d.waitUntil("the page to be ready to "+what, ready)
		ctx, cancel := d.bounded()
		err := f(ctx)
		cancel()
		if err == nil {
			return
		}
		if !staleNode(err) || time.Now().After(d.deadline()) {
			d.t.Fatalf("%s: %s: %v", d.name, what, err)
		}
		d.t.Logf("%s: %s: %v; the page changed under the action, trying again", d.name, what, err)
	}
}

// staleNode reports whether err says that the node an action held has left the
// document, or the document it was in has been replaced.
func staleNode(err error) bool {
	var e *cdproto.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, m := range []string{
		"Could not find node with given id",
		"No node with given id found",
		"Node is detached from document",
		"Node does not have a layout object",
		"Could not compute content quads",
		"Cannot find context with specified id",
	} {
		if strings.Contains(e.Message, m) {
			return true
		}
	}
	return false
}

// typeInto types text into the field sel, replacing what is there, and checks that the
// field holds it: keys sent while a swap replaced the field went nowhere, so type again.
func (d *device) typeInto(sel, text string) {
	d.t.Helper()
	clear := fmt.Sprintf(`(function () { var e = document.querySelector(%q); if (e) e.value = ""; return true; })()`, sel)
	holds := fmt.Sprintf(`(function () { var e = document.querySelector(%q); return !!e && e.value === %q; })()`, sel, text)
	for {
		d.act("type into "+sel, actionableJS(sel), func(ctx context.Context) error {
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](clear)); err != nil {
				return err
			}
			return chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(sel), text))
		})
		if js[bool](d, holds) {
			return
		}
		if time.Now().After(d.deadline()) {
			d.t.Fatalf("%s: typed into %s until the deadline; it never held what was typed", d.name, sel)
		}
		d.t.Logf("%s: %s does not hold what was typed (the page changed meanwhile); typing again", d.name, sel)
	}
}

// click clicks the element sel once it is ready for a click.
func (d *device) click(sel string) {
	d.t.Helper()
	d.act("click "+sel, actionableJS(sel), func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
	})
}

// focus puts keyboard focus on the element sel and waits until it is there on a settled
// page: a swap landing meanwhile takes the focused element away, so focus again.
func (d *device) focus(sel string) {
	d.t.Helper()
	focused := fmt.Sprintf(`document.activeElement && document.activeElement.matches(%q)`, sel)
	for {
		d.act("focus "+sel, actionableJS(sel), func(ctx context.Context) error {
			return chromedp.Do(ctx, chromedp.Focus(chromedp.CSS(sel)))
		})
		d.waitUntil("the page to settle after focusing "+sel, settledJS)
		if js[bool](d, focused) {
			return
		}
		if time.Now().After(d.deadline()) {
			d.t.Fatalf("%s: focused %s until the deadline; focus never stayed", d.name, sel)
		}
		d.t.Logf("%s: focus left %s as the page changed; focusing again", d.name, sel)
	}
}

// openDialog clicks opener until the dialog with id dlg is open on a settled page, and
// the page's script has seen it open. A live refresh already in flight when the dialog
// opened (the page starts none while one is open) swaps in the list, and with it a
// closed copy of the dialog: a person would click again, and so does this.
func (d *device) openDialog(opener, dlg string) {
	d.t.Helper()
	reset := fmt.Sprintf(`(function () { if (window.__e2e) delete window.__e2e.toggles[%q]; return true; })()`, dlg)
	open := fmt.Sprintf(`(function () {
		var dlg = document.getElementById(%q);
		return !!dlg && dlg.open && (!window.htmx || window.__e2e.toggles[%q] === "open");
	})()`, dlg, dlg)
	for {
		js[bool](d, reset)
		d.click(opener)
		d.waitUntil("the page to settle after opening #"+dlg, settledJS)
		// The toggle event is queued when the dialog opens: wait for it, or for the
		// dialog to be gone or shut.
		d.waitUntil("the dialog #"+dlg+" to finish opening or to close", fmt.Sprintf(`%s || !(document.getElementById(%q) || {}).open`, open, dlg))
		if js[bool](d, open+" && "+settledJS) {
			return
		}
		if time.Now().After(d.deadline()) {
			d.t.Fatalf("%s: opened #%s with %s until the deadline; it never stayed open", d.name, dlg, opener)
		}
		d.t.Logf("%s: #%s closed again as the page changed; clicking %s again", d.name, dlg, opener)
	}
}

// js evaluates expr in the page and decodes the result into T.
func js[T any](d *device, expr string) T {
	d.t.Helper()
	ctx, cancel := d.bounded()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		d.t.Fatalf("%s: evaluate %s: %v", d.name, expr, err)
	}
	return v
}

// waitUntil polls the JavaScript condition cond until it is true, for as long as the
// test may run. The page may navigate meanwhile; evaluation errors then only mean
// "not yet".
func (d *device) waitUntil(what, cond string) {
	d.t.Helper()
	start, deadline := time.Now(), d.deadline()
	var last error
	for {
		ctx, cancel := context.WithDeadline(d.ctx, deadline)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			url := "?"
			ctx, cancel := context.WithTimeout(d.ctx, 5*time.Second) // only for the message
			if u, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
				url = u
			}
			cancel()
			d.t.Fatalf("%s: waited %s for %s; still not so at %s (last error: %v)", d.name, time.Since(start).Round(time.Second), what, url, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// path is the path of the page the device shows.
func (d *device) path() string {
	return js[string](d, "location.pathname")
}

// text is the visible text of the first element matching sel, "" when there is none.
func (d *device) text(sel string) string {
	d.t.Helper()
	return js[string](d, fmt.Sprintf(`(function(){ var e = document.querySelector(%q); return e ? e.innerText.trim() : "" })()`, sel))
}

// signUp creates the account from the sign-up page.
func (d *device) signUp(email string) {
	d.t.Helper()
	d.open(d.prefix + "/signup")
	d.typeInto("#email", email)
	d.typeInto("#password", password)
	if st := d.submit(`form[action="` + d.prefix + `/signup"] button[type=submit]`); st != http.StatusOK {
		d.t.Fatalf("%s: sign-up answered %d", d.name, st)
	}
	if p := d.path(); p != d.prefix+"/account/security" {
		d.t.Fatalf("%s: after sign-up the device shows %s, want %s/account/security", d.name, p, d.prefix)
	}
}

// signIn signs in from the sign-in page and returns the path shown afterwards.
func (d *device) signIn(email, pw string) string {
	d.t.Helper()
	if d.path() != d.prefix+"/login" {
		d.open(d.prefix + "/login")
	}
	d.typeInto("#email", email)
	d.typeInto("#password", pw)
	d.submit(`form[action="` + d.prefix + `/login"] button[type=submit]`)
	return d.path()
}

// mustSignIn signs in and fails unless the Security page is shown.
func (d *device) mustSignIn(email, pw string) {
	d.t.Helper()
	if p := d.signIn(email, pw); p != d.prefix+"/account/security" {
		d.t.Fatalf("%s: sign-in led to %s, want %s/account/security; the page says %q", d.name, p, d.prefix, d.text("main"))
	}
}

// disableScripts turns JavaScript off (or back on) for the device, as a person can in
// the browser.
func (d *device) disableScripts(off bool) {
	d.t.Helper()
	d.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off})
		return err
	}))
}

// expect tells the monitor that a problem matching pattern is part of the scenario
// (say, the browser reporting the 422 of a wrong password), not a fault.
func (d *device) expect(pattern string) {
	d.mon.mu.Lock()
	defer d.mon.mu.Unlock()
	d.mon.expected = append(d.mon.expected, regexp.MustCompile(pattern))
}

// monitor records what a person would not want a page to do: console errors, uncaught
// exceptions, failed or outside requests, documents without the CSP.
type monitor struct {
	base, device string
	mu           sync.Mutex
	requests     map[network.RequestID]string // URL of each request, for failure messages
	redirects    []string                     // "303 POST /account/password", each redirect answered
	problems     []string
	expected     []*regexp.Regexp
}

// listen runs in the tab's event loop: it must return quickly and run no command.
func (m *monitor) listen(ev any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		switch ev.Type {
		case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeWarning, runtime.ConsoleAPICalledTypeAssert:
			var parts []string
			for _, a := range ev.Args {
				if a.Value != nil {
					parts = append(parts, strings.Trim(string(a.Value), `"`))
				} else {
					parts = append(parts, a.Description)
				}
			}
			m.problems = append(m.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
		}
	case *runtime.EventExceptionThrown:
		msg := ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			msg += " " + ev.ExceptionDetails.Exception.Description
		}
		m.problems = append(m.problems, fmt.Sprintf("uncaught exception: %s (%s:%d)", msg, ev.ExceptionDetails.URL, ev.ExceptionDetails.LineNumber))
	case *log.EventEntryAdded:
		if e := ev.Entry; e.Level == log.EntryLevelError || e.Level == log.EntryLevelWarning {
			m.problems = append(m.problems, fmt.Sprintf("browser log (%s %s): %s %s", e.Source, e.Level, e.Text, e.URL))
		}
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		if r := ev.RedirectResponse; r != nil {
			m.redirects = append(m.redirects, fmt.Sprintf("%d %s", r.Status, m.requests[ev.RequestID]))
		}
		m.requests[ev.RequestID] = ev.Request.Method + " " + strings.Replace(u, m.base, "", 1)
		if !strings.HasPrefix(u, m.base+"/") && u != m.base && !strings.HasPrefix(u, "data:") {
			m.problems = append(m.problems, "request outside the app: "+u)
		}
	case *network.EventLoadingFailed:
		if ev.Canceled && ev.ErrorText == "net::ERR_ABORTED" {
			// The page navigated away with a request open (a refresh, say): abandoned,
			// not failed.
			return
		}
		m.problems = append(m.problems, fmt.Sprintf("request failed: %s: %s (canceled: %v, blocked: %s)",
			m.requests[ev.RequestID], ev.ErrorText, ev.Canceled, ev.BlockedReason))
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument && strings.HasPrefix(ev.Response.URL, m.base) {
			csp, _ := ev.Response.Headers["Content-Security-Policy"].(string)
			if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				m.problems = append(m.problems, fmt.Sprintf("document without the strict CSP: %s (Content-Security-Policy: %q)", ev.Response.URL, csp))
			}
		}
	}
}

// check fails the test for every problem that was not expected.
func (m *monitor) check(t *testing.T) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.problems {
		ok := false
		for _, re := range m.expected {
			if re.MatchString(p) {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("%s: %s", m.device, p)
		}
	}
}

// waitProblem waits until the monitor has seen a problem matching pattern.
func (d *device) waitProblem(what, pattern string) {
	d.t.Helper()
	start, deadline := time.Now(), d.deadline()
	for len(d.mon.problemsMatching(pattern)) == 0 {
		if time.Now().After(deadline) {
			d.t.Fatalf("%s: waited %s for %s", d.name, time.Since(start).Round(time.Second), what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// takeRedirects returns the redirects answered since the last call.
func (d *device) takeRedirects() []string {
	d.mon.mu.Lock()
	defer d.mon.mu.Unlock()
	r := d.mon.redirects
	d.mon.redirects = nil
	return r
}

// problemsMatching returns the problems seen so far that match pattern.
func (m *monitor) problemsMatching(pattern string) []string {
	re := regexp.MustCompile(pattern)
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, p := range m.problems {
		if re.MatchString(p) {
			out = append(out, p)
		}
	}
	return out
}

// discard drains a response body so its connection is reused.
func discard(r *http.Response) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
}
