package handlers_test

import (
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkPageLoad is the load script for the Security page: one client, then 32 at
// once, ask for it over real HTTP (loopback) as the first of one user's 20 signed-in
// devices, and it prints requests per second and the latency's p50 and p99 (ms): on a
// database holding only that user, and with the user among 1,000,000 session rows
// (50,000 other accounts of 20 devices each). One client shows what a request costs;
// 32 what the machine serves (the latency is then mostly waiting in line). On SQLite,
// whatever the run's engine (the rows are made with SQLite's functions).
//
//	go test -run '^$' -bench PageLoad -benchtime 10s ./handlers/
func BenchmarkPageLoad(b *testing.B) {
	for _, tc := range []struct {
		name     string
		accounts int // other accounts, of 20 sessions each
	}{{"20 devices", 0}, {"20 devices among 1000000 rows", 50_000}} {
		ta := newSQLiteTestApp(b)
		a := ta.device("A", benchUAs[0], "203.0.113.1")
		a.signup("bench@example.com", testPassword)
		for i, ua := range benchUAs[1:] {
			ta.device(fmt.Sprintf("D%d", i), ua, fmt.Sprintf("198.51.100.%d", i+1)).login("bench@example.com", testPassword)
		}
		if tc.accounts > 0 {
			fillOtherAccounts(b, ta, tc.accounts, len(benchUAs))
		}
		// Clients share one keep-alive pool, as a browser's tabs would; enough idle
		// connections that none is closed between requests.
		a.client.Transport = &http.Transport{MaxIdleConnsPerHost: 64}
		if rows, _ := a.page(); len(rows) != len(benchUAs) {
			b.Fatalf("the page lists %d devices, want %d", len(rows), len(benchUAs))
		}
		for _, clients := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s, %d clients", tc.name, clients), func(b *testing.B) { loadPage(b, a, clients) })
		}
	}
}

// loadPage has clients (1, or a multiple of GOMAXPROCS) ask for a's Security page b.N
// times in all and reports req/s, p50-ms and p99-ms.
func loadPage(b *testing.B, a *device, clients int) {
	var (
		mu   sync.Mutex
		lat  []time.Duration
		fail error
	)
	run := func(next func() bool) {
		var mine []time.Duration
		for next() {
			req, err := a.request("GET", "/account/security", nil, "", false)
			if err != nil {
				mu.Lock()
				fail = err
				mu.Unlock()
				return
			}
			t0 := time.Now()
			r, err := a.roundTrip(req)
			mine = append(mine, time.Since(t0))
			if err == nil && r.status != http.StatusOK {
				err = fmt.Errorf("status %d", r.status)
			}
			if err != nil {
				mu.Lock()
				fail = err
				mu.Unlock()
				return
			}
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	}
	start := time.Now()
	if clients == 1 {
		run(b.Loop)
	} else {
		b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) { run(pb.Next) })
	}
	elapsed := time.Since(start)
	if fail != nil {
		b.Fatalf("GET /account/security: %v", fail)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// fillOtherAccounts adds accounts other accounts of perAccount live sessions each, copies
// of the first session in the database under fresh handles and tokens.
func fillOtherAccounts(b *testing.B, ta *testApp, accounts, perAccount int) {
	b.Helper()
	start := time.Now()
	if _, err := ta.db.Write.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO users (email, password_hash, created_at)
		SELECT 'user' || n.i || '@example.com', u.password_hash, u.created_at FROM n, (SELECT * FROM users LIMIT 1) u`, accounts); err != nil {
		b.Fatal(err)
	}
	if _, err := ta.db.Write.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO sessions (handle, token_hash, user_id, created_at, last_active_at, expires_at, remember, ip,
			user_agent, client_hints, browser, os, device_type, device_model, stamp)
		SELECT lower(hex(randomblob(16))), randomblob(32), u.id, s.created_at, s.last_active_at, s.expires_at, s.remember,
			'192.0.2.' || (n.i % 250), s.user_agent, s.client_hints, s.browser, s.os, s.device_type, s.device_model, s.stamp
		FROM users u, n, (SELECT * FROM sessions ORDER BY id LIMIT 1) s
		WHERE u.email LIKE 'user%@example.com'`, perAccount); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s session rows in the database, made in %v", ta.query(`SELECT COUNT(*) FROM sessions`), time.Since(start).Round(time.Second))
}
