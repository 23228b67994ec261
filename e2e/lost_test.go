package e2e

import (
	"fmt"
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

	bRow := rowLabelled(a, labelSafariIPhone)
	lost := "lost-" + bRow.ID
	a.openDialog(fmt.Sprintf(`#session-%s button[commandfor=%q]`, bRow.ID, lost), lost)
	if got := a.text("#" + lost + "-title"); !strings.Contains(got, "Lost or stolen") {
		t.Errorf("the dialog is titled %q", got)
	}
	a.typeInto("#"+lost+"-password", password)
	a.typeInto("#"+lost+"-new-password", newPassword)
	a.click("#" + lost + " button[type=submit]")
	a.waitUntil("only this device on the list", `document.querySelectorAll("#sessions > li").length === 1 && !document.querySelector("dialog[open]")`)
	if got := a.text("#notice"); !strings.Contains(got, "signed out as lost or stolen") {
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
