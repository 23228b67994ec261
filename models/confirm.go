package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
)

// GuessedOutAfter is how many wrong confirmations, since its last right one, sign a
// session out. Limits.Confirm locks its confirmations for a while after fewer.
const GuessedOutAfter = 10

// LockedError says that confirmations are locked on this session, and for how long.
type LockedError struct{ Wait time.Duration }

func (e *LockedError) Error() string {
	return fmt.Sprintf("confirmation locked for %s after too many wrong passwords", e.Wait.Round(time.Second))
}

// Confirmations checks the passwords that confirm sign-out actions. Wrong ones are counted
// per session: a stolen device that guesses locks and finally signs out only itself, and a
// right password from any other device always works.
type Confirmations struct {
	db     *db.DB
	users  *Users
	limits *Limiter
	limit  Limit // wrong answers per session before a lock
	now    Clock
}

// NewConfirmations returns the confirmation checker; limit counts wrong answers per
// session (Limits.Confirm), and its scope must be the default's, which the device list
// reads.
func NewConfirmations(d *db.DB, users *Users, limits *Limiter, limit Limit, now Clock) *Confirmations {
	limit.Scope = scopeConfirm
	return &Confirmations{db: d, users: users, limits: limits, limit: limit, now: now}
}

// Check verifies password as the confirmation of an action by the session cur, and
// returns the password version it was checked against (for Change.CheckedVersion) and the
// security events it recorded. Errors: ErrWrongPassword; *LockedError when cur's
// confirmations are locked (already, or by this attempt); ErrGuessedOut when this was
// cur's tenth wrong password and cur is signed out; ErrSessionEnded when cur is gone.
// An attempt while cur is locked is refused unchecked but counted all the same: the tenth
// attempt since the last right one signs cur out, however the guesses were spaced.
//
// The attempt is reserved before the password is checked, so parallel guesses cannot all
// pass the lock, and is settled under a context the client cannot cancel: a request
// abandoned before its answer was decided (it could never learn the answer) costs nothing
// and leaves no lock, and every attempt that is counted is also logged.
func (cf *Confirmations) Check(ctx context.Context, cur Session, password string, actor Actor) (int64, []Event, error) {
	return cf.check(ctx, cur, actor, func() (int64, error) {
		if PasswordTooLong(password) {
			return 0, ErrWrongPassword
		}
		return cf.users.CheckPassword(ctx, cur.UserID, password)
	})
}

// CheckPasskey is Check with a passkey's assertion (response, over a challenge
// Passkeys.BeginConfirm gave cur) in place of the password: a refused one counts toward
// cur's lock exactly as a wrong password does. It returns no password version: nothing
// about the password was checked.
func (cf *Confirmations) CheckPasskey(ctx context.Context, cur Session, passkeys *Passkeys, response []byte, actor Actor) ([]Event, error) {
	_, events, err := cf.check(ctx, cur, actor, func() (int64, error) {
		err := passkeys.Confirm(ctx, cur.UserID, cur.Handle, response)
		if errors.Is(err, ErrPasskeyRefused) {
			return 0, ErrWrongPassword
		}
		return 0, err
	})
	return events, err
}

// check runs verify as a confirmation by cur, counted and locked as Check says.
func (cf *Confirmations) check(ctx context.Context, cur Session, actor Actor, verify func() (int64, error)) (int64, []Event, error) {
	att, wait, err := cf.limits.Try(ctx, LimitKey{Limit: cf.limit, Key: cur.Handle})
	if err != nil {
		return 0, nil, fmt.Errorf("confirm password: %w", err)
	}
	if wait > 0 {
		return cf.whileLocked(ctx, cur, actor, wait)
	}
	settle := context.WithoutCancel(ctx)
	version, err := verify()
	if ctx.Err() != nil {
		// Abandoned before the answer could be sent: the client learns nothing, so the
		// attempt costs nothing, right or wrong.
		err = ctx.Err()
	} else if errors.Is(err, ErrWrongPassword) {
		return cf.failed(settle, att, cur, actor)
	}
	if rerr := cf.limits.Succeeded(settle, att); rerr != nil {
		return 0, nil, errors.Join(err, fmt.Errorf("confirm password: %w", rerr))
	}
	if err != nil {
		return 0, nil, fmt.Errorf("confirm password: %w", err)
	}
	if cur.WrongPasswords > 0 {
		err := cf.db.InTx(settle, []db.Key{db.RowsOnly}, func(tx *db.Tx) error {
			tx.Stale(cur.UserID) // remembered lookups carry the count
			_, err := tx.ExecContext(settle, `UPDATE sessions SET wrong_passwords = 0 WHERE handle = ?`, cur.Handle)
			return err
		})
		if err != nil {
			return 0, nil, fmt.Errorf("confirm password: reset wrong passwords: %w", err)
		}
	}
	return version, nil, nil
}

// failed counts a wrong confirmation for cur, locks its confirmations or signs it out when
// it has had too many, and records what happened, all in one transaction.
func (cf *Confirmations) failed(ctx context.Context, att Attempt, cur Session, actor Actor) (int64, []Event, error) {
	var (
		ev     Event
		result error // the answer for the device, once what happened is committed
	)
	err := cf.db.InTx(ctx, append(account(cur.UserID), limitKeys(att.keys)...), func(tx *db.Tx) error {
		lock, err := cf.limits.failedTx(ctx, tx, att)
		if err != nil {
			return err
		}
		var wrong int
		// A wrong password also closes the session's confirmation window: a device that
		// guesses must not go on acting on an earlier right answer.
		err = tx.QueryRowContext(ctx, `UPDATE sessions SET wrong_passwords = wrong_passwords + 1, confirmed_until = 0
			WHERE handle = ? RETURNING wrong_passwords`, cur.Handle).Scan(&wrong)
		kind, detail := EventConfirmFailed, ""
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// Signed out from another device while it guessed: keep the count and log it,
			// as every counted attempt is, nothing more.
			result = ErrSessionEnded
			if lock > 0 {
				kind = EventLockedOut
			}
		case err != nil:
			return err
		case wrong >= GuessedOutAfter:
			if _, err := endSessions(ctx, tx, endedGuessing, `handle = ?`, cur.Handle); err != nil {
				return err
			}
			kind, detail, result = EventGuessedOut, cur.Device.Label(), ErrGuessedOut
		case lock > 0:
			kind, result = EventLockedOut, &LockedError{Wait: lock}
		default:
			result = ErrWrongPassword
		}
		ev, err = recordTx(ctx, tx, cf.now(), cur.UserID, kind, actor, detail)
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("count wrong password: %w", err)
	}
	return 0, []Event{ev}, result
}

// whileLocked counts an attempt made while cur's confirmations are locked: refused without
// looking at the password, but one more toward GuessedOutAfter, or a thief could wait out
// each lock and guess five at a time for ever. The tenth signs cur out.
func (cf *Confirmations) whileLocked(ctx context.Context, cur Session, actor Actor, wait time.Duration) (int64, []Event, error) {
	var (
		ev     Event
		result error = &LockedError{Wait: wait}
	)
	err := cf.db.InTx(ctx, account(cur.UserID), func(tx *db.Tx) error {
		var wrong int
		err := tx.QueryRowContext(ctx, `UPDATE sessions SET wrong_passwords = wrong_passwords + 1, confirmed_until = 0
			WHERE handle = ? RETURNING wrong_passwords`, cur.Handle).Scan(&wrong)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrSessionEnded
		}
		if err != nil {
			return err
		}
		kind, detail := EventConfirmRefused, ""
		if wrong >= GuessedOutAfter {
			if _, err := endSessions(ctx, tx, endedGuessing, `handle = ?`, cur.Handle); err != nil {
				return err
			}
			kind, detail, result = EventGuessedOut, cur.Device.Label(), ErrGuessedOut
		}
		ev, err = recordTx(ctx, tx, cf.now(), cur.UserID, kind, actor, detail)
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("count attempt while locked: %w", err)
	}
	return 0, []Event{ev}, result
}
