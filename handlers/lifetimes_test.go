package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/handlers"
)

// TestSessionCap: a sign-in beyond the cap signs the least recently active device out,
// says so in the log, and that device is refused at its next request; the page never
// lists more than the cap.
func TestSessionCap(t *testing.T) {
	ta := newTestApp(t, func(c *handlers.Config) { c.MaxSessions = 3 })
	a, b, c := threeDevices(t, ta)
	ta.clock.Advance(2 * time.Minute)
	a.get("/account/security") // A and C are active; B, untouched, is the least recently active
	c.get("/account/security")
	d := ta.device("D", uaChromeMac, "192.0.2.4")
	d.login("ann@example.com", testPassword)
	assertSignedOut(t, b, true)
	for _, dev := range []*device{a, c, d} {
		assertSignedIn(t, dev)
	}
	rows, body := d.page()
	if len(rows) != 3 {
		t.Errorf("D lists %d devices, want the cap of 3", len(rows))
	}
	if kinds := logKinds(t, body); kinds[0] != "signed-in" || kinds[1] != "session-limit" {
		t.Errorf("log = %v, want signed-in then session-limit", kinds)
	}
	if !strings.Contains(textOf(findByID(t, body, "security-log")), "iPhone · Safari 18 was signed out: it was the least recently used") {
		t.Error("the log does not say which device the cap signed out")
	}
}

// TestLoweredCapAppliesToExistingSessions: lowering -max-sessions trims accounts over it
// at the next sweep, least recently active first; until then the page stays bounded.
func TestLoweredCapAppliesToExistingSessions(t *testing.T) {
	ta := newTestApp(t, func(c *handlers.Config) { c.MaxSessions = -1 }) // no cap
	owner := ta.device("owner", uaChromeMac, "203.0.113.1")
	owner.signup("ann@example.com", testPassword)
	var devs []*device
	for i := range 12 {
		ta.clock.Advance(time.Minute)
		d := ta.device(fmt.Sprintf("d%d", i), uaFirefoxWindow, fmt.Sprintf("192.0.2.%d", i+1))
		d.login("ann@example.com", testPassword)
		devs = append(devs, d)
	}
	ta.clock.Advance(time.Minute)
	ta.cfg.MaxSessions = 4
	ta.restart()
	if rows, _ := owner.page(); len(rows) != 4 || !rows[0].current {
		t.Errorf("before the sweep the owner sees %d devices (current first: %v), want the cap of 4", len(rows), len(rows) > 0 && rows[0].current)
	}
	if err := ta.app.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := ta.query(`SELECT COUNT(*) FROM sessions`); n != "4" {
		t.Errorf("%s sessions after the sweep, want 4", n)
	}
	// The owner was active just now; the three newest sign-ins stay with it.
	assertSignedIn(t, owner)
	for _, d := range devs[9:] {
		assertSignedIn(t, d)
	}
	for _, d := range devs[:9] {
		assertSignedOut(t, d, true)
	}
	if n := ta.query(`SELECT COUNT(*) FROM events WHERE kind = 'session-limit'`); n != "9" {
		t.Errorf("%s session-limit events, want 9", n)
	}
}

// TestSessionMaxAge: a session without "remember me" that stays active (a request every
// 90 minutes) still ends 24 hours after sign-in; a remembered one does not.
func TestSessionMaxAge(t *testing.T) {
	ta := newTestApp(t)
	busy := ta.device("busy", uaChromeMac, "")
	busy.signup("ann@example.com", testPassword)
	keep := ta.device("remembered", uaSafariIPhone, "")
	keep.loginRemembered("ann@example.com", testPassword)
	busyHandle := busy.handle()
	for elapsed := 90 * time.Minute; elapsed < 24*time.Hour; elapsed += 90 * time.Minute {
		ta.clock.Advance(90 * time.Minute)
		if r := busy.get("/account/security"); r.status != http.StatusOK {
			t.Fatalf("active session %v after sign-in: %d, want 200", elapsed, r.status)
		}
		keep.get("/account/security")
		// The stored end, which the sweeper and the "signed out elsewhere" record go by,
		// never passes the maximum age however active the session is.
		if late := ta.query(`SELECT CASE WHEN expires_at - created_at > ? THEN 1 ELSE 0 END FROM sessions WHERE handle = ?`,
			int64((24 * time.Hour).Seconds()), busyHandle); late != "0" {
			t.Fatalf("active session %v after sign-in is stored as ending past the 24-hour maximum", elapsed)
		}
	}
	ta.clock.Advance(90 * time.Minute) // 25.5 hours after sign-in
	if r := busy.get("/account/security"); r.status != http.StatusSeeOther {
		t.Errorf("active session 25.5 hours after sign-in: %d, want 303 to /login", r.status)
	}
	assertSignedIn(t, keep)
}

// TestShorterLifetimesApplyToExistingSessions: lowering -session-idle, -session-max-age
// or -remember-for and restarting ends sessions that are already older than the new
// setting, at their next request, and the page stops listing them.
func TestShorterLifetimesApplyToExistingSessions(t *testing.T) {
	for _, tc := range []struct {
		name     string
		remember bool
		wait     time.Duration
		lower    func(*handlers.Config)
	}{
		{"idle", false, 20 * time.Minute, func(c *handlers.Config) { c.IdleTimeout = 10 * time.Minute }},
		{"max age", false, 4 * time.Hour, func(c *handlers.Config) { c.SessionMaxAge = 3 * time.Hour }},
		{"remember", true, 3 * 24 * time.Hour, func(c *handlers.Config) { c.RememberFor = 2 * 24 * time.Hour }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t)
			owner := ta.device("owner", uaChromeMac, "")
			owner.signup("ann@example.com", testPassword)
			old := ta.device("old", uaSafariIPhone, "")
			form := url.Values{"email": {"ann@example.com"}, "password": {testPassword}}
			if tc.remember {
				form.Set("remember", "on")
			}
			if r := old.post("/login", form); r.status != http.StatusSeeOther {
				t.Fatal(r.status)
			}
			switch tc.name {
			case "idle": // no activity for 20 minutes: young for the old 2 hours
				ta.clock.Advance(tc.wait)
			case "max age": // active every hour for 4 hours: young for the old 24
				for range 4 {
					ta.clock.Advance(time.Hour)
					assertSignedIn(t, old)
				}
			case "remember": // 3 days: young for the old 30
				ta.clock.Advance(tc.wait)
				assertSignedIn(t, old)
			}
			tc.lower(&ta.cfg)
			ta.restart()
			owner.login("ann@example.com", testPassword) // the owner signs in afresh under the new settings
			if rows, _ := owner.page(); len(rows) != 1 {
				t.Errorf("the owner lists %d devices, want only itself", len(rows))
			}
			assertSignedOut(t, old, false)
		})
	}
}

// TestTheLibrarySweeps: an embedding app need not remember to start a sweeper: New starts
// one, and ended sessions leave the database without anyone calling Sweep.
func TestTheLibrarySweeps(t *testing.T) {
	ta := newTestApp(t, func(c *handlers.Config) { c.SweepEvery = 20 * time.Millisecond })
	a := ta.device("A", uaChromeMac, "")
	a.signup("ann@example.com", testPassword)
	ta.clock.Advance(3 * time.Hour) // past the 2 h idle lifetime
	for deadline := time.Now().Add(time.Minute); ta.query(`SELECT COUNT(*) FROM sessions`) != "0"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the ended session was still in the database a minute later")
		}
	}
}
