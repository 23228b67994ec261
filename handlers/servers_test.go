package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/db/dbtest"
	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models"
)

// TestRevokedThroughOneServerRefusedByTheOtherAtOnce: two app servers on one PostgreSQL
// database, each remembering what it read and answering from memory under its lease
// (db/coherence.go): A's second and third views ask PostgreSQL nothing. A device signed
// out through B is refused by A at its very next request, and a page A serves right
// after no longer lists it: B's answer waited until A had heard of the change.
func TestRevokedThroughOneServerRefusedByTheOtherAtOnce(t *testing.T) {
	dsn := dbtest.PostgresDSN(t)
	withPasskeys := func(c *handlers.Config) { c.BaseURL = "http://localhost" } // a page that reads them too
	a := newTestAppOn(t, dsn, []string{"127.0.0.1/32"}, noPolling, withPasskeys)
	b := newTestAppOn(t, dsn, []string{"127.0.0.1/32"}, noPolling, withPasskeys)

	phone := a.device("phone", uaSafariIPhone, "203.0.113.2")
	phone.signup("ann@example.com", testPassword)
	phoneID := phone.handle()
	laptopOnB := b.device("laptop", uaChromeMac, "203.0.113.1")
	laptopOnB.login("ann@example.com", testPassword)
	laptopOnA := *laptopOnB
	laptopOnA.ta = a
	dbtest.HoldLeases(t, a.db, b.db)
	for i := range 3 { // read, then answered from what A remembers
		reads := a.db.Reads()
		assertSignedIn(t, phone)
		if rows, _ := laptopOnA.page(); len(rows) != 2 {
			t.Fatalf("the laptop's page on A lists %d devices, want 2", len(rows))
		}
		if n := a.db.Reads() - reads; i > 0 && n != 0 {
			t.Errorf("view %d: A asked PostgreSQL %d times for what it had read and nothing had changed", i+1, n)
		}
	}
	// The list's first live refresh is drawn (not kept yet) from what A remembers.
	reads := a.db.Reads()
	if r := laptopOnA.do("GET", "/account/security", nil, true); r.status != http.StatusOK {
		t.Fatalf("the list's refresh on A: %d", r.status)
	}
	if n := a.db.Reads() - reads; n != 0 {
		t.Errorf("the list's refresh on A asked PostgreSQL %d times for what it had read and nothing had changed", n)
	}
	// Once its listener is lost, A cannot tell what it missed: its next view asks (the
	// account's change counter says nothing changed), and the one after asks nothing.
	lost, _ := a.db.AccountStamp(0)
	var killed int
	if err := a.db.Write.QueryRowContext(context.Background(), `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid() AND datname = current_database()
		AND query LIKE '%' || current_schema() || '%'`).Scan(&killed); err != nil || killed == 0 {
		t.Fatalf("terminating the listeners: %d, %v", killed, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for now, ok := a.db.AccountStamp(0); !ok || now == lost; now, ok = a.db.AccountStamp(0) {
		if time.Now().After(deadline) {
			t.Fatal("A does not listen again, with a new lease, after 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i, want := range []string{"some", "none"} {
		reads := a.db.Reads()
		if rows, _ := laptopOnA.page(); len(rows) != 2 {
			t.Fatalf("the laptop's page on A lists %d devices, want 2", len(rows))
		}
		if n := a.db.Reads() - reads; (n == 0) != (want == "none") {
			t.Errorf("view %d after A's listener came back asked PostgreSQL %d times, want %s", i+1, n, want)
		}
	}

	if r := laptopOnB.post("/account/sessions/"+phoneID+"/revoke", pw(testPassword)); r.status != http.StatusSeeOther {
		t.Fatalf("revoke through B: %d", r.status)
	}
	rows, _ := laptopOnA.page() // at once: no wait for the push
	for _, r := range rows {
		if r.sessionID == phoneID {
			t.Errorf("a page on A still lists the phone signed out through B")
		}
	}
	assertSignedOut(t, phone, true)
}

// TestWritesLockPerAccount: on PostgreSQL a write transaction holds its account's lock,
// not the database's. While one of ann's transactions is open, bob signs in, is recorded
// active and signs out,
// ann's own next write waits for it (and, with a short lock_timeout, fails as busy), and
// a sign-in refused by its rate limit waits for no lock at all, not even the whole
// database's.
func TestWritesLockPerAccount(t *testing.T) {
	ta := newTestAppOn(t, dbtest.PostgresDSN(t)+"&lock_timeout=300ms", []string{"127.0.0.1/32"})
	ann := ta.device("ann", uaChromeMac, "203.0.113.1")
	ann.signup("ann@example.com", testPassword)
	bob := ta.otherUser()
	annID, _ := strconv.ParseInt(ta.query(`SELECT id FROM users WHERE email = 'ann@example.com'`), 10, 64)
	ctx := context.Background()

	held, err := ta.db.Begin(ctx, db.Account(annID))
	if err != nil {
		t.Fatal(err)
	}
	bob2 := ta.device("bob's phone", uaSafariIPhone, "198.51.100.7")
	bob2.login("bob@example.com", testPassword)
	// Recording activity takes no advisory lock at all, not even the whole database's
	// shared one: bob's phone's next view after a while records it.
	ta.clock.Advance(2 * time.Minute)
	assertSignedIn(t, bob2)
	if got, want := ta.query(`SELECT MAX(last_active_at) FROM sessions`), strconv.FormatInt(ta.clock.Now().Unix(), 10); got != want {
		t.Errorf("bob's activity while ann's account is locked: last active %s, want %s", got, want)
	}
	if r := bob.post("/logout", nil); r.status != http.StatusSeeOther {
		t.Errorf("bob's sign-out while ann's account is locked: %d, want 303", r.status)
	}
	if r := ann.post("/logout", nil); r.status != http.StatusServiceUnavailable {
		t.Errorf("ann's sign-out while her account is locked: %d, want 503 (busy)", r.status)
	}
	held.Rollback()

	guesser := ta.device("guesser", uaFirefoxWindow, "192.0.2.66")
	guess := func() int {
		return guesser.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"not her password"}}).status
	}
	for i := 0; guess() != http.StatusTooManyRequests; i++ {
		if i == 20 {
			t.Fatal("no rate limit after 20 wrong passwords")
		}
	}
	held, err = ta.db.Begin(ctx) // the whole database: every write waits for it
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback()
	if s := guess(); s != http.StatusTooManyRequests {
		t.Errorf("a refused sign-in while every lock is held: %d, want 429 at once", s)
	}
}

// TestCommitFromAnotherProcessReachesOpenPages: on SQLite, a commit made through another
// connection to the file (an operator's `elsewhere sessions revoke` in its own process)
// reaches an open page's live stream within a second, not at the next heartbeat.
func TestCommitFromAnotherProcessReachesOpenPages(t *testing.T) {
	ta := newSQLiteTestApp(t, noPolling)
	laptop, phone, _ := laptopAndPhone(ta)
	stream := laptop.openStream(ta.query(`SELECT MAX(id) FROM events`))
	defer stream.close()

	other, err := db.Open(context.Background(), ta.path) // its own pools, its own feed: another process's
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	uid, _ := strconv.ParseInt(ta.query(`SELECT id FROM users WHERE email = 'ann@example.com'`), 10, 64)
	sessions := models.NewSessions(other, []byte("the operator's process"), models.Lifetimes{Idle: time.Hour, MaxAge: time.Hour}, 0, time.Now)
	if _, _, err := sessions.RevokeAll(context.Background(), uid, models.Actor{Device: "elsewhere sessions revoke"}); err != nil {
		t.Fatal(err)
	}
	ev, ok := stream.next(time.Second)
	if !ok || ev.name != "signed-out" {
		t.Fatalf("within a second of another process's revocation the open page got %q (%v), want signed-out", ev.name, ok)
	}
	assertSignedOut(t, phone, true)
}
