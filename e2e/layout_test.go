package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/elsewhere-dev/elsewhere/models/mailer/mailtest"
)

// layoutProblemsJS lists what looks broken on the page as it is now: sideways scrolling
// (the document wider than the window), anything sticking out of the window or out of its
// card or dialog, a control against its card's border, button text against the button's
// edge, targets too small to tap.
const layoutProblemsJS = `(function () {
	var problems = [];
	function name(el) { return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " + JSON.stringify((el.innerText || el.value || el.name || "").trim().slice(0, 40)); }
	var doc = document.documentElement;
	if (doc.scrollWidth > innerWidth) problems.push("the page scrolls sideways: " + doc.scrollWidth + "px of content in a " + innerWidth + "px window");
	if (document.body.scrollWidth > innerWidth) problems.push("the body is " + document.body.scrollWidth + "px wide in a " + innerWidth + "px window");
	// Every element of a card or an open dialog lies within it, and controls keep clear of
	// its border.
	document.querySelectorAll(".card, dialog[open]").forEach(function (box) {
		if (!box.checkVisibility()) return;
		var b = box.getBoundingClientRect();
		if (b.right > innerWidth + 0.5 || b.left < -0.5) problems.push(name(box) + " sticks out of the window (" + b.left + " to " + b.right + ")");
		box.querySelectorAll("*").forEach(function (el) {
			if (el.closest(".card, dialog[open]") !== box) return;
			if (el.closest("dialog:not([open])") || !el.checkVisibility() || el.matches(".sr-only, .sr-only *")) return;
			var r = el.getBoundingClientRect();
			if (r.width === 0 && r.height === 0) return;
			if (r.left < b.left - 0.5 || r.right > b.right + 0.5) {
				problems.push(name(el) + " sticks out of its " + (box.tagName === "DIALOG" ? "dialog" : "card") + " by " +
					Math.round(Math.max(b.left - r.left, r.right - b.right)) + "px");
			} else if (el.matches("input, button, select, textarea, a.btn") && (r.left - b.left < 8 || b.right - r.right < 8)) {
				problems.push(name(el) + " touches the border of its " + (box.tagName === "DIALOG" ? "dialog" : "card"));
			}
		});
	});
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

// layoutWidths are the widths every page and dialog is laid out at: a small phone, two
// phones and a laptop.
var layoutWidths = []int64{320, 360, 390, 1280}

// TestLayout lays every page and dialog out at each of layoutWidths: the sign-in, sign-up
// and reset-request pages, the mailed links' pages ("This wasn't me", reset) and a used
// link's, the Security page with its three dialogs, and the confirmations as pages of
// their own (no JavaScript).
func TestLayout(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	sink := mailtest.Start(t, "")
	base := startApp(t, withMail(t, sink))
	const email = "a.very.long.address.for.testing@example.com"
	owner := newDevice(t, base, chromeMac)
	owner.signUp(email)
	phone := newDevice(t, base, safariIPhone)
	phone.mustSignIn(email, password)
	notMe := linkPath(t, sink.Next(t))
	owner.open("/password/forgot")
	owner.typeInto("#email", email)
	owner.submit(`main form button[type=submit]`)
	var reset string
	for reset == "" {
		if m := sink.Next(t); m.Subject == "Reset your password" {
			reset = linkPath(t, m)
		}
	}
	for _, width := range layoutWidths {
		p := safariIPhone
		if width > 800 {
			p = chromeMac
		}
		p.width, p.height = width, 740
		d := newDevice(t, base, p)
		at := func(what string) string { return fmt.Sprintf("%s at %dpx", what, width) }
		for _, page := range []struct{ path, what string }{
			{"/login", "the sign-in page"}, {"/signup", "the sign-up page"}, {"/password/forgot", "the reset request page"},
			{notMe, "the not-me page"}, {reset, "the reset page"}, {"/password/reset/" + strings.Repeat("A", 43), "a used link's page"},
		} {
			d.open(page.path)
			checkLayout(t, d, at(page.what))
		}
		d.expect(`status of 404`)
		d.mustSignIn(email, password)
		d.open("/account/security")
		d.waitUntil("the other devices on the page", `document.querySelectorAll("#sessions > li").length >= 3`)
		checkLayout(t, d, at("the Security page"))
		d.openDialog(`#others-action button[commandfor="confirm-others"]`, "confirm-others")
		checkLayout(t, d, at("the log-out-others dialog"))
		d.click(`#confirm-others button[command="close"]`)
		row := sessionRows(d)[1]
		d.openDialog("#session-"+row.ID+" button[data-dialog=confirm-device]", "confirm-device")
		checkLayout(t, d, at("the sign-out dialog"))
		d.click(`#confirm-device button[command="close"]`)
		d.openDialog("#session-"+row.ID+" button[data-dialog=lost-device]", "lost-device")
		checkLayout(t, d, at("the lost-or-stolen dialog"))
		d.click(`#lost-device button[command="close"]`)
		for _, action := range []string{"revoke", "lost"} {
			d.open("/account/sessions/" + row.ID + "/" + action)
			checkLayout(t, d, at("the "+action+" confirmation page"))
		}
	}
}
