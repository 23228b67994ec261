package db_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/db/dbtest"
)

// wait is how long a test waits for a wake-up that should come at once.
const wait = 5 * time.Second

func woken(ch <-chan struct{}, within time.Duration) bool {
	select {
	case _, ok := <-ch:
		return ok
	case <-time.After(within):
		return false
	}
}

// TestWatchHearsCommittedChangesOnly: a watcher of a user is woken by a committed change
// to that user, not by one that rolled back nor by another user's.
func TestWatchHearsCommittedChangesOnly(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	ann, stop := d.Watch(1)
	defer stop()
	bob, stopBob := d.Watch(2)
	defer stopBob()

	change := func(user int64, commit bool) {
		t.Helper()
		tx, err := d.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx.Changed(user)
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	change(1, false)
	if woken(ann, 300*time.Millisecond) {
		t.Error("a rolled-back change woke its user's watcher")
	}
	change(1, true)
	if !woken(ann, wait) {
		t.Fatal("a committed change did not wake its user's watcher")
	}
	if woken(bob, 300*time.Millisecond) {
		t.Error("ann's change woke bob's watcher")
	}
	// A burst is one wake-up (or at most two), never a backlog.
	for range 5 {
		change(2, true)
	}
	if !woken(bob, wait) {
		t.Fatal("bob's changes did not wake his watcher")
	}
	stopBob()
	change(2, true)
	if d.Watchers() != 1 {
		t.Errorf("%d watchers after one stopped, want 1", d.Watchers())
	}
	d.Close()
	if _, open := <-ann; open {
		t.Error("closing the database left a watch open")
	}
}

// TestTwoHandlesOnePostgres: a change committed through one handle (one app server)
// wakes a watcher on another handle of the same database, and only of that database.
func TestTwoHandlesOnePostgres(t *testing.T) {
	ctx := context.Background()
	a, b := twoServers(t)
	elsewhere, err := db.Open(ctx, dbtest.PostgresDSN(t)) // another database (schema) on the same server
	if err != nil {
		t.Fatal(err)
	}
	defer elsewhere.Close()
	onA, stop := a.Watch(7)
	defer stop()
	onElsewhere, stop2 := elsewhere.Watch(7)
	defer stop2()

	tx, err := b.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx.Changed(7)
	if woken(onA, 300*time.Millisecond) {
		t.Error("a change was heard before it committed")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if !woken(onA, wait) {
		t.Fatal("a change committed through B did not reach a watcher on A")
	}
	if woken(onElsewhere, 300*time.Millisecond) {
		t.Error("a change reached a watcher of another database")
	}
}

// TestListenerReconnects: when the connection that listens for other servers' changes
// is lost, the listener reconnects and wakes every watcher (changes may have been
// missed), and later changes arrive again.
func TestListenerReconnects(t *testing.T) {
	ctx := context.Background()
	a, b := twoServers(t)
	ch, stop := a.Watch(3)
	defer stop()
	eventually(t, "A holds its lease", holdsLease(a))
	before, _ := a.AccountStamp(3)

	var killed int
	if err := b.Write.QueryRowContext(ctx, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid() AND datname = current_database()
		AND query LIKE '%' || current_schema() || '%'`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 2 { // both servers listen from the start (db/coherence.go)
		t.Fatalf("terminated %d listening connections, want 2", killed)
	}
	if !woken(ch, wait) {
		t.Fatal("watchers were not woken after the listener reconnected")
	}
	eventually(t, "A holds its lease again", holdsLease(a))
	if now, _ := a.AccountStamp(3); now == before {
		t.Error("after a lost listener A answers from what it remembered before: changes may have been missed")
	}
	tx, err := b.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx.Changed(3)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if !woken(ch, wait) {
		t.Fatal("a change after the reconnection did not arrive")
	}
}

// TestSchemaIsTheSameOnBothEngines: the tables PostgreSQL gets from schema.sql have the
// same columns, in the same order, as SQLite's, with matching types.
func TestSchemaIsTheSameOnBothEngines(t *testing.T) {
	ctx := context.Background()
	pg, err := db.Open(ctx, dbtest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	lite, err := db.Open(ctx, filepath.Join(t.TempDir(), "schema.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()

	want := map[string]string{"INTEGER": "bigint", "TEXT": "text", "BLOB": "bytea"}
	tables := rows(t, lite.Read, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	pgTables := rows(t, pg.Read, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
		AND table_name <> 'schema_version' ORDER BY table_name`)
	if !slices.Equal(tables, pgTables) {
		t.Fatalf("tables: SQLite %v, PostgreSQL %v", tables, pgTables)
	}
	for _, tb := range tables {
		// A primary key is NOT NULL on PostgreSQL; SQLite reports one as nullable.
		lc := rows(t, lite.Read, `SELECT name || ' ' || type || ' ' || CASE WHEN pk > 0 THEN 1 ELSE "notnull" END
			FROM pragma_table_info(?) ORDER BY cid`, tb)
		pc := rows(t, pg.Read, `SELECT column_name || ' ' || data_type || ' ' || CASE is_nullable WHEN 'NO' THEN 1 ELSE 0 END
			FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, tb)
		for i := range lc {
			f := strings.Fields(lc[i])
			f[1] = want[f[1]]
			lc[i] = strings.Join(f, " ")
		}
		if !slices.Equal(lc, pc) {
			t.Errorf("table %s:\n  SQLite     %v\n  PostgreSQL %v", tb, lc, pc)
		}
	}
	idx := rows(t, lite.Read, `SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name`)
	pgIdx := rows(t, pg.Read, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key' ORDER BY indexname`)
	if !slices.Equal(idx, pgIdx) {
		t.Errorf("indexes: SQLite %v, PostgreSQL %v", idx, pgIdx)
	}
}

func rows(t *testing.T, q *sql.DB, query string, args ...any) []string {
	t.Helper()
	r, err := q.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer r.Close()
	var out []string
	for r.Next() {
		var s string
		if err := r.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// twoServers opens one fresh PostgreSQL database twice, as two app servers would.
func twoServers(t *testing.T) (*db.DB, *db.DB) {
	t.Helper()
	dsn := dbtest.PostgresDSN(t)
	return serverOn(t, dsn), serverOn(t, dsn)
}

// serverOn opens the database dsn names as one more app server (or command), closed when
// the test ends if not before.
func serverOn(t *testing.T, dsn string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestPostgresMigratesFromVersion3: a PostgreSQL database made by the first build that
// supported it (version 3) is brought to the current version, keeping its rows.
func TestPostgresMigratesFromVersion3(t *testing.T) {
	ctx := context.Background()
	dsn := dbtest.PostgresDSN(t)
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		// What version 3 did not have: the device column and table (4), names, zones and
		// end reasons (5), the accounts' change counters (6).
		`ALTER TABLE sessions DROP COLUMN device_id`, `DROP TABLE known_devices`, `ALTER TABLE users DROP COLUMN time_zone`,
		`ALTER TABLE ended_sessions DROP COLUMN reason`, `ALTER TABLE users DROP COLUMN changes`,
		`INSERT INTO users (email, password_hash, created_at) VALUES ('a@example.com', 'h', 1)`,
		`INSERT INTO sessions (handle, token_hash, user_id, created_at, last_active_at, expires_at, stamp)
		 SELECT 'h1', '\x01'::bytea, id, 1, 1, 9999999999, '\x02'::bytea FROM users`,
		`UPDATE schema_version SET version = 3`,
	} {
		if _, err := d.Write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	d.Close()
	if d, err = db.Open(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var v, device int
	if err := d.Read.QueryRow(`SELECT version FROM schema_version`).Scan(&v); err != nil || v != db.Version {
		t.Errorf("version %d (%v), want %d", v, err, db.Version)
	}
	if err := d.Read.QueryRow(`SELECT device_id FROM sessions WHERE handle = 'h1'`).Scan(&device); err != nil {
		t.Errorf("the session did not survive: %v", err)
	}
	var tz, name string
	if err := d.Read.QueryRow(`SELECT time_zone FROM users`).Scan(&tz); err != nil {
		t.Errorf("users.time_zone: %v", err)
	}
	if _, err := d.Write.Exec(`INSERT INTO known_devices (user_id, device_hash, first_seen_at, last_seen_at) SELECT id, '\x01'::bytea, 1, 1 FROM users`); err != nil {
		t.Fatal(err)
	}
	if err := d.Read.QueryRow(`SELECT name FROM known_devices`).Scan(&name); err != nil || name != "" {
		t.Errorf("known_devices.name: %q, %v", name, err)
	}
}
