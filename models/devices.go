package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
)

// deviceKnown says what the account knew of a signing-in browser.
type deviceKnown int

const (
	deviceUnknown deviceKnown = iota // no device cookie: judge by the device label
	deviceNew                        // a device cookie the account has never seen
	deviceSeen                       // a browser that signed in to the account before
)

// deviceTx records that the browser with device hash signed in to the user's account and
// returns its known_devices id and whether the account knew it before. legacy is the hash
// an older version kept for the same browser (its unauthenticated cookie), or nil: a row
// under it is moved to hash, so an upgrade does not make every browser new again.
func deviceTx(ctx context.Context, tx *db.Tx, now time.Time, userID int64, hash, legacy []byte) (int64, deviceKnown, error) {
	if len(hash) == 0 {
		return 0, deviceUnknown, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `UPDATE known_devices SET last_seen_at = ? WHERE user_id = ? AND device_hash = ? RETURNING id`,
		unix(now), userID, hash).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) && len(legacy) > 0 {
		err = tx.QueryRowContext(ctx, `UPDATE known_devices SET last_seen_at = ?, device_hash = ? WHERE user_id = ? AND device_hash = ? RETURNING id`,
			unix(now), hash, userID, legacy).Scan(&id)
	}
	if err == nil {
		return id, deviceSeen, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, deviceUnknown, fmt.Errorf("known device: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO known_devices (user_id, device_hash, first_seen_at, last_seen_at)
		VALUES (?, ?, ?, ?) RETURNING id`, userID, hash, unix(now), unix(now)).Scan(&id); err != nil {
		return 0, deviceUnknown, fmt.Errorf("new device: %w", err)
	}
	return id, deviceNew, nil
}
