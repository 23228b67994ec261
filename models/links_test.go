package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

// TestTakeBackChecksTheLinksLifetime: the take-back checks the link's lifetime itself,
// inside its transaction, not only the page that led to it: a link that expires between
// the page's check and the form's post does nothing.
func TestTakeBackChecksTheLinksLifetime(t *testing.T) {
	for _, tc := range []struct {
		kind, mail string
		life       time.Duration
	}{
		{models.LinkNotMe, models.MailAlert, 7 * 24 * time.Hour},
		{models.LinkReset, models.MailReset, time.Hour},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			ctx := context.Background()
			d := modelstest.OpenDB(t)
			now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			h, err := models.NewHasher(modelstest.FastHash(), 1)
			if err != nil {
				t.Fatal(err)
			}
			u, err := models.NewUsers(d, h, clock).Create(ctx, "ann@example.com", "correct horse battery staple")
			if err != nil {
				t.Fatal(err)
			}
			mail := models.NewMail(d, clock)
			token, _, err := mail.NewLink(ctx, models.Outgoing{UserID: u.ID, Kind: tc.mail})
			if err != nil {
				t.Fatal(err)
			}
			now = now.Add(tc.life - time.Second)
			if _, err := mail.LinkFor(ctx, tc.kind, token); err != nil {
				t.Fatalf("a second before it ends, the link's page: %v", err)
			}
			now = now.Add(2 * time.Second) // it ends while the form is being filled in
			sessions := models.NewSessions(d, make([]byte, 32), models.Lifetimes{Idle: time.Hour, Remember: time.Hour}, 0, clock)
			if _, err := sessions.TakeBack(ctx, tc.kind, token, "$argon2id$new", models.Actor{}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("a second after it ended, the take-back: %v, want ErrNotFound", err)
			}
			if u2, _ := models.NewUsers(d, h, clock).ByID(ctx, u.ID); u2.PasswordHash == "$argon2id$new" {
				t.Error("the expired link set the password")
			}
		})
	}
}
