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
	d, err := db.Open(context.Background(), DSN(tb))
	if err != nil {
		tb.Fatalf("open database: %v", err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

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
