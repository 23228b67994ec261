package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/views"
)

// TestSignInFailuresSurviveARestart: not only lockouts but the failures counted towards
// them are kept in the database, so restarting between guesses buys an attacker nothing.
func TestSignInFailuresSurviveARestart(t *testing.T) {
	ta := newTestApp(t)
	ta.device("owner", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
	guess := func(ip, email string) int {
		return ta.device("x", uaChromeMac, ip).post("/login", url.Values{"email": {email}, "password": {"guess"}}).status
	}
	t.Run("per email", func(t *testing.T) {
		for i := range 9 {
			if i == 5 {
				ta.restart()
			}
			if s := guess(fmt.Sprintf("198.51.100.%d", i), "ann@example.com"); s != 401 {
				t.Fatalf("guess %d: %d", i+1, s)
			}
		}
		ta.restart()
		if s := guess("198.51.100.99", "ann@example.com"); s != 429 {
			t.Errorf("10th guess across two restarts: %d, want 429", s)
		}
	})
	t.Run("per address", func(t *testing.T) {
		for i := range 9 {
			if i == 3 {
				ta.restart()
			}
			if s := guess("192.0.2.50", fmt.Sprintf("u%d@example.com", i)); s != 401 {
				t.Fatalf("guess %d: %d", i+1, s)
			}
		}
		ta.restart()
		if s := guess("192.0.2.50", "someone@example.com"); s != 429 {
			t.Errorf("10th guess from one address across restarts: %d, want 429", s)
		}
	})
	t.Run("the window slides", func(t *testing.T) {
		// Nine failures, then a pause longer than the window: the count starts afresh.
		for i := range 9 {
			guess("192.0.2.60", fmt.Sprintf("v%d@example.com", i))
		}
		ta.clock.Advance(16 * time.Minute)
		for i := range 9 {
			if s := guess("192.0.2.60", fmt.Sprintf("w%d@example.com", i)); s != 401 {
				t.Fatalf("guess %d after the window: %d, want 401", i+1, s)
			}
		}
	})
}

// TestConfirmationLimitIsPerDevice: someone holding several of the user's devices (a
// stolen phone and tablet), each from its own address, gets five wrong answers per device,
// on any form, and each lock holds across a restart; the owner's right password on
// another device always works, and so does another user's.
func TestConfirmationLimitIsPerDevice(t *testing.T) {
	ta := newTestApp(t)
	a, b, c := threeDevices(t, ta)
	d := ta.device("D", uaSafariIPhone, "192.0.2.44")
	d.login("ann@example.com", testPassword)
	aID := a.handle()
	for _, th := range []*device{b, c, d} {
		for i := range 4 {
			th.ip = fmt.Sprintf("198.51.100.%d", 100+i) // a fresh address each time
			if i == 2 {
				ta.restart()
			}
			if r := th.hxPost("/account/sessions/"+aID+"/revoke", pw(fmt.Sprintf("guess %d", i))); r.status != http.StatusUnprocessableEntity {
				t.Fatalf("%s: wrong answer %d: %d, want 422", th.name, i+1, r.status)
			}
		}
		if r := th.post("/account/password", url.Values{"current_password": {"guess 5"}, "new_password": {"stolen passphrase"}}); r.status != http.StatusTooManyRequests {
			t.Fatalf("%s: 5th wrong answer, on another form: %d, want 429", th.name, r.status)
		}
	}
	ta.restart()
	for _, th := range []*device{b, c, d} {
		if r := th.hxPost("/account/sessions/others/revoke", pw(testPassword)); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Errorf("%s with the right password while locked: %d, want 429 with Retry-After", th.name, r.status)
		}
	}
	// Another user is not locked by it.
	bob := ta.otherUser()
	bob2 := ta.device("bob2", uaChromeMac, "")
	bob2.login("bob@example.com", testPassword)
	if r := bob.hxPost("/account/sessions/others/revoke", pw(testPassword)); r.status != http.StatusOK {
		t.Errorf("another user's confirmation: %d, want 200", r.status)
	}
	// The owner's laptop signs every guessing device out.
	if r := a.hxPost("/account/sessions/others/revoke", pw(testPassword)); r.status != http.StatusOK {
		t.Fatalf("the owner with the right password: %d, want 200", r.status)
	}
	for _, th := range []*device{b, c, d} {
		assertSignedOut(t, th, true)
	}
	assertSignedIn(t, a)
}

// burst sends n requests at once and counts the statuses.
func burst(n int, do func(i int) response) map[int]int {
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	counts := map[int]int{}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := do(i)
			mu.Lock()
			counts[r.status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return counts
}

// assertEveryGuess checks that the statuses add up to the n guesses sent and that each
// is one of those a guess may get.
func assertEveryGuess(t *testing.T, counts map[int]int, n int, allowed ...int) {
	t.Helper()
	sum := 0
	for status, k := range counts {
		sum += k
		if !slices.Contains(allowed, status) {
			t.Errorf("%d guesses answered %d, want only %v", k, status, allowed)
		}
	}
	if sum != n {
		t.Errorf("%d answers to %d guesses: %v", sum, n, counts)
	}
}

// TestParallelGuessesCannotPassTheLimits sends guesses in parallel: the attempt is
// counted before the password is checked, so no more than the limit get checked.
func TestParallelGuessesCannotPassTheLimits(t *testing.T) {
	ta := newTestApp(t)
	a, b, _ := threeDevices(t, ta)

	t.Run("sign-in", func(t *testing.T) {
		before := ta.app.Hasher().Runs()
		counts := burst(40, func(i int) response {
			d := ta.device("guesser", uaChromeMac, "198.51.100."+string(rune('0'+i%10)))
			pw := "wrong guess"
			if i == 39 {
				pw = testPassword
			}
			return d.post("/login", url.Values{"email": {"ann@example.com"}, "password": {pw}})
		})
		checked := counts[http.StatusUnauthorized] + counts[http.StatusSeeOther]
		t.Logf("40 parallel sign-ins: %v; %d argon2id runs", counts, ta.app.Hasher().Runs()-before)
		if checked > 10 {
			t.Errorf("%d of 40 parallel guesses had their password checked, want at most 10", checked)
		}
		if counts[http.StatusTooManyRequests] < 30 {
			t.Errorf("only %d answered 429", counts[http.StatusTooManyRequests])
		}
		// Every guess is accounted for, and answered only as a guess can be; the hasher
		// says how many had their password checked, whatever they were answered (the
		// guess that reaches the limit is checked, then answered 429). A right password
		// takes its attempt back, so it may let one more guess through.
		assertEveryGuess(t, counts, 40, http.StatusUnauthorized, http.StatusSeeOther, http.StatusTooManyRequests)
		limit := models.DefaultLimits().LoginEmail.Max + counts[http.StatusSeeOther]
		if runs := ta.app.Hasher().Runs() - before; runs > uint64(limit) {
			t.Errorf("%d of 40 parallel guesses were checked (argon2id runs), want at most %d", runs, limit)
		}
	})

	t.Run("confirmation", func(t *testing.T) {
		bID := b.handle()
		before := ta.app.Hasher().Runs()
		counts := burst(20, func(i int) response {
			return a.hxPost("/account/sessions/"+bID+"/revoke", pw("wrong guess"))
		})
		t.Logf("20 parallel confirmations: %v", counts)
		if checked := counts[http.StatusUnprocessableEntity] + counts[http.StatusOK]; checked > 5 {
			t.Errorf("%d of 20 parallel confirmations were checked, want at most 5", checked)
		}
		// Those refused while locked count too: the tenth attempt signs the guessing device
		// out, and the rest find it signed out.
		assertEveryGuess(t, counts, 20, http.StatusUnprocessableEntity, http.StatusTooManyRequests, http.StatusUnauthorized)
		if counts[http.StatusUnauthorized] != 20-models.GuessedOutAfter+1 {
			t.Errorf("%d of 20 parallel attempts were answered as signed out, want %d", counts[http.StatusUnauthorized], 20-models.GuessedOutAfter+1)
		}
		if runs := ta.app.Hasher().Runs() - before; runs > uint64(models.DefaultLimits().Confirm.Max) {
			t.Errorf("%d of 20 parallel confirmations were checked (argon2id runs), want at most %d", runs, models.DefaultLimits().Confirm.Max)
		}
		assertSignedOutBecause(t, a, views.TextGuessedOut)
		assertSignedIn(t, b)
	})
}

// handleOf reads the handle of the session signed in with that user agent.
func handleOf(t *testing.T, ta *testApp, ua string) string {
	t.Helper()
	return ta.query(`SELECT handle FROM sessions WHERE user_agent = ?`, ua)
}

// TestSignupAttemptsAreCountedEvenWhenTheEmailIsTaken: each attempt costs a hash and
// says whether an email has an account, so every one counts.
func TestSignupAttemptsAreCountedEvenWhenTheEmailIsTaken(t *testing.T) {
	ta := newTestApp(t)
	ta.device("owner", uaChromeMac, "192.0.2.1").signup("ann@example.com", testPassword)
	d := ta.device("prober", uaChromeMac, "198.51.100.9")
	for i := range 10 {
		if r := d.post("/signup", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("probe %d: %d, want 422", i+1, r.status)
		}
	}
	if r := d.post("/signup", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}); r.status != http.StatusTooManyRequests {
		t.Errorf("11th probe: %d, want 429", r.status)
	}
}
