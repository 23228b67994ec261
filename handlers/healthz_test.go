package handlers_test

import (
	"net/http"
	"os"
	"testing"
)

// TestHealthzReadsRealTables: with the WAL cut short under the running app, the pages a
// request reads are gone; /healthz says so (503) rather than answer "SELECT 1" with 200.
func TestHealthzReadsRealTables(t *testing.T) {
	ta := newSQLiteTestApp(t)
	a := ta.device("A", uaChromeMac, "")
	a.signup("ann@example.com", testPassword)
	if r := a.get("/healthz"); r.status != http.StatusOK {
		t.Fatalf("/healthz on a sound database: %d", r.status)
	}
	if err := os.Truncate(ta.path+"-wal", 40); err != nil {
		t.Fatal(err)
	}
	if r := a.get("/healthz"); r.status != http.StatusServiceUnavailable {
		t.Errorf("/healthz with the WAL cut short: %d, want 503", r.status)
	}
}
