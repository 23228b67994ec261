package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/elsewhere-dev/elsewhere/handlers"
)

// guessAt returns a function that posts a wrong password for email from a new address
// each time, as a guessing flood does, and gives the answer's status (0 when the client
// gave up first).
func guessAt(ta *testApp, email string) func(ctx context.Context) int {
	n := 0
	return func(ctx context.Context) int {
		n++
		g := ta.device("guesser", uaChromeMac, fmt.Sprintf("192.0.2.%d", n%250+1))
		form := url.Values{"email": {email}, "password": {"not her password"}}
		req, err := g.request("POST", "/login", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", false)
		if err != nil {
			ta.t.Fatal(err)
		}
		res, err := g.client.Do(req.WithContext(ctx))
		if err != nil {
			return 0
		}
		defer res.Body.Close()
		io.Copy(io.Discard, res.Body)
		return res.StatusCode
	}
}

// lockOut guesses until ann's email refuses strangers.
func lockOut(t *testing.T, guess func(context.Context) int) {
	t.Helper()
	for range 100 {
		if guess(context.Background()) == http.StatusTooManyRequests {
			return
		}
	}
	t.Fatal("100 wrong passwords and ann's sign-in never refused a stranger")
}

// TestRefusedSignInsAreHeld: an answer refused by a sign-in limit leaves only after
// RefusedPause, still 429 with Retry-After; while refused guesses are held, another
// account signs in and out as usual; a guesser that gives up frees its slot; past the
// slots kept, refused answers leave at once; the gauge shows how many are held.
func TestRefusedSignInsAreHeld(t *testing.T) {
	t.Run("after the pause", func(t *testing.T) {
		const pause = 300 * time.Millisecond
		ta := newTestApp(t, func(c *handlers.Config) { c.RefusedPause = pause })
		ta.device("ann", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
		guess := guessAt(ta, "ann@example.com")
		lockOut(t, guess)
		start := time.Now()
		if s := guess(context.Background()); s != http.StatusTooManyRequests {
			t.Fatalf("a guess at a locked account: %d, want 429", s)
		}
		if took := time.Since(start); took < pause { // a timer never fires early
			t.Errorf("a refused answer left after %v, before the %v pause", took, pause)
		}
		// The lockout this server has read refuses the next guess before any query (on
		// PostgreSQL, where Reads counts them).
		reads := ta.db.Reads()
		if s := guess(context.Background()); s != http.StatusTooManyRequests {
			t.Fatalf("another guess at a locked account: %d, want 429", s)
		}
		if n := ta.db.Reads() - reads; n != 0 {
			t.Errorf("a guess at a lockout this server has read asked the database %d times", n)
		}
	})

	t.Run("held", func(t *testing.T) {
		defer handlers.SetMaxHeld(3)()
		// Locked out through a server of the same database that holds nothing.
		quick := newTestApp(t)
		quick.device("ann", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
		lockOut(t, guessAt(quick, "ann@example.com"))
		reg := prometheus.NewRegistry()
		ta := newTestAppOn(t, quick.path, []string{"127.0.0.1/32"}, withMetrics(reg),
			func(c *handlers.Config) { c.RefusedPause = time.Hour })
		bob := ta.device("bob", uaFirefoxWindow, "198.51.100.1")
		bob.signup("bob@example.com", testPassword)
		bob.post("/logout", nil)
		guess := guessAt(ta, "ann@example.com")
		ctx, giveUp := context.WithCancel(context.Background())
		answered := make(chan int, 3)
		for range 3 {
			go func() { answered <- guess(ctx) }()
		}
		waitUntil(t, "3 refused answers held", func() bool { return metric(t, reg, "elsewhere_refused_answers_held") == 3 })

		soon, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if s := guess(soon); s != http.StatusTooManyRequests { // no slot left: at once
			t.Errorf("a refused guess past the slots: %d, want 429 at once", s)
		}
		bob.login("bob@example.com", testPassword)
		assertSignedIn(t, bob)
		if r := bob.post("/logout", nil); r.status != http.StatusSeeOther {
			t.Errorf("bob's sign-out while guesses are held: %d", r.status)
		}
		select {
		case s := <-answered:
			t.Fatalf("a refused guess was answered (%d) before the pause", s)
		default:
		}

		giveUp()
		for range 3 {
			select {
			case <-answered:
			case <-time.After(30 * time.Second):
				t.Fatal("a guesser that gave up is still held after 30 s")
			}
		}
		waitUntil(t, "the guessers' slots to be freed", func() bool { return metric(t, reg, "elsewhere_refused_answers_held") == 0 })
	})
}
