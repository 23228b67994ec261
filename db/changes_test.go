package db

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestChangeStampSeesEveryCommit: the stamp stays the same across reads and changes with
// every commit, whether this handle's writer made it or another handle on the same file
// (as `elsewhere sessions revoke` in another process does); a rolled-back write
// leaves it alone.
func TestChangeStampSeesEveryCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stamp.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	stamp := func() ChangeStamp {
		t.Helper()
		s, ok := d.ChangeStamp()
		if !ok {
			t.Fatal("no change stamp on SQLite")
		}
		return s
	}
	before := stamp()
	var n int
	for range 3 {
		if err := d.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings`).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	if stamp() != before {
		t.Fatal("reads changed the stamp")
	}
	if _, err := d.Write.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('a', '1')`); err != nil {
		t.Fatal(err)
	}
	afterWrite := stamp()
	if afterWrite == before {
		t.Fatal("a commit by the writer left the stamp as it was")
	}
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('b', '2')`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if stamp() != afterWrite {
		t.Error("a rolled-back write changed the stamp")
	}

	// Another handle on the file, as another process has.
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for i, q := range []string{`UPDATE settings SET value = '2' WHERE name = 'a'`, `DELETE FROM settings WHERE name = 'a'`} {
		was := stamp()
		if _, err := other.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
		if stamp() == was {
			t.Errorf("commit %d by another handle left the stamp as it was", i)
		}
	}
	// After a checkpoint that restarts the log, commits still change it.
	if _, err := d.Write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	was := stamp()
	if _, err := d.Write.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('c', '3')`); err != nil {
		t.Fatal(err)
	}
	if stamp() == was {
		t.Error("a commit after a checkpoint left the stamp as it was")
	}
}

// TestChangeStampAfterClose: a request still running when the database is closed (main's
// Close after a shutdown that gave up waiting, a host closing its store under its
// handlers) gets "no stamp", never a read of the unmapped header, which would be a fault
// no recover can catch. The call runs in a child process so that a fault fails this test
// instead of killing the run.
func TestChangeStampAfterClose(t *testing.T) {
	if os.Getenv("ELSEWHERE_STAMP_CHILD") == "1" {
		d, err := Open(context.Background(), filepath.Join(os.Getenv("ELSEWHERE_STAMP_DIR"), "closed.db"))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := d.ChangeStamp(); !ok {
			t.Fatal("no change stamp while open")
		}
		d.Close()
		if _, ok := d.ChangeStamp(); ok {
			t.Fatal("a change stamp after Close")
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestChangeStampAfterClose$")
	cmd.Env = append(os.Environ(), "ELSEWHERE_STAMP_CHILD=1", "ELSEWHERE_STAMP_DIR="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ChangeStamp after Close: %v\n%.800s", err, out)
	}
}

// TestChangeStampAfterALogRestart: after a checkpoint restarts the WAL, the same writes
// climb back to the same frame count as before; the stamp must still differ (salts and
// checksums are part of it), or a lookup remembered before the restart (a session deleted
// since) would be answered from memory again.
func TestChangeStampAfterALogRestart(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "restart.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Write.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('x', '0000')`); err != nil {
		t.Fatal(err)
	}
	// Three identical rounds of identical writes, each from a freshly restarted log.
	var stamps []ChangeStamp
	for round := range 3 {
		if _, err := d.Write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if _, err := d.Write.ExecContext(ctx, `UPDATE settings SET value = ? WHERE name = 'x'`, fmt.Sprintf("%04d", i)); err != nil {
				t.Fatal(err)
			}
		}
		s, ok := d.ChangeStamp()
		if !ok {
			t.Fatal("no change stamp on SQLite")
		}
		for j, prev := range stamps {
			if s == prev {
				t.Errorf("round %d ends with round %d's stamp: a change across a log restart would go unseen", round+1, j+1)
			}
		}
		stamps = append(stamps, s)
	}
	// The rounds did climb to the same frame count (offset 16 of the header), so only
	// the rest of the header tells them apart.
	// (The first round starts from the insert's log; the later two from the same state.)
	if frames := func(s ChangeStamp) [4]byte { return [4]byte(s[16:20]) }; frames(stamps[1]) != frames(stamps[2]) {
		t.Fatalf("rounds 2 and 3 ended at different frame counts (%v, %v): the test proves nothing", frames(stamps[1]), frames(stamps[2]))
	}
}
