package db

import "testing"

// TestRebind: only placeholders become $n; a ? in quoted text, a quoted name or a
// comment stays as written.
func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`:                                         `SELECT 1`,
		`SELECT a FROM t WHERE b = ? AND c = ?`:            `SELECT a FROM t WHERE b = $1 AND c = $2`,
		`SELECT '?', 'it''s ?' FROM t WHERE b = ?`:         `SELECT '?', 'it''s ?' FROM t WHERE b = $1`,
		`SELECT "odd?name" FROM t WHERE b = ?`:             `SELECT "odd?name" FROM t WHERE b = $1`,
		"SELECT 1 -- why?\nFROM t WHERE b = ?":             "SELECT 1 -- why?\nFROM t WHERE b = $1",
		`SELECT /* a ? here */ b FROM t WHERE c IN (?, ?)`: `SELECT /* a ? here */ b FROM t WHERE c IN ($1, $2)`,
	} {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
}
