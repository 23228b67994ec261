package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elsewhere-dev/elsewhere/examples/starter/app"
)

// startStarter serves the example host app (Elsewhere under /auth) on a real socket.
func startStarter(t *testing.T) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	// The app stops after the test's browsers have closed their pages (cleanups run last
	// registered first), as a server would outlive the visit; t.Context ends before them.
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	s, err := app.New(ctx, filepath.Join(t.TempDir(), "starter.db"), "http://"+srv.Listener.Addr().String(), nil)
	if err != nil {
		t.Fatalf("build the starter: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	srv.Config.Handler = s.Handler
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestStarter: in a host app with Elsewhere mounted under /auth, a person reaches the
// dashboard through the prefixed sign-up, sees their devices in the host's layout, signs
// the phone out through its dialog (htmx, under /auth), and the phone loses the host's
// dashboard at its next request. Every page keeps to the CSP and requests nothing
// outside the app.
func TestStarter(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	base := startStarter(t)
	const email = "starter.owner@example.com"
	a := newDevice(t, base, chromeMac)
	b := newDevice(t, base, safariIPhone)
	a.prefix, b.prefix = "/auth", "/auth"

	a.open("/dashboard")
	if p := a.path(); p != "/auth/login" {
		t.Fatalf("signed out, /dashboard led to %s, want /auth/login", p)
	}
	a.signUp(email)
	if got := a.text(".starter-nav"); !strings.Contains(got, "Dashboard") {
		t.Errorf("the Security page is not in the host's layout: nav says %q", got)
	}
	a.open("/dashboard")
	if got := a.text("#dashboard-user"); !strings.Contains(got, email) {
		t.Errorf("the dashboard says %q, want the email", got)
	}

	b.mustSignIn(email, password)
	b.open("/dashboard")

	a.open("/auth/account/security")
	a.waitUntil("the phone on the laptop's page", hasRowJS(labelSafariIPhone))
	bRow := rowLabelled(a, labelSafariIPhone)
	dlg := "confirm-device"
	a.openDialog("#session-"+bRow.ID+" button[data-dialog=confirm-device]", dlg)
	a.typeInto("#"+dlg+"-password", password)
	a.click("#" + dlg + " button[type=submit]")
	a.waitUntil("the phone's row to go", fmt.Sprintf(`!document.getElementById("session-%s")`, bRow.ID))

	b.open("/dashboard")
	if p := b.path(); p != "/auth/login" {
		t.Errorf("the signed-out phone's /dashboard led to %s, want /auth/login", p)
	}
}
