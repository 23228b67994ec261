package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/device"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

// TestNameDevice: a name belongs to the browser (its device cookie), so a later sign-in
// of that browser has it; it is refused for another user's session, an unknown handle
// and a session without a device cookie, and changes nothing then.
func TestNameDevice(t *testing.T) {
	ctx := context.Background()
	d := modelstest.OpenDB(t)
	h, err := models.NewHasher(modelstest.FastHash(), 1)
	if err != nil {
		t.Fatal(err)
	}
	users := models.NewUsers(d, h, time.Now)
	sessions := models.NewSessions(d, make([]byte, 32), models.Lifetimes{Idle: time.Hour, Remember: time.Hour}, 0, time.Now)
	ann, err := users.Create(ctx, "ann@example.com", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := users.Create(ctx, "bob@example.com", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	ipad := models.HashToken("the iPad's device cookie")
	signIn := func(userID int64, deviceHash []byte) models.Session {
		t.Helper()
		_, token := models.NewToken()
		s, _, err := sessions.SignIn(ctx, token, models.NewSession{UserID: userID, UserAgent: modelstest.UASafariIPhone,
			Hints: device.Hints{Touch: 5}, DeviceHash: deviceHash})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := signIn(ann.ID, ipad)
	bobs := signIn(bob.ID, models.HashToken("bob's browser"))
	noCookie := signIn(ann.ID, nil)

	if _, err := sessions.NameDevice(ctx, bob.ID, first.Handle, "Pwned", models.Actor{}); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("bob naming ann's device: %v, want ErrNotFound", err)
	}
	if _, err := sessions.NameDevice(ctx, ann.ID, strings.Repeat("0", 32), "x", models.Actor{}); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("an unknown handle: %v, want ErrNotFound", err)
	}
	if _, err := sessions.NameDevice(ctx, ann.ID, noCookie.Handle, "x", models.Actor{}); !errors.Is(err, models.ErrDeviceUnnamed) {
		t.Errorf("a session without a device cookie: %v, want ErrDeviceUnnamed", err)
	}
	ev, err := sessions.NameDevice(ctx, ann.ID, first.Handle, "Anna’s iPad", models.Actor{Device: "Mac · Chrome 143"})
	if err != nil || ev.Kind != models.EventDeviceNamed || ev.Detail != "Anna’s iPad" {
		t.Fatalf("naming: %+v, %v", ev, err)
	}
	if s, err := sessions.ForUser(ctx, bob.ID, bobs.Handle); err != nil || s.DeviceName != "" {
		t.Errorf("bob's device is named %q (%v)", s.DeviceName, err)
	}
	// The same browser signs in again: a new session, the same name.
	again := signIn(ann.ID, ipad)
	if again.DeviceName != "Anna’s iPad" {
		t.Errorf("the sign-in's session has name %q", again.DeviceName)
	}
	if s, err := sessions.ForUser(ctx, ann.ID, again.Handle); err != nil || s.DeviceName != "Anna’s iPad" {
		t.Errorf("the browser's next session reads name %q (%v)", s.DeviceName, err)
	}
}

func TestCheckDeviceName(t *testing.T) {
	for in, want := range map[string]string{
		"  Anna’s   iPad ": "Anna’s iPad", "": "", "   ": "", strings.Repeat("é", 40): strings.Repeat("é", 40),
		`<b>"x"</b> & 'y'`: `<b>"x"</b> & 'y'`,
	} {
		if got, err := models.CheckDeviceName(in); err != nil || got != want {
			t.Errorf("CheckDeviceName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]error{
		strings.Repeat("x", 41): models.ErrDeviceNameTooLong,
		"Anna\u202eDAPi":        models.ErrDeviceNameInvalid,
		"a\x00b":                models.ErrDeviceNameInvalid,
		"zero\u200bwidth":       models.ErrDeviceNameInvalid,
		"\xff":                  models.ErrDeviceNameInvalid,
	} {
		if _, err := models.CheckDeviceName(in); !errors.Is(err, want) {
			t.Errorf("CheckDeviceName(%q): %v, want %v", in, err, want)
		}
	}
}

// TestTimeZone: only zones the time package knows, named as browsers name them.
func TestTimeZone(t *testing.T) {
	for _, ok := range []string{"Europe/Berlin", "America/Argentina/Buenos_Aires", "UTC", "Etc/GMT+5"} {
		if _, good := models.TimeZone(ok); !good {
			t.Errorf("TimeZone(%q) refused", ok)
		}
	}
	for _, bad := range []string{"", "Local", "../../etc/passwd", "/etc/localtime", "Mars/Olympus", "Europe/Berlin\n", "Europe/", strings.Repeat("A", 65)} {
		if _, good := models.TimeZone(bad); good {
			t.Errorf("TimeZone(%q) accepted", bad)
		}
	}
}
