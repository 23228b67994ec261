package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/models/device"
	"github.com/elsewhere-dev/elsewhere/models/text"
)

// EventKind names something that happened to an account, as shown in the security log.
type EventKind string

// The kinds of security event.
const (
	EventSignedIn        EventKind = "signed-in"
	EventSignedOut       EventKind = "signed-out"
	EventSessionRevoked  EventKind = "session-revoked"
	EventOthersRevoked   EventKind = "others-revoked"
	EventPasswordChanged EventKind = "password-changed"
	EventStampMismatch   EventKind = "stamp-mismatch"
	EventConfirmFailed   EventKind = "confirm-failed"
	EventLockedOut       EventKind = "locked-out"
	// EventConfirmRefused: a confirmation tried on a session whose confirmations are
	// locked; refused unchecked, and counted toward its sign-out all the same.
	EventConfirmRefused EventKind = "confirm-refused"
	// EventGuessedOut: a session was signed out after too many wrong confirmations.
	EventGuessedOut EventKind = "guessed-out"
	// EventSessionLimit: a sign-in beyond the cap signed the least recently active device out.
	EventSessionLimit EventKind = "session-limit"
	// EventDeviceLost: "Lost or stolen?" signed a device out, set a new password and
	// signed every other device out.
	EventDeviceLost EventKind = "device-lost"
	// EventOperatorRevoked: an operator signed every device of the account out.
	EventOperatorRevoked EventKind = "operator-revoked"
	// EventPasswordReset: the password was set from a reset link sent by mail, and every
	// device signed out.
	EventPasswordReset EventKind = "password-reset"
	// EventAccountRecovered: "This wasn't me" from an alert mail signed every device out
	// and set a new password.
	EventAccountRecovered EventKind = "account-recovered"
	// EventDeviceNamed: the owner named a device ("Anna's iPad"); the detail is the name,
	// "" when the name was taken away.
	EventDeviceNamed EventKind = "device-named"
	// EventDeviceBound: a browser bound its session to a key that never leaves the
	// device (DBSC); the detail is the device's label.
	EventDeviceBound EventKind = "device-bound"
	// EventKeyMissing: a bound session's cookie came without its bound cookie (a copy of
	// the cookie, without the device); the actor's IP is where it came from.
	EventKeyMissing EventKind = "key-missing"
	// EventPasskeyAdded: a passkey was added; the detail is what it is called.
	EventPasskeyAdded EventKind = "passkey-added"
	// EventPasskeyRemoved: the owner removed a passkey; the detail is what it was called.
	EventPasskeyRemoved EventKind = "passkey-removed"
	// EventPasskeyRenamed: a passkey was given a name (the detail; "" taken away).
	EventPasskeyRenamed EventKind = "passkey-renamed"
	// EventPasskeysRevoked: passkeys no thief may keep were removed, by "Lost or stolen?"
	// (those the lost browser added) or a mailed link taking the account back (all); the
	// detail names them.
	EventPasskeysRevoked EventKind = "passkeys-revoked"
	// EventNewDevice follows the sign-in of a browser the account does not know: it goes
	// to Config.OnEvent and, for a browser with a device cookie, is queued as an alert
	// item; the log itself keeps only the sign-in.
	EventNewDevice EventKind = "new-device"
)

// EventRetention is how long security events are kept.
const EventRetention = 90 * 24 * time.Hour

// Event is one entry of the security log.
type Event struct {
	ID     int64
	UserID int64
	Kind   EventKind
	At     time.Time
	IP     string
	Device string // label of the device that acted
	// Detail is the label of the device an event is about, or for others-revoked,
	// password-changed and operator-revoked how many devices were signed out, in digits
	// ("" for a password change that kept the other devices); views put it in words.
	Detail string
}

// Count is how many devices an others-revoked, password-changed or operator-revoked
// event signed out; ok is false for a password change that kept them, and for a row an
// older version wrote in words.
func (e Event) Count() (n int, ok bool) {
	n, err := strconv.Atoi(e.Detail)
	return n, err == nil
}

// Events is the security log.
type Events struct {
	db     *db.DB
	now    Clock
	latest remembered[[2]int64, []Event] // Latest, by user and count, while nothing was committed
}

// NewEvents returns the security log.
func NewEvents(d *db.DB, now Clock) *Events {
	return &Events{db: d, now: now}
}

// Record appends an event and returns it as stored.
func (e *Events) Record(ctx context.Context, userID int64, kind EventKind, a Actor, detail string) (Event, error) {
	var ev Event
	err := e.db.InTx(ctx, account(userID), func(tx *db.Tx) (err error) {
		ev, err = recordTx(ctx, tx, e.now(), userID, kind, a, detail)
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("record %s event: %w", kind, err)
	}
	return ev, nil
}

// recordTx appends an event inside tx and returns it as stored.
func recordTx(ctx context.Context, tx *db.Tx, now time.Time, userID int64, kind EventKind, a Actor, detail string) (Event, error) {
	ev := Event{UserID: userID, Kind: kind, At: now.Truncate(time.Second).UTC(), IP: text.Clean(a.IP, 64),
		Device: text.Clean(a.Device, 200), Detail: text.Clean(detail, 200)}
	if err := tx.QueryRowContext(ctx, `INSERT INTO events (user_id, kind, at, ip, device, detail) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		ev.UserID, string(ev.Kind), unix(ev.At), ev.IP, ev.Device, ev.Detail).Scan(&ev.ID); err != nil {
		return Event{}, fmt.Errorf("record %s event: %w", kind, err)
	}
	// Every change to a user's devices is logged, so the log is where open pages hear of it.
	tx.Changed(userID)
	if alerted[kind] && !(kind == EventOthersRevoked && detail == "0") { // nothing was signed out
		if err := queueAlertTx(ctx, tx, ev, kind); err != nil {
			return Event{}, err
		}
	}
	return ev, nil
}

// Latest returns the user's newest events, newest first.
func (e *Events) Latest(ctx context.Context, userID int64, n int) ([]Event, error) {
	changes, canRemember, err := accountStamp(ctx, e.db, userID)
	if err != nil {
		return nil, fmt.Errorf("latest events: %w", err)
	}
	if canRemember {
		if evs, ok := e.latest.get(changes, [2]int64{userID, int64(n)}); ok {
			return slices.Clone(evs), nil
		}
	}
	rows, err := e.db.Read.QueryContext(ctx, `SELECT id, user_id, kind, at, ip, device, detail FROM events
		WHERE user_id = ? ORDER BY at DESC, id DESC LIMIT ?`, userID, n)
	if err != nil {
		return nil, fmt.Errorf("latest events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("latest events: %w", err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("latest events: %w", err)
	}
	if canRemember {
		e.latest.put(changes, [2]int64{userID, int64(n)}, slices.Clone(out))
	}
	return out, nil
}

// ByID returns one of the user's events; another user's event is ErrNotFound.
func (e *Events) ByID(ctx context.Context, userID, id int64) (Event, error) {
	ev, err := scanEvent(e.db.Read.QueryRowContext(ctx, `SELECT id, user_id, kind, at, ip, device, detail
		FROM events WHERE id = ? AND user_id = ?`, id, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, ErrNotFound
	}
	if err != nil {
		return Event{}, fmt.Errorf("event %d: %w", id, err)
	}
	return ev, nil
}

func scanEvent(r rowScanner) (Event, error) {
	var (
		ev   Event
		kind string
		at   int64
	)
	if err := r.Scan(&ev.ID, &ev.UserID, &kind, &at, &ev.IP, &ev.Device, &ev.Detail); err != nil {
		return Event{}, err
	}
	ev.Kind, ev.At = EventKind(kind), fromUnix(at)
	ev.Device, ev.Detail = knownLabels(ev.Kind, ev.Device, ev.Detail)
	return ev, nil
}

// knownLabels checks again the device labels an entry was stored with (see
// device.KnownLabel): an older version copied words of a user agent into them. detail
// is a label only for the kinds that are about one device; for the others it is a count.
func knownLabels(kind EventKind, dev, detail string) (string, string) {
	switch kind {
	case EventSignedIn, EventSignedOut, EventSessionRevoked, EventStampMismatch, EventGuessedOut,
		EventSessionLimit, EventDeviceLost, EventNewDevice, EventDeviceBound, EventKeyMissing:
		detail = device.KnownLabel(detail)
	}
	return device.KnownLabel(dev), detail
}

// Sweep deletes events older than EventRetention. The accounts it shortened are marked
// stale (db.Tx.Stale), so no server goes on showing what it remembers of their logs.
func (e *Events) Sweep(ctx context.Context) (int64, error) {
	var n int64
	err := e.db.InTx(ctx, []db.Key{db.RowsOnly}, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM events WHERE at < ? RETURNING user_id`, unix(e.now().Add(-EventRetention)))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var uid int64
			if err := rows.Scan(&uid); err != nil {
				return err
			}
			tx.Stale(uid)
			n++
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("sweep events: %w", err)
	}
	return n, nil
}
