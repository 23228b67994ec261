package handlers_test

import (
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/elsewhere-dev/elsewhere/models"
)

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
		assertEveryGuess(t, counts, 20, http.StatusUnprocessableEntity, http.StatusTooManyRequests)
		if runs := ta.app.Hasher().Runs() - before; runs > uint64(models.DefaultLimits().Confirm.Max) {
			t.Errorf("%d of 20 parallel confirmations were checked (argon2id runs), want at most %d", runs, models.DefaultLimits().Confirm.Max)
		}
		if r := a.hxPost("/account/sessions/"+bID+"/revoke", pw(testPassword)); r.status != http.StatusTooManyRequests {
			t.Errorf("after the burst the right password got %d, want 429", r.status)
		}
		assertSignedIn(t, b)
	})
}

// TestRotationDoesNotReviveStaleSessions: when the hash changed behind the sessions'
// backs (a host app's reset, another stamp secret), a later rotation must end the stale
// sessions, not re-stamp them back to life.
func TestRotationDoesNotReviveStaleSessions(t *testing.T) {
	ta := newTestApp(t)
	_, b, c := threeDevices(t, ta)
	ta.resaltBehindTheirBacks()
	fresh := ta.device("fresh", uaChromeMac, "")
	fresh.login("ann@example.com", testPassword)
	if r := fresh.hxPost("/account/sessions/"+handleOf(t, ta, uaFirefoxWindow)+"/revoke", pw(testPassword)); r.status != http.StatusOK {
		t.Fatalf("revoke C: %d %s", r.status, r.body)
	}
	assertSignedOut(t, b, true) // stale since the hash changed; must stay out
	assertSignedOut(t, c, true)
	if rows, _ := fresh.page(); len(rows) != 1 {
		t.Errorf("fresh device lists %d sessions, want only itself", len(rows))
	}
}

// handleOf reads the handle of the session signed in with that user agent.
func handleOf(t *testing.T, ta *testApp, ua string) string {
	t.Helper()
	return ta.query(`SELECT handle FROM sessions WHERE user_agent = ?`, ua)
}

// TestPasswordChangeClosesOtherConfirmationWindows: a window opened with the old
// password must not let another device act without the new one.
func TestPasswordChangeClosesOtherConfirmationWindows(t *testing.T) {
	ta := newTestApp(t)
	a, b, c := threeDevices(t, ta)
	if r := b.hxPost("/account/sessions/"+c.handle()+"/revoke", pw(testPassword)); r.status != http.StatusOK {
		t.Fatalf("B revokes C: %d", r.status)
	}
	r := a.hxPost("/account/password", url.Values{"current_password": {testPassword}, "new_password": {"a brand new passphrase"}})
	if r.status != http.StatusOK {
		t.Fatalf("A changes the password (others stay): %d %s", r.status, r.body)
	}
	assertSignedIn(t, b)
	if r := b.hxPost("/account/sessions/"+a.handle()+"/revoke", url.Values{}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("B acts on the old window without the new password: %d, want 422", r.status)
	}
	assertSignedIn(t, a)
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
