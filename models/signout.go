package models

import (
	"context"
	"fmt"

	"github.com/elsewhere-dev/elsewhere/db"
)

// What signs a device out: endSessions, in this file, and nothing else. Every way a
// session ends (its own sign-out, another device's, "Lost or stolen?", a password change,
// a mailed link, the cap, guessing, a stale stamp, its lifetime) calls it with its
// reason, inside the transaction that records why.

// endReason is why sessions end, which decides what their devices learn of it.
type endReason struct {
	// remember keeps each token's hash in ended_sessions until the session would have
	// expired, so the device is told at its next request that it was signed out, and
	// told is what it is told ("" signed out from elsewhere, "guessed-out").
	remember bool
	told     string
	// device is what becomes of the browser's place among the account's known devices.
	device deviceFate
}

// deviceFate is what becomes of an ended session's browser among the known devices.
type deviceFate int

const (
	// keepDevice: the browser stays known as it was.
	keepDevice deviceFate = iota
	// markDevice: a bystander signed out from elsewhere (log out the others, a password
	// change, a mailed link, the cap) stays known, so its sign-in budget is its own and
	// nobody who knows the email can lock it out, but its next sign-in is alerted as a
	// new device, for whoever holds it may not be the owner.
	markDevice
	// forgetDevice: the device itself was the one signed out (revoked, lost, guessing):
	// the account no longer knows it at all.
	forgetDevice
)

var (
	// endedElsewhere: a bystander that another device, a password change, a mailed link,
	// an operator or the cap signed out.
	endedElsewhere = endReason{remember: true, device: markDevice}
	// endedTarget: the device another one signed out by name ("Sign out", "Lost or
	// stolen?").
	endedTarget = endReason{remember: true, device: forgetDevice}
	// endedGuessing: too many wrong confirmations typed on the device itself.
	endedGuessing = endReason{remember: true, told: "guessed-out", device: forgetDevice}
	// endedByItself: the device signed out, or signed in again and replaced it; it knows,
	// and stays known.
	endedByItself = endReason{}
	// endedStale: its stamp no longer matches the password hash; the request that found
	// it out is the one told.
	endedStale = endReason{}
	// endedExpired: its lifetime ran out; the device finds no session, as with any
	// expired one.
	endedExpired = endReason{}
)

// endSessions ends the sessions matching where (over the sessions table, aliased s) for
// why, and returns how many rows went.
func endSessions(ctx context.Context, tx *db.Tx, why endReason, where string, args ...any) (int64, error) {
	if why.remember {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ended_sessions (token_hash, expires_at, reason)
			SELECT s.token_hash, s.expires_at, ? FROM sessions s WHERE `+where+` ON CONFLICT (token_hash) DO NOTHING`,
			append([]any{why.told}, args...)...); err != nil {
			return 0, fmt.Errorf("remember ended sessions: %w", err)
		}
	}
	// The browsers of the ended sessions, read before they go.
	var devices []int64
	if why.device != keepDevice {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT s.device_id FROM sessions s WHERE s.device_id <> 0 AND `+where, args...)
		if err != nil {
			return 0, fmt.Errorf("ended sessions' devices: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return 0, fmt.Errorf("ended sessions' devices: %w", err)
			}
			devices = append(devices, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("ended sessions' devices: %w", err)
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions AS s WHERE `+where, args...)
	if err != nil {
		return 0, fmt.Errorf("delete sessions: %w", err)
	}
	// A browser with a session still signed in (a leftover one of the same browser
	// signed out, say, from the browser itself) stays as it is: its holder is here.
	for _, id := range devices {
		q := `DELETE FROM known_devices WHERE id = ? AND NOT EXISTS (SELECT 1 FROM sessions WHERE device_id = ?)`
		if why.device == markDevice {
			q = `UPDATE known_devices SET signed_out = 1 WHERE id = ? AND NOT EXISTS (SELECT 1 FROM sessions WHERE device_id = ?)`
		}
		if _, err := tx.ExecContext(ctx, q, id, id); err != nil {
			return 0, fmt.Errorf("ended sessions' devices: %w", err)
		}
	}
	n, _ := res.RowsAffected()
	return n, nil
}
