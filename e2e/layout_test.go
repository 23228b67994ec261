package e2e

import (
	"fmt"
	"testing"
)

// layoutProblemsJS lists what looks broken on the page as it is now: sideways scrolling,
// controls sticking out of the window, button text against the button's edge, targets
// too small to tap.
const layoutProblemsJS = `(function () {
	var problems = [];
	function name(el) { return el.tagName.toLowerCase() + " " + JSON.stringify((el.innerText || el.value || el.name || "").trim().slice(0, 40)); }
	var doc = document.documentElement;
	if (doc.scrollWidth > innerWidth) problems.push("the page scrolls sideways: " + doc.scrollWidth + "px of content in a " + innerWidth + "px window");
	document.querySelectorAll("button, a.btn, input, .badge, .session-label, h1, h2").forEach(function (el) {
		if (!el.checkVisibility()) return;
		var r = el.getBoundingClientRect();
		if (r.right > innerWidth + 0.5 || r.left < -0.5) problems.push(name(el) + " sticks out of the window");
		if (!el.matches("button, a.btn")) return;
		if (r.height < 24 || r.width < 24) problems.push(name(el) + " is " + r.width + "x" + r.height + "px, smaller than a 24px target");
		var cs = getComputedStyle(el);
		if (cs.backgroundColor === "rgba(0, 0, 0, 0)") return; // a text-only button may sit flush
		var range = document.createRange();
		range.selectNodeContents(el);
		var t = range.getBoundingClientRect();
		if (t.width && (t.left - r.left < 6 || r.right - t.right < 6)) problems.push(name(el) + " has its text against its edge");
	});
	return problems;
})()`

// checkLayout fails for every layout problem on the page as it is now.
func checkLayout(t *testing.T, d *device, what string) {
	t.Helper()
	// A row sliding out or a list half swapped in is not the layout anyone looks at.
	d.waitUntil("the page to settle before checking the layout of "+what, settledJS)
	for _, p := range js[[]string](d, layoutProblemsJS) {
		t.Errorf("%s, %s: %s", d.name, what, p)
	}
}

// TestLayout looks at the pages at a small phone's width, a phone's and a laptop's.
func TestLayout(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	base := startApp(t)
	const email = "a.very.long.address.for.testing@example.com"
	small := safariIPhone
	small.width, small.height = 360, 740
	devices := []*device{newDevice(t, base, small), newDevice(t, base, safariIPhone), newDevice(t, base, chromeMac)}
	devices[0].signUp(email)
	for _, d := range devices[1:] {
		d.mustSignIn(email, password)
	}
	for _, d := range devices {
		width := js[int](d, "innerWidth")
		d.open("/login")
		checkLayout(t, d, fmt.Sprintf("sign-in page at %dpx", width))
		d.open("/account/security")
		checkLayout(t, d, fmt.Sprintf("Security page at %dpx", width))
		d.openDialog(`#others-action button[commandfor="confirm-others"]`, "confirm-others")
		checkLayout(t, d, fmt.Sprintf("confirm dialog at %dpx", width))
		row := sessionRows(d)[1]
		d.click(`#confirm-others button[command="close"]`)
		d.openDialog("#session-"+row.ID+" button[data-dialog=confirm-device]", "confirm-device")
		checkLayout(t, d, fmt.Sprintf("sign-out dialog at %dpx", width))
		d.click(`#confirm-device button[command="close"]`)
		d.openDialog("#session-"+row.ID+" button[data-dialog=lost-device]", "lost-device")
		checkLayout(t, d, fmt.Sprintf("lost-or-stolen dialog at %dpx", width))
		d.click(`#lost-device button[command="close"]`)
	}
}
