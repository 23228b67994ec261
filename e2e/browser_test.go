// Package e2e drives the real app in headless Chromium, as people on several devices
// use it: one Chromium process, and one browser context (its own cookies, user agent
// and screen) for each device.
//
// Without a browser on PATH the tests skip; with ELSEWHERE_REQUIRE_BROWSER=1 (CI) they
// fail instead. ELSEWHERE_SCREENSHOTS=1 also writes docs/screenshots/*.png.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// browserNames are the executables looked for on PATH, in order.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// browser is the one Chromium process the tests share, started by TestMain.
var browser struct {
	ctx  context.Context // a chromedp context whose browser is running; nil when none
	path string
	err  error // why there is no browser
}

func TestMain(m *testing.M) {
	os.Exit(runWithBrowser(m))
}

// runWithBrowser starts Chromium (when there is one), runs the tests and stops it.
func runWithBrowser(m *testing.M) int {
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			browser.path = p
			break
		}
	}
	if browser.path == "" {
		browser.err = fmt.Errorf("no browser found on PATH (looked for %v); install one, e.g. `apt-get install chromium`", browserNames)
		return m.Run()
	}
	profile, err := os.MkdirTemp("", "elsewhere-e2e-profile-")
	if err != nil {
		browser.err = err
		return m.Run()
	}
	defer os.RemoveAll(profile)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser.path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		// The machine may have no network: keep Chromium from calling home, so the only
		// requests it makes are the app's.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		browser.err = fmt.Errorf("start %s: %w", browser.path, err)
		return m.Run()
	}
	browser.ctx = ctx
	return m.Run()
}

// needBrowser skips the test when there is no browser, or fails it when CI requires one.
func needBrowser(t *testing.T) {
	t.Helper()
	if browser.ctx != nil {
		return
	}
	if os.Getenv("ELSEWHERE_REQUIRE_BROWSER") == "1" {
		t.Fatalf("browser tests required (ELSEWHERE_REQUIRE_BROWSER=1): %v", browser.err)
	}
	t.Skipf("skipping browser tests: %v", browser.err)
}
