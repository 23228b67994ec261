package models

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
)

// TestRememberedLookupsStayExact: a session lookup is answered from memory only while
// nothing was committed since it was read, so the next lookup after any sign-out (here,
// through the model, through another handle on the file as another process would, by a
// lifetime running out, or by a password hash changing) gets the database's answer.
func TestRememberedLookupsStayExact(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lookups.db")
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var mu sync.Mutex
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(by time.Duration) { mu.Lock(); now = now.Add(by); mu.Unlock() }
	s := NewSessions(d, []byte("a stamp secret of thirty-two bytes"), Lifetimes{Idle: 2 * time.Hour, MaxAge: 24 * time.Hour,
		Remember: 30 * 24 * time.Hour}, 50, clock)
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	tokens := map[string][]byte{}
	newDevice := func(name string) {
		t.Helper()
		_, hash := NewToken()
		if len(tokens) == 0 {
			if _, _, _, err := s.SignUp(ctx, "ann@example.com", "$argon2id$fake-hash", hash, NewSession{UserAgent: name}); err != nil {
				t.Fatal(err)
			}
		} else {
			var uid int64
			if err := d.Read.QueryRowContext(ctx, `SELECT id FROM users`).Scan(&uid); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.SignIn(ctx, hash, NewSession{UserID: uid, UserAgent: name}); err != nil {
				t.Fatal(err)
			}
		}
		tokens[name] = hash
	}
	remembered := func(name string) bool {
		stamp, ok := d.ChangeStamp()
		_, in := s.lookups.get(stamp, [32]byte(tokens[name]))
		return ok && in
	}
	lookup := func(name string) error {
		t.Helper()
		_, _, err := s.Lookup(ctx, tokens[name], "203.0.113.1")
		return err
	}
	signedIn := func(name string) {
		t.Helper()
		for i := range 3 { // the first read, then answers from memory
			if err := lookup(name); err != nil {
				t.Fatalf("%s, lookup %d: %v", name, i+1, err)
			}
			if !remembered(name) {
				t.Fatalf("%s, lookup %d: not remembered while nothing was committed", name, i+1)
			}
		}
	}
	signedOut := func(name, how string) {
		t.Helper()
		if err := lookup(name); !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrSessionEnded) && !errors.Is(err, ErrStampMismatch) {
			t.Errorf("%s after %s: lookup answered %v, want it signed out", name, how, err)
		}
	}
	for _, name := range []string{"A", "B", "C", "D", "E"} {
		newDevice(name)
	}

	signedIn("B")
	var handle string
	if err := d.Read.QueryRowContext(ctx, `SELECT handle FROM sessions WHERE token_hash = ?`, tokens["B"]).Scan(&handle); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignOut(ctx, handle, Actor{}); err != nil {
		t.Fatal(err)
	}
	signedOut("B", "a sign-out through the model")

	signedIn("C")
	if _, err := other.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokens["C"]); err != nil {
		t.Fatal(err)
	}
	signedOut("C", "a sign-out by another process")

	signedIn("D")
	if _, err := other.ExecContext(ctx, `UPDATE users SET password_hash = '$argon2id$another-hash'`); err != nil {
		t.Fatal(err)
	}
	signedOut("D", "the password hash changed")

	// E and A were read under the old hash too: a fresh read ends them the same way.
	signedOut("E", "the password hash changed")

	// Lifetimes: A is remembered, then its idle lifetime runs out with no commit at all.
	if _, err := other.ExecContext(ctx, `UPDATE users SET password_hash = '$argon2id$fake-hash'`); err != nil {
		t.Fatal(err)
	}
	signedIn("A")
	advance(30 * time.Second)
	if err := lookup("A"); err != nil || !remembered("A") {
		t.Fatalf("A 30 s later: %v, remembered %v", err, remembered("A"))
	}
	advance(2*time.Hour + time.Minute)
	signedOut("A", "2 h without activity")
}

// TestRememberedListsStayExact: the device list and the security log are answered from
// memory only while nothing was committed: a sign-in, a sign-out by another process and
// a new log entry show at the next call, a session whose lifetime ran out goes from the
// list with no commit at all, and a list cut at the cap is never remembered.
func TestRememberedListsStayExact(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lists.db")
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := NewSessions(d, []byte("a stamp secret of thirty-two bytes"), Lifetimes{Idle: 2 * time.Hour, MaxAge: 24 * time.Hour,
		Remember: 30 * 24 * time.Hour}, 3, clock)
	ev := NewEvents(d, clock)
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	_, first := NewToken()
	u, _, _, err := s.SignUp(ctx, "ann@example.com", "$argon2id$fake-hash", first, NewSession{UserAgent: "A"})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(remember bool) {
		t.Helper()
		_, hash := NewToken()
		if _, _, err := s.SignIn(ctx, hash, NewSession{UserID: u.ID, UserAgent: "B", Remember: remember}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(want int, why string) {
		t.Helper()
		for i := range 2 { // the read, then the answer from memory
			list, err := s.ListForUser(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != want {
				t.Errorf("%s, call %d: %d devices listed, want %d", why, i+1, len(list), want)
			}
		}
	}
	logSize := func() int {
		t.Helper()
		evs, err := ev.Latest(ctx, u.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	count(1, "after sign-up")
	stamp, _ := d.ChangeStamp()
	if _, ok := s.lists.get(stamp, u.ID); !ok {
		t.Fatal("the list is not remembered while nothing was committed")
	}
	logged := logSize()
	if _, ok := ev.latest.get(stamp, [2]int64{u.ID, 100}); !ok {
		t.Fatal("the log is not remembered while nothing was committed")
	}

	signIn(true) // remembered device: lives 30 days
	count(2, "after a sign-in")
	if n := logSize(); n != logged+1 {
		t.Errorf("the log lists %d entries after a sign-in, want %d", n, logged+1)
	}
	if _, err := other.ExecContext(ctx, `DELETE FROM sessions WHERE remember <> 0`); err != nil {
		t.Fatal(err)
	}
	count(1, "after another process signed a device out")

	// Time alone: the first device idles out (2 h) with no commit between the calls.
	count(1, "before the idle lifetime")
	now = now.Add(2*time.Hour + time.Minute)
	count(0, "after 2 h without activity")

	// Past the cap (3) the list is cut, and such a list is not remembered.
	now = now.Add(time.Hour)
	if _, err := other.ExecContext(ctx, `DELETE FROM sessions`); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		signIn(false)
	}
	if _, err := other.ExecContext(ctx, `INSERT INTO sessions (handle, token_hash, user_id, created_at, last_active_at, expires_at,
		remember, ip, user_agent, client_hints, browser, os, device_type, device_model, stamp)
		SELECT 'x' || handle, randomblob(32), user_id, created_at, last_active_at, expires_at, remember, ip, user_agent,
			client_hints, browser, os, device_type, device_model, stamp FROM sessions LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	count(3, "four sessions, the cap three")
	stamp, _ = d.ChangeStamp()
	if _, ok := s.lists.get(stamp, u.ID); ok {
		t.Error("a list cut at the cap was remembered")
	}
}
