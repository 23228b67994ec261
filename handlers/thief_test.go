package handlers_test

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/views"
)

// These tests play the person whose phone was just stolen, with another device as the
// thief: it holds a signed-in cookie and perhaps the saved password, and it tries to stay
// signed in. The owner must always be able to sign it out.

// guessFrom sends a wrong password to "Log out other devices" from the thief's device.
func guessFrom(th *device, i int) response {
	th.t.Helper()
	return th.hxPost("/account/sessions/others/revoke", pw(fmt.Sprintf("wrong guess %d", i)))
}

// TestThiefGuessingLocksOnlyItself: five wrong passwords lock confirmation on the device
// that typed them, and only there. The owner signs it out with the right password, from
// the laptop that was signed in all along and from a borrowed laptop signed in just now,
// and the thief is cut off at its next request.
func TestThiefGuessingLocksOnlyItself(t *testing.T) {
	for _, from := range []string{"the laptop", "a newly signed-in device"} {
		t.Run(from, func(t *testing.T) {
			ta := newTestApp(t)
			laptop, phone, phoneID := laptopAndPhone(ta)

			for i := range models.DefaultLimits().Confirm.Max - 1 {
				if r := guessFrom(phone, i); r.status != http.StatusUnprocessableEntity {
					t.Fatalf("wrong guess %d: %d, want 422", i+1, r.status)
				}
			}
			r := guessFrom(phone, 5)
			if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
				t.Fatalf("5th wrong guess: %d Retry-After=%q, want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
			}
			// Locked for the thief, even with the right password (it may be saved on the phone).
			if r := phone.hxPost("/account/sessions/others/revoke", pw(testPassword)); r.status != http.StatusTooManyRequests {
				t.Errorf("the locked phone with the right password: %d, want 429", r.status)
			}
			if r := phone.post("/account/password", url.Values{"current_password": {testPassword}, "new_password": {"the thief's own passphrase"}}); r.status != http.StatusTooManyRequests {
				t.Errorf("the locked phone changing the password: %d, want 429", r.status)
			}
			// The phone's own page says so before anyone types.
			if _, body := phone.page(); !strings.Contains(body, "confirming is locked here") {
				t.Error("the locked device's page does not say that confirming is locked there")
			}

			owner := laptop
			if from == "a newly signed-in device" {
				owner = ta.device("borrowed laptop", uaFirefoxWindow, "192.0.2.77")
				owner.login("ann@example.com", testPassword)
			}
			// The owner's page names the device someone is guessing on, up front.
			_, body := owner.page()
			warning := findByID(t, body, "lock-warning")
			if warning == nil || !strings.Contains(textOf(warning), "Someone typed wrong passwords on iPhone · Safari 18") {
				t.Errorf("the owner's page does not name the guessing device: %q", textOf(warning))
			}
			kinds := strings.Join(logKinds(t, body), " ")
			if !strings.Contains(kinds, "locked-out confirm-failed confirm-failed confirm-failed confirm-failed") {
				t.Errorf("security log = %q, want the four failures and the lock", kinds)
			}
			if r := owner.hxPost("/account/sessions/"+phoneID+"/revoke", pw(testPassword)); r.status != http.StatusOK {
				t.Fatalf("the owner signing the phone out with the right password: %d, want 200\n%s", r.status, r.body)
			}
			assertSignedOut(t, phone, true)
			assertSignedIn(t, laptop)
		})
	}
}

// TestTenthWrongPasswordSignsTheDeviceOut: the tenth attempt since the last right one
// signs the guessing device out, whatever its timing: a thief that waits out each lock,
// one that keeps trying while locked (those attempts are refused unchecked, but they
// count), and the mix seen in the field (six guesses, then four more after the lock).
// Its next requests, whichever comes first (the page, the live stream's redirect), are
// told the true reason; the log says it; the devices that did not guess stay.
func TestTenthWrongPasswordSignsTheDeviceOut(t *testing.T) {
	lock := models.DefaultLimits().Confirm.Lock + time.Second
	for name, waitBefore := range map[string]map[int]bool{
		"waiting out each lock":  {5: true, 9: true},
		"trying while locked":    {},
		"six, then four after":   {6: true},
		"right password, locked": {},
	} {
		t.Run(name, func(t *testing.T) {
			ta := newTestApp(t)
			a, b, c := threeDevices(t, ta)
			for i := range models.GuessedOutAfter - 1 {
				if waitBefore[i] {
					ta.clock.Advance(lock)
				}
				guess := fmt.Sprintf("wrong guess %d", i)
				if name == "right password, locked" && i >= models.DefaultLimits().Confirm.Max {
					guess = testPassword // saved in the phone: refused unchecked while locked, and counted
				}
				r := b.hxPost("/account/sessions/others/revoke", pw(guess))
				if r.status != http.StatusUnprocessableEntity && r.status != http.StatusTooManyRequests {
					t.Fatalf("attempt %d: %d, want 422 or 429", i+1, r.status)
				}
			}
			if waitBefore[9] {
				ta.clock.Advance(lock)
			}
			r := guessFrom(b, 10)
			if r.status != http.StatusUnauthorized || r.header.Get("HX-Redirect") != "/login" {
				t.Fatalf("10th attempt: %d HX-Redirect=%q, want 401 to /login", r.status, r.header.Get("HX-Redirect"))
			}
			assertSignedOutBecause(t, b, views.TextGuessedOut)
			assertSignedIn(t, a)
			assertSignedIn(t, c)
			_, body := a.page()
			if kinds := logKinds(t, body); kinds[0] != string(models.EventGuessedOut) {
				t.Errorf("newest log entry %q, want %q", kinds[0], models.EventGuessedOut)
			}
		})
	}
}

// TestRightPasswordResetsTheCount: a person who mistypes now and then on their own device
// is not signed out by their tenth typo of the month; a right password starts the count
// again.
func TestRightPasswordResetsTheCount(t *testing.T) {
	ta := newTestApp(t, func(c *handlers.Config) { c.ConfirmWindow = 0 })
	a := ta.device("A", uaChromeMac, "")
	a.signup("ann@example.com", testPassword)
	for round := range 3 {
		for i := range models.DefaultLimits().Confirm.Max - 1 {
			if r := guessFrom(a, i); r.status != http.StatusUnprocessableEntity {
				t.Fatalf("round %d, typo %d: %d, want 422", round+1, i+1, r.status)
			}
		}
		if r := a.hxPost("/account/sessions/others/revoke", pw(testPassword)); r.status != http.StatusOK {
			t.Fatalf("round %d, the right password: %d, want 200", round+1, r.status)
		}
		ta.clock.Advance(models.DefaultLimits().Confirm.Window + time.Minute)
	}
	assertSignedIn(t, a) // after 12 typos, never 10 in a row
}

// TestAbandonedGuessesCostNothing: a thief that drops each connection right after
// sending its guess leaves no reserved attempt behind: nothing that can lock anyone
// without a trace. To abandon each guess while it is being checked, the server's hashing
// slots are kept busy by sign-ins against an account whose hash is very slow, so every
// guess waits for a slot after reserving its attempt; the connection is dropped then.
func TestAbandonedGuessesCostNothing(t *testing.T) {
	ta := newTestApp(t)
	laptop, phone, phoneID := laptopAndPhone(ta)
	ta.otherUser()
	// About three seconds a verification on an idle machine, longer on a busy one: the
	// dropped guesses below take a small part of that.
	slow, err := models.NewHasher(models.HashParams{Memory: 64 * 1024, Time: 64, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	if err != nil {
		t.Fatal(err)
	}
	slowHash, err := slow.Hash(t.Context(), testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ta.db.Write.Exec(`UPDATE users SET password_hash = ? WHERE email = 'bob@example.com'`, slowHash); err != nil {
		t.Fatal(err)
	}
	reserved := func() string {
		return ta.query(`SELECT COUNT(*) FROM failures WHERE scope = 'confirm' AND key = ?`, phoneID)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Minute); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("waited 2 minutes for %s", what)
			}
		}
	}

	// Every hashing slot busy with a slow sign-in (on a client without a time limit: the
	// machine may be slow, and a failure is reported, not lost in its goroutine).
	runs := ta.app.Hasher().Runs()
	blockers := make(chan string, runtime.NumCPU())
	for i := range runtime.NumCPU() {
		go func() {
			d := ta.device(fmt.Sprintf("slow %d", i), uaChromeMac, fmt.Sprintf("192.0.2.%d", 10+i))
			d.client.Timeout = 0
			req, err := d.request("POST", "/login", strings.NewReader(url.Values{"email": {"bob@example.com"}, "password": {testPassword}}.Encode()),
				"application/x-www-form-urlencoded", false)
			if err != nil {
				blockers <- err.Error()
				return
			}
			r, err := d.roundTrip(req)
			switch {
			case err != nil:
				blockers <- err.Error()
			case r.status != http.StatusSeeOther:
				blockers <- fmt.Sprintf("status %d", r.status)
			default:
				blockers <- ""
			}
		}()
	}
	waitFor("the slow sign-ins to take every hashing slot", func() bool { return ta.app.Hasher().Runs() >= runs+uint64(runtime.NumCPU()) })

	for i := range models.DefaultLimits().Confirm.Max + 1 {
		req, err := phone.request("POST", "/account/sessions/others/revoke",
			strings.NewReader(pw(fmt.Sprintf("guess %d", i)).Encode()), "application/x-www-form-urlencoded", true)
		if err != nil {
			t.Fatal(err)
		}
		for _, ck := range phone.client.Jar.Cookies(req.URL) {
			req.AddCookie(ck)
		}
		conn, err := net.Dial("tcp", ta.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		closed := ta.closed.Load()
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
		waitFor("the guess to reserve its attempt", func() bool { return reserved() == "1" })
		conn.Close() // the phone drops the connection while its guess waits to be checked
		waitFor("the server to finish with the dropped guess", func() bool { return ta.closed.Load() > closed })
		if n := reserved(); n != "0" {
			t.Fatalf("dropped guess %d left %s attempts reserved, want 0", i+1, n)
		}
	}
	if got := ta.app.Hasher().Runs(); got != runs+uint64(runtime.NumCPU()) {
		t.Fatalf("%d passwords were checked while the slots were busy, want none: the slow sign-ins ended too soon", got-runs-uint64(runtime.NumCPU()))
	}
	for range runtime.NumCPU() {
		if msg := <-blockers; msg != "" {
			t.Errorf("a slow sign-in: %s, want 303", msg)
		}
	}
	if n := ta.query(`SELECT COUNT(*) FROM lockouts`); n != "0" {
		t.Errorf("%s lockouts after dropped guesses, want none", n)
	}
	if n := ta.query(`SELECT COUNT(*) FROM events WHERE kind IN ('confirm-failed', 'locked-out')`); n != "0" {
		t.Errorf("%s confirmation failures logged for guesses whose answer nobody got, want 0", n)
	}
	// Nothing is locked: the thief's next real guess is its first, and the owner's right
	// password signs it out.
	if r := guessFrom(phone, 99); r.status != http.StatusUnprocessableEntity {
		t.Errorf("the thief's first real guess: %d, want 422", r.status)
	}
	if r := laptop.hxPost("/account/sessions/"+phoneID+"/revoke", pw(testPassword)); r.status != http.StatusOK {
		t.Fatalf("the owner after dropped guesses: %d, want 200", r.status)
	}
	assertSignedOut(t, phone, true)
}

// TestThiefFloodingSignIns: from one address, sign-ins stop at the limit whether their
// passwords are right or wrong, so the hashing one address can cause has a ceiling; a
// thief that knows the password and floods sign-ins still loses to the owner, who signs
// back in and reports the phone lost.
func TestThiefFloodingSignIns(t *testing.T) {
	ta := newTestApp(t, func(c *handlers.Config) { c.MaxSessions = 5 })
	laptop := ta.device("laptop", uaChromeMac, "203.0.113.10")
	laptop.signup("ann@example.com", testPassword)
	phone := ta.device("thief", uaSafariIPhone, "198.51.100.20")
	phone.login("ann@example.com", testPassword)

	hashesBefore := ta.app.Hasher().Runs()
	var thieves []*device
	var refused int
	for i := range models.DefaultLimits().LoginIPAll.Max + 5 {
		th := ta.device(fmt.Sprintf("thief %d", i), uaSafariIPhone, "198.51.100.20")
		r := th.post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}})
		switch r.status {
		case http.StatusSeeOther:
			thieves = append(thieves, th)
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("sign-in %d: %d", i+1, r.status)
		}
	}
	// The phone's own sign-in counted too.
	if len(thieves) != models.DefaultLimits().LoginIPAll.Max-1 || refused != 6 {
		t.Errorf("%d sign-ins from one address went through and %d were refused, want %d and 6",
			len(thieves), refused, models.DefaultLimits().LoginIPAll.Max-1)
	}
	if runs := ta.app.Hasher().Runs() - hashesBefore; runs > uint64(models.DefaultLimits().LoginIPAll.Max) {
		t.Errorf("the flood cost %d password hashes, want at most %d", runs, models.DefaultLimits().LoginIPAll.Max)
	}
	// The cap held: the laptop, least recently active, was signed out along the way.
	if n := ta.query(`SELECT COUNT(*) FROM sessions`); n != "5" {
		t.Errorf("%s sessions after the flood, want the cap of 5", n)
	}
	assertSignedOut(t, laptop, true)

	// The owner signs back in and reports the phone lost: every thief session goes.
	laptop.login("ann@example.com", testPassword)
	target := thieves[len(thieves)-1].handle()
	r := laptop.post("/account/sessions/"+target+"/lost", url.Values{"password": {testPassword}, "new_password": {"only the owner knows this"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("lost or stolen: %d\n%s", r.status, r.body)
	}
	for _, th := range append(thieves[len(thieves)-5:], phone) {
		assertSignedOut(t, th, false)
	}
	assertSignedIn(t, laptop)
	if rows, _ := laptop.page(); len(rows) != 1 {
		t.Errorf("the owner sees %d devices after reporting the phone lost, want 1", len(rows))
	}
	if r := ta.device("thief again", uaSafariIPhone, "192.0.2.99").post("/login",
		url.Values{"email": {"ann@example.com"}, "password": {testPassword}}); r.status != http.StatusUnauthorized {
		t.Errorf("the old password after lost or stolen: %d, want 401", r.status)
	}
}
