package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/models/text"
)

// mailAttempts is how often a mail is tried before it is given up; the back-off between
// tries doubles from 30 s to at most an hour, so the last try is about ten hours in.
const mailAttempts = 15

// Outgoing is a mail in the outbox. Its bodies hold the link as a placeholder: the link's
// token is made when the mail is sent, so no usable token is ever at rest.
type Outgoing struct {
	ID        int64
	UserID    int64
	Kind      string // MailAlert or MailReset
	To        string
	Subject   string
	Text      string
	HTML      string
	Attempts  int
	CreatedAt time.Time
}

// Mail keeps the outbox and the links mails carry.
type Mail struct {
	db  *db.DB
	now Clock
}

// NewMail returns the outbox.
func NewMail(d *db.DB, now Clock) *Mail {
	return &Mail{db: d, now: now}
}

// Queue adds a mail to the outbox; the worker sends it.
func (m *Mail) Queue(ctx context.Context, o Outgoing) error {
	if err := queueTx(ctx, m.db.Write, o, m.now()); err != nil {
		return fmt.Errorf("queue mail: %w", err)
	}
	return nil
}

// queueTx adds o to the outbox, due at once, through exec (the writer, or a transaction).
func queueTx(ctx context.Context, exec interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, o Outgoing, now time.Time) error {
	_, err := exec.ExecContext(ctx, `INSERT INTO outbox
		(user_id, kind, recipient, subject, body_text, body_html, created_at, send_after)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		o.UserID, o.Kind, o.To, o.Subject, o.Text, o.HTML, unix(now), unix(now))
	return err
}

// Claim takes the next mail that is due for lease: no other app server sends it meanwhile,
// and if this one dies the mail is due again when the lease ends. ok is false when none is.
func (m *Mail) Claim(ctx context.Context, lease time.Duration) (o Outgoing, ok bool, err error) {
	now := m.now()
	var one int
	switch err := m.db.Read.QueryRowContext(ctx, `SELECT 1 FROM outbox WHERE sent_at = 0 AND send_after <= ? AND claimed_until <= ? LIMIT 1`,
		unix(now), unix(now)).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return Outgoing{}, false, nil
	case err != nil:
		return Outgoing{}, false, fmt.Errorf("claim mail: %w", err)
	}
	err = m.db.InTx(ctx, []db.Key{db.Named("mail", "outbox")}, func(tx *db.Tx) error {
		var created int64
		err := tx.QueryRowContext(ctx, `SELECT id, user_id, kind, recipient, subject, body_text, body_html, attempts, created_at
			FROM outbox WHERE sent_at = 0 AND send_after <= ? AND claimed_until <= ? ORDER BY send_after, id LIMIT 1`,
			unix(now), unix(now)).Scan(&o.ID, &o.UserID, &o.Kind, &o.To, &o.Subject, &o.Text, &o.HTML, &o.Attempts, &created)
		if err != nil {
			return err // sql.ErrNoRows too: another server took it meanwhile
		}
		o.CreatedAt = time.Unix(created, 0).UTC()
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET claimed_until = ? WHERE id = ?`, unix(now.Add(lease)), o.ID)
		return err
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Outgoing{}, false, nil
	case err != nil:
		return Outgoing{}, false, fmt.Errorf("claim mail: %w", err)
	}
	return o, true, nil
}

// Backlog says how many mails wait to be sent (due or backing off, not given up) and when
// the oldest of them was queued (zero when none waits), for an operator's metrics.
func (m *Mail) Backlog(ctx context.Context) (n int, oldest time.Time, err error) {
	var created int64
	if err := m.db.Read.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM outbox WHERE sent_at = 0`).
		Scan(&n, &created); err != nil {
		return 0, time.Time{}, fmt.Errorf("mail backlog: %w", err)
	}
	if n > 0 {
		oldest = time.Unix(created, 0).UTC()
	}
	return n, oldest, nil
}

// Sent records that the mail went out.
func (m *Mail) Sent(ctx context.Context, id int64) error {
	if _, err := m.db.Write.ExecContext(ctx, `UPDATE outbox SET sent_at = ?, claimed_until = 0, attempts = attempts + 1, last_error = '' WHERE id = ?`,
		unix(m.now()), id); err != nil {
		return fmt.Errorf("mail sent: %w", err)
	}
	return nil
}

// Failed records a failed try and when to try again; after mailAttempts tries the mail is
// given up (sent_at -1). gaveUp says so.
func (m *Mail) Failed(ctx context.Context, o Outgoing, cause error) (gaveUp bool, err error) {
	now := m.now()
	tries := o.Attempts + 1
	wait := min(30*time.Second<<min(tries-1, 7), time.Hour)
	sentAt := int64(0)
	if tries >= mailAttempts {
		sentAt, gaveUp = -1, true
	}
	if _, err := m.db.Write.ExecContext(ctx, `UPDATE outbox SET attempts = ?, send_after = ?, claimed_until = 0, last_error = ?, sent_at = ? WHERE id = ?`,
		tries, unix(now.Add(wait)), text.Clean(cause.Error(), 500), sentAt, o.ID); err != nil {
		return false, fmt.Errorf("mail failed: %w", err)
	}
	return gaveUp, nil
}

// SweepMail deletes expired links, alert items nobody will mail (older than a day: mail
// is off, or the account went), and sent or given-up mails older than retention.
func (m *Mail) SweepMail(ctx context.Context, retention time.Duration) error {
	now := m.now()
	for _, q := range []struct {
		sql string
		arg int64
	}{
		{`DELETE FROM mail_tokens WHERE expires_at <= ?`, unix(now)},
		{`DELETE FROM alert_items WHERE at < ?`, unix(now.Add(-24 * time.Hour))},
		{`DELETE FROM alert_kinds_mailed WHERE at < ?`, unix(now.Add(-time.Hour))},
		{`DELETE FROM outbox WHERE sent_at <> 0 AND created_at < ?`, unix(now.Add(-retention))},
	} {
		if _, err := m.db.Write.ExecContext(ctx, q.sql, q.arg); err != nil {
			return fmt.Errorf("sweep mail: %w", err)
		}
	}
	return nil
}
