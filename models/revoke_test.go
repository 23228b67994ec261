package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

// TestActingSessionSignedOutMeanwhile: a device signed out between loading its session
// and acting gets ErrSessionEnded from every action (the handlers then send it to the
// sign-in page), and the action changes nothing.
func TestActingSessionSignedOutMeanwhile(t *testing.T) {
	ctx := context.Background()
	d := modelstest.OpenDB(t)
	h, err := models.NewHasher(modelstest.FastHash(), 1)
	if err != nil {
		t.Fatal(err)
	}
	users := models.NewUsers(d, h, time.Now)
	sessions := models.NewSessions(d, make([]byte, 32), models.Lifetimes{Idle: time.Hour, Remember: time.Hour}, 0, time.Now)
	u, err := users.Create(ctx, "ann@example.com", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	var handles []string
	for range 3 {
		_, hash := models.NewToken()
		s, _, err := sessions.SignIn(ctx, hash, models.NewSession{UserID: u.ID, UserAgent: "curl/8"})
		if err != nil {
			t.Fatal(err)
		}
		handles = append(handles, s.Handle)
	}
	// handles[0] acts; another device has just signed it out.
	if _, _, err := sessions.Revoke(ctx, models.Change{UserID: u.ID, Current: handles[1]}, handles[0]); err != nil {
		t.Fatal(err)
	}
	newHash, _ := h.Hash(ctx, "another passphrase")
	stale := models.Change{UserID: u.ID, Current: handles[0], NewHash: newHash}
	_, _, errRevoke := sessions.Revoke(ctx, stale, handles[2])
	_, _, errOthers := sessions.RevokeOthers(ctx, stale)
	_, _, errChange := sessions.ChangePassword(ctx, stale, true)
	for name, err := range map[string]error{"Revoke": errRevoke, "RevokeOthers": errOthers, "ChangePassword": errChange} {
		if !errors.Is(err, models.ErrSessionEnded) {
			t.Errorf("%s by a signed-out session: %v, want ErrSessionEnded", name, err)
		}
	}
	// A missing target is still ErrNotFound.
	if _, _, err := sessions.Revoke(ctx, models.Change{UserID: u.ID, Current: handles[1]}, handles[0]); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("revoking a gone session: %v, want ErrNotFound", err)
	}
	list, err := sessions.ListForUser(ctx, u.ID)
	if err != nil || len(list) != 2 {
		t.Errorf("%d sessions left (%v), want 2", len(list), err)
	}
	if got, _ := users.ByID(ctx, u.ID); got.PasswordHash == newHash {
		t.Error("the refused change stored the new hash")
	}
}

// TestWindowClosedByAPasswordChange: an action that the confirmation window let through
// (no password) is refused in the writer's transaction once a password change on another
// device has closed the window, however the two requests interleaved before it; with the
// window open it goes through.
func TestWindowClosedByAPasswordChange(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, fastHash)
	u, handles := f.signIn(t, "ann@example.com", 4)
	h, sessions := f.hasher, f.sessions
	// handles[0] confirms and opens its window.
	pw, _ := h.Hash(ctx, "correct horse battery staple")
	if _, _, err := sessions.Revoke(ctx, models.Change{UserID: u.ID, Current: handles[0], NewHash: pw,
		ConfirmUntil: time.Now().Add(15 * time.Minute)}, handles[3]); err != nil {
		t.Fatal(err)
	}
	// Inside the window it acts without a password.
	if _, _, err := sessions.Revoke(ctx, models.Change{UserID: u.ID, Current: handles[0], ViaWindow: true}, handles[2]); err != nil {
		t.Fatalf("an action through the open window: %v", err)
	}
	// handles[1] changes the password, keeping the others signed in; that closes the window.
	next, _ := h.Hash(ctx, "a new passphrase")
	if _, _, err := sessions.ChangePassword(ctx, models.Change{UserID: u.ID, Current: handles[1], NewHash: next}, false); err != nil {
		t.Fatal(err)
	}
	_, _, errOne := sessions.RevokeOthers(ctx, models.Change{UserID: u.ID, Current: handles[0], ViaWindow: true})
	if !errors.Is(errOne, models.ErrConfirmationNeeded) {
		t.Errorf("an action through the closed window: %v, want ErrConfirmationNeeded", errOne)
	}
	if list, _ := sessions.ListForUser(ctx, u.ID); len(list) != 2 {
		t.Errorf("%d sessions left, want 2: the refused action signed devices out", len(list))
	}
}

// TestAnotherUsersHandleIsNotFound: Revoke and ReportLost given a handle of another
// user's session answer ErrNotFound, as for one that never existed, and that user's device
// stays signed in, and nothing else changes for either account.
func TestAnotherUsersHandleIsNotFound(t *testing.T) {
	f := newFixture(t, fastHash)
	ctx := context.Background()
	ann, annHandles := f.signIn(t, "ann@example.com", 2)
	bob, bobHandles := f.signIn(t, "bob@example.com", 2)
	newHash, err := f.hasher.Hash(ctx, "only ann knows this one")
	if err != nil {
		t.Fatal(err)
	}
	bobHash := f.passwordHash(t, bob.ID)
	annHash := f.passwordHash(t, ann.ID)
	ch := models.Change{UserID: ann.ID, Current: annHandles[0], NewHash: newHash}
	if _, _, err := f.sessions.Revoke(ctx, ch, bobHandles[1]); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Revoke of another user's session: %v, want ErrNotFound", err)
	}
	if _, _, _, err := f.sessions.ReportLost(ctx, ch, bobHandles[1]); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("ReportLost of another user's session: %v, want ErrNotFound", err)
	}
	for _, h := range bobHandles {
		if _, err := f.sessions.ForUser(ctx, bob.ID, h); err != nil {
			t.Errorf("bob's session %s after ann's attempts: %v, want still signed in", h, err)
		}
	}
	for _, h := range annHandles {
		if _, err := f.sessions.ForUser(ctx, ann.ID, h); err != nil {
			t.Errorf("ann's session %s after a refused action: %v, want still signed in", h, err)
		}
	}
	if f.passwordHash(t, bob.ID) != bobHash || f.passwordHash(t, ann.ID) != annHash {
		t.Error("a refused action changed a password hash")
	}
}

func (f fixture) passwordHash(t *testing.T, userID int64) string {
	t.Helper()
	var h string
	if err := f.db.Read.QueryRow(`SELECT password_hash FROM users WHERE id = ?`, userID).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestStaleActingSessionCannotAct: a device whose stamp went stale after its request
// loaded it (the password changed on another instance, or by an admin tool) cannot sign
// anyone out or set a password: every action checks the acting session's stamp again in
// its own transaction.
func TestStaleActingSessionCannotAct(t *testing.T) {
	f := newFixture(t, fastHash)
	ctx := context.Background()
	u, handles := f.signIn(t, "ann@example.com", 2)
	changed, err := f.hasher.Hash(ctx, "changed elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Write.Exec(`UPDATE users SET password_hash = ? WHERE id = ?`, changed, u.ID); err != nil {
		t.Fatal(err)
	}
	stolen, err := f.hasher.Hash(ctx, "the thief's choice")
	if err != nil {
		t.Fatal(err)
	}
	acting := models.Change{UserID: u.ID, Current: handles[0]}
	withHash := models.Change{UserID: u.ID, Current: handles[0], NewHash: stolen}
	_, _, errRevoke := f.sessions.Revoke(ctx, acting, handles[1])
	_, _, errOthers := f.sessions.RevokeOthers(ctx, acting)
	_, _, errChange := f.sessions.ChangePassword(ctx, withHash, true)
	_, _, _, errLost := f.sessions.ReportLost(ctx, withHash, handles[1])
	for name, err := range map[string]error{"Revoke": errRevoke, "RevokeOthers": errOthers, "ChangePassword": errChange, "ReportLost": errLost} {
		if !errors.Is(err, models.ErrSessionEnded) {
			t.Errorf("%s by a session with a stale stamp: %v, want ErrSessionEnded", name, err)
		}
	}
	var n int
	if err := f.db.Read.QueryRow(`SELECT COUNT(*) FROM sessions WHERE handle = ?`, handles[1]).Scan(&n); err != nil || n != 1 {
		t.Errorf("the other device: %d rows (%v), want still there", n, err)
	}
	if f.passwordHash(t, u.ID) != changed {
		t.Error("a session with a stale stamp replaced the password")
	}
}
