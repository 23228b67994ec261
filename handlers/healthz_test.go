package handlers_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
)

// TestReadyzReadsRealTables: with the WAL cut short under the running app, the pages a
// request reads are gone; /readyz says so (503) rather than answer "SELECT 1" with 200,
// while /healthz, which asks only whether the process answers, stays 200: a database
// outage is no reason to restart every app server.
func TestReadyzReadsRealTables(t *testing.T) {
	ta := newSQLiteTestApp(t)
	a := ta.device("A", uaChromeMac, "")
	a.signup("ann@example.com", testPassword)
	if r := a.get("/readyz"); r.status != http.StatusOK || r.body != "ready\n" {
		t.Fatalf("/readyz on a sound database: %d %q", r.status, r.body)
	}
	if err := os.Truncate(ta.path+"-wal", 40); err != nil {
		t.Fatal(err)
	}
	if r := a.get("/readyz"); r.status != http.StatusServiceUnavailable || r.body != "database unavailable: read pool\n" {
		t.Errorf("/readyz with the WAL cut short: %d %q, want 503 naming the read pool", r.status, r.body)
	}
	if r := a.get("/healthz"); r.status != http.StatusOK {
		t.Errorf("/healthz with the WAL cut short: %d, want 200 (the process answers)", r.status)
	}
}

// TestReadyzAsksTheWriter: readiness asks the write pool too, not only the readers: with
// the writer pool closed under the app, /readyz is 503 naming it.
func TestReadyzAsksTheWriter(t *testing.T) {
	ta := newTestApp(t)
	a := ta.device("A", uaChromeMac, "")
	if r := a.get("/readyz"); r.status != http.StatusOK {
		t.Fatalf("/readyz: %d", r.status)
	}
	ta.db.Write.Close()
	if r := a.get("/readyz"); r.status != http.StatusServiceUnavailable || r.body != "database unavailable: write pool\n" {
		t.Errorf("/readyz with the writer closed: %d %q", r.status, r.body)
	}
	if r := a.get("/healthz"); r.status != http.StatusOK || r.body != "ok\n" {
		t.Errorf("/healthz with the writer closed: %d %q, want 200", r.status, r.body)
	}
}

// TestReadyzGoneWithTheDatabase: with the database file removed and the readers closed,
// /readyz is 503; the answer names the part, never the file.
func TestReadyzGoneWithTheDatabase(t *testing.T) {
	ta := newSQLiteTestApp(t)
	a := ta.device("A", uaChromeMac, "")
	ta.db.Read.Close()
	for _, f := range []string{ta.path, ta.path + "-wal", ta.path + "-shm"} {
		os.Remove(f)
	}
	r := a.get("/readyz")
	if r.status != http.StatusServiceUnavailable || strings.Contains(r.body, ta.path) {
		t.Errorf("/readyz with the database gone: %d %q, want 503 without the path", r.status, r.body)
	}
}

// TestReadyzSaysShuttingDown: once shutdown began (live streams closed), /readyz is 503,
// so the load balancer stops sending requests while in-flight ones finish.
func TestReadyzSaysShuttingDown(t *testing.T) {
	ta := newTestApp(t)
	a := ta.device("A", uaChromeMac, "")
	ta.app.CloseStreams()
	if r := a.get("/readyz"); r.status != http.StatusServiceUnavailable || r.body != "shutting down\n" {
		t.Errorf("/readyz after shutdown began: %d %q", r.status, r.body)
	}
	if r := a.get("/healthz"); r.status != http.StatusOK {
		t.Errorf("/healthz after shutdown began: %d, want 200", r.status)
	}
}

// TestReadyzNeedsTheChangeFeed (PostgreSQL): with the connection that LISTENs for other
// app servers' changes cut, open pages would miss them; /readyz says so (503, change
// feed) until the feed reconnects, then 200 again.
func TestReadyzNeedsTheChangeFeed(t *testing.T) {
	ta := newTestApp(t)
	if ta.db.Engine != db.Postgres {
		t.Skip("the change feed's LISTEN connection is PostgreSQL's")
	}
	a := ta.device("A", uaChromeMac, "")
	if r := a.get("/readyz"); r.status != http.StatusOK {
		t.Fatalf("/readyz: %d %q", r.status, r.body)
	}
	if n := ta.query(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query = 'LISTEN "elsewhere_' || current_schema() || '"'`); n != "1" {
		t.Fatalf("%s LISTEN connections cut, want 1", n)
	}
	// The feed reconnects after 100 ms: ask until the answer says it is down.
	deadline := time.Now().Add(5 * time.Second)
	for r := a.get("/readyz"); r.body != "database unavailable: change feed\n"; r = a.get("/readyz") {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz with the change feed cut: %d %q, want 503 naming the change feed", r.status, r.body)
		}
	}
	waitUntil(t, "the change feed to reconnect", func() bool { return a.get("/readyz").status == http.StatusOK })
}
