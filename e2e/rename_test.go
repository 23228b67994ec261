package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestRenameADevice: "Rename" on the iPad's row opens the dialog every row shares, with
// the device named in its title; the name typed comes back in the row in place, the
// dialog closes, the log says so, and the other devices' open pages show it too. Opened
// again, the dialog holds the name.
func TestRenameADevice(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	base := startApp(t)
	const email = "rename.ipad@example.com"
	laptop := newDevice(t, base, chromeMac)
	ipad := newDevice(t, base, safariIPad)
	laptop.signUp(email)
	ipad.mustSignIn(email, password)
	laptop.open("/account/security")
	ipad.open("/account/security")
	row := rowLabelled(laptop, labelSafariIPad)

	laptop.openDialog("#session-"+row.ID+" button[data-dialog=name-device]", "name-device")
	if got := laptop.text("#name-device-title"); got != "Rename "+row.Label {
		t.Errorf("the dialog is titled %q", got)
	}
	laptop.typeInto("#name-device-name", "Anna’s iPad")
	laptop.click("#name-device button[type=submit]")
	laptop.waitUntil("the row to carry the name", fmt.Sprintf(
		`(function () { var r = document.getElementById("session-%s"); return !!r && r.querySelector(".session-label").innerText === "Anna’s iPad" && /iPad · Safari/.test(r.querySelector(".session-device").innerText) && !document.getElementById("name-device").open; })()`, row.ID))
	if got := laptop.text("#security-log li"); got == "" || !strings.Contains(got, "A device was named “Anna’s iPad”, from Mac · Chrome") {
		t.Errorf("the log's newest entry is %q", got)
	}
	ipad.waitUntil("the iPad's own page to show its name", `Array.from(document.querySelectorAll("#sessions .session-label")).some(function (e) { return e.innerText === "Anna’s iPad"; })`)

	laptop.openDialog("#session-"+row.ID+" button[data-dialog=name-device]", "name-device")
	if got := js[string](laptop, `document.getElementById("name-device-name").value`); got != "Anna’s iPad" {
		t.Errorf("opened again, the dialog holds %q", got)
	}
}
