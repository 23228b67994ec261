package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/handlers"
	"github.com/elsewhere-dev/elsewhere/models"
)

const stampMessage = "You were signed out because your password changed or this device was signed out from another one."

func pw(p string) url.Values { return url.Values{"password": {p}} }

// rowOf returns the handle of the device's own session, as the page marks it.
func (d *device) handle() string {
	d.t.Helper()
	rows, _ := d.page()
	return rows[0].sessionID
}

// assertSignedOut checks that the device's next requests are refused as the spec says:
// a page request goes to /login and explains why; an htmx request gets 401 + HX-Redirect.
func assertSignedOut(t *testing.T, d *device, explained bool) {
	t.Helper()
	why := ""
	if explained {
		why = stampMessage
	}
	assertSignedOutBecause(t, d, why)
}

// assertSignedOutBecause: d is refused at its next request, and its sign-in page says why
// (unless why is empty), however many of its requests find the session gone.
func assertSignedOutBecause(t *testing.T, d *device, why string) {
	t.Helper()
	token := d.cookie()
	r := d.do("GET", "/account/security", nil, true)
	if r.status != http.StatusUnauthorized || r.header.Get("HX-Redirect") != "/login" {
		t.Errorf("%s htmx request: %d HX-Redirect=%q, want 401 /login", d.name, r.status, r.header.Get("HX-Redirect"))
	}
	d.setCookie(token) // the 401 may have set the notice cookie only; replay the token too
	r = d.get("/account/security")
	if r.status != http.StatusSeeOther || r.location() != "/login" {
		t.Errorf("%s page request: %d %s, want 303 /login", d.name, r.status, r.location())
	}
	login := d.get("/login")
	if why != "" && !strings.Contains(login.body, why) {
		t.Errorf("%s: sign-in page does not say %q", d.name, why)
	}
}

func assertSignedIn(t *testing.T, d *device) {
	t.Helper()
	if r := d.get("/account/security"); r.status != http.StatusOK {
		t.Errorf("%s should still be signed in: %d %s", d.name, r.status, r.location())
	}
}

func TestRevokeOneDevice(t *testing.T) {
	for _, hx := range []bool{true, false} {
		t.Run(map[bool]string{true: "htmx", false: "plain form"}[hx], func(t *testing.T) {
			ta := newTestApp(t)
			a, b, c := threeDevices(t, ta)
			hashBefore := ta.passwordHash("ann@example.com")
			bID := b.handle()

			r := a.do("POST", "/account/sessions/"+bID+"/revoke", pw(testPassword), hx)
			if hx {
				if r.status != http.StatusOK {
					t.Fatalf("revoke: %d\n%s", r.status, r.body)
				}
				if strings.Contains(r.body, "<html") || strings.Contains(r.body, "<body") {
					t.Error("htmx answer is a whole page, want a fragment")
				}
				notice := findByID(t, r.body, "notice")
				if notice == nil || attr(notice, "hx-swap-oob") == "" || !strings.Contains(textOf(notice), "Signed out iPhone · Safari 18") {
					t.Errorf("fragment lacks the out-of-band notice naming the device:\n%s", r.body)
				}
				if count := findByID(t, r.body, "session-count"); count == nil || textOf(count) != "2 devices" {
					t.Errorf("fragment lacks the out-of-band count '2 devices'")
				}
				if findByID(t, r.body, "session-"+bID) != nil {
					t.Error("fragment still renders B's row")
				}
			} else {
				if r.status != http.StatusSeeOther || r.location() != "/account/security" {
					t.Fatalf("plain revoke: %d %s, want 303 /account/security", r.status, r.location())
				}
				_, body := a.page()
				if n := findByID(t, body, "notice"); n == nil || !strings.Contains(textOf(n), "Signed out iPhone · Safari 18") {
					t.Error("the page after the redirect does not show the notice")
				}
				_, body = a.page()
				if n := findByID(t, body, "notice"); n != nil && textOf(n) != "" {
					t.Errorf("the notice is shown twice: %q", textOf(n))
				}
			}
			assertSignedOut(t, b, true)
			assertSignedIn(t, c)
			for _, d := range []*device{a, c} {
				rows, body := d.page()
				if len(rows) != 2 {
					t.Errorf("%s sees %d rows, want 2", d.name, len(rows))
				}
				if strings.Contains(body, bID) {
					t.Errorf("%s still sees B", d.name)
				}
			}
			if ta.passwordHash("ann@example.com") == hashBefore {
				t.Error("users.password_hash did not change")
			}
			_, body := a.page()
			if kinds := logKinds(t, body); kinds[0] != "session-revoked" {
				t.Errorf("log = %v, want session-revoked first", kinds)
			}
			// The password itself is unchanged.
			ta.device("D", uaChromeMac, "").login("ann@example.com", testPassword)
		})
	}
}

func TestRevokeRefusals(t *testing.T) {
	ta := newTestApp(t)
	a, b, _ := threeDevices(t, ta)
	bob := ta.otherUser()
	hashBefore := ta.passwordHash("ann@example.com")

	cases := []struct {
		name, id string
		status   int
	}{
		{"another user's session", bob.handle(), 404},
		{"unknown id", strings.Repeat("0", 32), 404},
		{"malformed id", "../../etc", 404},
		{"the current device", a.handle(), 409},
	}
	for _, tc := range cases {
		for _, hx := range []bool{false, true} {
			r := a.do("POST", "/account/sessions/"+url.PathEscape(tc.id)+"/revoke", pw(testPassword), hx)
			if r.status != tc.status {
				t.Errorf("%s (htmx=%v): %d, want %d", tc.name, hx, r.status, tc.status)
			}
		}
	}
	// An expired session is as unknown as any other.
	bID := b.handle()
	ta.clock.Advance(90 * time.Minute)
	a.page()
	bob.page()
	ta.clock.Advance(31 * time.Minute) // B idle for 2h1m, A for 31m
	if r := a.post("/account/sessions/"+bID+"/revoke", pw(testPassword)); r.status != 404 {
		t.Errorf("expired session: %d, want 404", r.status)
	}
	// Wrong and missing passwords change nothing.
	c := ta.device("C2", uaFirefoxWindow, "")
	c.login("ann@example.com", testPassword)
	cID := c.handle()
	for _, p := range []url.Values{pw("wrong password"), pw(""), {}} {
		r := a.hxPost("/account/sessions/"+cID+"/revoke", p)
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("password %v: %d, want 422", p, r.status)
		}
		if got := r.header.Get("HX-Retarget"); got != "#confirm-device-error" {
			t.Errorf("HX-Retarget = %q, want the dialog's error element", got)
		}
		plain := a.post("/account/sessions/"+cID+"/revoke", p)
		if plain.status != http.StatusUnprocessableEntity || !strings.Contains(plain.body, `name="password"`) {
			t.Errorf("plain post with password %v: %d, want 422 with the form again", p, plain.status)
		}
	}
	assertSignedIn(t, c)
	if ta.passwordHash("ann@example.com") != hashBefore {
		t.Error("a refused action changed the password hash")
	}
	if r := bob.get("/account/security"); r.status != 200 {
		t.Error("bob was affected")
	}
}

func TestLogOutOtherDevices(t *testing.T) {
	ta := newTestApp(t)
	a, b, c := threeDevices(t, ta)
	bob := ta.otherUser()
	hashBefore := ta.passwordHash("ann@example.com")

	r := a.hxPost("/account/sessions/others/revoke", pw(testPassword))
	if r.status != http.StatusOK || strings.Contains(r.body, "<html") {
		t.Fatalf("log out others: %d\n%s", r.status, r.body)
	}
	if rows := parseRows(t, r.body); len(rows) != 1 || !rows[0].current {
		t.Errorf("fragment rows = %+v, want only the current device", rows)
	}
	if n := findByID(t, r.body, "notice"); n == nil || !strings.Contains(textOf(n), "Logged out 2 other devices") {
		t.Error("fragment lacks the notice")
	}
	if o := findByID(t, r.body, "others-action"); o == nil || strings.Contains(textOf(o), "Log out other devices") {
		t.Error("the 'Log out other devices' button should be gone with the others")
	}
	assertSignedOut(t, b, true)
	assertSignedOut(t, c, true)
	assertSignedIn(t, a)
	assertSignedIn(t, bob)
	if ta.passwordHash("ann@example.com") == hashBefore {
		t.Error("password hash not rotated")
	}
	if rows, _ := a.page(); len(rows) != 1 {
		t.Errorf("A lists %d devices, want 1", len(rows))
	}
	if n := ta.query(`SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'bob@example.com'`); n != "1" {
		t.Errorf("bob has %s sessions, want 1", n)
	}
}

func TestChangePassword(t *testing.T) {
	const newPassword = "a much better passphrase"
	t.Run("signs other devices out", func(t *testing.T) {
		ta := newTestApp(t)
		a, b, c := threeDevices(t, ta)
		r := a.hxPost("/account/password", url.Values{"current_password": {testPassword}, "new_password": {newPassword}, "logout_others": {"on"}})
		if r.status != http.StatusOK || strings.Contains(r.body, "<html") || !strings.Contains(r.body, "Your password was changed.") {
			t.Fatalf("change: %d\n%s", r.status, r.body)
		}
		assertSignedOut(t, b, true)
		assertSignedOut(t, c, true)
		assertSignedIn(t, a)
		old := ta.device("old", uaChromeMac, "")
		if r := old.post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}}); r.status != http.StatusUnauthorized {
			t.Errorf("old password still signs in: %d", r.status)
		}
		ta.device("new", uaChromeMac, "").login("ann@example.com", newPassword)
		_, body := a.page()
		if k := logKinds(t, body); k[1] != "password-changed" {
			t.Errorf("log = %v, want password-changed before the new sign-in", k)
		}
	})
	t.Run("keeps other devices when asked", func(t *testing.T) {
		ta := newTestApp(t)
		a, b, _ := threeDevices(t, ta)
		r := a.post("/account/password", url.Values{"current_password": {testPassword}, "new_password": {newPassword}})
		if r.status != http.StatusSeeOther || r.location() != "/account/security" {
			t.Fatalf("plain change: %d %s", r.status, r.location())
		}
		assertSignedIn(t, b) // re-stamped in the same transaction
		if rows, _ := a.page(); len(rows) != 3 {
			t.Errorf("%d devices, want 3", len(rows))
		}
	})
	t.Run("refusals change nothing", func(t *testing.T) {
		ta := newTestApp(t)
		a, b, _ := threeDevices(t, ta)
		before := ta.passwordHash("ann@example.com")
		for _, tc := range []struct {
			current, next, want string
		}{
			{"wrong password", newPassword, "not right"},
			{"", newPassword, "Enter your current password"},
			{testPassword, "short", "at least 8"},
			{testPassword, "iloveyou", "most common"},
			{testPassword, strings.Repeat("x", 10000), "at most 256"},
			{testPassword, testPassword, "same as the current"},
		} {
			for _, hx := range []bool{true, false} {
				r := a.do("POST", "/account/password", url.Values{"current_password": {tc.current}, "new_password": {tc.next}, "logout_others": {"on"}}, hx)
				if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, tc.want) {
					t.Errorf("current=%q next=%.10q htmx=%v: %d, want 422 %q", tc.current, tc.next, hx, r.status, tc.want)
				}
				if hx && strings.Contains(r.body, "<html") {
					t.Error("htmx refusal is a whole page")
				}
			}
		}
		if ta.passwordHash("ann@example.com") != before {
			t.Error("hash changed")
		}
		assertSignedIn(t, b)
	})
}

func TestStampMismatchEndsTheSession(t *testing.T) {
	ta := newTestApp(t)
	a, b, _ := threeDevices(t, ta)
	// The hash changes behind the sessions' backs (another instance, an admin tool...).
	ta.resaltBehindTheirBacks()
	assertSignedOut(t, b, true)
	if r := a.get("/account/security"); r.status != http.StatusSeeOther {
		t.Errorf("A's stale stamp accepted: %d", r.status)
	}
	if n := ta.query(`SELECT COUNT(*) FROM sessions`); n != "1" { // only C, not yet used
		t.Errorf("%s sessions left, want 1 (stale ones deleted on use)", n)
	}
	if n := ta.query(`SELECT COUNT(*) FROM events WHERE kind = 'stamp-mismatch'`); n != "2" {
		t.Errorf("%s stamp-mismatch events, want 2", n)
	}
}

func TestConfirmationWindow(t *testing.T) {
	ta := newTestApp(t)
	a, b, c := threeDevices(t, ta)
	d := ta.device("D", uaChromeMac, "")
	d.login("ann@example.com", testPassword)
	if r := a.hxPost("/account/sessions/"+b.handle()+"/revoke", pw(testPassword)); r.status != 200 {
		t.Fatalf("first revoke: %d", r.status)
	} else if findByID(t, r.body, "confirm-device") == nil || findByID(t, r.body, "confirm-device-password") != nil ||
		findByID(t, r.body, "confirm-others-password") != nil {
		t.Error("after confirming, the sign-out dialogs still ask for the password")
	} else if findByID(t, r.body, "lost-device-password") == nil {
		t.Error("after confirming, Lost or stolen (which sets a new password) no longer asks for the current one")
	}
	rotated := ta.passwordHash("ann@example.com")
	// Within the window (the rotation the first action caused does not close it).
	ta.clock.Advance(10 * time.Minute)
	if r := a.hxPost("/account/sessions/"+c.handle()+"/revoke", url.Values{}); r.status != 200 {
		t.Fatalf("second revoke inside the window: %d %s", r.status, r.body)
	}
	assertSignedOut(t, c, true)
	// With no password in hand the hash cannot be re-salted; it stays the one the
	// confirming action wrote (SECURITY.md, "The confirmation window").
	if ta.passwordHash("ann@example.com") != rotated {
		t.Error("an action inside the window changed the hash without the password")
	}
	// After it, the password is needed again.
	ta.clock.Advance(6 * time.Minute)
	if r := a.hxPost("/account/sessions/"+d.handle()+"/revoke", url.Values{}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("revoke after the window without password: %d, want 422", r.status)
	}
	assertSignedIn(t, d)

	t.Run("zero window always asks", func(t *testing.T) {
		ta := newTestApp(t, func(c *handlers.Config) { c.ConfirmWindow = 0 })
		a, b, c := threeDevices(t, ta)
		a.hxPost("/account/sessions/"+b.handle()+"/revoke", pw(testPassword))
		if r := a.hxPost("/account/sessions/"+c.handle()+"/revoke", url.Values{}); r.status != http.StatusUnprocessableEntity {
			t.Errorf("second revoke with window 0: %d, want 422", r.status)
		}
	})
}

func TestConfirmationLockout(t *testing.T) {
	ta := newTestApp(t)
	a, b, _ := threeDevices(t, ta)
	bID := b.handle()
	for i := 1; i <= 4; i++ {
		if r := a.hxPost("/account/sessions/"+bID+"/revoke", pw("wrong")); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong answer %d: %d, want 422", i, r.status)
		}
	}
	r := a.hxPost("/account/sessions/"+bID+"/revoke", pw("wrong"))
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("5th wrong answer: %d Retry-After=%q, want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	if s, _ := strconv.Atoi(r.header.Get("Retry-After")); s < 800 || s > 900 {
		t.Errorf("Retry-After = %ds, want about 15 minutes", s)
	}
	// The lock holds for the right password, on every confirmation, and across a restart.
	ta.restart()
	for _, path := range []string{"/account/sessions/" + bID + "/revoke", "/account/sessions/others/revoke"} {
		if r := a.hxPost(path, pw(testPassword)); r.status != http.StatusTooManyRequests {
			t.Errorf("%s with the right password while locked: %d, want 429", path, r.status)
		}
	}
	if r := a.post("/account/password", url.Values{"current_password": {testPassword}, "new_password": {"another long passphrase"}}); r.status != http.StatusTooManyRequests {
		t.Errorf("password change while locked: %d, want 429", r.status)
	}
	assertSignedIn(t, b)
	_, body := a.page()
	kinds := strings.Join(logKinds(t, body), " ")
	if !strings.Contains(kinds, "locked-out") || !strings.Contains(kinds, "confirm-failed") {
		t.Errorf("log = %s, want confirm-failed and locked-out", kinds)
	}
	ta.clock.Advance(15*time.Minute + time.Second)
	a.page()
	if r := a.hxPost("/account/sessions/"+bID+"/revoke", pw(testPassword)); r.status != http.StatusOK {
		t.Errorf("after the lock: %d, want 200", r.status)
	}
}

func TestSignInRateLimits(t *testing.T) {
	ta := newTestApp(t)
	owner := ta.device("owner", uaChromeMac, "203.0.113.1")
	owner.signup("ann@example.com", testPassword)
	owner.signup("bob@example.com", testPassword)
	fail := func(d *device, email string) response {
		return d.post("/login", url.Values{"email": {email}, "password": {"guess"}})
	}
	t.Run("per email, attacker rotating addresses", func(t *testing.T) {
		for i := range 9 {
			if r := fail(ta.device("x", uaChromeMac, fmt.Sprintf("198.51.100.%d", i)), "ann@example.com"); r.status != 401 {
				t.Fatalf("failure %d: %d", i+1, r.status)
			}
		}
		if r := fail(ta.device("x", uaChromeMac, "198.51.100.200"), "ann@example.com"); r.status != 429 || r.header.Get("Retry-After") == "" {
			t.Fatalf("10th failure: %d, want 429 with Retry-After", r.status)
		}
		ta.restart()
		r := ta.device("owner2", uaChromeMac, "203.0.113.2").post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}})
		if r.status != 429 {
			t.Errorf("right password while the email is locked: %d, want 429", r.status)
		}
		ta.clock.Advance(16 * time.Minute)
		ta.device("owner3", uaChromeMac, "203.0.113.3").login("ann@example.com", testPassword)
	})
	t.Run("per address, attacker rotating emails", func(t *testing.T) {
		atk := ta.device("attacker", uaChromeMac, "2001:db8:1:2::1")
		for i := range 9 {
			fail(atk, fmt.Sprintf("user%d@example.com", i))
		}
		// Another address in the same /64 counts as the same client.
		atk.ip = "2001:db8:1:2::ffff"
		if r := fail(atk, "someone@example.com"); r.status != 429 {
			t.Fatalf("10th failure from the /64: %d, want 429", r.status)
		}
		if r := atk.post("/login", url.Values{"email": {"bob@example.com"}, "password": {testPassword}}); r.status != 429 {
			t.Errorf("right password from a locked address: %d, want 429", r.status)
		}
		ta.device("elsewhere", uaChromeMac, "192.0.2.7").login("bob@example.com", testPassword)
	})
}

func TestSignupRateLimitPerAddress(t *testing.T) {
	ta := newTestApp(t)
	d := ta.device("spammer", uaChromeMac, "198.51.100.7")
	for i := range 10 {
		d.signup(fmt.Sprintf("u%d@example.com", i), testPassword)
	}
	r := d.post("/signup", url.Values{"email": {"u10@example.com"}, "password": {testPassword}})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "Too many sign-up attempts") {
		t.Errorf("11th sign-up from one address: %d, want 429 with Retry-After and a message", r.status)
	}
	if n := ta.query(`SELECT COUNT(*) FROM users`); n != "10" {
		t.Errorf("%s accounts, want 10", n)
	}
	ta.device("someone else", uaChromeMac, "192.0.2.8").signup("other@example.com", testPassword)
}

func TestSingleSessionMode(t *testing.T) {
	ta := newTestApp(t, func(c *handlers.Config) { c.SingleSession = true })
	a := ta.device("A", uaChromeMac, "")
	a.signup("ann@example.com", testPassword)
	b := ta.device("B", uaSafariIPhone, "")
	b.login("ann@example.com", testPassword)
	assertSignedOut(t, a, true)
	if rows, _ := b.page(); len(rows) != 1 {
		t.Errorf("B sees %d sessions, want 1", len(rows))
	}
}

func TestEventsReachTheEmbeddingApp(t *testing.T) {
	ta := newTestApp(t)
	a, b, _ := threeDevices(t, ta)
	a.hxPost("/account/sessions/"+b.handle()+"/revoke", pw(testPassword))
	want := "signed-in new-device signed-in new-device signed-in new-device session-revoked"
	if got := ta.eventKinds(7); got != want {
		t.Errorf("events = %q, want %q", got, want)
	}
	// A browser the account has signed in from before (its device cookie says so) is not
	// new. Its sign-out marks the end: the hook gets events in order, so nothing else may
	// come between.
	a.post("/logout", nil)
	a.login("ann@example.com", testPassword)
	a.post("/logout", nil)
	if got := ta.eventKinds(3); got != "signed-out signed-in signed-out" {
		t.Errorf("a known device's sign-out, sign-in and sign-out gave %q, want \"signed-out signed-in signed-out\"", got)
	}
	// Another browser is new, whatever its user agent claims.
	again := ta.device("same user agent, another browser", uaChromeMac, "")
	again.login("ann@example.com", testPassword)
	if got := ta.eventKinds(2); got != "signed-in new-device" {
		t.Errorf("another browser with A's user agent gave %q, want \"signed-in new-device\"", got)
	}
}

// TestEventHookCannotChangeAnAnswer: a hook that panics or hangs is the embedding app's
// bug; the device that acted still gets its answer, and what it did still stands.
func TestEventHookCannotChangeAnAnswer(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	calls := make(chan models.EventKind, 100)
	ta := newTestApp(t, func(c *handlers.Config) {
		c.OnEvent = func(e models.Event) {
			calls <- e.Kind
			if e.Kind == models.EventSignedIn {
				panic("the host's notifier is broken")
			}
			<-release // and every other call hangs
		}
	})
	a := ta.device("A", uaChromeMac, "")
	a.signup("ann@example.com", testPassword)
	b := ta.device("B", uaSafariIPhone, "")
	b.login("ann@example.com", testPassword)
	assertSignedIn(t, a)
	if r := a.hxPost("/account/sessions/"+b.handle()+"/revoke", pw(testPassword)); r.status != http.StatusOK {
		t.Fatalf("revoke with a hanging hook: %d, want 200", r.status)
	}
	assertSignedOut(t, b, true)
	if r := a.post("/logout", nil); r.status != http.StatusSeeOther || r.location() != "/login" {
		t.Errorf("sign-out with a hanging hook: %d %s", r.status, r.location())
	}
	if got := <-calls; got != models.EventSignedIn {
		t.Errorf("first hook call: %q, want signed-in", got)
	}
}

// TestRevocationUnderConcurrency revokes devices while every device of the same user (and
// another user) keeps making requests: no 5xx, nothing revoked accepted afterwards, and
// the other user's rows untouched.
func TestRevocationUnderConcurrency(t *testing.T) {
	ta := newTestApp(t)
	owner := ta.device("owner", uaChromeMac, "203.0.113.1")
	owner.signup("ann@example.com", testPassword)
	bob := ta.device("bob", uaFirefoxWindow, "203.0.113.2")
	bob.signup("bob@example.com", testPassword)
	var devices []*device
	for i := range 12 {
		d := ta.device(fmt.Sprintf("dev%d", i), uaSafariIPhone, fmt.Sprintf("198.51.100.%d", i))
		d.login("ann@example.com", testPassword)
		devices = append(devices, d)
	}
	handles := map[*device]string{}
	for _, d := range devices {
		handles[d] = d.handle()
	}

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		stop     = make(chan struct{})
	)
	for _, d := range append(devices, bob) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := d.do("GET", "/account/security", nil, true)
				mu.Lock()
				statuses[r.status]++
				mu.Unlock()
			}
		}()
	}
	revoked := devices[:6]
	for i, d := range revoked {
		r := owner.hxPost("/account/sessions/"+handles[d]+"/revoke", pw(testPassword))
		if r.status != http.StatusOK {
			t.Errorf("revoke %d: %d %s", i, r.status, r.body)
		}
	}
	close(stop)
	wg.Wait()
	for code, n := range statuses {
		if code >= 500 {
			t.Errorf("%d responses with status %d", n, code)
		}
	}
	t.Logf("statuses during revocation: %v", statuses)
	for _, d := range revoked {
		if r := d.get("/account/security"); r.status != http.StatusSeeOther {
			t.Errorf("%s was revoked but got %d", d.name, r.status)
		}
	}
	for _, d := range devices[6:] {
		assertSignedIn(t, d)
	}
	assertSignedIn(t, bob)
	if rows, _ := owner.page(); len(rows) != 7 {
		t.Errorf("owner lists %d devices, want 7", len(rows))
	}
}

// TestLogCountsOnlySignedInDevices: "Log out other devices" says how many devices it
// signed out, counting only sessions still signed in, not ones already ended by their
// lifetimes and not yet swept, which the page never showed.
func TestLogCountsOnlySignedInDevices(t *testing.T) {
	ta := newTestApp(t)
	a := ta.device("A", uaChromeMac, "203.0.113.10")
	a.signup("ann@example.com", testPassword)
	b := ta.device("B", uaSafariIPhone, "198.51.100.20")
	b.login("ann@example.com", testPassword)
	ta.clock.Advance(90 * time.Minute)
	a.get("/account/security") // A stays active; B idles out
	ta.clock.Advance(40 * time.Minute)
	if rows, _ := a.page(); len(rows) != 1 {
		t.Fatalf("A's page lists %d devices, want 1 (B idled out)", len(rows))
	}
	r := a.hxPost("/account/sessions/others/revoke", pw(testPassword))
	if r.status != http.StatusOK {
		t.Fatalf("log out other devices: %d", r.status)
	}
	if strings.Contains(r.body, "Logged out 1 other device") {
		t.Errorf("the notice and log say 1 other device was logged out, but none was signed in")
	}
}
