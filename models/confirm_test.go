package models_test

import (
	"context"
	"errors"
	"sync"
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
	cf := models.NewConfirmations(f.db, f.users, models.NewLimiter(f.db, time.Now), models.DefaultLimits().Confirm, time.Now)
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

// goneOnceHashed is a request's context whose client goes away the moment the password has
// been hashed: live until the hasher has run, cancelled from then on. It lets a test
// abandon a request at the one instant no real connection can be timed to.
type goneOnceHashed struct {
	context.Context
	hasher *models.Hasher
	before uint64
	done   chan struct{}
	once   *sync.Once
}

func (c goneOnceHashed) Err() error {
	if c.hasher.Runs() > c.before {
		c.once.Do(func() { close(c.done) })
		return context.Canceled
	}
	return nil
}

func (c goneOnceHashed) Done() <-chan struct{} { return c.done }

// TestConfirmationAbandonedAfterTheCheckCostsNothing: a request abandoned after its
// password was found wrong, but before the answer could be sent, taught its client
// nothing; the attempt is released, nothing is counted against the session, nothing is
// logged, and a right password then still works.
func TestConfirmationAbandonedAfterTheCheckCostsNothing(t *testing.T) {
	f := newFixture(t, fastHash)
	u, handles := f.signIn(t, "ann@example.com", 1)
	cur, err := f.sessions.ForUser(context.Background(), u.ID, handles[0])
	if err != nil {
		t.Fatal(err)
	}
	cf := models.NewConfirmations(f.db, f.users, models.NewLimiter(f.db, time.Now), models.DefaultLimits().Confirm, time.Now)
	for i := range models.DefaultLimits().Confirm.Max + 1 {
		ctx := goneOnceHashed{Context: context.Background(), hasher: f.hasher, before: f.hasher.Runs(),
			done: make(chan struct{}), once: &sync.Once{}}
		if _, _, err := cf.Check(ctx, cur, "a wrong guess", models.Actor{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("abandoned guess %d: %v, want context.Canceled", i+1, err)
		}
		if f.hasher.Runs() == ctx.before {
			t.Fatalf("abandoned guess %d was never checked", i+1)
		}
	}
	count := func(q string) (n int) {
		t.Helper()
		if err := f.db.Read.QueryRow(q, cur.Handle).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT COUNT(*) FROM failures WHERE scope = 'confirm' AND key = ?`); n != 0 {
		t.Errorf("%d attempts left counted after abandoned guesses, want 0", n)
	}
	if n := count(`SELECT COUNT(*) FROM lockouts WHERE scope = 'confirm' AND key = ?`); n != 0 {
		t.Error("abandoned guesses locked the session")
	}
	if n := count(`SELECT wrong_passwords FROM sessions WHERE handle = ?`); n != 0 {
		t.Errorf("abandoned guesses counted %d wrong passwords on the session", n)
	}
	if n := count(`SELECT COUNT(*) FROM events WHERE kind IN ('confirm-failed', 'locked-out', 'guessed-out') AND ? <> ''`); n != 0 {
		t.Errorf("%d abandoned guesses logged", n)
	}
	if _, _, err := cf.Check(context.Background(), cur, "correct horse battery staple", models.Actor{}); err != nil {
		t.Errorf("the right password after abandoned guesses: %v", err)
	}
}
