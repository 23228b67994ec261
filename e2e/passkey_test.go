package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/elsewhere-dev/elsewhere/handlers"
)

// startPasskeyApp serves the app at http://localhost:port: passkeys need a domain (a
// WebAuthn relying party is never an IP address), and localhost is a secure context.
func startPasskeyApp(t *testing.T, mod ...func(*handlers.Config)) string {
	t.Helper()
	mod = append([]func(*handlers.Config){func(c *handlers.Config) {
		c.BaseURL = strings.Replace(c.BaseURL, "127.0.0.1", "localhost", 1)
	}}, mod...)
	return strings.Replace(startApp(t, mod...), "127.0.0.1", "localhost", 1)
}

// virtualAuthenticator gives the device's tab a platform authenticator (CTAP2, internal
// transport, resident keys, user verification that succeeds) through DevTools' WebAuthn
// domain, and returns its id.
func (d *device) virtualAuthenticator() webauthn.AuthenticatorID {
	d.t.Helper()
	var id webauthn.AuthenticatorID
	d.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
				IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		})
		id = res.AuthenticatorID
		return err
	}))
	return id
}

// userVerified makes the authenticator's user verification succeed or fail.
func (d *device) userVerified(id webauthn.AuthenticatorID, ok bool) {
	d.t.Helper()
	d.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: id, IsUserVerified: ok})
		return err
	}))
}

// passkeyCount is how many passkeys the Security page lists.
const passkeyCount = `document.querySelectorAll("#passkeys > li").length`

// addPasskey adds a passkey named name from the Security page, confirming with the password.
func (d *device) addPasskey(name string) {
	d.t.Helper()
	d.open(d.prefix + "/account/security")
	before := js[int](d, passkeyCount)
	d.typeInto("#passkey-name", name)
	d.typeInto("#passkey-password", password)
	d.click("#passkey-add-submit")
	d.waitUntil("the new passkey to be listed", passkeyCount+` === `+strconv.Itoa(before+1)+` && `+settledJS)
	if got := d.text("#passkeys"); !strings.Contains(got, name) {
		d.t.Fatalf("%s: the passkeys listed: %q, want %q among them", d.name, got, name)
	}
}

// noAutofill makes the device's browser one without passkey autofill (conditional
// mediation), so its sign-in page offers passkeys through the button alone.
func (d *device) noAutofill() {
	d.t.Helper()
	d.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = function () { return Promise.resolve(false); };`,
		})
		return err
	}))
}

// passkeyAnswered is a JavaScript condition: the passkey sign-in was answered (the
// browser left the sign-in page, or it shows why not) and the page is settled.
func (d *device) passkeyAnswered() string {
	return fmt.Sprintf(`(location.pathname !== %q || document.querySelector(".notice-error") || document.getElementById("passkey-signin-error").innerText !== "") && `, d.prefix+"/login") + settledJS
}

// passkeySignIn signs in with a passkey from the sign-in page and returns the path shown
// after the answer: by the button, or, with autofill, by opening the page (the virtual
// authenticator picks the one passkey there is at once, as a person picking it from
// the email field's suggestions would).
func (d *device) passkeySignIn(autofill bool) string {
	d.t.Helper()
	d.open(d.prefix + "/login")
	if !autofill {
		d.waitUntil("the passkey button", `!document.getElementById("passkey-signin").hidden`)
		d.click("#passkey-signin-button")
	}
	d.waitUntil("the answer to the passkey sign-in", d.passkeyAnswered())
	return d.path()
}

// TestPasskeySignInAndConfirm: a passkey added on the laptop signs it in again after it
// signs out, through the button; it confirms signing the phone out in place of the
// password; with user verification failing, the confirmation is refused and counted on
// the laptop as a wrong password is.
func TestPasskeySignInAndConfirm(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	// Every confirmation asks (no window), so each refused passkey is one more attempt.
	base := startPasskeyApp(t, func(c *handlers.Config) { c.ConfirmWindow = 0 })
	const email = "passkey.owner@example.com"
	a := newDevice(t, base, chromeMac)
	b := newDevice(t, base, safariIPhone)
	auth := a.virtualAuthenticator()
	a.signUp(email)
	b.mustSignIn(email, password)
	a.addPasskey("Work laptop")
	if got := a.text("#security-log"); !strings.Contains(got, "Passkey added: Work laptop") {
		t.Errorf("the log says %q", got)
	}

	// Sign out, and back in with the passkey alone.
	a.submit(`form[action="/logout"] button[type=submit]`)
	if p := a.passkeySignIn(true); p != "/account/security" {
		t.Fatalf("the passkey sign-in (autofill) led to %s; the page says %q", p, a.text("main"))
	}
	if got := a.text("#passkeys"); !strings.Contains(got, "Last used") {
		t.Errorf("after the sign-in the passkey shows %q, want when it was last used", got)
	}

	// User verification fails in the authenticator: the browser refuses before anything
	// is sent, and nothing was used.
	bRow := rowLabelled(a, labelSafariIPhone)
	a.userVerified(auth, false)
	a.openDialog("#session-"+bRow.ID+" button[data-dialog=confirm-device]", "confirm-device")
	a.click("#confirm-device button[data-passkey-confirm]")
	a.waitUntil("the refusal in the dialog", `document.getElementById("confirm-device-error").innerText !== ""`)
	if got := a.text("#confirm-device-error"); got != "No passkey was used." {
		t.Fatalf("with user verification failing the dialog says %q", got)
	}

	// Verified: the phone is signed out.
	a.userVerified(auth, true)
	a.click("#confirm-device button[data-passkey-confirm]")
	a.waitUntil("the phone's row to go", `document.querySelectorAll("#sessions > li").length === 1 && !document.querySelector("dialog[open]")`)
	if got := a.text("#notice"); !strings.Contains(got, "Signed out") {
		t.Errorf("the notice says %q", got)
	}
	waitSignedOut(t, b)

	// An answer without user verification reaches the server (the authenticator clears
	// the UV bit): refused there, and counted toward this device's lock as a wrong
	// password is, until confirming is locked here.
	b.mustSignIn(email, password)
	a.waitUntil("the phone back on the list", `document.querySelectorAll("#sessions > li").length === 2 && `+settledJS)
	a.expect(`status of 422`)
	a.expect(`status of 429`)
	a.badUV(auth, true)
	bRow = rowLabelled(a, labelSafariIPhone)
	a.openDialog("#session-"+bRow.ID+" button[data-dialog=confirm-device]", "confirm-device")
	for i := 1; ; i++ {
		js[bool](a, `(function () { document.getElementById("confirm-device-error").textContent = ""; return true })()`)
		a.click("#confirm-device button[data-passkey-confirm]")
		a.waitUntil("the refusal in the dialog", `document.getElementById("confirm-device-error").innerText !== "" && `+settledJS)
		got := a.text("#confirm-device-error")
		if strings.Contains(got, "confirming is locked here") {
			if i != 5 {
				t.Errorf("locked after %d refused passkeys, want 5 (as wrong passwords)", i)
			}
			break
		}
		if !strings.Contains(got, "passkey was not accepted") || i >= 5 {
			t.Fatalf("refused passkey %d: the dialog says %q", i, got)
		}
	}
	a.badUV(auth, false)
	js[bool](a, `(function () { document.getElementById("confirm-device-error").textContent = ""; return true })()`)
	a.click("#confirm-device button[data-passkey-confirm]")
	a.waitUntil("the answer in the dialog", `document.getElementById("confirm-device-error").innerText !== "" && `+settledJS)
	if got := a.text("#confirm-device-error"); !strings.Contains(got, "confirming is locked here") {
		t.Errorf("a good passkey while locked: the dialog says %q, want the lock", got)
	}
	a.open("/account/security")
	if got := a.text("#security-log"); !strings.Contains(got, "Confirmation locked on") {
		t.Errorf("the log says %q", got)
	}
}

// badUV makes the authenticator clear the user-verified bit of its answers (DevTools'
// response override), as an authenticator that skipped verification would.
func (d *device) badUV(id webauthn.AuthenticatorID, on bool) {
	d.t.Helper()
	d.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{AuthenticatorID: id, IsBadUV: &on})
		return err
	}))
}

// TestLostDeviceLosesItsPasskey: the phone and the laptop each add a passkey, on
// authenticators of their own; both sign in with it. Then "Lost or stolen?" from the
// laptop removes the phone's passkey, and the phone's sign-in with it fails.
func TestLostDeviceLosesItsPasskey(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	base := startPasskeyApp(t)
	const email = "two.passkeys@example.com"
	a := newDevice(t, base, chromeMac)
	b := newDevice(t, base, safariIPhone)
	a.virtualAuthenticator()
	b.noAutofill()
	b.virtualAuthenticator()
	a.signUp(email)
	b.mustSignIn(email, password)
	a.addPasskey("Laptop")
	b.addPasskey("Phone")
	if n := js[int](b, passkeyCount); n != 2 {
		t.Fatalf("passkeys listed: %d, want 2", n)
	}
	// Each signs in with its own: the laptop from the email field's autofill, the phone
	// with the button.
	for _, d := range []*device{a, b} {
		d.submit(`form[action="/logout"] button[type=submit]`)
		if p := d.passkeySignIn(d == a); p != "/account/security" {
			t.Fatalf("%s: passkey sign-in led to %s: %q", d.name, p, d.text("main"))
		}
	}

	a.open("/account/security")
	bRow := rowLabelled(a, labelSafariIPhone)
	a.openDialog("#session-"+bRow.ID+" button[data-dialog=lost-device]", "lost-device")
	a.typeInto("#lost-device-password", password)
	a.typeInto("#lost-device-new-password", newPassword)
	a.click("#lost-device button[type=submit]")
	a.waitUntil("only this device on the list", `document.querySelectorAll("#sessions > li").length === 1 && !document.querySelector("dialog[open]")`)
	waitSignedOut(t, b)
	a.open("/account/security")
	if got := a.text("#passkeys"); strings.Contains(got, "Phone") || !strings.Contains(got, "Laptop") {
		t.Errorf("passkeys after the phone was lost: %q, want the laptop's only", got)
	}
	if got := a.text("#security-log"); !strings.Contains(got, "Passkeys removed so no one else keeps them: Phone") {
		t.Errorf("the log says %q", got)
	}

	b.expect(`status of 401 .*/login/passkey`)
	if p := b.passkeySignIn(false); p == "/account/security" {
		t.Fatal("the lost phone's passkey still signs in")
	}
	if got := b.text("main"); !strings.Contains(got, "passkey was not accepted") {
		t.Errorf("the phone's sign-in page says %q", got)
	}
}

// TestPasskeysWithoutJavaScript: without JavaScript the Security page says passkeys need
// it, offers no passkey controls, and a password still confirms.
func TestPasskeysWithoutJavaScript(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	base := startPasskeyApp(t)
	a := newDevice(t, base, chromeMac)
	a.signUp("no.script@example.com")
	a.disableScripts(true)
	if st := a.open("/account/security"); st != http.StatusOK {
		t.Fatalf("the page: %d", st)
	}
	if got := a.text("#passkeys-section"); !strings.Contains(got, "needs JavaScript") {
		t.Errorf("the Passkeys section says %q", got)
	}
	if js[bool](a, `!document.getElementById("passkey-add").hidden`) {
		t.Error("the add form shows without JavaScript")
	}
}

// TestPasskeysUnderAPrefix: with the app under /sub (a base URL with a path), a passkey
// is added and signs in with the button, every request under the prefix.
func TestPasskeysUnderAPrefix(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	base := startPasskeyApp(t, func(c *handlers.Config) { c.BaseURL += "/sub" })
	a := newDevice(t, base, chromeMac)
	a.prefix = "/sub"
	a.noAutofill()
	a.virtualAuthenticator()
	a.signUp("prefixed@example.com")
	a.addPasskey("Under sub")
	a.submit(`form[action="/sub/logout"] button[type=submit]`)
	if p := a.passkeySignIn(false); p != "/sub/account/security" {
		t.Fatalf("the passkey sign-in under /sub led to %s: %q", p, a.text("main"))
	}
	if got := a.text("#passkeys"); !strings.Contains(got, "Last used") {
		t.Errorf("the passkey under /sub shows %q, want when it was last used", got)
	}
	checkAccessibility(t, a, "the Security page with a passkey")
	checkLayout(t, a, "the Security page with a passkey")
}
