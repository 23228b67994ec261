package handlers_test

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/mailer/mailtest"
)

// These tests pin the rules of mailed links and alerts one by one: each fails when its
// rule is changed by hand (the mutation table in the issue-25 note).

// TestNotMeLinkLastsSevenDays: a "This wasn't me" link works for seven days after its mail
// is sent, and not a minute longer.
func TestNotMeLinkLastsSevenDays(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after time.Duration
		works bool
	}{
		{"a minute before seven days", 7*24*time.Hour - time.Minute, true},
		{"a minute after seven days", 7*24*time.Hour + time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := mailtest.Start(t, "")
			ta := newTestApp(t, withMail(sink.Addr))
			laptopAndPhone(ta)
			ta.releaseAlerts()
			link := pathOf(t, ta.nextMail(sink).Link(t))
			ta.clock.Advance(tc.after)
			owner := ta.device("owner", uaFirefoxWindow, "192.0.2.5")
			want := http.StatusNotFound
			if tc.works {
				want = http.StatusOK
			}
			if r := owner.get(link); r.status != want {
				t.Errorf("GET the link: %d, want %d", r.status, want)
			}
			want = http.StatusNotFound
			if tc.works {
				want = http.StatusSeeOther
			}
			if r := owner.post(link, url.Values{"new_password": {"the owner's new passphrase 4"}}); r.status != want {
				t.Errorf("POST the link: %d, want %d", r.status, want)
			}
		})
	}
}

// TestResetEndsEveryDeviceAndLink: following a reset link signs every device out (their
// rows go, not only their stamps) and ends every other link of the account: the earlier
// alert's "This wasn't me" link no longer works.
func TestResetEndsEveryDeviceAndLink(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	laptop, phone, _ := laptopAndPhone(ta)
	ta.releaseAlerts()
	notMe := pathOf(t, ta.nextMail(sink).Link(t))
	owner := ta.device("owner", uaFirefoxWindow, "192.0.2.5")
	owner.post("/password/forgot", url.Values{"email": {"ann@example.com"}})
	reset := pathOf(t, ta.nextMail(sink).Link(t))
	if r := owner.post(reset, url.Values{"new_password": {"the owner's new passphrase 4"}}); r.status != http.StatusSeeOther {
		t.Fatalf("reset: %d", r.status)
	}
	if n := ta.query(`SELECT COUNT(*) FROM sessions`); n != "1" {
		t.Errorf("%s session rows after the reset, want 1 (the browser that reset)", n)
	}
	if rows, _ := owner.page(); len(rows) != 1 {
		t.Errorf("the page after the reset lists %d devices, want 1", len(rows))
	}
	assertSignedOut(t, laptop, true)
	assertSignedOut(t, phone, true)
	if r := ta.device("anyone", uaChromeMac, "").get(notMe); r.status != http.StatusNotFound {
		t.Errorf("the alert's link after the reset: %d, want 404", r.status)
	}
}

// TestResetRequestsPerAddress: one address may ask for 20 reset mails an hour, whatever
// the emails; the 21st is refused.
func TestResetRequestsPerAddress(t *testing.T) {
	sink := mailtest.Start(t, "")
	ta := newTestApp(t, withMail(sink.Addr))
	for i := range 21 {
		r := ta.device("asker", uaChromeMac, "198.51.100.9").post("/password/forgot",
			url.Values{"email": {"someone" + string(rune('a'+i)) + "@example.com"}})
		want := http.StatusOK
		if i == 20 {
			want = http.StatusTooManyRequests
		}
		if r.status != want {
			t.Fatalf("reset request %d from one address: %d, want %d", i+1, r.status, want)
		}
	}
}

// TestAlertIsPartOfItsChange: the alert item is written in the change's own transaction.
// With alert items refused by the database, the password change fails and nothing
// changes: no change ever happens without its alert.
func TestAlertIsPartOfItsChange(t *testing.T) {
	ta := newTestApp(t)
	_, phone, _ := laptopAndPhone(ta)
	trigger := []string{`CREATE TRIGGER no_alerts BEFORE INSERT ON alert_items BEGIN SELECT RAISE(ABORT, 'alerts are down'); END`}
	if ta.db.Engine == db.Postgres {
		trigger = []string{
			`CREATE FUNCTION no_alerts() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'alerts are down'; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER no_alerts BEFORE INSERT ON alert_items FOR EACH ROW EXECUTE FUNCTION no_alerts()`,
		}
	}
	for _, q := range trigger {
		if _, err := ta.db.Write.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	hash := ta.passwordHash("ann@example.com")
	r := phone.post("/account/password", url.Values{"current_password": {testPassword},
		"new_password": {"the thief's own passphrase 9"}, "logout_others": {"on"}})
	if r.status < 500 {
		t.Errorf("the password change with alerts down: %d, want a failure", r.status)
	}
	if ta.passwordHash("ann@example.com") != hash {
		t.Error("the password changed without its alert")
	}
	if n := ta.query(`SELECT COUNT(*) FROM events WHERE kind = 'password-changed'`); n != "0" {
		t.Errorf("%s password changes in the log without their alert", n)
	}
}

// TestMailGivesUpAfterFifteenAttempts: a mail that cannot be delivered is tried 15 times,
// with back-off, and then given up (and kept on record as such).
func TestMailGivesUpAfterFifteenAttempts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there: every delivery fails at once
	ta := newTestApp(t, withMail(dead))
	ta.device("laptop", uaChromeMac, "203.0.113.1").signup("ann@example.com", testPassword)
	ta.device("forgetful", uaChromeMac, "203.0.113.2").post("/password/forgot", url.Values{"email": {"ann@example.com"}})
	for round := 1; round <= 16; round++ {
		ta.mailPass()
		// The app's own worker may have taken this round's attempt: wait until it is recorded.
		ta.waitFor("no send in flight", "0", `SELECT COUNT(*) FROM outbox WHERE claimed_until <> 0`)
		attempts, sent := ta.query(`SELECT attempts FROM outbox`), ta.query(`SELECT sent_at FROM outbox`)
		switch {
		case round < 15 && (attempts != strconv.Itoa(round) || sent != "0"):
			t.Fatalf("after %d rounds: %s attempts, sent_at %s; want %d and 0 (still trying)", round, attempts, sent, round)
		case round >= 15 && (attempts != "15" || sent != "-1"):
			t.Fatalf("after %d rounds: %s attempts, sent_at %s; want 15 and -1 (given up)", round, attempts, sent)
		}
		ta.clock.Advance(61 * time.Minute) // past the longest back-off
	}
}

// TestEveryGraveChangeIsAlerted: each way a device is signed out against the owner's will,
// or the password set, queues an alert item of its kind in the same step.
func TestEveryGraveChangeIsAlerted(t *testing.T) {
	sink := mailtest.Start(t, "")
	for _, tc := range []struct {
		kind models.EventKind
		act  func(ta *testApp, laptop, phone *device)
	}{
		{models.EventSessionRevoked, func(ta *testApp, laptop, phone *device) {
			laptop.post("/account/sessions/"+phone.handle()+"/revoke", pw(testPassword))
		}},
		{models.EventOthersRevoked, func(ta *testApp, laptop, phone *device) {
			laptop.post("/account/sessions/others/revoke", pw(testPassword))
		}},
		{models.EventDeviceLost, func(ta *testApp, laptop, phone *device) {
			laptop.post("/account/sessions/"+phone.handle()+"/lost", lostForm(testPassword, "a brand new passphrase 8"))
		}},
		{models.EventPasswordChanged, func(ta *testApp, laptop, phone *device) {
			laptop.post("/account/password", url.Values{"current_password": {testPassword}, "new_password": {"a brand new passphrase 8"}})
		}},
		{models.EventPasswordReset, func(ta *testApp, laptop, phone *device) {
			ta.device("owner", uaFirefoxWindow, "192.0.2.5").post("/password/forgot", url.Values{"email": {"ann@example.com"}})
			ta.mailPass()
			link := pathOf(t, ta.nextMail(sink).Link(t))
			ta.device("owner", uaFirefoxWindow, "192.0.2.5").post(link, url.Values{"new_password": {"a brand new passphrase 8"}})
		}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			ta := newTestApp(t, withMail(sink.Addr))
			laptop, phone, _ := laptopAndPhone(ta)
			ta.releaseAlerts()
			ta.nextMail(sink) // the phone, a new device
			tc.act(ta, laptop, phone)
			if n := ta.query(`SELECT COUNT(*) FROM alert_items WHERE kind = ?`, string(tc.kind)); n != "1" {
				t.Errorf("%s alert items of kind %s, want 1", n, tc.kind)
			}
		})
	}
}
