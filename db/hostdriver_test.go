package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// hostDriver is an SQLite driver of a host app's own, as mattn/go-sqlite3 is to a
// generated starter: here modernc's engine under another type, recording every
// connection it opens.
type hostDriver struct {
	inner driver.Driver
	mu    sync.Mutex
	dsns  []string
}

func (d *hostDriver) Open(name string) (driver.Conn, error) {
	d.mu.Lock()
	d.dsns = append(d.dsns, name)
	d.mu.Unlock()
	return d.inner.Open(name)
}

func (d *hostDriver) opened() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.dsns)
}

// TestNewTakesAnySQLiteDriver: pools of a driver that is not modernc's are taken, and
// every connection Elsewhere opens on the file (the one that keeps the WAL index for the
// change stamp too) goes through that driver, never through a second SQLite library.
func TestNewTakesAnySQLiteDriver(t *testing.T) {
	ctx := context.Background()
	inner, err := registeredSQLite()
	if err != nil {
		t.Fatal(err)
	}
	host := &hostDriver{inner: inner}
	dir := t.TempDir()
	pool := func(path string, writer bool) *sql.DB {
		dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)"
		if writer {
			dsn += "&_txlock=immediate"
		}
		p := sql.OpenDB(dsnConnector{drv: host, dsn: dsn})
		if writer {
			p.SetMaxOpenConns(1)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}

	path := filepath.Join(dir, "host.db")
	d, err := New(ctx, pool(path, true), pool(path, false))
	if err != nil {
		t.Fatalf("a host's own SQLite driver: %v", err)
	}
	defer d.Close()
	if !slices.Contains(host.opened(), "file:"+path) {
		t.Errorf("the WAL index is kept open by another SQLite library: the host's driver opened only %q", host.opened())
	}
	before, ok := d.ChangeStamp()
	if !ok {
		t.Fatal("no change stamp on the host's pools")
	}
	if _, err := d.Write.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('x', 'y')`); err != nil {
		t.Fatal(err)
	}
	if after, ok := d.ChangeStamp(); !ok || after == before {
		t.Errorf("a commit through the host's pool left the change stamp as it was (ok %v)", ok)
	}
	if err := d.Ping(ctx); err != nil {
		t.Error(err)
	}
	// The host's driver made the files with the process's umask; they hold password hashes.
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s after New: %v, %v; want no group or other access", f, fi.Mode(), err)
		}
	}

	// What cannot work is refused, saying why.
	other := filepath.Join(dir, "other.db")
	mem := sql.OpenDB(dsnConnector{drv: host, dsn: "file::memory:"})
	mem.SetMaxOpenConns(1)
	defer mem.Close()
	for _, tc := range []struct {
		name   string
		w, r   *sql.DB
		reason string
	}{
		{"readers on another file", pool(path, true), pool(other, false), "open both on one file"},
		{"in memory", mem, pool(path, false), "in-memory"},
	} {
		if _, err := New(ctx, tc.w, tc.r); err == nil || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.reason)
		}
	}
}
