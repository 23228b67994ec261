package models

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/models/text"
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

// An alert mail tells of at most alertItems changes, the gravest first (the rest are
// counted: a thief repeating a change cannot grow the mail past what a mail server takes,
// and the password change is never the one left out); an account gets at most
// alertsPerHour alert mails an hour, later changes waiting for the next.
const (
	alertItems    = 12
	alertsPerHour = 6
)

// alertRank orders alert items for the cut: what takes the account from its owner first.
const alertRank = `CASE a.kind WHEN 'password-changed' THEN 0 WHEN 'device-lost' THEN 0 WHEN 'password-reset' THEN 0
	WHEN 'others-revoked' THEN 1 WHEN 'guessed-out' THEN 1 WHEN 'session-limit' THEN 1 WHEN 'key-missing' THEN 1
	WHEN 'session-revoked' THEN 2 WHEN 'locked-out' THEN 2 ELSE 3 END`

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

// AlertItem is one change an alert mail tells of.
type AlertItem struct {
	EventID int64     // its security-log entry; entries are numbered in the order they happened
	Kind    EventKind // EventNewDevice for a new device's sign-in
	At      time.Time
	IP      string
	Device  string // label of the device that acted
	Detail  string
}

// AlertBatch is one account's changes, gathered into one mail.
type AlertBatch struct {
	UserID int64
	Email  string
	// TimeZone is the zone the account's browsers last reported ("" for none): the mail
	// tells its times in it.
	TimeZone string
	Items    []AlertItem // in the order they happened; the gravest alertItems of them
	More     int         // changes left out of Items
	// SignIns counts the account's sign-ins in the last hour, from any device, known or
	// new: a burst of them (a thief signing in again and again to push the owner's
	// devices past the cap) is told as a number.
	SignIns int
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

// BatchAlerts turns each account's queued alert items into one outbox mail, made by
// compose, once the account has been quiet for quiet (a burst of sign-ins is one mail) or
// its oldest item waited maxWait. It says how many mails it queued.
func (m *Mail) BatchAlerts(ctx context.Context, quiet, maxWait time.Duration, compose func(AlertBatch) Outgoing) (int, error) {
	now := m.now()
	// The worker asks often; a read answers "nothing to do" without taking the writer.
	var one int
	switch err := m.db.Read.QueryRowContext(ctx, `SELECT 1 FROM alert_items LIMIT 1`).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("batch alerts: %w", err)
	}
	tx, err := m.db.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("batch alerts: %w", err)
	}
	defer tx.Rollback()
	// An account past its hourly cap still gets a mail for a grave change of a kind no
	// mail told of within the hour: a thief's flood of cheap changes must not hold back
	// the news that the password was changed.
	hourAgo := unix(now.Add(-time.Hour))
	rows, err := tx.QueryContext(ctx, `SELECT a.user_id FROM alert_items a
		WHERE a.user_id NOT IN (SELECT user_id FROM outbox WHERE kind = ? AND created_at > ? GROUP BY user_id HAVING COUNT(*) >= ?)
		   OR (a.kind IN (`+graveKinds()+`) AND NOT EXISTS (SELECT 1 FROM alert_kinds_mailed m
		       WHERE m.user_id = a.user_id AND m.kind = a.kind AND m.at > ?))
		GROUP BY a.user_id HAVING MAX(a.at) <= ? OR MIN(a.at) <= ? ORDER BY MIN(a.at) LIMIT 100`,
		MailAlert, hourAgo, alertsPerHour, hourAgo, unix(now.Add(-quiet)), unix(now.Add(-maxWait)))
	if err != nil {
		return 0, fmt.Errorf("batch alerts: %w", err)
	}
	var users []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("batch alerts: %w", err)
		}
		users = append(users, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("batch alerts: %w", err)
	}
	for _, uid := range users {
		b := AlertBatch{UserID: uid}
		if err := tx.QueryRowContext(ctx, `SELECT email, time_zone FROM users WHERE id = ?`, uid).Scan(&b.Email, &b.TimeZone); err != nil {
			return 0, fmt.Errorf("batch alerts: %w", err)
		}
		var total int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM alert_items WHERE user_id = ?`, uid).Scan(&total); err != nil {
			return 0, fmt.Errorf("batch alerts: %w", err)
		}
		items, err := tx.QueryContext(ctx, `SELECT e.id, a.kind, e.at, e.ip, e.device, e.detail
			FROM alert_items a JOIN events e ON e.id = a.event_id WHERE a.user_id = ?
			ORDER BY `+alertRank+`, a.at DESC, a.id DESC LIMIT ?`, uid, alertItems)
		if err != nil {
			return 0, fmt.Errorf("batch alerts: %w", err)
		}
		for items.Next() {
			var (
				it   AlertItem
				kind string
				at   int64
			)
			if err := items.Scan(&it.EventID, &kind, &at, &it.IP, &it.Device, &it.Detail); err != nil {
				items.Close()
				return 0, fmt.Errorf("batch alerts: %w", err)
			}
			it.Kind, it.At = EventKind(kind), time.Unix(at, 0).UTC()
			it.Device, it.Detail = knownLabels(it.Kind, it.Device, it.Detail)
			b.Items = append(b.Items, it)
		}
		items.Close()
		if err := items.Err(); err != nil {
			return 0, fmt.Errorf("batch alerts: %w", err)
		}
		// In the order they happened: the log's order, since times have one-second steps
		// (a new device's copy of a sign-in comes right after it).
		slices.SortStableFunc(b.Items, func(x, y AlertItem) int {
			return cmp.Or(x.At.Compare(y.At), cmp.Compare(x.EventID, y.EventID))
		})
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_kinds_mailed (user_id, kind, at)
			SELECT DISTINCT user_id, kind, CAST(? AS BIGINT) FROM alert_items WHERE user_id = ?
			ON CONFLICT (user_id, kind) DO UPDATE SET at = excluded.at`, unix(now), uid); err != nil {
			return 0, fmt.Errorf("batch alerts: %w", err)
		}
		b.More = total - len(b.Items)
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE user_id = ? AND kind = ? AND at > ?`,
			uid, string(EventSignedIn), hourAgo).Scan(&b.SignIns); err != nil {
			return 0, fmt.Errorf("batch alerts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM alert_items WHERE user_id = ?`, uid); err != nil {
			return 0, fmt.Errorf("batch alerts: %w", err)
		}
		if len(b.Items) == 0 { // their log entries aged out
			continue
		}
		o := compose(b)
		o.UserID, o.Kind, o.To = uid, MailAlert, b.Email
		if err := queueTx(ctx, tx, o, now); err != nil {
			return 0, fmt.Errorf("batch alerts: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("batch alerts: commit: %w", err)
	}
	return len(users), nil
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
	tx, err := m.db.Begin(ctx)
	if err != nil {
		return Outgoing{}, false, fmt.Errorf("claim mail: %w", err)
	}
	defer tx.Rollback()
	var created int64
	err = tx.QueryRowContext(ctx, `SELECT id, user_id, kind, recipient, subject, body_text, body_html, attempts, created_at
		FROM outbox WHERE sent_at = 0 AND send_after <= ? AND claimed_until <= ? ORDER BY send_after, id LIMIT 1`,
		unix(now), unix(now)).Scan(&o.ID, &o.UserID, &o.Kind, &o.To, &o.Subject, &o.Text, &o.HTML, &o.Attempts, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Outgoing{}, false, nil
	}
	if err != nil {
		return Outgoing{}, false, fmt.Errorf("claim mail: %w", err)
	}
	o.CreatedAt = time.Unix(created, 0).UTC()
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET claimed_until = ? WHERE id = ?`, unix(now.Add(lease)), o.ID); err != nil {
		return Outgoing{}, false, fmt.Errorf("claim mail: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Outgoing{}, false, fmt.Errorf("claim mail: commit: %w", err)
	}
	return o, true, nil
}

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
