// Package dbtest opens a fresh, real database for a test: an SQLite file in a temporary
// directory, or, when ELSEWHERE_TEST_ENGINE=postgres, a new schema in the PostgreSQL
// server that ELSEWHERE_TEST_POSTGRES names (`.ci/postgres start` prints such a URL). One
// suite runs on either engine that way.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx", for creating and dropping schemas
	_ "modernc.org/sqlite"             // registers "sqlite", the suites' own SQLite library

	"github.com/elsewhere-dev/elsewhere/db"
)

// Engine is the engine this test run uses: db.Postgres when ELSEWHERE_TEST_ENGINE says so.
func Engine() db.Engine {
	if os.Getenv("ELSEWHERE_TEST_ENGINE") == string(db.Postgres) {
		return db.Postgres
	}
	return db.SQLite
}

// Open opens a fresh database on this run's engine, closed when the test ends.
func Open(tb testing.TB) *db.DB {
	tb.Helper()
	d, err := OpenDSN(context.Background(), DSN(tb))
	if err != nil {
		tb.Fatalf("open database: %v", err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// OpenDSN opens the database dsn names as db.Open does, except that an SQLite file is
// opened through the host-driver path (db.New over pools of the driver Driver names)
// when this test binary was built with one (-tags mattn: mattn/go-sqlite3), so the
// suites run as an embedding app's database too.
func OpenDSN(ctx context.Context, dsn string) (*db.DB, error) {
	if hostPools != nil && !db.IsPostgres(dsn) {
		w, r, err := hostPools(dsn)
		if err != nil {
			return nil, err
		}
		d, err := db.New(ctx, w, r)
		if err != nil {
			w.Close()
			r.Close()
		}
		return d, err
	}
	return db.Open(ctx, dsn)
}

// OpenRaw opens a plain pool on the SQLite file at path (no schema, no checks), with the
// driver OpenDSN uses: a second connection "from another process" must be of the same
// SQLite library, since a second copy of SQLite in one process does not see the first's
// locks.
func OpenRaw(path string) (*sql.DB, error) {
	if rawPool != nil {
		return rawPool(path)
	}
	return sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
}

// Driver names the SQLite driver OpenDSN uses: "modernc" unless a build tag chose another.
var Driver = "modernc"

// hostPools, set by a build tag's file, opens a writer and a reader pool on an SQLite
// file with a host app's driver.
var hostPools func(path string) (write, read *sql.DB, err error)

// rawPool, set with hostPools, opens a plain pool of the same driver.
var rawPool func(path string) (*sql.DB, error)

// DSN names a fresh, empty database on this run's engine: a file path, or a PostgreSQL
// URL whose search_path is a new schema, dropped when the test ends. Every db.Open of it
// sees the same database, as app servers sharing one would.
func DSN(tb testing.TB) string {
	tb.Helper()
	if Engine() == db.Postgres {
		return PostgresDSN(tb)
	}
	return filepath.Join(tb.TempDir(), "elsewhere.db")
}

// PostgresDSN is DSN on PostgreSQL whatever the engine of this run. Without a server it
// skips the test, or fails it when ELSEWHERE_REQUIRE_POSTGRES is set (as in CI).
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	server := os.Getenv("ELSEWHERE_TEST_POSTGRES")
	if server == "" {
		if os.Getenv("ELSEWHERE_REQUIRE_POSTGRES") != "" || Engine() == db.Postgres {
			tb.Fatal("no PostgreSQL: set ELSEWHERE_TEST_POSTGRES to a server URL (.ci/postgres start prints one)")
		}
		tb.Skip("no PostgreSQL: set ELSEWHERE_TEST_POSTGRES (.ci/postgres start prints a URL) to run this test")
	}
	admin, err := sql.Open("pgx", server)
	if err != nil {
		tb.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	b := make([]byte, 8)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("postgres: create schema: %v", err)
	}
	tb.Cleanup(func() {
		a, err := sql.Open("pgx", server)
		if err != nil {
			return
		}
		defer a.Close()
		a.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(server)
	if err != nil {
		tb.Fatalf("postgres: ELSEWHERE_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// HoldLeases waits until every one of servers may answer from memory (db.DB.Remembering:
// on PostgreSQL, once its first ping has come back), failing the test after 30 s.
func HoldLeases(tb testing.TB, servers ...*db.DB) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, d := range servers {
		for _, ok := d.Remembering(); !ok; _, ok = d.Remembering() {
			if time.Now().After(deadline) {
				tb.Fatal("a server holds no lease after 30 s")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
