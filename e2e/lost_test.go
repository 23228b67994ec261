package e2e

import (
	"strings"
	"testing"
)

// TestLostOrStolen: from the laptop, "Lost or stolen?" on the phone's row signs the phone
// out, sets a new password and signs every other device out in one step; the open pages
// on the other devices go to the sign-in page by themselves, and only the new password
// signs in.
func TestLostOrStolen(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	base := startApp(t)
	const email = "lost.phone@example.com"
	a := newDevice(t, base, chromeMac)
	b := newDevice(t, base, safariIPhone)
	c := newDevice(t, base, firefoxWindows)
	a.signUp(email)
	b.mustSignIn(email, password)
	c.mustSignIn(email, password)
	a.open("/account/security")
	a.waitUntil("three devices on A's page", `document.querySelectorAll("#sessions > li").length === 3`)

	// Every row shares the dialog: opened from C's row and closed, then from B's, it
	// names B and acts on B.
	bRow, cRow := rowLabelled(a, labelSafariIPhone), rowLabelled(a, labelFirefoxWin)
	lost := "lost-device"
	a.openDialog("#session-"+cRow.ID+" button[data-dialog=lost-device]", lost)
	if got := a.text("#" + lost + "-title"); got != "Lost or stolen: "+cRow.Label {
		t.Errorf("opened from C's row, the dialog is titled %q", got)
	}
	a.click("#" + lost + ` button[command="close"]`)
	a.waitUntil("the dialog to close", `!document.getElementById("lost-device").open`)
	a.openDialog("#session-"+bRow.ID+" button[data-dialog=lost-device]", lost)
	if got := a.text("#" + lost + "-title"); got != "Lost or stolen: "+bRow.Label {
		t.Errorf("opened from B's row, the dialog is titled %q", got)
	}
	if got := a.text("#" + lost + "-body"); !strings.Contains(got, bRow.Label+" is signed out now") {
		t.Errorf("opened from B's row, the dialog says %q", got)
	}
	if got := js[string](a, `document.activeElement.id`); got != lost+"-password" {
		t.Errorf("focus is on #%s when the dialog opens, want #%s-password", got, lost)
	}
	a.typeInto("#"+lost+"-password", password)
	a.typeInto("#"+lost+"-new-password", newPassword)
	a.click("#" + lost + " button[type=submit]")
	a.waitUntil("only this device on the list", `document.querySelectorAll("#sessions > li").length === 1 && !document.querySelector("dialog[open]")`)
	if got := a.text("#notice"); !strings.Contains(got, "signed out as lost or stolen") || !strings.Contains(got, bRow.Label) {
		t.Errorf("notice says %q", got)
	}
	waitSignedOut(t, b)
	waitSignedOut(t, c)
	if p := b.signIn(email, password); p == "/account/security" {
		t.Errorf("the old password still signs in")
	}
	b.expect(`status of 401 .*/login`)
	b.mustSignIn(email, newPassword)
}
