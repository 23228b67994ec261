package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// screenshotDir is where `task screenshots` writes the README's pictures.
const screenshotDir = "../docs/screenshots"

// TestScreenshots takes the Security page at laptop and phone widths, light and dark. The
// laptop (a Mac) and an iPad whose Safari sends the Mac's user agent sit side by side at
// the top of the list, told apart.
// With ELSEWHERE_SCREENSHOTS=1 it writes them to docs/screenshots for the README;
// otherwise to a temporary folder, so ordinary test runs leave the tree alone.
func TestScreenshots(t *testing.T) {
	needBrowser(t)
	dir := t.TempDir()
	if os.Getenv("ELSEWHERE_SCREENSHOTS") == "1" {
		dir = screenshotDir
	}
	t.Parallel()
	base := startApp(t)
	const email = "margaret@example.com"
	laptop := newDevice(t, base, chromeMac)
	phoneProfile := safariIPhone
	phoneProfile.scale = 2 // sharp enough, and half the bytes of a real iPhone's 3x
	phone := newDevice(t, base, phoneProfile)

	laptop.signUp(email)
	phone.mustSignIn(email, password)
	// Devices that only need to exist sign in over plain HTTP.
	signInOverHTTP(t, base, email, firefoxWindows.userAgent, nil)
	signInOverHTTP(t, base, email, chromeAndroid.userAgent, http.Header{
		"Sec-Ch-Ua":                  {`"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"`},
		"Sec-Ch-Ua-Mobile":           {"?1"},
		"Sec-Ch-Ua-Platform":         {`"Android"`},
		"Sec-Ch-Ua-Platform-Version": {`"14.0.0"`},
		"Sec-Ch-Ua-Model":            {`"Pixel 8"`},
	})
	signInOverHTTP(t, base, email, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", nil)

	// The laptop signs the Edge device out, so the page shows a notice and the log has
	// more than sign-ins.
	laptop.open("/account/security")
	edge := rowLabelled(laptop, `· Edge \d+$`)
	laptop.openDialog("#session-"+edge.ID+" button[data-dialog=confirm-device]", "confirm-device")
	laptop.typeInto("#confirm-device-password", password)
	laptop.click("#confirm-device button[type=submit]")
	laptop.waitUntil("the row to go", fmt.Sprintf(`!document.getElementById("session-%s") && document.getElementById("notice").innerText !== ""`, edge.ID))
	// Last, the iPad signs in through its browser, so it is listed right after the Mac.
	ipad := newDevice(t, base, safariIPad)
	ipad.mustSignIn(email, password)
	laptop.waitUntil("the iPad to be listed after the Mac", fmt.Sprintf(
		`Array.from(document.querySelectorAll("#sessions .session-label")).slice(0, 2).map(function (e) { return e.innerText; }).join("|").match(/%s/)`,
		`^Mac · Chrome \d+\|iPad · Safari \d+$`))
	js[bool](laptop, `document.activeElement.blur(); true`) // no focus ring in the picture
	phone.open("/account/security")

	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, shot := range []struct {
		name string
		d    *device
	}{{"laptop", laptop}, {"phone", phone}} {
		for _, scheme := range []string{"light", "dark"} {
			colorScheme(shot.d, scheme)
			shot.d.waitUntil("the page to settle before the "+scheme+" screenshot", settledJS)
			ctx, cancel := shot.d.bounded()
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			cancel()
			if err != nil {
				t.Fatalf("screenshot %s %s: %v", shot.name, scheme, err)
			}
			if len(png) < 10_000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
				t.Fatalf("screenshot %s %s: %d bytes, not a page-sized PNG", shot.name, scheme, len(png))
			}
			name := filepath.Join(dir, fmt.Sprintf("security-%s-%s.png", shot.name, scheme))
			if err := os.WriteFile(name, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", name)
		}
	}
}

// signInOverHTTP signs a device in without a browser, as a plain client with a user agent.
func signInOverHTTP(t *testing.T, base, email, userAgent string, hints http.Header) {
	t.Helper()
	form := url.Values{"email": {email}, "password": {password}}
	req, err := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Origin", base)
	for k, v := range hints {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	discard(resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/security" {
		t.Fatalf("sign-in over HTTP as %q: %s to %q", userAgent, resp.Status, resp.Header.Get("Location"))
	}
}
