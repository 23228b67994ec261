package models

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
)

// TestEndStaleChecksAgainInItsTransaction: Lookup reads a stale stamp, and before
// endStale's write transaction begins, another device's action re-stamps the session
// (a re-salt re-stamps every session that stays). endStale must see the fresh stamp and
// leave the session signed in; a session still stale when it looks is ended.
func TestEndStaleChecksAgainInItsTransaction(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "stale.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	h, err := NewHasher(HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	if err != nil {
		t.Fatal(err)
	}
	users := NewUsers(d, h, time.Now)
	sessions := NewSessions(d, make([]byte, 32), Lifetimes{Idle: time.Hour, Remember: time.Hour}, 0, time.Now)
	u, err := users.Create(ctx, "ann@example.com", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	var (
		handles []string
		tokens  [][]byte
	)
	for range 2 {
		_, hash := NewToken()
		s, _, err := sessions.SignIn(ctx, hash, NewSession{UserID: u.ID, UserAgent: "curl/8"})
		if err != nil {
			t.Fatal(err)
		}
		handles, tokens = append(handles, s.Handle), append(tokens, hash)
	}
	read, _, err := sessions.Lookup(ctx, tokens[1], "")
	if err != nil {
		t.Fatal(err)
	}
	count := func(h string) (n int) {
		t.Helper()
		if err := d.Read.QueryRow(`SELECT COUNT(*) FROM sessions WHERE handle = ?`, h).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Between the read and endStale: the same password under a fresh salt, stored by
	// another device's action, re-stamps both sessions.
	resalted, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sessions.RevokeOthers(ctx, Change{UserID: u.ID, Current: handles[1], NewHash: resalted}); err != nil {
		t.Fatal(err)
	}
	_, hash := NewToken()
	again, _, err := sessions.SignIn(ctx, hash, NewSession{UserID: u.ID, UserAgent: "curl/8"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sessions.endStale(ctx, read, tokens[1]); err != nil {
		t.Fatal(err)
	}
	if count(handles[1]) != 1 {
		t.Error("endStale ended a session that was re-stamped before its transaction")
	}
	if _, _, err := sessions.Lookup(ctx, tokens[1], ""); err != nil {
		t.Errorf("the re-stamped session after endStale: %v, want signed in", err)
	}

	// Still stale when endStale looks: it goes, and the log says why.
	if _, err := d.Write.Exec(`UPDATE users SET password_hash = 'changed elsewhere' WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := sessions.endStale(ctx, again, hash); err != nil {
		t.Fatal(err)
	}
	if count(again.Handle) != 0 {
		t.Error("endStale left a session whose stamp is stale")
	}
	var kind string
	if err := d.Read.QueryRow(`SELECT kind FROM events ORDER BY id DESC LIMIT 1`).Scan(&kind); err != nil || kind != string(EventStampMismatch) {
		t.Errorf("last event %q (%v), want %s", kind, err, EventStampMismatch)
	}
}
