package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIsBusy tells a write lock held past the busy timeout from every other error.
func TestIsBusy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write.Exec(`PRAGMA busy_timeout = 50`); err != nil {
		t.Fatal(err)
	}
	_, err = d.Write.Exec(`INSERT INTO settings (name, value) VALUES ('x', 'y')`)
	if !IsBusy(err) || !IsBusy(fmt.Errorf("wrapped: %w", err)) {
		t.Errorf("a held write lock: %v, IsBusy false", err)
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}
	_, err = d.Write.Exec(`INSERT INTO nosuchtable VALUES (1)`)
	for _, e := range []error{nil, errors.New("database is locked"), sql.ErrNoRows, err} {
		if IsBusy(e) {
			t.Errorf("IsBusy(%v) = true", e)
		}
	}
}

// TestOpenOddPaths: characters that mean something in a file: URI are part of the name.
func TestOpenOddPaths(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a?b#c%20d&_pragma=query_only(1)")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "e lse?where#.db")
	for i := range 2 {
		d, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := d.Write.Exec(`INSERT INTO settings (name, value) VALUES ('k', 'v')`); err != nil {
				t.Fatalf("write through %q: %v", path, err)
			}
		}
		var n int
		d.Read.QueryRow(`SELECT COUNT(*) FROM settings WHERE name = 'k'`).Scan(&n)
		d.Close()
		if n != 1 {
			t.Fatalf("open %d: %d rows, want 1", i, n)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the file is not where asked: %v", err)
	}
	if _, err := Open(ctx, ""); err == nil {
		t.Error("an empty path opened")
	}
}

// TestFilesArePrivate: the database and its -wal and -shm hold password hashes and the
// stamp secret, so only their owner may read them, from the first write on, whatever the
// umask; files an older build left readable are tightened at the next start.
func TestFilesArePrivate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	check := func(when string, path string) {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Errorf("%s: %v", when, err)
				continue
			}
			if perm := fi.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("%s: %s has mode %v, want no group or other access", when, filepath.Base(p), perm)
			}
		}
	}
	fresh := filepath.Join(dir, "fresh.db")
	d, err := Open(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write.Exec(`INSERT INTO settings (name, value) VALUES ('x', 'y')`); err != nil {
		t.Fatal(err)
	}
	check("a new database", fresh)
	d.Close()

	old := filepath.Join(dir, "old.db")
	d, err = Open(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	d.Write.Exec(`INSERT INTO settings (name, value) VALUES ('x', 'y')`)
	for _, p := range []string{old, old + "-wal", old + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if d2, err := Open(ctx, old); err != nil {
		t.Fatal(err)
	} else {
		check("a database an older build left world-readable", old)
		d2.Close()
	}
	d.Close()
}

// TestNewChecksTheHostsPools: an embedding app's own pools are refused, with what to
// change, when the models would misbehave on them; pools set up as Open sets them are
// taken.
func TestNewChecksTheHostsPools(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "host.db")
	open := func(pragmas ...string) *sql.DB {
		dsn := "file:" + path + "?_txlock=immediate"
		for _, p := range pragmas {
			dsn += "&_pragma=" + p
		}
		p, err := sql.Open("sqlite", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	good := []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(ON)"}
	writer := func(pragmas ...string) *sql.DB {
		w := open(pragmas...)
		w.SetMaxOpenConns(1)
		return w
	}
	for _, tc := range []struct {
		name   string
		w, r   *sql.DB
		reason string
	}{
		{"foreign keys off", writer("journal_mode(WAL)", "busy_timeout(10000)"), open(good...), "foreign keys are off"},
		{"no busy timeout", writer("journal_mode(WAL)", "foreign_keys(ON)"), open(good...), "no busy timeout"},
		{"writer pool unbounded", open(good...), open(good...), "SetMaxOpenConns(1)"},
		{"readers without foreign keys", writer(good...), open("journal_mode(WAL)", "busy_timeout(10000)"), "reader pool: foreign keys"},
	} {
		if _, err := New(ctx, tc.w, tc.r); err == nil || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.reason)
		}
	}
	d, err := New(ctx, writer(good...), open(good...))
	if err != nil {
		t.Fatalf("pools set up as Open does: %v", err)
	}
	if err := d.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestOpenRefusesAFileItCannotUse: -db pointed at a file that is not a database (say
// /etc/passwd, as root) is refused with a clear error, and the file keeps its mode and its
// contents; no -wal or -shm appears beside it. An empty file is a new database.
func TestOpenRefusesAFileItCannotUse(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"passwd":      "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n",
		"short":       "SQLite",
		"almost.db":   "SQLite format 2\x00" + strings.Repeat("\x00", 100),
		"config.json": `{"db": "elsewhere.db"}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := Open(ctx, path)
		if err == nil {
			d.Close()
			t.Errorf("%s: opened as a database", name)
			continue
		}
		if !strings.Contains(err.Error(), "not an SQLite database") || !strings.Contains(err.Error(), "nothing was changed") {
			t.Errorf("%s: the error does not say what is wrong: %v", name, err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v after the refusal, want 0644 (%v)", name, fi.Mode().Perm(), err)
		}
		if got, _ := os.ReadFile(path); string(got) != body {
			t.Errorf("%s: contents changed to %q", name, got)
		}
		for _, sfx := range []string{"-wal", "-shm", "-journal"} {
			if _, err := os.Stat(path + sfx); err == nil {
				t.Errorf("%s: %s was created", name, sfx)
			}
		}
	}
	if _, err := Open(ctx, dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := Open(ctx, empty)
	if err != nil {
		t.Fatalf("an empty file is a new database: %v", err)
	}
	d.Close()
}

// TestOpenRefusesAnotherApplicationsDatabase: -db pointed at another application's SQLite
// database (with or without a user_version of its own), or at a newer build's, is refused before anything is done to it: mode and
// bytes as they were, no Elsewhere table written into it.
func TestOpenRefusesAnotherApplicationsDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, setup := range map[string][]string{
		"another app's":   {`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`, `INSERT INTO notes (body) VALUES ('keep me')`},
		"a newer build's": {`CREATE TABLE settings (name TEXT PRIMARY KEY, value BLOB NOT NULL)`, `PRAGMA user_version = 99`},
		// Another application may set a user_version in Elsewhere's range: our tables tell.
		"another app's versioned": {`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`, `INSERT INTO notes (body) VALUES ('keep me')`, `PRAGMA user_version = 3`},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".db")
		other, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range setup {
			if _, err := other.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		other.Close()
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(path)
		if d, err := Open(ctx, path); err == nil {
			d.Close()
			t.Errorf("%s database: opened", name)
			continue
		} else if !strings.Contains(err.Error(), "nothing was changed") {
			t.Errorf("%s database: %v", name, err)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
			t.Errorf("%s database: mode %v after the refusal", name, fi.Mode().Perm())
		}
		if after, _ := os.ReadFile(path); string(after) != string(before) {
			t.Errorf("%s database: its bytes changed", name)
		}
	}
}
