package models

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
)

// alerted are the changes a thief holding a device (and the password saved in it) could
// make against the owner; each is told to the owner by mail, with a "This wasn't me" link.
// A new device's sign-in is alerted by the sign-in itself.
//
// Every way a device is signed out against the owner's will is among them (the cap too:
// a thief signing in again and again evicts the owner's devices), and so is someone
// guessing the password on a signed-in device: its lock and its sign-out.
var alerted = map[EventKind]bool{
	EventPasswordChanged: true,
	EventOthersRevoked:   true,
	EventSessionRevoked:  true,
	EventDeviceLost:      true,
	EventPasswordReset:   true,
	EventSessionLimit:    true,
	EventLockedOut:       true,
	EventGuessedOut:      true,
	EventKeyMissing:      true,
	EventPasskeyAdded:    true,
	EventPasskeyRemoved:  true,
}

// queueAlertTx queues ev for the owner's next alert mail, in ev's transaction, so an
// alert is never lost nor sent for a change that rolled back. The mail worker gathers an
// account's queued items into one mail; without mail they are swept after a day.
func queueAlertTx(ctx context.Context, tx *db.Tx, ev Event, kind EventKind) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO alert_items (user_id, event_id, kind, at) VALUES (?, ?, ?, ?)`,
		ev.UserID, ev.ID, string(kind), unix(ev.At)); err != nil {
		return fmt.Errorf("queue alert: %w", err)
	}
	return nil
}

// graveKinds is the SQL list of the alerted kinds, every one grave enough to be mailed past
// the hourly cap the first time within the hour ('password-changed', ...), in a fixed order
// so the statement is always the same.
func graveKinds() string {
	kinds := make([]string, 0, len(alerted))
	for k := range alerted {
		kinds = append(kinds, "'"+string(k)+"'")
	}
	slices.Sort(kinds)
	return strings.Join(kinds, ", ")
}

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
	WHEN 'passkey-added' THEN 1
	WHEN 'session-revoked' THEN 2 WHEN 'locked-out' THEN 2 WHEN 'passkey-removed' THEN 2 ELSE 3 END`

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
	var n int
	err := m.db.InTx(ctx, []db.Key{db.Named("mail", "alerts")}, func(tx *db.Tx) (err error) {
		n, err = m.batchTx(ctx, tx, now, quiet, maxWait, compose)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("batch alerts: %w", err)
	}
	return n, nil
}

// batchTx is BatchAlerts inside its transaction.
func (m *Mail) batchTx(ctx context.Context, tx *db.Tx, now time.Time, quiet, maxWait time.Duration, compose func(AlertBatch) Outgoing) (int, error) {
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
		return 0, err
	}
	var users []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		users = append(users, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, uid := range users {
		b := AlertBatch{UserID: uid}
		if err := tx.QueryRowContext(ctx, `SELECT email, time_zone FROM users WHERE id = ?`, uid).Scan(&b.Email, &b.TimeZone); err != nil {
			return 0, err
		}
		var total int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM alert_items WHERE user_id = ?`, uid).Scan(&total); err != nil {
			return 0, err
		}
		items, err := tx.QueryContext(ctx, `SELECT e.id, a.kind, e.at, e.ip, e.device, e.detail
			FROM alert_items a JOIN events e ON e.id = a.event_id WHERE a.user_id = ?
			ORDER BY `+alertRank+`, a.at DESC, a.id DESC LIMIT ?`, uid, alertItems)
		if err != nil {
			return 0, err
		}
		for items.Next() {
			var (
				it   AlertItem
				kind string
				at   int64
			)
			if err := items.Scan(&it.EventID, &kind, &at, &it.IP, &it.Device, &it.Detail); err != nil {
				items.Close()
				return 0, err
			}
			it.Kind, it.At = EventKind(kind), time.Unix(at, 0).UTC()
			it.Device, it.Detail = knownLabels(it.Kind, it.Device, it.Detail)
			b.Items = append(b.Items, it)
		}
		items.Close()
		if err := items.Err(); err != nil {
			return 0, err
		}
		// In the order they happened: the log's order, since times have one-second steps
		// (a new device's copy of a sign-in comes right after it).
		slices.SortStableFunc(b.Items, func(x, y AlertItem) int {
			return cmp.Or(x.At.Compare(y.At), cmp.Compare(x.EventID, y.EventID))
		})
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_kinds_mailed (user_id, kind, at)
			SELECT DISTINCT user_id, kind, CAST(? AS BIGINT) FROM alert_items WHERE user_id = ?
			ON CONFLICT (user_id, kind) DO UPDATE SET at = excluded.at`, unix(now), uid); err != nil {
			return 0, err
		}
		b.More = total - len(b.Items)
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE user_id = ? AND kind = ? AND at > ?`,
			uid, string(EventSignedIn), hourAgo).Scan(&b.SignIns); err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM alert_items WHERE user_id = ?`, uid); err != nil {
			return 0, err
		}
		if len(b.Items) == 0 { // their log entries aged out
			continue
		}
		o := compose(b)
		o.UserID, o.Kind, o.To = uid, MailAlert, b.Email
		if err := queueTx(ctx, tx, o, now); err != nil {
			return 0, err
		}
	}
	return len(users), nil
}
