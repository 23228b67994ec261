package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/elsewhere-dev/elsewhere/models"
)

// TestSignInRacingAPasswordChange: a sign-in whose password was checked just before a
// password change must not be created after it (it would carry a valid new stamp).
func TestSignInRacingAPasswordChange(t *testing.T) {
	f := newFixture(t, fastHash)
	ctx := context.Background()
	u, handles := f.signIn(t, "ann@example.com", 1)
	checked, err := f.users.Authenticate(ctx, "ann@example.com", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	newHash, _ := f.hasher.Hash(ctx, "a brand new passphrase")
	if _, _, err := f.sessions.ChangePassword(ctx, models.Change{UserID: u.ID, Current: handles[0], NewHash: newHash}, true); err != nil {
		t.Fatal(err)
	}
	_, hash := models.NewToken()
	_, _, err = f.sessions.SignIn(ctx, hash, models.NewSession{UserID: u.ID, PasswordVersion: checked.PasswordVersion})
	if !errors.Is(err, models.ErrPasswordChanged) {
		t.Errorf("Create after the change = %v, want ErrPasswordChanged", err)
	}
	// A re-salt of the same password is not a change: the sign-in goes through.
	again, _ := f.users.Authenticate(ctx, "ann@example.com", "a brand new passphrase")
	resalted, _ := f.hasher.Hash(ctx, "a brand new passphrase")
	if _, _, err := f.sessions.Revoke(ctx, models.Change{UserID: u.ID, Current: handles[0], NewHash: resalted}, "nope"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if _, _, err := f.sessions.RevokeOthers(ctx, models.Change{UserID: u.ID, Current: handles[0], NewHash: resalted}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.sessions.SignIn(ctx, hash, models.NewSession{UserID: u.ID, PasswordVersion: again.PasswordVersion}); err != nil {
		t.Errorf("Create after a re-salt = %v, want success", err)
	}
}

// TestActionConfirmedWithAnOldPassword: an action confirmed with the old password that
// commits after a password change must not write the old password back.
func TestActionConfirmedWithAnOldPassword(t *testing.T) {
	f := newFixture(t, fastHash)
	ctx := context.Background()
	u, handles := f.signIn(t, "ann@example.com", 2)
	old, err := f.users.CheckPassword(ctx, u.ID, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	newHash, _ := f.hasher.Hash(ctx, "a brand new passphrase")
	if _, _, err := f.sessions.ChangePassword(ctx, models.Change{UserID: u.ID, Current: handles[0], NewHash: newHash}, false); err != nil {
		t.Fatal(err)
	}
	resaltedOld, _ := f.hasher.Hash(ctx, "correct horse battery staple")
	_, _, err = f.sessions.RevokeOthers(ctx, models.Change{UserID: u.ID, Current: handles[0], NewHash: resaltedOld, CheckedVersion: old})
	if !errors.Is(err, models.ErrPasswordChanged) {
		t.Fatalf("RevokeOthers confirmed with the old password = %v, want ErrPasswordChanged", err)
	}
	if _, err := f.users.CheckPassword(ctx, u.ID, "a brand new passphrase"); err != nil {
		t.Errorf("the new password no longer works: %v", err)
	}
	if list, _ := f.sessions.ListForUser(ctx, u.ID); len(list) != 2 {
		t.Errorf("%d sessions left, want both (nothing done)", len(list))
	}
}
