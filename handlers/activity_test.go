package handlers_test

import (
	"strconv"
	"testing"
	"time"
)

// TestActivityRefreshesTheSession: a request more than a minute after the last recorded
// one writes the new activity time and the address the device now uses, so the page shows
// where each device was last seen; requests within the minute write nothing.
func TestActivityRefreshesTheSession(t *testing.T) {
	ta := newTestApp(t)
	laptop, phone, handle := laptopAndPhone(ta)
	signedIn := ta.clock.Now().Unix()
	stored := func() (int64, string) {
		t.Helper()
		at, err := strconv.ParseInt(ta.query(`SELECT last_active_at FROM sessions WHERE handle = ?`, handle), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return at, ta.query(`SELECT ip FROM sessions WHERE handle = ?`, handle)
	}

	// The phone moves to another network; within the minute nothing is written.
	phone.ip = "192.0.2.77"
	ta.clock.Advance(30 * time.Second)
	assertSignedIn(t, phone)
	if at, ip := stored(); at != signedIn || ip != "198.51.100.20" {
		t.Errorf("30 s later: last active %d, ip %s; want %d and 198.51.100.20 (unchanged)", at, ip, signedIn)
	}

	// Past the minute: the time and the new address are recorded.
	ta.clock.Advance(45 * time.Second)
	assertSignedIn(t, phone)
	if at, ip := stored(); at != ta.clock.Now().Unix() || ip != "192.0.2.77" {
		t.Errorf("75 s later: last active %d, ip %s; want %d and 192.0.2.77", at, ip, ta.clock.Now().Unix())
	}
	rows, _ := laptop.page()
	shown := false
	for _, r := range rows {
		if r.sessionID == handle {
			shown = true
			if r.ip != "192.0.2.77" {
				t.Errorf("the laptop's page shows the phone at %q, want 192.0.2.77", r.ip)
			}
		}
	}
	if !shown {
		t.Error("the laptop's page does not list the phone")
	}
}

// TestPageRefreshIsNotActivity: the refreshes an open Security page makes on its own
// (after a live event, or every 15 s while its stream is down; the script marks them
// Elsewhere-Refresh: auto) are answered, but they are not the person's activity: a page
// left open on the thief's phone idles out after the idle lifetime, as SECURITY.md says.
// The same requests without the mark are a person's clicks and keep the device signed in.
func TestPageRefreshIsNotActivity(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hdr   []string
		stays bool
	}{
		{"the page's own refreshes", []string{"Elsewhere-Refresh", "auto"}, false},
		{"a person's requests", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t)
			_, phone, _ := laptopAndPhone(ta)
			for range 13 { // 2 h 10 min, a refresh every 10 minutes
				ta.clock.Advance(10 * time.Minute)
				r := phone.do("GET", "/account/security", nil, true, tc.hdr...)
				if r.status != 200 && r.status != 401 {
					t.Fatalf("refresh: %d", r.status)
				}
			}
			if tc.stays {
				assertSignedIn(t, phone)
			} else {
				assertSignedOut(t, phone, false)
			}
		})
	}
}
