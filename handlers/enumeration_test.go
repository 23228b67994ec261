package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models"
)

// TestSignInDoesNotRevealAccounts: an unknown email and a wrong password get the same
// answer and cost the same work, with the real argon2id parameters. The bound on the
// ratio of median times is loose on purpose: it only has to catch a missing dummy hash,
// which would make unknown emails about a hundred times faster.
func TestSignInDoesNotRevealAccounts(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes with the real argon2id parameters")
	}
	params := models.DefaultHashParams()
	ta := newTestApp(t, func(c *handlers.Config) { c.HashParams = &params })
	ta.device("owner", uaChromeMac, "").signup("ann@example.com", testPassword)

	const tries = 30
	var known, unknown []time.Duration
	var bodies [2]string
	for i := range 2 * tries {
		// A fresh address and a clock past the window each time keep the limits out of it.
		ta.clock.Advance(16 * time.Minute)
		email := "ann@example.com"
		if i%2 == 1 {
			email = fmt.Sprintf("nobody%d@example.com", i)
		}
		d := ta.device("x", uaChromeMac, fmt.Sprintf("198.51.%d.%d", i/200, i%200))
		runs := ta.app.Hasher().Runs()
		start := time.Now()
		r := d.post("/login", url.Values{"email": {email}, "password": {"wrong password"}})
		took := time.Since(start)
		if r.status != http.StatusUnauthorized {
			t.Fatalf("try %d (%s): %d, want 401", i, email, r.status)
		}
		if n := ta.app.Hasher().Runs() - runs; n != 1 {
			t.Errorf("try %d (%s) cost %d argon2id derivations, want 1", i, email, n)
		}
		main := findByID(t, r.body, "main")
		if main == nil {
			t.Fatal("no <main> in the answer")
		}
		text := strings.Replace(textOf(main), email, "EMAIL", 1)
		if i%2 == 0 {
			known, bodies[0] = append(known, took), text
		} else {
			unknown, bodies[1] = append(unknown, took), text
		}
	}
	if bodies[0] != bodies[1] {
		t.Errorf("the answers differ:\nknown:   %s\nunknown: %s", bodies[0], bodies[1])
	}
	median := func(d []time.Duration) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[len(s)/2]
	}
	ratio := float64(median(unknown)) / float64(median(known))
	t.Logf("median sign-in: wrong password %v, unknown email %v; ratio %.2f (%d tries each)",
		median(known), median(unknown), ratio, tries)
	if ratio < 0.5 || ratio > 2.0 {
		t.Errorf("unknown/known median ratio %.2f, want within 0.5..2.0", ratio)
	}
}

// TestUnknownEmailCostsOneDerivation: an unknown email is verified against a dummy hash,
// one argon2id derivation, exactly as a wrong password for a real account is. The
// hasher's counter says so without timing anything.
func TestUnknownEmailCostsOneDerivation(t *testing.T) {
	ta := newTestApp(t)
	ta.device("owner", uaChromeMac, "").signup("ann@example.com", testPassword)
	for i, email := range []string{"ann@example.com", "nobody@example.com", "ANN@example.com", "someone.else@example.org"} {
		ta.clock.Advance(16 * time.Minute)
		d := ta.device("x", uaChromeMac, fmt.Sprintf("198.51.100.%d", i+1))
		runs := ta.app.Hasher().Runs()
		if r := d.post("/login", url.Values{"email": {email}, "password": {"wrong password"}}); r.status != http.StatusUnauthorized {
			t.Fatalf("%s: %d, want 401", email, r.status)
		}
		if n := ta.app.Hasher().Runs() - runs; n != 1 {
			t.Errorf("%s with a wrong password cost %d argon2id derivations, want 1", email, n)
		}
	}
}
