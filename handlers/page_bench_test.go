package handlers_test

import (
	"net/http"
	"testing"

	"github.com/elsewhere-dev/elsewhere/handlers"
)

// BenchmarkSecurityPage serves the Security page through the real router over loopback:
// with 50 signed-in devices (the cap), and for one user among 100,000 session rows of
// their own, as an account left over the cap by an older build holds until the sweeper
// trims it. It reports the page's bytes; the list is bounded either way.
func BenchmarkSecurityPage(b *testing.B) {
	for _, tc := range []struct {
		name string
		rows int
	}{{"50 devices", 50}, {"100000 rows of one user", 100_000}} {
		b.Run(tc.name, func(b *testing.B) {
			ta := newTestApp(b, func(c *handlers.Config) { c.MaxSessions = -1 })
			a := ta.device("A", uaChromeMac, "203.0.113.1")
			a.signup("ann@example.com", testPassword)
			// Copies of A's row under fresh handles and tokens, older than A.
			if _, err := ta.db.Write.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
				INSERT INTO sessions (handle, token_hash, user_id, created_at, last_active_at, expires_at, remember, ip,
					user_agent, client_hints, browser, os, device_type, device_model, stamp)
				SELECT lower(hex(randomblob(16))), randomblob(32), s.user_id, s.created_at - n.i, s.last_active_at - n.i,
					s.expires_at, s.remember, '198.51.100.' || (n.i % 250), s.user_agent, s.client_hints, s.browser, s.os,
					s.device_type, s.device_model, s.stamp
				FROM sessions s, n`, tc.rows-1); err != nil {
				b.Fatal(err)
			}
			ta.cfg.MaxSessions = 50
			ta.restart()
			r := a.get("/account/security")
			if r.status != http.StatusOK {
				b.Fatalf("page: %d", r.status)
			}
			if rows := parseRows(b, r.body); len(rows) != 50 {
				b.Fatalf("the page lists %d devices, want 50", len(rows))
			}
			for b.Loop() {
				if r := a.get("/account/security"); r.status != http.StatusOK {
					b.Fatalf("page: %d", r.status)
				}
			}
			b.ReportMetric(float64(len(r.body)), "bytes/page")
		})
	}
}
