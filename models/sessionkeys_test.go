package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

// TestSessionKeyIsNeverReplaced: a session keeps the first key it was bound to; a second
// registration, even with a fresh registration challenge of its own, is refused and the
// key stays. A challenge made for registering does not answer a refresh.
func TestSessionKeyIsNeverReplaced(t *testing.T) {
	ctx := context.Background()
	d := modelstest.OpenDB(t)
	h, err := models.NewHasher(modelstest.FastHash(), 1)
	if err != nil {
		t.Fatal(err)
	}
	users := models.NewUsers(d, h, time.Now)
	sessions := models.NewSessions(d, make([]byte, 32), models.Lifetimes{Idle: time.Hour, Remember: time.Hour}, 0, time.Now)
	keys := models.NewSessionKeys(d, time.Now)
	u, err := users.Create(ctx, "ann@example.com", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	_, hash := models.NewToken()
	s, _, err := sessions.SignIn(ctx, hash, models.NewSession{UserID: u.ID, UserAgent: "curl/8"})
	if err != nil {
		t.Fatal(err)
	}
	first := models.DeviceKey{Alg: "ES256", JWK: `{"first":1}`, Thumbprint: []byte("first-thumbprint")}
	second := models.DeviceKey{Alg: "ES256", JWK: `{"second":1}`, Thumbprint: []byte("second-thumbprint")}
	ch1, err := keys.Challenge(ctx, s.Handle, models.ChallengeRegister)
	if err != nil {
		t.Fatal(err)
	}
	ch2, err := keys.Challenge(ctx, s.Handle, models.ChallengeRegister)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Register(ctx, u.ID, s.Handle, ch1, first, models.Actor{}); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Register(ctx, u.ID, s.Handle, ch2, second, models.Actor{}); !errors.Is(err, models.ErrAlreadyBound) {
		t.Fatalf("a second registration: %v, want ErrAlreadyBound", err)
	}
	if k, err := keys.Key(ctx, s.Handle); err != nil || k.JWK != first.JWK {
		t.Fatalf("the key after a second registration: %+v %v", k, err)
	}
	ch3, err := keys.Challenge(ctx, s.Handle, models.ChallengeRegister)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Prove(ctx, s.Handle, ch3, first.Thumbprint); !errors.Is(err, models.ErrChallenge) {
		t.Fatalf("a registration challenge answered at refresh: %v, want ErrChallenge", err)
	}
	ch4, err := keys.Challenge(ctx, s.Handle, models.ChallengeRefresh)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Prove(ctx, s.Handle, ch4, second.Thumbprint); !errors.Is(err, models.ErrChallenge) {
		t.Fatalf("a proof by a key the session is not bound to: %v, want ErrChallenge", err)
	}
	// The refused proof changed nothing: the challenge still answers the right key, once.
	if err := keys.Prove(ctx, s.Handle, ch4, first.Thumbprint); err != nil {
		t.Fatalf("the refresh challenge after a refused proof: %v", err)
	}
	if err := keys.Prove(ctx, s.Handle, ch4, first.Thumbprint); !errors.Is(err, models.ErrChallenge) {
		t.Fatalf("a refresh challenge answered twice: %v, want ErrChallenge", err)
	}
}
