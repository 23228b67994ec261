package models_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

// passkeyWorld is an app's worth of models with a clock the test moves, and two
// accounts each signed in once (with a device cookie).
type passkeyWorld struct {
	sessions *models.Sessions
	passkeys *models.Passkeys
	confirms *models.Confirmations
	events   *models.Events
	mu       sync.Mutex
	at       time.Time
	ann, bob models.User
	annS     models.Session
	bobS     models.Session
}

func (w *passkeyWorld) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.at
}

func (w *passkeyWorld) advance(d time.Duration) {
	w.mu.Lock()
	w.at = w.at.Add(d)
	w.mu.Unlock()
}

func newPasskeyWorld(t testing.TB) *passkeyWorld {
	t.Helper()
	ctx := context.Background()
	d := modelstest.OpenDB(t)
	w := &passkeyWorld{at: time.Now()}
	h, err := models.NewHasher(modelstest.FastHash(), 1)
	if err != nil {
		t.Fatal(err)
	}
	users := models.NewUsers(d, h, w.now)
	w.sessions = models.NewSessions(d, make([]byte, 32), models.Lifetimes{Idle: time.Hour, Remember: time.Hour}, 0, w.now)
	w.passkeys, err = models.NewPasskeys(d, models.RelyingParty{ID: "app.example", Origin: "https://app.example", Name: "Elsewhere"},
		make([]byte, 32), w.now)
	if err != nil {
		t.Fatal(err)
	}
	w.events = models.NewEvents(d, w.now)
	w.confirms = models.NewConfirmations(d, users, models.NewLimiter(d, w.now), models.DefaultLimits().Confirm, w.now)
	for _, who := range []struct {
		u *models.User
		s *models.Session
		e string
	}{{&w.ann, &w.annS, "ann@example.com"}, {&w.bob, &w.bobS, "bob@example.com"}} {
		if *who.u, err = users.Create(ctx, who.e, "correct horse battery staple"); err != nil {
			t.Fatal(err)
		}
		_, hash := models.NewToken()
		dev := models.HashToken(who.e + " phone")
		if *who.s, _, err = w.sessions.SignIn(ctx, hash, models.NewSession{UserID: who.u.ID, UserAgent: modelstest.UASafariIPhone,
			DeviceHash: dev}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// add registers a passkey on auth for the session s of user.
func (w *passkeyWorld) add(t testing.TB, auth *modelstest.Authenticator, user models.User, s models.Session) models.Passkey {
	t.Helper()
	ctx := context.Background()
	opts, err := w.passkeys.BeginAdd(ctx, user.ID, s.Handle)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := auth.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	pk, _, err := w.passkeys.FinishAdd(ctx, user.ID, s.Handle, resp, models.NewPasskey{Name: "phone", Actor: models.Actor{Device: "iPhone"}})
	if err != nil {
		t.Fatalf("add a passkey: %v", err)
	}
	return pk
}

func goodAuthenticator() *modelstest.Authenticator {
	return &modelstest.Authenticator{Origin: "https://app.example"}
}

// TestPasskeySignInAndItsRefusals: a passkey added to an account signs in to it; every
// answer that is not the right authenticator's, fresh, at this site, is refused: a
// replayed challenge, another origin, another relying party, a counter gone backwards,
// a challenge past its lifetime, no user verification, a credential not registered.
func TestPasskeySignInAndItsRefusals(t *testing.T) {
	ctx := context.Background()
	w := newPasskeyWorld(t)
	auth := goodAuthenticator()
	pk := w.add(t, auth, w.ann, w.annS)
	if pk.Name != "phone" {
		t.Fatalf("added: %+v", pk)
	}

	signIn := func(a *modelstest.Authenticator, cred *modelstest.Credential) (int64, []byte, error) {
		opts, err := w.passkeys.BeginSignIn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := a.Get(opts, cred)
		if err != nil {
			t.Fatal(err)
		}
		uid, err := w.passkeys.SignIn(ctx, resp)
		return uid, resp, err
	}
	uid, resp, err := signIn(auth, nil)
	if err != nil || uid != w.ann.ID {
		t.Fatalf("sign in with the passkey: %d %v, want ann (%d)", uid, err, w.ann.ID)
	}
	if list, _ := w.passkeys.List(ctx, w.ann.ID); len(list) != 1 || list[0].LastUsedAt.IsZero() {
		t.Fatalf("after use: %+v", list)
	}

	refusedAs := func(name string, err error, also error) {
		t.Helper()
		if !errors.Is(err, models.ErrPasskeyRefused) {
			t.Fatalf("%s: %v, want ErrPasskeyRefused", name, err)
		}
		if also != nil && !errors.Is(err, also) {
			t.Fatalf("%s: %v, want also %v", name, err, also)
		}
	}
	t.Run("replayed challenge", func(t *testing.T) {
		_, err := w.passkeys.SignIn(ctx, resp)
		refusedAs("the same answer again", err, models.ErrChallenge)
	})
	t.Run("wrong origin", func(t *testing.T) {
		evil := *auth
		evil.Origin = "https://app.example.evil"
		_, _, err := signIn(&evil, auth.Creds[0])
		refusedAs("another origin", err, nil)
	})
	t.Run("wrong RP id", func(t *testing.T) {
		evil := *auth
		evil.RPID = "evil.example"
		_, _, err := signIn(&evil, auth.Creds[0])
		refusedAs("another relying party", err, nil)
	})
	t.Run("no user verification", func(t *testing.T) {
		lazy := *auth
		lazy.NoUV = true
		_, _, err := signIn(&lazy, auth.Creds[0])
		refusedAs("without user verification", err, nil)
	})
	t.Run("counter backwards", func(t *testing.T) {
		// A clone of the authenticator, copied before the last sign-ins, signs with a
		// counter the server has seen pass.
		auth.Creds[0].Count = 0 // the next assertion says 1, which the server has seen
		_, _, err := signIn(auth, auth.Creds[0])
		refusedAs("a counter that went backwards", err, nil)
		auth.Creds[0].Count = 100
		if _, _, err := signIn(auth, auth.Creds[0]); err != nil {
			t.Fatalf("the real authenticator, counter forward: %v", err)
		}
	})
	t.Run("unregistered credential", func(t *testing.T) {
		stranger := goodAuthenticator()
		if _, err := stranger.Create([]byte(`{"publicKey":{"challenge":"AAAA","rp":{"id":"app.example"},"user":{"id":"AAAA"}}}`)); err != nil {
			t.Fatal(err)
		}
		_, _, err := signIn(stranger, nil)
		refusedAs("a credential never added", err, nil)
	})
	t.Run("challenge past its lifetime", func(t *testing.T) {
		opts, err := w.passkeys.BeginSignIn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := auth.Get(opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		w.advance(models.PasskeyChallengeLife + time.Second)
		_, err = w.passkeys.SignIn(ctx, resp)
		refusedAs("an expired challenge", err, models.ErrChallenge)
	})
}

// TestPasskeyConfirmIsTheAccountsOwn: a confirmation answers only its own session's
// challenge, with one of its own account's passkeys; bob's passkey cannot confirm for
// ann, and a refused passkey counts toward the session's lock as a wrong password does.
func TestPasskeyConfirmIsTheAccountsOwn(t *testing.T) {
	ctx := context.Background()
	w := newPasskeyWorld(t)
	annAuth, bobAuth := goodAuthenticator(), goodAuthenticator()
	annPK := w.add(t, annAuth, w.ann, w.annS)
	w.add(t, bobAuth, w.bob, w.bobS)
	// Bob can neither remove nor rename ann's passkey, whatever id he names.
	if _, err := w.sessions.RemovePasskey(ctx, models.Change{UserID: w.bob.ID, Current: w.bobS.Handle}, annPK.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("bob removing ann's passkey: %v, want ErrNotFound", err)
	}
	if _, err := w.passkeys.Rename(ctx, w.bob.ID, annPK.ID, "bob's", models.Actor{}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("bob renaming ann's passkey: %v, want ErrNotFound", err)
	}

	opts, err := w.passkeys.BeginConfirm(ctx, w.ann.ID, w.annS.Handle)
	if err != nil {
		t.Fatal(err)
	}
	// Bob's authenticator answers ann's challenge with bob's own passkey.
	resp, err := bobAuth.Get(opts, bobAuth.Creds[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := w.passkeys.Confirm(ctx, w.ann.ID, w.annS.Handle, resp); !errors.Is(err, models.ErrPasskeyRefused) {
		t.Fatalf("another user's credential: %v, want ErrPasskeyRefused", err)
	}
	// Ann's challenge answered by ann's passkey, but posted by bob's session.
	opts, _ = w.passkeys.BeginConfirm(ctx, w.ann.ID, w.annS.Handle)
	resp, _ = annAuth.Get(opts, nil)
	if err := w.passkeys.Confirm(ctx, w.bob.ID, w.bobS.Handle, resp); !errors.Is(err, models.ErrChallenge) {
		t.Fatalf("a challenge given to another session: %v, want ErrChallenge", err)
	}
	// A sign-in challenge does not confirm.
	opts, _ = w.passkeys.BeginSignIn(ctx)
	resp, _ = annAuth.Get(opts, nil)
	if err := w.passkeys.Confirm(ctx, w.ann.ID, w.annS.Handle, resp); !errors.Is(err, models.ErrChallenge) {
		t.Fatalf("a sign-in challenge used to confirm: %v, want ErrChallenge", err)
	}
	// The right one confirms.
	opts, _ = w.passkeys.BeginConfirm(ctx, w.ann.ID, w.annS.Handle)
	resp, _ = annAuth.Get(opts, nil)
	if events, err := w.confirms.CheckPasskey(ctx, w.annS, w.passkeys, resp, models.Actor{}); err != nil || len(events) != 0 {
		t.Fatalf("ann's passkey confirming for ann: %v %v", events, err)
	}
	// A refused one is a wrong answer, counted and logged.
	lazy := *annAuth
	lazy.NoUV = true
	opts, _ = w.passkeys.BeginConfirm(ctx, w.ann.ID, w.annS.Handle)
	resp, _ = lazy.Get(opts, nil)
	events, err := w.confirms.CheckPasskey(ctx, w.annS, w.passkeys, resp, models.Actor{})
	if !errors.Is(err, models.ErrWrongPassword) || len(events) != 1 || events[0].Kind != models.EventConfirmFailed {
		t.Fatalf("a passkey without user verification: %v %v, want ErrWrongPassword and a logged failure", events, err)
	}
}

// TestLostDeviceTakesItsPasskeys: "Lost or stolen?" on a browser removes the passkeys it
// added, from this session and from an earlier one of the same browser, and no other;
// the removed passkey no longer signs in. A mailed link taking the account back removes
// every passkey (see the handlers' tests).
func TestLostDeviceTakesItsPasskeys(t *testing.T) {
	ctx := context.Background()
	w := newPasskeyWorld(t)
	phone := goodAuthenticator()
	w.add(t, phone, w.ann, w.annS)
	// The phone's browser signs in again (the same device cookie) and adds another.
	_, hash := models.NewToken()
	again, _, err := w.sessions.SignIn(ctx, hash, models.NewSession{UserID: w.ann.ID, UserAgent: modelstest.UASafariIPhone,
		DeviceHash: models.HashToken("ann@example.com phone")})
	if err != nil {
		t.Fatal(err)
	}
	w.add(t, phone, w.ann, again)
	// The laptop adds its own.
	_, hash = models.NewToken()
	laptop, _, err := w.sessions.SignIn(ctx, hash, models.NewSession{UserID: w.ann.ID, UserAgent: modelstest.UAChromeMac,
		DeviceHash: models.HashToken("ann laptop")})
	if err != nil {
		t.Fatal(err)
	}
	mac := goodAuthenticator()
	w.add(t, mac, w.ann, laptop)

	// The earlier phone session is signed out as lost, from the laptop; the newer one too.
	newHash, err := models.NewHasher(modelstest.FastHash(), 1)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := newHash.Hash(ctx, "a brand new passphrase here")
	if _, _, _, err := w.sessions.ReportLost(ctx, models.Change{UserID: w.ann.ID, Current: laptop.Handle, NewHash: h}, again.Handle); err != nil {
		t.Fatal(err)
	}
	list, err := w.passkeys.List(ctx, w.ann.ID)
	if err != nil || len(list) != 1 || string(list[0].CredentialID) != string(mac.Creds[0].ID) {
		t.Fatalf("after the phone was lost: %+v %v, want the laptop's one passkey", list, err)
	}
	for _, c := range phone.Creds {
		opts, _ := w.passkeys.BeginSignIn(ctx)
		resp, _ := phone.Get(opts, c)
		if _, err := w.passkeys.SignIn(ctx, resp); !errors.Is(err, models.ErrPasskeyRefused) {
			t.Fatalf("the lost phone's passkey signing in: %v", err)
		}
	}
	opts, _ := w.passkeys.BeginSignIn(ctx)
	resp, _ := mac.Get(opts, nil)
	if _, err := w.passkeys.SignIn(ctx, resp); err != nil {
		t.Fatalf("the laptop's passkey after the phone was lost: %v", err)
	}
	evs, err := w.events.Latest(ctx, w.ann.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs {
		found = found || e.Kind == models.EventPasskeysRevoked && e.Detail == "phone, phone"
	}
	if !found {
		t.Fatalf("the log does not name the passkeys that went: %+v", evs)
	}
}

// BenchmarkPasskeySignIn is one passkey sign-in's work on the server: the challenge
// written, the assertion verified (ES256) and the challenge spent, the counter updated.
// The software authenticator's signing is outside the timer.
func BenchmarkPasskeySignIn(b *testing.B) {
	ctx := context.Background()
	w := newPasskeyWorld(b)
	auth := goodAuthenticator()
	w.add(b, auth, w.ann, w.annS)
	for b.Loop() {
		opts, err := w.passkeys.BeginSignIn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		resp, err := auth.Get(opts, nil)
		b.StartTimer()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.passkeys.SignIn(ctx, resp); err != nil {
			b.Fatal(err)
		}
	}
}
