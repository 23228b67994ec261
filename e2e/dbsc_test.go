package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models/mailer/mailtest"
)

// boundAge is the bound cookie's lifetime in the DBSC test: the shortest the app takes,
// so the test outlives several in well under a minute.
const boundAge = 10 * time.Second

// dbscFeatures turns Device Bound Session Credentials on in Chromium, with a software key
// where there is no TPM, and without the refresh quota, which a 10-second cookie would
// run out of (../shared/notes/dbsc.md).
const dbscFeatures = "DeviceBoundSessions:RefreshQuota/false,EnableBoundSessionCredentialsSoftwareKeysForManualTesting"

// startDBSCBrowser starts a Chromium of its own with DBSC on, on a fresh profile.
func startDBSCBrowser(t *testing.T) context.Context {
	t.Helper()
	needBrowser(t)
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser.path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("enable-features", dbscFeatures),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s with DBSC: %v", browser.path, err)
	}
	return ctx
}

// dbscWatch counts, on the server's side, what the DBSC browser asks: registrations and
// refreshes answered with a new bound cookie, and requests after the sign-in that were
// refused as signed out.
type dbscWatch struct {
	mu                    sync.Mutex
	registered, refreshed int
	refused               []string
	signedIn              bool
}

func (w *dbscWatch) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: rw, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		w.mu.Lock()
		defer w.mu.Unlock()
		_, errS := r.Cookie("elsewhere_session")
		switch {
		case r.URL.Path == "/dbsc/register" && rec.status == http.StatusOK:
			w.registered++
		case r.URL.Path == "/dbsc/refresh" && rec.status == http.StatusOK:
			w.refreshed++
		case r.URL.Path == "/login" && r.Method == http.MethodPost && rec.status == http.StatusSeeOther:
			w.signedIn = true
		case w.signedIn && errS == nil && !strings.HasPrefix(r.URL.Path, "/dbsc/"):
			if loc := rec.Header().Get("Location"); rec.status == http.StatusUnauthorized || strings.HasSuffix(loc, "/login") {
				w.refused = append(w.refused, fmt.Sprintf("%s %s: %d %s", r.Method, r.URL.Path, rec.status, loc))
			}
		}
	})
}

func (w *dbscWatch) counts() (registered, refreshed int, refused []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.registered, w.refreshed, append([]string(nil), w.refused...)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }

// Flush keeps the live stream streaming through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// TestDeviceBoundSessionInChromium is issue 22's browser test: Chromium with DBSC signs
// in, registers a key, and keeps browsing for several bound-cookie lifetimes, refreshing
// with proofs of its key, without one request refused; its row says "Bound to this
// device". Then its session cookie, copied out with the bound cookie of the moment into a
// plain HTTP client, works only until that bound cookie expires; after that it is
// refused, and the owner's log, the row and an alert mail say the sign-in was used
// without its key.
func TestDeviceBoundSessionInChromium(t *testing.T) {
	sink := mailtest.Start(t, "")
	watch := &dbscWatch{}
	base := startAppWrapped(t, watch.wrap, withMail(t, sink), func(c *handlers.Config) { c.BoundCookieAge = boundAge })
	ctx := startDBSCBrowser(t)
	owner := newDevice(t, base, chromeMac) // the owner's other device, which reads the log
	owner.signUp("ann@example.com")
	// DevTools counts the browser's own view of its DBSC sessions.
	var (
		mu     sync.Mutex
		events = map[string]int{}
	)
	listen := func(ev any) {
		if e, ok := ev.(*network.EventDeviceBoundSessionEventOccurred); ok {
			mu.Lock()
			kind := "other"
			switch {
			case e.CreationEventDetails != nil:
				kind = "creation"
			case e.RefreshEventDetails != nil:
				kind = "refresh"
			case e.ChallengeEventDetails != nil:
				kind = "challenge"
			case e.TerminationEventDetails != nil:
				kind = "termination"
			}
			events[kind]++
			mu.Unlock()
		}
	}
	laptop := newDeviceIn(t, ctx, false, base, chromeMac, listen)
	laptop.expect(`/dbsc/refresh`) // the refresh's first answer is a 403 with the challenge
	laptop.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.EnableDeviceBoundSessions, network.EnableDeviceBoundSessionsParams{Enable: true})
		return err
	}))

	laptop.mustSignIn("ann@example.com", password)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if reg, _, _ := watch.counts(); reg == 1 {
			break
		}
		if time.Now().After(deadline) {
			mu.Lock()
			defer mu.Unlock()
			msg := fmt.Sprintf("Chromium did not register a key within 15 s of signing in (DevTools DBSC events: %v): "+
				"this build does not do DBSC with %s", events, dbscFeatures)
			if os.Getenv("ELSEWHERE_REQUIRE_DBSC") == "1" {
				t.Fatal(msg)
			}
			t.Skip(msg + "; ELSEWHERE_REQUIRE_DBSC=1 makes this a failure")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Browse for more than three bound-cookie lifetimes: every page, its assets and its
	// live stream must get through, the browser refreshing its bound cookie as it goes.
	start := time.Now()
	for time.Since(start) < 3*boundAge+5*time.Second {
		if st := laptop.open("/account/security"); st != http.StatusOK {
			t.Fatalf("browsing after %s: the Security page answered %d", time.Since(start).Round(time.Second), st)
		}
		laptop.waitUntil("the page to be settled", settledJS)
		time.Sleep(time.Second) // a person reading
	}
	_, refreshed, refused := watch.counts()
	if len(refused) > 0 {
		t.Fatalf("requests of the bound browser were refused: %v", refused)
	}
	if refreshed < 3 {
		t.Fatalf("%d refreshes over more than three bound-cookie lifetimes, want at least 3", refreshed)
	}
	mu.Lock()
	t.Logf("server: %d registration, %d refreshes; DevTools events: %v", 1, refreshed, events)
	mu.Unlock()
	laptop.waitUntil("the row to say it is bound", `(function(){ var r = document.querySelector('[data-current="true"]');
		return r && r.innerText.includes("Bound to this device"); })()`)

	// The copy: the session cookie and the bound cookie of the moment, into a plain client.
	var sessionCk, boundCk *network.Cookie
	laptop.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{})
		for _, c := range res.Cookies {
			switch c.Name {
			case "elsewhere_session":
				sessionCk = c
			case "elsewhere_bound":
				boundCk = c
			}
		}
		return err
	}))
	if sessionCk == nil || boundCk == nil {
		t.Fatalf("the browser's cookies: session %v, bound %v", sessionCk != nil, boundCk != nil)
	}
	copied := time.Now()
	thief := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func() int {
		req, _ := http.NewRequest("GET", base+"/account/security", nil)
		req.AddCookie(&http.Cookie{Name: sessionCk.Name, Value: sessionCk.Value})
		req.AddCookie(&http.Cookie{Name: boundCk.Name, Value: boundCk.Value})
		res, err := thief.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := get(); st != http.StatusOK {
		t.Fatalf("the copy with a live bound cookie got %d; the test means to show it stops working", st)
	}
	for get() == http.StatusOK {
		if time.Since(copied) > boundAge+5*time.Second {
			t.Fatalf("the copied cookie still works %s after it was copied; the bound cookie lasts %s", time.Since(copied).Round(time.Second), boundAge)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if waited := time.Since(copied); waited > boundAge+2*time.Second {
		t.Errorf("the copy was refused only %s after copying", waited.Round(time.Millisecond))
	}

	// The owner hears of it: the log, the row, a mail.
	owner.open("/account/security")
	owner.waitUntil("the log to say the sign-in was used without its key",
		`(function(){ var e = document.querySelector('#security-log [data-event="key-missing"]');
			return e && e.innerText.includes("used without its key") && e.innerText.includes("127.0.0.1"); })()`)
	owner.waitUntil("the laptop's row to say it", `!!document.querySelector('[data-key-missing="true"]')`)
	for i := 0; ; i++ {
		m := sink.Next(t)
		if strings.Contains(m.Text, "this device's sign-in was used without its key") && strings.Contains(m.Text, "127.0.0.1") {
			break
		}
		if i == 3 {
			t.Fatalf("no alert says the sign-in was used without its key; the last:\n%s", m.Text)
		}
	}
	// And the bound browser still is signed in.
	if st := laptop.open("/account/security"); st != http.StatusOK || laptop.path() != "/account/security" {
		t.Fatalf("the bound browser after the copy was refused: %d %s", st, laptop.path())
	}
	if _, _, refused := watch.counts(); len(refused) > 0 {
		t.Fatalf("requests of the bound browser were refused: %v", refused)
	}
}
