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
	// forget takes the browser off the account's known devices: one signed out against
	// its holder's will that signs in again is new, and the owner hears of it.
	forget bool
}

var (
	// endedElsewhere: another device, a password change, a mailed link, an operator or
	// the cap signed it out.
	endedElsewhere = endReason{remember: true, forget: true}
	// endedGuessing: too many wrong confirmations typed on the device itself.
	endedGuessing = endReason{remember: true, told: "guessed-out", forget: true}
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
	if why.forget {
		if _, err := tx.ExecContext(ctx, `DELETE FROM known_devices WHERE id IN
			(SELECT s.device_id FROM sessions s WHERE s.device_id <> 0 AND `+where+`)`, args...); err != nil {
			return 0, fmt.Errorf("forget ended sessions' devices: %w", err)
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions AS s WHERE `+where, args...)
	if err != nil {
		return 0, fmt.Errorf("delete sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
