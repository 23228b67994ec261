package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
)

// The kinds of mail, and of the single-use link each carries.
const (
	MailAlert = "alert" // a change to the account, with a "This wasn't me" link
	MailReset = "reset" // a password-reset link

	LinkNotMe = "not-me"
	LinkReset = "reset"
)

// How long a mailed link works.
const (
	NotMeFor = 7 * 24 * time.Hour
	ResetFor = time.Hour
)

// NewLink makes the single-use secrets a claimed mail carries, the link's token and the
// short code typed in without JavaScript, and keeps their hashes: either one follows the
// link, and following it ends both.
func (m *Mail) NewLink(ctx context.Context, o Outgoing) (token, code string, err error) {
	kind, life := LinkNotMe, NotMeFor
	if o.Kind == MailReset {
		kind, life = LinkReset, ResetFor
	}
	token, hash := NewToken()
	code, codeHash := NewCode()
	now := m.now()
	if _, err := m.db.Write.ExecContext(ctx, `INSERT INTO mail_tokens (token_hash, user_id, kind, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)`, hash, o.UserID, kind, unix(now), unix(now.Add(life)),
		codeHash, o.UserID, kind, unix(now), unix(now.Add(life))); err != nil {
		return "", "", fmt.Errorf("make link: %w", err)
	}
	return token, code, nil
}

// DropLink forgets the secrets of a mail that could not be sent.
func (m *Mail) DropLink(ctx context.Context, token, code string) error {
	for _, s := range []string{token, code} {
		h, ok := linkSecretHash(s)
		if !ok {
			continue
		}
		if _, err := m.db.Write.ExecContext(ctx, `DELETE FROM mail_tokens WHERE token_hash = ?`, h); err != nil {
			return fmt.Errorf("drop link: %w", err)
		}
	}
	return nil
}

// Link is what a mailed link stands for.
type Link struct {
	UserID    int64
	Kind      string // LinkNotMe or LinkReset
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// LinkFor returns the unexpired, unused link of that kind whose token or code is secret;
// ErrNotFound otherwise (unknown, of the other kind, used, or expired: the page says the same).
func (m *Mail) LinkFor(ctx context.Context, kind, secret string) (Link, error) {
	hash, ok := linkSecretHash(secret)
	if !ok {
		return Link{}, ErrNotFound
	}
	l := Link{Kind: kind}
	var created, expires int64
	err := m.db.Read.QueryRowContext(ctx, `SELECT t.user_id, u.email, t.created_at, t.expires_at FROM mail_tokens t
		JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND t.kind = ? AND t.expires_at > ?`,
		hash, kind, unix(m.now())).Scan(&l.UserID, &l.Email, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Link{}, ErrNotFound
	}
	if err != nil {
		return Link{}, fmt.Errorf("look up link: %w", err)
	}
	l.CreatedAt, l.ExpiresAt = time.Unix(created, 0).UTC(), time.Unix(expires, 0).UTC()
	return l, nil
}

// consumeLinkTx spends a mailed link inside the caller's transaction: it returns the
// account the link (of that kind, not expired) is for, and ends every mailed link of the
// account, this one included, so none works twice and none other afterwards. secret is
// the link's token or its code. ErrNotFound when the link does not work.
func consumeLinkTx(ctx context.Context, tx *db.Tx, kind, secret string, now time.Time) (int64, error) {
	hash, ok := linkSecretHash(secret)
	if !ok {
		return 0, ErrNotFound
	}
	var uid int64
	err := tx.QueryRowContext(ctx, `SELECT user_id FROM mail_tokens WHERE token_hash = ? AND kind = ? AND expires_at > ?`,
		hash, kind, unix(now)).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("follow link: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM mail_tokens WHERE user_id = ?`, uid); err != nil {
		return 0, fmt.Errorf("follow link: %w", err)
	}
	return uid, nil
}
