package db

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenMigratesIdempotentlyAndKeepsRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write.Exec(`INSERT INTO users (email, password_hash, created_at) VALUES ('a@example.com', 'h', 1)`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	for range 2 { // reopening applies the schema again without harm
		if d, err = Open(ctx, path); err != nil {
			t.Fatal(err)
		}
		var n, v int
		d.Read.QueryRow(`SELECT COUNT(*) FROM users`).Scan(&n)
		d.Read.QueryRow(`PRAGMA user_version`).Scan(&v)
		if n != 1 || v != Version {
			t.Errorf("after reopen: %d users, version %d; want 1 and %d", n, v, Version)
		}
		d.Close()
	}
}

func TestOpenRefusesANewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	d.Write.Exec(`PRAGMA user_version = 99`)
	d.Close()
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "newer than this build") {
		t.Errorf("opening a newer database: %v, want a clear refusal", err)
	}
}

func TestPoolsAndPragmas(t *testing.T) {
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n := d.Write.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer pool has %d connections, want 1", n)
	}
	var mode string
	var fk, busy int
	d.Read.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	d.Read.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	d.Read.QueryRow(`PRAGMA busy_timeout`).Scan(&busy)
	if mode != "wal" || fk != 1 || busy < 1000 {
		t.Errorf("journal_mode=%s foreign_keys=%d busy_timeout=%d", mode, fk, busy)
	}
	if _, err := d.Read.Exec(`INSERT INTO settings (name, value) VALUES ('x', 'y')`); err == nil {
		t.Error("a reader connection could write")
	}
}

// TestMigrateFromVersion1 opens a file as version 1 wrote it: failures without an id,
// users without a password version, sessions without a count of wrong passwords. The
// rows survive and gain the new columns; confirmation counts kept per user (version 2's
// rule) are dropped, since version 3 counts them per session.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP TABLE failures`, `CREATE TABLE failures (scope TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL)`,
		`INSERT INTO failures VALUES ('confirm', '1', 100), ('login-ip', '203.0.113.1', 200)`,
		`DROP TABLE users`, `CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, created_at INTEGER NOT NULL)`,
		`INSERT INTO users (email, password_hash, created_at) VALUES ('a@example.com', 'h', 1)`,
		`ALTER TABLE sessions DROP COLUMN wrong_passwords`, `ALTER TABLE sessions DROP COLUMN device_id`,
		`ALTER TABLE ended_sessions DROP COLUMN reason`,
		`DROP TABLE known_devices`,
		`INSERT INTO sessions (handle, token_hash, user_id, created_at, last_active_at, expires_at, stamp)
		 VALUES ('h1', x'01', 1, 1, 1, 9999999999, x'02')`,
		`INSERT INTO lockouts VALUES ('confirm', '1', 9999999999), ('login-ip', '203.0.113.1', 9999999999)`,
		`PRAGMA user_version = 1`,
	} {
		if _, err := d.Write.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	d.Close()
	if d, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n, ids, version, v, wrong, locks int
	var scope string
	d.Read.QueryRow(`SELECT COUNT(*), COUNT(id), MIN(scope) FROM failures`).Scan(&n, &ids, &scope)
	d.Read.QueryRow(`SELECT password_version FROM users WHERE email = 'a@example.com'`).Scan(&version)
	d.Read.QueryRow(`PRAGMA user_version`).Scan(&v)
	if err := d.Read.QueryRow(`SELECT wrong_passwords FROM sessions WHERE handle = 'h1'`).Scan(&wrong); err != nil {
		t.Errorf("the session did not survive: %v", err)
	}
	d.Read.QueryRow(`SELECT COUNT(*) FROM lockouts WHERE scope = 'confirm'`).Scan(&locks)
	if n != 1 || ids != 1 || scope != "login-ip" || version != 1 || v != Version || wrong != 0 || locks != 0 {
		t.Errorf("after migrating: %d failures (%d with ids, first scope %q), password_version %d, schema %d, "+
			"wrong_passwords %d, %d per-user confirmation locks", n, ids, scope, version, v, wrong, locks)
	}
	var tz, name string
	if err := d.Read.QueryRow(`SELECT time_zone FROM users WHERE email = 'a@example.com'`).Scan(&tz); err != nil || tz != "" {
		t.Errorf("users.time_zone after migrating: %q, %v", tz, err)
	}
	if _, err := d.Write.Exec(`INSERT INTO known_devices (user_id, device_hash, first_seen_at, last_seen_at) VALUES (1, x'01', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	if err := d.Read.QueryRow(`SELECT name FROM known_devices`).Scan(&name); err != nil || name != "" {
		t.Errorf("known_devices.name after migrating: %q, %v", name, err)
	}
}
