package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db/dbtest"
)

// holdWriteLock takes SQLite's write lock from a second connection to the database
// file, as another process would, and returns a function that releases it. The
// connection is of the suite's own SQLite library: locks taken by a second copy of SQLite
// in one process are not seen by the first (POSIX locks are per process).
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	other, err := dbtest.OpenRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := conn.ExecContext(context.Background(), `COMMIT`); err != nil {
				t.Error(err)
			}
			conn.Close()
			other.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// assertErrorPage checks a failure is a plain 5xx page that names its request id and
// shows nothing of the server's insides.
func assertErrorPage(t *testing.T, where string, r response) {
	t.Helper()
	if r.status < 500 {
		t.Errorf("%s: %d, want 5xx", where, r.status)
	}
	id := r.header.Get("X-Request-Id")
	if id == "" || !strings.Contains(r.body, id) {
		t.Errorf("%s: the error page does not show its request id %q", where, id)
	}
	for _, leak := range []string{"goroutine", ".go:", "panic", "sqlite", "SQL", "database is", "disk"} {
		if strings.Contains(r.body, leak) {
			t.Errorf("%s: the error page shows %q", where, leak)
		}
	}
}

// TestBusyDatabaseIsWaitedFor: while another connection holds the write lock for a
// moment, writes wait for it and then succeed; reads go on meanwhile.
func TestBusyDatabaseIsWaitedFor(t *testing.T) {
	ta := newSQLiteTestApp(t)
	a, b, c := threeDevices(t, ta)
	bID := b.handle()
	release := holdWriteLock(t, ta.path)
	releasedAt := make(chan time.Time, 1)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		releasedAt <- time.Now()
		release()
	}()

	type result struct {
		name string
		r    response
		end  time.Time
	}
	results := make(chan result, 4)
	var wg sync.WaitGroup
	run := func(name string, f func() response) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f()
			results <- result{name, r, time.Now()}
		}()
	}
	start := time.Now()
	run("sign-up", func() response {
		return ta.device("new", uaChromeMac, "").post("/signup", url.Values{"email": {"new@example.com"}, "password": {testPassword}})
	})
	run("sign-in", func() response {
		return ta.device("D", uaChromeMac, "").post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}})
	})
	run("revoke", func() response { return a.hxPost("/account/sessions/"+bID+"/revoke", pw(testPassword)) })
	run("read", func() response { return c.get("/account/security") })
	wg.Wait()
	close(results)
	released := <-releasedAt
	want := map[string]int{"sign-up": 303, "sign-in": 303, "revoke": 200, "read": 200}
	for res := range results {
		t.Logf("%s: %d after %v", res.name, res.r.status, res.end.Sub(start).Round(time.Millisecond))
		if res.r.status != want[res.name] {
			t.Errorf("%s: %d, want %d", res.name, res.r.status, want[res.name])
		}
		if res.name != "read" && res.end.Before(released) {
			t.Errorf("%s finished before the lock was released: it did not write?", res.name)
		}
	}
	assertSignedOut(t, b, true)
	if n := ta.query(`SELECT COUNT(*) FROM users WHERE email = 'new@example.com'`); n != "1" {
		t.Errorf("the sign-up made %s users", n)
	}
}

// TestBusyPastTheTimeout: a database locked for longer than the busy timeout gives 503
// with Retry-After and a request id, and changes nothing.
func TestBusyPastTheTimeout(t *testing.T) {
	ta := newSQLiteTestApp(t)
	a, b, _ := threeDevices(t, ta)
	bID := b.handle()
	// The writer is one connection: shorten its wait instead of waiting 10 s.
	if _, err := ta.db.Write.Exec(`PRAGMA busy_timeout = 200`); err != nil {
		t.Fatal(err)
	}
	hash := ta.passwordHash("ann@example.com")
	release := holdWriteLock(t, ta.path)
	for name, send := range map[string]func() response{
		"sign-up": func() response {
			return ta.device("new", uaChromeMac, "").post("/signup", url.Values{"email": {"new@example.com"}, "password": {testPassword}})
		},
		"revoke": func() response { return a.post("/account/sessions/"+bID+"/revoke", pw(testPassword)) },
	} {
		r := send()
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
			t.Errorf("%s: %d Retry-After=%q, want 503 with Retry-After", name, r.status, r.header.Get("Retry-After"))
		}
		assertErrorPage(t, name, r)
	}
	release()
	if n := ta.query(`SELECT COUNT(*) FROM users`); n != "1" {
		t.Errorf("%s users, want 1", n)
	}
	if ta.passwordHash("ann@example.com") != hash {
		t.Error("the refused revoke changed the password hash")
	}
	assertSignedIn(t, b)
}

// TestFullDiskFailsCleanly fills the database (a page limit on the writer connection
// stands in for a full disk): sign-ups and sign-ins then fail with an error page and
// leave no account, session or log entry half made.
func TestFullDiskFailsCleanly(t *testing.T) {
	ta := newSQLiteTestApp(t)
	a, _, _ := threeDevices(t, ta)
	if _, err := ta.db.Write.Exec(`PRAGMA max_page_count = ` + ta.query(`PRAGMA page_count`)); err != nil {
		t.Fatal(err)
	}
	longUA := uaChromeMac + strings.Repeat(" pad", 200)
	count := func(table string) string { return ta.query(`SELECT COUNT(*) FROM ` + table) }
	failed := 0
	for i := 0; i < 200 && failed < 3; i++ {
		users, sessions, events := count("users"), count("sessions"), count("events")
		email := fmt.Sprintf("user%d@example.com", i)
		var r response
		if i%2 == 0 {
			r = ta.device("new", longUA, "").post("/signup", url.Values{"email": {email}, "password": {testPassword}})
		} else {
			r = ta.device("again", longUA, "").post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}})
		}
		if r.status < 500 {
			if r.status != http.StatusSeeOther {
				t.Fatalf("request %d: %d", i, r.status)
			}
			continue
		}
		failed++
		assertErrorPage(t, fmt.Sprintf("request %d", i), r)
		if u, s, e := count("users"), count("sessions"), count("events"); u != users || s != sessions || e != events {
			t.Errorf("request %d failed but users/sessions/events went %s/%s/%s -> %s/%s/%s", i, users, sessions, events, u, s, e)
		}
		if n := ta.query(`SELECT COUNT(*) FROM users WHERE email = ?`, email); n != "0" {
			t.Errorf("the failed sign-up of %s left its account", email)
		}
	}
	if failed == 0 {
		t.Fatal("the database never filled up")
	}
	assertSignedIn(t, a)
	want := ta.query(`SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'ann@example.com'`)
	if rows, _ := a.page(); fmt.Sprint(len(rows)) != want {
		t.Errorf("A lists %d devices, the database holds %s", len(rows), want)
	}
}

// TestReadOnlyDatabase: when the database stops taking writes, every action fails with
// an error page and changes nothing, signed-in devices can still read their page, and
// all is well again once it takes writes.
func TestReadOnlyDatabase(t *testing.T) {
	ta := newSQLiteTestApp(t)
	a, b, c := threeDevices(t, ta)
	bID := b.handle()
	setReadOnly := func(on bool) {
		t.Helper()
		if _, err := ta.db.Write.Exec(fmt.Sprintf(`PRAGMA query_only = %v`, on)); err != nil {
			t.Fatal(err)
		}
	}
	snapshot := func() string {
		return ta.query(`SELECT group_concat(handle || stamp || confirmed_until, ',') FROM sessions`) +
			ta.query(`SELECT COUNT(*) FROM events`) + ta.passwordHash("ann@example.com") +
			ta.query(`SELECT COUNT(*) FROM users`) + ta.query(`SELECT COUNT(*) FROM ended_sessions`)
	}
	before := snapshot()
	setReadOnly(true)
	ta.clock.Advance(2 * time.Minute) // so the next requests try to record activity too

	for name, send := range map[string]func() response{
		"revoke, htmx":   func() response { return a.hxPost("/account/sessions/"+bID+"/revoke", pw(testPassword)) },
		"revoke, plain":  func() response { return a.post("/account/sessions/"+bID+"/revoke", pw(testPassword)) },
		"log out others": func() response { return a.post("/account/sessions/others/revoke", pw(testPassword)) },
		"change password": func() response {
			return a.post("/account/password", url.Values{"current_password": {testPassword}, "new_password": {"a new passphrase"}, "logout_others": {"on"}})
		},
		"sign in": func() response {
			return ta.device("D", uaChromeMac, "").post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}})
		},
		"sign up": func() response {
			return ta.device("E", uaChromeMac, "").post("/signup", url.Values{"email": {"eve@example.com"}, "password": {testPassword}})
		},
		"sign out": func() response { return c.post("/logout", nil) },
	} {
		assertErrorPage(t, name, send())
	}
	// Reading still works for every device, and nothing changed.
	for _, d := range []*device{a, b, c} {
		if rows, _ := d.page(); len(rows) != 3 {
			t.Errorf("%s lists %d devices while read-only, want 3", d.name, len(rows))
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("a failed action changed the database:\n%s\n%s", before, after)
	}
	setReadOnly(false)
	if r := a.hxPost("/account/sessions/"+bID+"/revoke", pw(testPassword)); r.status != http.StatusOK {
		t.Errorf("revoke once writable again: %d", r.status)
	}
	assertSignedOut(t, b, true)
	assertSignedIn(t, c)
}

// TestSignOutThatCannotBeRecorded: when the session row cannot be deleted, "Sign out"
// says the device is still signed in and keeps its cookie, instead of sending it to the
// sign-in page as if it were signed out while its session stays valid; once the database
// takes writes again, signing out works.
func TestSignOutThatCannotBeRecorded(t *testing.T) {
	ta := newSQLiteTestApp(t)
	a := ta.device("A", uaChromeMac, "")
	a.signup("ann@example.com", testPassword)
	token := a.cookie()
	if _, err := ta.db.Write.Exec(`PRAGMA query_only = true`); err != nil {
		t.Fatal(err)
	}
	r := a.post("/logout", nil)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "still signed in") {
		t.Errorf("sign-out that cannot be recorded: %d, want 503 saying the device is still signed in\n%.300s", r.status, r.body)
	}
	if set := r.header.Get("Set-Cookie"); strings.Contains(set, "elsewhere_session") {
		t.Errorf("the cookie was touched (%q) though the session stays valid", set)
	}
	if a.cookie() != token {
		t.Error("the device lost its cookie")
	}
	if _, err := ta.db.Write.Exec(`PRAGMA query_only = false`); err != nil {
		t.Fatal(err)
	}
	assertSignedIn(t, a)
	if r := a.post("/logout", nil); r.status != http.StatusSeeOther || r.location() != "/login" {
		t.Fatalf("sign-out once writable: %d %s", r.status, r.location())
	}
	a.setCookie(token)
	if r := a.get("/account/security"); r.status != http.StatusSeeOther {
		t.Errorf("the signed-out token still works: %d", r.status)
	}
}

// TestBusyOnPostgres: on PostgreSQL a write waits for its locks at most
// lock_timeout (10 s unless the URL says otherwise), then the request gets 503 with
// Retry-After, as a busy SQLite file gives, and changes nothing.
func TestBusyOnPostgres(t *testing.T) {
	ta := newTestAppOn(t, dbtest.PostgresDSN(t)+"&lock_timeout=200ms", []string{"127.0.0.1/32"})
	a, b, _ := threeDevices(t, ta)
	bID := b.handle()
	held, err := ta.db.Begin(context.Background()) // another writer, holding the whole database
	if err != nil {
		t.Fatal(err)
	}
	r := a.post("/account/sessions/"+bID+"/revoke", pw(testPassword))
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("revoke while the writer lock is held: %d Retry-After=%q, want 503 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	assertErrorPage(t, "revoke", r)
	if err := held.Rollback(); err != nil {
		t.Fatal(err)
	}
	assertSignedIn(t, b)
	if r := a.post("/account/sessions/"+bID+"/revoke", pw(testPassword)); r.status != http.StatusSeeOther {
		t.Errorf("revoke once the lock is free: %d, want 303", r.status)
	}
	assertSignedOut(t, b, true)
}
