package db

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// cached returns the statements the connection keeps prepared.
func cached(t *testing.T, conn *sql.Conn) map[string]*cachedStmt {
	t.Helper()
	var stmts map[string]*cachedStmt
	if err := conn.Raw(func(dc any) error {
		stmts = dc.(*cachingConn).stmts
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return stmts
}

// TestStatementsArePreparedOncePerConnection: a statement run again on the same SQLite
// connection reuses the one prepared the first time; a second run of a statement whose
// rows are still open (inside one transaction) gets its own and the right rows; a
// statement that failed is prepared afresh; a script of several statements is not kept.
func TestStatementsArePreparedOncePerConnection(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "stmts.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	conn, err := d.Write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const ins = `INSERT INTO settings (name, value) VALUES (?, ?)`
	for _, name := range []string{"a", "b", "c"} {
		if _, err := conn.ExecContext(ctx, ins, name, "v-"+name); err != nil {
			t.Fatal(err)
		}
	}
	first := cached(t, conn)[ins]
	if first == nil {
		t.Fatalf("%q is not kept prepared after three runs", ins)
	}

	// A duplicate name fails (primary key): the statement is dropped, and the next run
	// prepares it again and works.
	if _, err := conn.ExecContext(ctx, ins, "a", "again"); err == nil {
		t.Fatal("a duplicate setting was inserted")
	}
	if _, ok := cached(t, conn)[ins]; ok {
		t.Errorf("the statement that failed is still cached")
	}
	if _, err := conn.ExecContext(ctx, ins, "d", "v-d"); err != nil {
		t.Fatalf("after a failure: %v", err)
	}
	if again := cached(t, conn)[ins]; again == nil || again == first {
		t.Errorf("after a failure the statement was not prepared afresh")
	}

	// The same query twice at once, inside one transaction.
	const sel = `SELECT name, value FROM settings WHERE name >= ? ORDER BY name`
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tx.QueryContext(ctx, sel, "a")
	if err != nil {
		t.Fatal(err)
	}
	var outer []string
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			t.Fatal(err)
		}
		var inner string
		if err := tx.QueryRowContext(ctx, sel, name).Scan(&inner, new(string)); err != nil {
			t.Fatalf("the same query while its rows are open: %v", err)
		}
		if inner != name {
			t.Errorf("inner query for %q read %q", name, inner)
		}
		outer = append(outer, name+"="+value)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := len(outer); got != 4 {
		t.Errorf("outer rows %q, want a, b, c and d", outer)
	}
	if cs := cached(t, conn)[sel]; cs == nil || cs.busy {
		t.Errorf("after its rows closed the query is %+v, want cached and free", cs)
	}

	// A script is run, not kept.
	const script = `UPDATE settings SET value = 'x' WHERE name = 'a'; UPDATE settings SET value = 'y' WHERE name = 'b'`
	if _, err := conn.ExecContext(ctx, script); err != nil {
		t.Fatal(err)
	}
	if _, ok := cached(t, conn)[script]; ok {
		t.Errorf("a script of two statements was cached")
	}
	var a, b string
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT value FROM settings WHERE name = 'a'), (SELECT value FROM settings WHERE name = 'b')`).Scan(&a, &b); err != nil || a != "x" || b != "y" {
		t.Errorf("the script left a=%q b=%q (%v), want x and y", a, b, err)
	}
}
