package handlers_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db/dbtest"
)

// loadSize reads a positive integer from the environment, or gives def.
func loadSize(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// loadDevice is one device of the load test; it runs on its own goroutine.
type loadDevice struct {
	*device
	email    string
	signedIn bool
	handle   string   // its own session's handle while signed in
	others   []string // the other handles its last page listed
	rnd      *rand.Rand
}

// try makes one request like device.do, but returns transport errors instead of
// failing the test (it runs off the test goroutine).
func (d *loadDevice) try(method, path string, form url.Values, hx bool) (response, error) {
	var (
		body io.Reader
		ct   string
	)
	if form != nil {
		body, ct = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	}
	req, err := d.request(method, path, body, ct, hx)
	if err != nil {
		return response{}, err
	}
	return d.roundTrip(req)
}

// TestLoad has many devices of a few accounts sign in, read their pages and sign each
// other out, all at once. It reports throughput and latency, and ends with no 5xx and
// every token whose session is gone refused. ELSEWHERE_LOAD_DEVICES and
// ELSEWHERE_LOAD_REQUESTS make it bigger.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	runLoad(t, newTestApp(t))
}

// TestLoadTwoAppServers is TestLoad with two app servers on one PostgreSQL database:
// every request goes to either, at random, as behind a load balancer, while some pages
// hold live streams on either server.
func TestLoadTwoAppServers(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	dsn := dbtest.PostgresDSN(t)
	runLoad(t, newTestAppOn(t, dsn, []string{"127.0.0.1/32"}), newTestAppOn(t, dsn, []string{"127.0.0.1/32"}))
}

// runLoad runs the load test against apps sharing one database; each request goes to one
// of them at random.
func runLoad(t *testing.T, apps ...*testApp) {
	nDevices := loadSize(t, "ELSEWHERE_LOAD_DEVICES", 20)
	nRequests := loadSize(t, "ELSEWHERE_LOAD_REQUESTS", 2000)
	deadline := time.Now().Add(time.Duration(loadSize(t, "ELSEWHERE_LOAD_SECONDS", 120)) * time.Second)
	ta := apps[0]
	nUsers := max(2, nDevices/5)
	for u := range nUsers {
		// Each account from its own address: one address may make only ten sign-ups an hour.
		ta.device("setup", uaChromeMac, fmt.Sprintf("192.0.2.%d", u%250+1)).signup(fmt.Sprintf("user%d@example.com", u), testPassword)
	}
	uas := []string{uaChromeMac, uaSafariIPhone, uaFirefoxWindow}

	var (
		issued    atomic.Int64 // requests started
		mu        sync.Mutex
		latencies []time.Duration
		statuses  = map[string]int{}
		failures  []string
		errs      int                   // requests that got no answer
		serverErr int                   // answers with a 5xx status
		tokens    = map[string]string{} // handle -> token, for every session ever signed in
		revoked   []string              // handles a revoke reported as signed out
	)
	record := func(kind string, took time.Duration, r response, err error, ok ...int) {
		mu.Lock()
		defer mu.Unlock()
		latencies = append(latencies, took)
		if err != nil {
			errs++
			failures = append(failures, fmt.Sprintf("%s: %v", kind, err))
			return
		}
		if r.status >= 500 {
			serverErr++
		}
		statuses[fmt.Sprintf("%s %d", kind, r.status)]++
		if r.status >= 500 || !slices.Contains(ok, r.status) {
			failures = append(failures, fmt.Sprintf("%s: unexpected %d %.200q", kind, r.status, r.body))
		}
	}
	step := func(d *loadDevice) {
		d.ta = apps[d.rnd.IntN(len(apps))]
		start := time.Now()
		switch p := d.rnd.IntN(100); {
		case !d.signedIn:
			form := url.Values{"email": {d.email}, "password": {testPassword}}
			r, err := d.try("POST", "/login", form, false)
			record("login", time.Since(start), r, err, http.StatusSeeOther)
			if err == nil && r.status == http.StatusSeeOther {
				d.signedIn, d.handle = true, ""
			}
		case p < 60 || d.handle == "":
			hx := p%2 == 0 && d.handle != ""
			r, err := d.try("GET", "/account/security", nil, hx)
			record("page", time.Since(start), r, err, http.StatusOK, http.StatusSeeOther, http.StatusUnauthorized)
			if err != nil {
				return
			}
			if r.status != http.StatusOK {
				d.signedIn = false
				return
			}
			d.others = d.others[:0]
			for _, rw := range parseRows(t, r.body) {
				if rw.current && d.handle == "" {
					d.handle = rw.sessionID
					mu.Lock()
					tokens[rw.sessionID] = d.cookie()
					mu.Unlock()
				} else if !rw.current {
					d.others = append(d.others, rw.sessionID)
				}
			}
		case p < 92 && len(d.others) > 0:
			target := d.others[d.rnd.IntN(len(d.others))]
			r, err := d.try("POST", "/account/sessions/"+target+"/revoke", pw(testPassword), p%2 == 0)
			record("revoke", time.Since(start), r, err, http.StatusOK, http.StatusSeeOther, http.StatusNotFound, http.StatusUnauthorized)
			if err == nil && (r.status == http.StatusOK || r.status == http.StatusSeeOther && r.location() == "/account/security") {
				mu.Lock()
				revoked = append(revoked, target)
				mu.Unlock()
			} else if err == nil && r.status != http.StatusNotFound {
				d.signedIn = false // it was itself signed out meanwhile
			}
		case p < 94:
			r, err := d.try("POST", "/account/sessions/others/revoke", pw(testPassword), true)
			record("others", time.Since(start), r, err, http.StatusOK, http.StatusUnauthorized)
			if err == nil && r.status != http.StatusOK {
				d.signedIn = false
			}
		default:
			r, err := d.try("POST", "/logout", nil, false)
			record("logout", time.Since(start), r, err, http.StatusSeeOther)
			d.signedIn = false
		}
	}

	// Live pages: the first account's first devices hold a stream each, on either server,
	// and count what they are told.
	var pushed atomic.Int64
	for i := range min(4, nUsers) {
		w := apps[i%len(apps)].device(fmt.Sprintf("watcher%d", i), uaChromeMac, fmt.Sprintf("198.18.0.%d", i+1))
		w.login(fmt.Sprintf("user%d@example.com", i), testPassword)
		s := w.openStream("")
		if s.status != http.StatusOK {
			t.Fatalf("watcher stream: %d", s.status)
		}
		go func() {
			for ev := range s.events {
				if ev.name == "sessions" {
					pushed.Add(1)
				}
			}
		}()
	}

	began := time.Now()
	var wg sync.WaitGroup
	for i := range nDevices {
		d := &loadDevice{device: ta.device(fmt.Sprintf("dev%d", i), uas[i%len(uas)], fmt.Sprintf("198.51.%d.%d", i/250, i%250)),
			email: fmt.Sprintf("user%d@example.com", i%nUsers), rnd: rand.New(rand.NewPCG(uint64(i), 1))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for issued.Add(1) <= int64(nRequests) && time.Now().Before(deadline) {
				step(d)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)

	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))] }
	t.Logf("%d requests from %d devices of %d accounts in %v (%.0f/s); latency p50 %v p90 %v p99 %v max %v; %d errors",
		len(latencies), nDevices, nUsers, elapsed.Round(time.Millisecond), float64(len(latencies))/elapsed.Seconds(),
		pct(0.50), pct(0.90), pct(0.99), latencies[len(latencies)-1], len(failures))
	keys := make([]string, 0, len(statuses))
	for k := range statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s:%d ", k, statuses[k])
	}
	t.Logf("statuses: %s", b.String())
	for i, f := range failures {
		if i == 20 {
			t.Errorf("... and %d more", len(failures)-20)
			break
		}
		t.Error(f)
	}
	t.Logf("%d transport errors, %d 5xx answers; %d app server(s) on %s; %d changes pushed to %d open pages",
		errs, serverErr, len(apps), ta.db.Engine, pushed.Load(), min(4, nUsers))
	if errs != 0 || serverErr != 0 {
		t.Errorf("%d requests got no answer and %d got a 5xx, want none", errs, serverErr)
	}
	if len(failures) != 0 {
		t.Errorf("%d requests failed or got an answer they should not have", len(failures))
	}
	if len(latencies) < nRequests/2 {
		t.Errorf("only %d of %d requests ran before the deadline", len(latencies), nRequests)
	}

	// Afterwards: a revoked session is gone, and every token is accepted exactly when its
	// session still exists.
	for _, h := range revoked {
		if n := ta.query(`SELECT COUNT(*) FROM sessions WHERE handle = ?`, h); n != "0" {
			t.Errorf("revoked session %s is still in the table", h)
		}
	}
	refused := 0
	for h, token := range tokens {
		d := ta.device("replay", uaChromeMac, "")
		d.setCookie(token)
		live := ta.query(`SELECT COUNT(*) FROM sessions WHERE handle = ?`, h) == "1"
		r := d.get("/account/security")
		switch {
		case live && r.status != http.StatusOK:
			t.Errorf("session %s is live but its token got %d", h, r.status)
		case !live && (r.status != http.StatusSeeOther || r.location() != "/login"):
			t.Errorf("session %s is gone but its token got %d", h, r.status)
		case !live:
			refused++
		}
	}
	t.Logf("%d sessions signed out by a revoke; %d tokens replayed afterwards, %d of them refused", len(revoked), len(tokens), refused)
}
