package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core (testdata/axe.min.js, MPL-2.0), read once.
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("testdata/axe.min.js")
	return string(b), err
})

// axeViolation is one rule axe found broken, with the elements that break it.
type axeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []any  `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// checkAccessibility runs axe-core on the page as it is now and fails on every serious
// or critical violation; lesser ones are logged. The test injects axe itself, through
// the DevTools protocol, which the page's CSP does not govern.
func checkAccessibility(t *testing.T, d *device, what string) {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("read axe-core: %v", err)
	}
	if !js[bool](d, `typeof window.axe === "object"`) {
		d.do(chromedp.Evaluate[chromedp.Void](src))
	}
	// axe reads the page over many tasks. A live refresh swapping the list meanwhile
	// would have it judge half of one list and half of the next, or nodes already gone:
	// start on a settled page, and run again when a swap landed during the run.
	var raw string
	for {
		d.waitUntil("the page to settle before axe checks "+what, settledJS)
		ctx, cancel := d.bounded()
		raw, err = chromedp.Run(ctx, chromedp.Evaluate[string](`(function () {
			var swapped = false;
			function mark() { swapped = true; }
			document.addEventListener("htmx:beforeSwap", mark);
			return axe.run(document, { resultTypes: ["violations"] }).then(function (r) {
				document.removeEventListener("htmx:beforeSwap", mark);
				if (swapped) return "swapped";
				return JSON.stringify(r.violations.map(function (v) {
					return { id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
						nodes: v.nodes.map(function (n) { return { target: n.target, summary: n.failureSummary }; }) };
				}));
			});
		})()`, chromedp.EvalAwaitPromise))
		cancel()
		if err != nil {
			t.Fatalf("%s: run axe on %s: %v", d.name, what, err)
		}
		if raw != "swapped" {
			break
		}
		t.Logf("%s: the page swapped content while axe checked %s; checking again", d.name, what)
	}
	var violations []axeViolation
	if err := json.Unmarshal([]byte(raw), &violations); err != nil {
		t.Fatalf("%s: read axe's answer: %v", d.name, err)
	}
	for _, v := range violations {
		var b strings.Builder
		fmt.Fprintf(&b, "%s: axe %s (%s): %s (%s)", what, v.ID, v.Impact, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "\n\t%v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(b.String())
		} else {
			t.Log(b.String())
		}
	}
}

// colorScheme makes the device prefer a light or dark color scheme.
func colorScheme(d *device, scheme string) {
	d.t.Helper()
	d.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
}

// TestAccessibility checks each page a person meets, in both color schemes, with axe-core.
func TestAccessibility(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	base := startApp(t)
	const email = "katherine@example.com"
	a := newDevice(t, base, chromeMac)
	b := newDevice(t, base, safariIPhone)

	for _, scheme := range []string{"light", "dark"} {
		colorScheme(a, scheme)
		a.open("/login")
		checkAccessibility(t, a, "sign-in page ("+scheme+")")
		a.open("/signup")
		checkAccessibility(t, a, "sign-up page ("+scheme+")")
	}
	colorScheme(a, "light")
	a.signUp(email)
	b.mustSignIn(email, password)
	a.open("/account/security")
	a.waitUntil("B on A's page", hasRowJS(labelSafariIPhone))

	for _, scheme := range []string{"light", "dark"} {
		colorScheme(a, scheme)
		colorScheme(b, scheme)
		checkAccessibility(t, a, "Security page, laptop ("+scheme+")")
		checkAccessibility(t, b, "Security page, phone ("+scheme+")")
	}
	colorScheme(a, "light")

	bRow := rowLabelled(a, labelSafariIPhone)
	dlg := "confirm-device"
	a.openDialog("#session-"+bRow.ID+" button[data-dialog=confirm-device]", dlg)
	checkAccessibility(t, a, "confirm dialog")

	a.expect(`status of 422 .*/account/sessions/` + bRow.ID + `/revoke`)
	a.typeInto("#"+dlg+"-password", "not my password")
	a.click("#" + dlg + " button[type=submit]")
	a.waitUntil("the error in the dialog", fmt.Sprintf(`document.getElementById(%q).innerText.trim() !== ""`, dlg+"-error"))
	checkAccessibility(t, a, "confirm dialog with an error")
	a.click("#" + dlg + ` button[command="close"]`)
	a.waitUntil("the dialog to close", fmt.Sprintf(`!document.getElementById(%q).open`, dlg))

	lost := "lost-device"
	a.openDialog("#session-"+bRow.ID+" button[data-dialog=lost-device]", lost)
	checkAccessibility(t, a, "lost-or-stolen dialog")
	a.click("#" + lost + ` button[command="close"]`)
	a.waitUntil("the dialog to close", fmt.Sprintf(`!document.getElementById(%q).open`, lost))

	// The confirmation as a page of its own, as a browser without JavaScript gets it.
	c := newDevice(t, base, firefoxWindows)
	c.disableScripts(true)
	c.mustSignIn(email, password)
	cRow := rowLabelled(c, labelSafariIPhone)
	if st := c.submit("#session-" + cRow.ID + " button[data-dialog=confirm-device]"); st != http.StatusOK {
		t.Fatalf("the row's Sign out without JavaScript answered %d, want the confirmation page", st)
	}
	c.expect(`status of 422 .*/account/sessions/` + cRow.ID + `/revoke`)
	c.typeInto("#confirm-password", "not my password")
	c.submit("main form button[type=submit]")
	c.disableScripts(false) // axe itself needs timers and promises; the page's scripts stay unloaded
	checkAccessibility(t, c, "confirmation page without JavaScript")
}
