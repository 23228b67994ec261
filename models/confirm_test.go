package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/models"
)

// TestCountedWrongPasswordIsAlwaysLogged: every attempt that is counted is also logged,
// even a wrong password from a session that another device signs out while the guess is
// being checked: the owner sees that the thief typed it.
func TestCountedWrongPasswordIsAlwaysLogged(t *testing.T) {
	f := newFixture(t, fastHash)
	ctx := context.Background()
	u, handles := f.signIn(t, "ann@example.com", 2)
	thief, err := f.sessions.ForUser(ctx, u.ID, handles[1])
	if err != nil {
		t.Fatal(err)
	}
	// The thief's guess is under way (its session already loaded) when the owner signs it out.
	if _, _, err := f.sessions.Revoke(ctx, models.Change{UserID: u.ID, Current: handles[0]}, handles[1]); err != nil {
		t.Fatal(err)
	}
	cf := models.NewConfirmations(f.db, f.users, models.NewLimiter(f.db, time.Now), time.Now)
	_, evs, err := cf.Check(ctx, thief, "a wrong guess", models.Actor{IP: "198.51.100.20", Device: thief.Device.Label()})
	if !errors.Is(err, models.ErrSessionEnded) {
		t.Fatalf("Check by a signed-out session: %v, want ErrSessionEnded", err)
	}
	var counted, logged int
	if err := f.db.Read.QueryRow(`SELECT COUNT(*) FROM failures WHERE scope = 'confirm' AND key = ?`, thief.Handle).Scan(&counted); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Read.QueryRow(`SELECT COUNT(*) FROM events WHERE kind IN ('confirm-failed', 'locked-out', 'guessed-out')`).Scan(&logged); err != nil {
		t.Fatal(err)
	}
	if counted != logged || len(evs) != logged {
		t.Errorf("%d wrong password(s) counted, %d logged (%d events returned): every counted attempt must be logged", counted, logged, len(evs))
	}
}
