package models

import (
	"context"
	"fmt"
	"slices"
	"strings"

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
