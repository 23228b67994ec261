package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db/dbtest"
	"github.com/elsewhere-dev/elsewhere/handlers"
)

// BenchmarkPostgresSignInDuringFlood: over HTTP, on PostgreSQL, bob signs in and out
// while nothing else runs (guessers=0), then while 8 or 64 clients post wrong passwords
// for ann as fast as they are answered. The clients run in the benchmark's own process,
// so on a small machine 64 of them would take most of the CPU from the server itself. The
// flood's guesses are refused by ann's rate limits without a lock (and, once her lockout
// is read, without a query), and each refused answer is held for RefusedPause before it
// leaves, so a guesser that waits for its answers sends one a second; ann's locks are
// not bob's. Compare the p50_ms metrics of the two.
func BenchmarkPostgresSignInDuringFlood(b *testing.B) {
	for _, flood := range []int{0, 8, 64} {
		b.Run(fmt.Sprintf("guessers=%d", flood), func(b *testing.B) {
			ta := newTestAppOn(b, dbtest.PostgresDSN(b), []string{"127.0.0.1/32"},
				func(c *handlers.Config) { c.RefusedPause = 0 }) // refused guesses held as served (1 s)
			ta.device("ann", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
			ta.otherUser()
			bob := ta.device("bob's laptop", uaFirefoxWindow, "198.51.100.1")
			ctx, stop := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			if flood > 0 {
				for g := range flood {
					guesser := ta.device("guesser", uaChromeMac, fmt.Sprintf("192.0.2.%d", g))
					wg.Add(1)
					go func() {
						defer wg.Done()
						form := url.Values{"email": {"ann@example.com"}, "password": {"not her password"}}
						for ctx.Err() == nil {
							req, err := guesser.request("POST", "/login", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", false)
							if err != nil {
								return
							}
							if res, err := guesser.client.Do(req.WithContext(ctx)); err == nil {
								io.Copy(io.Discard, res.Body) // read to the end, so the connection is kept
								res.Body.Close()
							}
						}
					}()
				}
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				bob.ip = fmt.Sprintf("198.51.%d.%d", i/250, 1+i%250) // within every address's budget
				start := time.Now()
				bob.login("bob@example.com", testPassword)
				if r := bob.post("/logout", nil); r.status != http.StatusSeeOther {
					b.Fatalf("bob's sign-out: %d", r.status)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			stop()
			wg.Wait()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
		})
	}
}
