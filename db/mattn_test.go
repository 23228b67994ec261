//go:build mattn && cgo

package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/db/dbtest"
)

// TestMattnPools: a generated starter's own mattn/go-sqlite3 pools are taken by db.New,
// which then works through them alone: the change stamp sees their commits, and a write
// lock held past the busy timeout is told apart (503, not 500) though its error is mattn's.
func TestMattnPools(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "starter.db")
	d, err := dbtest.OpenDSN(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, ok := d.Write.Driver().(*sqlite3.SQLiteDriver); !ok {
		t.Fatalf("the writer's driver is %T, want mattn's", d.Write.Driver())
	}
	before, ok := d.ChangeStamp()
	if !ok {
		t.Fatal("no change stamp on mattn's pools")
	}
	if _, err := d.Write.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('x', 'y')`); err != nil {
		t.Fatal(err)
	}
	if after, ok := d.ChangeStamp(); !ok || after == before {
		t.Errorf("a commit left the change stamp as it was (ok %v)", ok)
	}

	other, err := sql.Open("sqlite3", "file:"+path)
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
	_, err = d.Write.Exec(`INSERT INTO settings (name, value) VALUES ('y', 'z')`)
	if !db.IsBusy(err) || !db.IsBusy(fmt.Errorf("wrapped: %w", err)) {
		t.Errorf("a held write lock through mattn: %v, IsBusy false", err)
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}
	// A mattn pool set up wrong is told how to set it right in mattn's own words.
	noFK, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=10000&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer noFK.Close()
	noFK.SetMaxOpenConns(1)
	if _, err := db.New(ctx, noFK, d.Read); err == nil || !strings.Contains(err.Error(), "_foreign_keys=on (mattn)") {
		t.Errorf("a mattn writer without foreign keys: %v", err)
	}

	_, err = d.Write.Exec(`INSERT INTO nosuchtable VALUES (1)`)
	if err == nil || db.IsBusy(err) || !strings.Contains(err.Error(), "no such table") {
		t.Errorf("another mattn error: %v, IsBusy %v", err, db.IsBusy(err))
	}
}
