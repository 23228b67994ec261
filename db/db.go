// Package db opens Elsewhere's database (an SQLite file, or PostgreSQL for several app
// servers), keeps its schema current and carries the news of changed sessions between
// app servers.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"

	"modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Schema is the current description of every table, applied idempotently at start.
//
//go:embed schema.sql
var Schema string

// Version is the schema version this build writes into PRAGMA user_version.
const Version = 7

// migrations[i] moves a database from version i+1 to i+2; they run before Schema, so
// Schema's CREATE IF NOT EXISTS statements only ever add what is missing.
var migrations = []string{
	// 1 to 2: failures gets an id, so an attempt reserved before a password check can be
	// taken back exactly (the rows are copied over; schema.sql recreates the indexes), and
	// users get a password version, so a write can tell a password change from a re-salt.
	`ALTER TABLE users ADD COLUMN password_version INTEGER NOT NULL DEFAULT 1;
	 CREATE TABLE failures_v2 (id INTEGER PRIMARY KEY, scope TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL);
	 INSERT INTO failures_v2 (scope, key, at) SELECT scope, key, at FROM failures;
	 DROP TABLE failures;
	 ALTER TABLE failures_v2 RENAME TO failures;`,
	// 2 to 3: wrong confirmations are counted per session, so a device that guesses locks
	// and finally signs out only itself, never its owner's other devices.
	`ALTER TABLE sessions ADD COLUMN wrong_passwords INTEGER NOT NULL DEFAULT 0;
	 DELETE FROM failures WHERE scope = 'confirm';
	 DELETE FROM lockouts WHERE scope = 'confirm';`,
	// 3 to 4: sessions know the browser they run in (the device cookie), so a new device
	// is one the account has never seen, whatever its user agent says. (The tables for
	// devices, mail alerts, the outbox and mail links are new: schema.sql adds them.)
	`ALTER TABLE sessions ADD COLUMN device_id INTEGER NOT NULL DEFAULT 0;`,
	// 4 to 5: the owner names a browser ("Anna's iPad") once, for all its sign-ins, and
	// mails tell times in the zone the account's browsers report. (A database older than
	// 4 has no known_devices yet: it is made as version 4 had it, then given the name.)
	// An ended session remembers why it ended, so the device is told the true reason
	// (signed out for guessing, not "from another device"); a browser signed out from
	// elsewhere stays known (its sign-in budget) but its next sign-in is alerted.
	`CREATE TABLE IF NOT EXISTS known_devices (id INTEGER PRIMARY KEY,
	   user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, device_hash BLOB NOT NULL,
	   first_seen_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, UNIQUE (user_id, device_hash));
	 ALTER TABLE known_devices ADD COLUMN name TEXT NOT NULL DEFAULT '';
	 ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
	 ALTER TABLE ended_sessions ADD COLUMN reason TEXT NOT NULL DEFAULT '';
	 ALTER TABLE known_devices ADD COLUMN signed_out INTEGER NOT NULL DEFAULT 0;`,
	// 5 to 6: passkeys and their ceremonies' challenges. Both tables are new, so the step
	// is schema.sql's own statements for them.
	passkeyTables,
	// 6 to 7: an account's change counter, which every write to it moves, so an app server
	// on PostgreSQL can tell in one query whether what it remembers of the account is current.
	`ALTER TABLE users ADD COLUMN changes INTEGER NOT NULL DEFAULT 0;`,
}

// passkeyTables are the tables version 6 adds, as schema.sql has them.
const passkeyTables = `CREATE TABLE IF NOT EXISTS passkeys (id INTEGER PRIMARY KEY,
	   user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, credential_id BLOB NOT NULL UNIQUE,
	   public_key BLOB NOT NULL, sign_count INTEGER NOT NULL DEFAULT 0, aaguid BLOB NOT NULL,
	   transports TEXT NOT NULL DEFAULT '', backup_eligible INTEGER NOT NULL DEFAULT 0,
	   backup_state INTEGER NOT NULL DEFAULT 0, name TEXT NOT NULL DEFAULT '', added_device TEXT NOT NULL DEFAULT '',
	   device_hash BLOB, added_handle TEXT NOT NULL DEFAULT '', added_at INTEGER NOT NULL,
	   last_used_at INTEGER NOT NULL DEFAULT 0);
	 CREATE TABLE IF NOT EXISTS passkey_challenges (challenge_hash BLOB PRIMARY KEY, purpose TEXT NOT NULL,
	   handle TEXT NOT NULL DEFAULT '', user_id INTEGER NOT NULL DEFAULT 0, ceremony TEXT NOT NULL,
	   expires_at INTEGER NOT NULL);`

// Engine is the kind of database.
type Engine string

// The engines Elsewhere runs on.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is the database as two pools: one that writes, one that reads.
// SQLite allows one writer at a time; funnelling writes through one connection
// turns lock contention into a queue instead of SQLITE_BUSY errors. On PostgreSQL every
// write transaction holds the advisory locks of its keys instead (Key: per account), to
// the same effect for each account across servers, while accounts write in parallel.
type DB struct {
	Write  *sql.DB // the writer; transactions begin IMMEDIATE (SQLite) or take their keys' locks (PostgreSQL)
	Read   *sql.DB // readers; WAL lets them run while the writer writes
	Engine Engine
	Log    *slog.Logger // where trouble in the background is reported; nil is slog's default

	pg      *pgState // set on PostgreSQL
	feed    feed
	changes *changes           // set on SQLite: the WAL index, which tells whether anything committed
	written [256]atomic.Uint64 // Written, by account, in shards
}

// Open opens the database named by dsn and migrates it: a postgres:// or postgresql://
// URL is PostgreSQL, anything else the path of an SQLite file (created if needed).
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

// openSQLite opens (creating if needed) the SQLite file at path and migrates it.
func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: empty path")
	}
	if err := makePrivate(path); err != nil {
		return nil, err
	}
	pragmas := []string{
		"journal_mode(WAL)",
		"busy_timeout(10000)",
		"foreign_keys(ON)",
		"synchronous(NORMAL)",
	}
	dsn := func(extra ...string) string {
		q := url.Values{}
		for _, p := range pragmas {
			q.Add("_pragma", p)
		}
		for i := 0; i+1 < len(extra); i += 2 {
			q.Add(extra[i], extra[i+1])
		}
		return "file:" + escapePath(path) + "?" + q.Encode()
	}

	drv, err := registeredSQLite()
	if err != nil {
		return nil, err
	}
	w := sql.OpenDB(stmtCache{dsn: dsn("_txlock", "immediate"), drv: drv})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)

	// The writer creates the file and sets WAL before any reader opens it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}

	r := sql.OpenDB(stmtCache{dsn: dsn("_pragma", "query_only(1)"), drv: drv})
	n := max(4, runtime.NumCPU()*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open database readers %s: %w", path, err)
	}
	return withChanges(ctx, &DB{Write: w, Read: r, Engine: SQLite})
}

// withChanges opens d's WAL index for ChangeStamp. A database whose index cannot be
// read still works; its ChangeStamp only never tells.
func withChanges(ctx context.Context, d *DB) (*DB, error) {
	c, err := openChanges(ctx, d.Read)
	if err != nil {
		d.log("change stamps are off, so nothing is cached across requests", err)
		return d, nil
	}
	d.changes = c
	return d, nil
}

// registeredSQLite is the driver modernc.org/sqlite registered as "sqlite", with whatever
// functions and hooks were registered on it.
func registeredSQLite() (driver.Driver, error) {
	p, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, fmt.Errorf("sqlite driver: %w", err)
	}
	defer p.Close()
	return p.Driver(), nil
}

// New wraps pools an embedding app opened itself (a writer limited to one connection,
// and readers) and migrates the schema. The pools may use any database/sql SQLite driver
// (modernc.org/sqlite, mattn/go-sqlite3, ...): Elsewhere then touches the file only
// through that driver, never through a second SQLite library, which could corrupt it
// (https://www.sqlite.org/howtocorrupt.html#multiple_copies_of_sqlite_linked_into_the_same_application).
// Both pools must be on one file in WAL mode, with foreign keys on and a busy timeout, and
// the writer's transactions should begin IMMEDIATE (modernc: _txlock=immediate; mattn:
// _txlock=immediate); New refuses pools it can tell are otherwise, saying what to change.
//
// The file and its -wal and -shm lose any group and other access, as Open's do: they hold
// password hashes and the stamp secret.
func New(ctx context.Context, write, read *sql.DB) (*DB, error) {
	file, err := checkPools(ctx, write, read)
	if err != nil {
		return nil, err
	}
	if err := tighten(file); err != nil {
		return nil, err
	}
	if err := migrate(ctx, write); err != nil {
		return nil, err
	}
	return withChanges(ctx, &DB{Write: write, Read: read, Engine: SQLite})
}

// checkPools refuses pools on which the models would misbehave, and says which file
// they are on.
func checkPools(ctx context.Context, write, read *sql.DB) (string, error) {
	if write == nil || read == nil {
		return "", errors.New("database pools: give both a writer and a reader pool")
	}
	files := map[string]string{}
	for name, p := range map[string]*sql.DB{"writer": write, "reader": read} {
		// Checked by asking, so any SQLite driver passes and no other database does.
		var version string
		if err := p.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&version); err != nil {
			return "", fmt.Errorf("database %s pool: not an SQLite database (driver %T): %w; give PostgreSQL to db.Open as a URL", name, p.Driver(), err)
		}
		var seq int
		var schema, file string
		if err := p.QueryRowContext(ctx, "PRAGMA database_list").Scan(&seq, &schema, &file); err != nil {
			return "", fmt.Errorf("database %s pool: %w", name, err)
		}
		if file == "" {
			return "", fmt.Errorf("database %s pool: an in-memory or temporary database; open a file, so that readers and the writer share it", name)
		}
		files[name] = file
		var fk, busy int
		var mode string
		if err := p.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			return "", fmt.Errorf("database %s pool: %w", name, err)
		}
		if fk != 1 {
			return "", fmt.Errorf("database %s pool: foreign keys are off; add _pragma=foreign_keys(ON) (modernc) or _foreign_keys=on (mattn) to its DSN (deleting a user must delete its sessions)", name)
		}
		if err := p.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
			return "", fmt.Errorf("database %s pool: %w", name, err)
		}
		if busy <= 0 {
			return "", fmt.Errorf("database %s pool: no busy timeout; add _pragma=busy_timeout(10000) (modernc) or _busy_timeout=10000 (mattn) to its DSN", name)
		}
		if err := p.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			return "", fmt.Errorf("database %s pool: %w", name, err)
		}
		if !strings.EqualFold(mode, "wal") {
			return "", fmt.Errorf("database %s pool: journal mode %q; add _pragma=journal_mode(WAL) (modernc) or _journal_mode=WAL (mattn) to its DSN so reads do not wait for writes", name, mode)
		}
	}
	if files["writer"] != files["reader"] {
		return "", fmt.Errorf("database pools: the writer is on %s, the readers on %s; open both on one file", files["writer"], files["reader"])
	}
	if n := write.Stats().MaxOpenConnections; n != 1 {
		return "", fmt.Errorf("database writer pool: %d connections allowed; call SetMaxOpenConns(1): SQLite has one writer, and the models rely on it", n)
	}
	return files["writer"], nil
}

// Close ends every watch, stops listening for other servers' changes and closes both pools.
func (d *DB) Close() error {
	if d.pg != nil {
		d.pg.stop(d)
	}
	d.feed.close()
	var err error
	if d.changes != nil {
		err = d.changes.close()
	}
	return errors.Join(err, d.Read.Close(), d.Write.Close())
}

// Watchers says how many watches are open, for tests and metrics.
func (d *DB) Watchers() int { return d.feed.count() }

func (d *DB) log(msg string, err error) {
	l := d.Log
	if l == nil {
		l = slog.Default()
	}
	l.Error(msg, "err", err)
}

// Ping reports whether the database answers a query that reads real tables' pages, as
// every request does: "SELECT 1" reads none, and answers while a damaged file (a WAL cut
// short, say) fails everything else.
func (d *DB) Ping(ctx context.Context) error {
	var n int
	if err := d.Read.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) AS u)
		+ (SELECT COUNT(*) FROM (SELECT 1 FROM sessions LIMIT 1) AS s)`).Scan(&n); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	if d.changes != nil {
		if err := d.changes.walIntact(); err != nil {
			return fmt.Errorf("ping database: %w", err)
		}
	}
	return nil
}

// IsBusy reports whether err is SQLite's "database is locked" (another connection held
// the write lock for longer than the busy timeout) or PostgreSQL's like of it (too many
// connections, a lock not available). It is worth retrying later.
func IsBusy(err error) bool {
	if err == nil {
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == sqlite3.SQLITE_BUSY
	}
	return isOtherSQLiteBusy(err) || isPgBusy(err)
}

// isOtherSQLiteBusy reports whether err is SQLITE_BUSY from another SQLite driver (a
// host's mattn/go-sqlite3, say), which have no common error type: an error from a driver
// package with "sqlite" in its path, carrying SQLite's own text for it (sqlite3_errstr).
func isOtherSQLiteBusy(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		t := reflect.TypeOf(e)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if strings.Contains(t.PkgPath(), "sqlite") {
			return strings.Contains(e.Error(), "database is locked")
		}
	}
	return false
}

// migrate brings the schema to Version inside one transaction, keeping every row.
func migrate(ctx context.Context, w *sql.DB) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if v > Version {
		return fmt.Errorf("migrate: database is at schema version %d, newer than this build's %d", v, Version)
	}
	if v > 0 {
		for i := v - 1; i < len(migrations) && i < Version-1; i++ {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migrate: version %d to %d: %w", i+1, i+2, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, Schema); err != nil {
		return fmt.Errorf("migrate: apply schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", Version)); err != nil {
		return fmt.Errorf("migrate: set version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// makePrivate creates the database file readable by its owner alone, before SQLite
// opens it, and takes group and other access away from an existing one: it holds password
// hashes and the stamp secret. SQLite gives the -wal and -shm files the database file's
// mode; ones left by an older build are tightened here too.
//
// A file that is there but is not an SQLite database is refused before anything is done
// to it: its mode and contents stay as they were (a -db pointed at /etc/passwd by mistake,
// as root, must not make it unreadable to everyone else).
func makePrivate(path string) error {
	if err := checkSQLiteFile(path); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	f.Close()
	return tighten(path)
}

// tighten takes group and other access away from the database file at path and its -wal
// and -shm files, where they have any.
func tighten(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("database file %s: %w", p, err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("make database file %s private: %w", p, err)
			}
		}
	}
	return nil
}

// sqliteHeader is how every SQLite database file begins.
const sqliteHeader = "SQLite format 3\x00"

// checkSQLiteFile says whether path can be used as Elsewhere's SQLite database without
// changing anything: absent (it will be created), empty (SQLite makes it a database), or a
// regular file that starts with SQLite's header and is neither a newer build's database
// nor another application's (tables, and no schema version of ours). It only reads, and
// looks at what path is before opening it, so a FIFO or a device cannot make it wait.
func checkSQLiteFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("open database %s: not a regular file (%s); nothing was changed", path, fi.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	defer f.Close()
	// The 100-byte database header (https://www.sqlite.org/fileformat.html).
	head := make([]byte, 100)
	n, err := io.ReadFull(f, head)
	switch {
	case n == 0 && (err == io.EOF || err == nil):
		return nil
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("open database %s: %w", path, err)
	case n < len(sqliteHeader) || string(head[:len(sqliteHeader)]) != sqliteHeader:
		return fmt.Errorf("open database %s: the file is not an SQLite database; nothing was changed", path)
	case n < len(head):
		return fmt.Errorf("open database %s: the file is a damaged SQLite database; nothing was changed", path)
	}
	version := binary.BigEndian.Uint32(head[60:64]) // PRAGMA user_version
	pages := binary.BigEndian.Uint32(head[28:32])   // the database's size in pages
	switch {
	case version > Version:
		return fmt.Errorf("open database %s: it is at schema version %d, newer than this build's %d; nothing was changed", path, version, Version)
	case version == 0 && pages > 1:
		return fmt.Errorf("open database %s: it holds another application's tables; nothing was changed (give -db a file of its own)", path)
	case version > 0:
		// A schema version of ours must come with our tables: another application may
		// set user_version too. Read without changing anything (immutable: no journal,
		// no -wal or -shm); whatever a version was written with is in the main file.
		ours, err := hasElsewhereTables(path)
		if err != nil {
			return fmt.Errorf("open database %s: %w; nothing was changed", path, err)
		}
		if !ours {
			return fmt.Errorf("open database %s: it holds another application's tables; nothing was changed (give -db a file of its own)", path)
		}
	}
	return nil
}

// hasElsewhereTables says whether the SQLite file at path has Elsewhere's users and
// sessions tables, reading it as an immutable file.
func hasElsewhereTables(path string) (bool, error) {
	r, err := sql.Open("sqlite", "file:"+escapePath(path)+"?mode=ro&immutable=1")
	if err != nil {
		return false, err
	}
	defer r.Close()
	var n int
	if err := r.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'sessions')`).Scan(&n); err != nil {
		return false, fmt.Errorf("read its tables: %w", err)
	}
	return n == 2, nil
}

// escapePath makes a file path safe to put in a file: URI.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(p)
}
