package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models"
)

// These tests play the owner at the moment of rescue, in the browser: a dialog refused,
// cancelled and tried again; a page left with the focus on a row while a thief acts.

// passwordValues are the values of the dialog's password fields, in order.
func passwordValues(d *device, dlg string) []string {
	d.t.Helper()
	return js[[]string](d, fmt.Sprintf(`Array.from(document.querySelectorAll("#%s input[type=password]")).map(function (f) { return f.value; })`, dlg))
}

// assertEmpty fails unless every password field of the dialog is empty.
func assertEmpty(t *testing.T, d *device, dlg, when string) {
	t.Helper()
	vals := passwordValues(d, dlg)
	if len(vals) == 0 {
		t.Fatalf("%s: #%s has no password fields", when, dlg)
	}
	for i, v := range vals {
		if v != "" {
			t.Errorf("%s: password field %d of #%s still holds %d characters", when, i+1, dlg, len(v))
		}
	}
}

// TestPasswordFieldsStartEmpty: "Lost or stolen?" asks for the current password and a new
// one. After a refusal (a wrong current password, then a common new one), and after a
// Cancel, every password field is empty, so what the owner types next is the whole
// password: the account ends with exactly the new password typed last, and nothing
// appended to it. The dialogs opened natively ("Log out other devices") start empty too.
func TestPasswordFieldsStartEmpty(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	base := startApp(t)
	const email = "fields.start.empty@example.com"
	a := newDevice(t, base, chromeMac)
	b := newDevice(t, base, safariIPhone)
	a.signUp(email)
	b.mustSignIn(email, password)
	a.open("/account/security")
	a.waitUntil("two devices on the page", `document.querySelectorAll("#sessions > li").length === 2`)
	row := rowLabelled(a, labelSafariIPhone)
	const lost = "lost-device"
	opener := "#session-" + row.ID + " button[data-dialog=lost-device]"

	// Refused: a wrong current password.
	a.openDialog(opener, lost)
	a.typeInto("#"+lost+"-password", "not the password")
	a.typeInto("#"+lost+"-new-password", newPassword)
	a.click("#" + lost + " button[type=submit]")
	a.waitUntil("the refusal in the dialog", `document.getElementById("lost-device-error").textContent.trim() !== ""`)
	a.expect(`status of 422`)
	assertEmpty(t, a, lost, "after a wrong current password")

	// Refused: a common new password.
	a.typeInto("#"+lost+"-password", password)
	a.typeInto("#"+lost+"-new-password", "password123")
	a.click("#" + lost + " button[type=submit]")
	a.waitUntil("the refusal in the dialog", `/common/.test(document.getElementById("lost-device-error").textContent)`)
	a.expect(`status of 422`)
	assertEmpty(t, a, lost, "after a common new password")

	// Cancelled with both fields typed into, and opened again.
	a.typeInto("#"+lost+"-password", password)
	a.typeInto("#"+lost+"-new-password", "half typed")
	a.click("#" + lost + ` button[command="close"]`)
	a.waitUntil("the dialog to close", `!document.getElementById("lost-device").open`)
	a.openDialog(opener, lost)
	assertEmpty(t, a, lost, "opened again after Cancel")
	if got := a.text("#" + lost + "-error"); got != "" {
		t.Errorf("the old error is still shown: %q", got)
	}

	// Done right: the new password is exactly what was typed last.
	a.typeInto("#"+lost+"-password", password)
	a.typeInto("#"+lost+"-new-password", newPassword)
	a.click("#" + lost + " button[type=submit]")
	a.waitUntil("only this device on the list", `document.querySelectorAll("#sessions > li").length === 1 && !document.querySelector("dialog[open]")`)
	waitSignedOut(t, b)
	b.mustSignIn(email, newPassword)

	// The natively opened dialog: typed into, cancelled, opened again: empty.
	a.open("/account/security")
	a.waitUntil("two devices on the page", `document.querySelectorAll("#sessions > li").length === 2`)
	const others = "confirm-others"
	// The confirmation window opened by the last action asks no password: wait it out
	// by asking for one (a fresh page after the window is what a person would see).
	if len(passwordValues(a, others)) > 0 {
		a.openDialog(`#others-action button[commandfor="confirm-others"]`, others)
		a.typeInto("#"+others+"-password", "typed then cancelled")
		a.click("#" + others + ` button[command="close"]`)
		a.waitUntil("the dialog to close", `!document.getElementById("confirm-others").open`)
		a.openDialog(`#others-action button[commandfor="confirm-others"]`, others)
		assertEmpty(t, a, others, "Log out other devices, opened again after Cancel")
	}
}

// TestLiveUpdatesDoNotWaitOnFocus: the owner cancels a dialog, so the focus rests on the
// row's button; a thief then signs in on another device. The owner's page shows the new
// device without a click, and the focus stays on the same button. With a dialog open the
// list waits, and what was typed is kept.
func TestLiveUpdatesDoNotWaitOnFocus(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	base := startApp(t, func(c *handlers.Config) { c.RefreshEvery = time.Hour }) // live events only
	const email = "focus.rests@example.com"
	a := newDevice(t, base, chromeMac)
	b := newDevice(t, base, safariIPhone)
	a.signUp(email)
	b.mustSignIn(email, password)
	a.open("/account/security")
	a.waitUntil("the live stream to open", `document.getElementById("live").getAttribute("data-state") === "open"`)
	row := rowLabelled(a, labelSafariIPhone)
	opener := "#session-" + row.ID + " button[data-dialog=confirm-device]"
	a.openDialog(opener, "confirm-device")
	a.click(`#confirm-device button[command="close"]`)
	a.waitUntil("the focus back on the row's button", fmt.Sprintf(`document.activeElement && document.activeElement.matches(%q)`, opener))

	thief := newDevice(t, base, firefoxWindows)
	thief.mustSignIn(email, password)
	a.waitUntil("the thief's device on the list, with no click", `document.querySelectorAll("#sessions > li").length === 3`)
	a.waitUntil("the focus kept on the row's button", fmt.Sprintf(`document.activeElement && document.activeElement.matches(%q)`, opener))

	// A dialog open: the list waits, and the typed password stays.
	a.openDialog(opener, "confirm-device")
	a.typeInto("#confirm-device-password", "half typed")
	other := newDevice(t, base, chromeAndroid)
	other.mustSignIn(email, password)
	if got := passwordValues(a, "confirm-device"); len(got) != 1 || got[0] != "half typed" || !js[bool](a, `document.getElementById("confirm-device").open`) {
		t.Errorf("the open dialog lost what was typed or closed: %q", got)
	}
	a.click(`#confirm-device button[command="close"]`)
	a.waitUntil("the fourth device once the dialog closed", `document.querySelectorAll("#sessions > li").length === 4`)
}

// TestLockWarningLeavesWithTheLock: someone guesses on the phone until confirming is
// locked there; the owner's open page warns at once, and the warning goes by itself when
// the lock ends, with one refresh for it, on a laptop whose clock runs ten minutes ahead
// of the server's as on one whose clock is right.
func TestLockWarningLeavesWithTheLock(t *testing.T) {
	for name, ahead := range map[string]time.Duration{"clock right": 0, "clock ten minutes ahead": 10 * time.Minute} {
		t.Run(name, func(t *testing.T) { lockWarningLeaves(t, ahead) })
	}
}

func lockWarningLeaves(t *testing.T, ahead time.Duration) {
	needBrowser(t)
	t.Parallel()
	base := startApp(t, func(c *handlers.Config) {
		l := models.DefaultLimits()
		l.Confirm.Lock = 6 * time.Second
		c.Limits = &l
		c.RefreshEvery = time.Hour // live events and the lock's own timer only
	})
	const email = "lock.leaves@example.com"
	laptop := chromeMac
	laptop.clockAhead = ahead
	a := newDevice(t, base, laptop)
	b := newDevice(t, base, safariIPhone)
	a.signUp(email)
	b.mustSignIn(email, password)
	a.open("/account/security")
	a.waitUntil("the live stream to open", `document.getElementById("live").getAttribute("data-state") === "open"`)
	b.open("/account/security")
	for i := range models.DefaultLimits().Confirm.Max {
		status := js[int](b, fmt.Sprintf(`(function () {
			var x = new XMLHttpRequest();
			x.open("POST", "/account/sessions/others/revoke", false);
			x.setRequestHeader("HX-Request", "true");
			x.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
			x.send("password=guess-%d");
			return x.status;
		})()`, i))
		if status != 422 && status != 429 {
			t.Fatalf("guess %d: %d", i+1, status)
		}
	}
	b.expect(`status of 4(22|29)|Synchronous XMLHttpRequest`)
	a.waitUntil("the warning on the owner's page", `/Someone typed wrong passwords/.test(document.getElementById("lock-warning").textContent)`)
	a.waitUntil("the page to settle", settledJS)
	before := js[int](a, `window.__e2e.refreshes`)
	a.waitUntil("the warning gone with the lock", `document.getElementById("lock-warning").textContent.trim() === ""`)
	if strings.TrimSpace(a.text("#lock-warning")) != "" {
		t.Error("the warning stayed")
	}
	// One refresh when the lock ends (a live event arriving late may add one): not one a
	// second, as a timer reckoned on the laptop's own clock would make.
	if n := js[int](a, `window.__e2e.refreshes`) - before; n > 2 {
		t.Errorf("%d refreshes while the lock ran out, want at most 2", n)
	}
}
