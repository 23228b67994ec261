package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
)

// Change describes who is signing devices out and what happens to the password hash.
type Change struct {
	UserID  int64
	Current string // handle of the acting session; it always stays signed in
	// NewHash replaces the user's password hash (the same password under a fresh salt,
	// or a new password); every session that stays is re-stamped with it. "" keeps the hash.
	NewHash string
	// CheckedVersion is the password version the confirming password was checked
	// against; when set, the action is refused with ErrPasswordChanged if the password
	// changed since (a re-salt by another device's action does not count).
	CheckedVersion int64
	// PasswordChange marks NewHash as a new password rather than the same one re-salted.
	PasswordChange bool
	// ConfirmUntil, when set, opens the acting session's confirmation window until then.
	ConfirmUntil time.Time
	// ViaWindow marks an action that no password confirmed: the acting session's
	// confirmation window lets it through, and must still be open when it commits (a
	// password change on another device closes it).
	ViaWindow bool
	Actor     Actor
}

// Revoke signs out the user's session with that handle. It returns the revoked session;
// ErrNotFound for an unknown, expired or another user's handle, ErrCurrentSession for
// the acting one, and ErrSessionEnded when the acting session itself was signed out
// (as every action does).
func (s *Sessions) Revoke(ctx context.Context, ch Change, handle string) (Session, Event, error) {
	if handle == ch.Current {
		return Session{}, Event{}, ErrCurrentSession
	}
	var revoked Session
	ev, err := s.change(ctx, ch, func(tx *db.Tx, now time.Time) (EventKind, string, error) {
		var err error
		if revoked, err = s.targetTx(ctx, tx, now, ch.UserID, handle); err != nil {
			return "", "", err
		}
		if _, err := endSessions(ctx, tx, endedTarget, `handle = ?`, handle); err != nil {
			return "", "", err
		}
		return EventSessionRevoked, revoked.Device.Label(), nil
	})
	if err != nil {
		return Session{}, Event{}, fmt.Errorf("revoke session: %w", err)
	}
	return revoked, ev, nil
}

// ReportLost is "Lost or stolen?": it signs out the user's session with that handle,
// removes the passkeys its browser added, stores ch.NewHash as the new password and signs
// out every other session too, all in one transaction. It returns the lost session and how many sessions went in all; the same
// errors as Revoke.
func (s *Sessions) ReportLost(ctx context.Context, ch Change, handle string) (Session, int, Event, error) {
	if handle == ch.Current {
		return Session{}, 0, Event{}, ErrCurrentSession
	}
	if ch.NewHash == "" {
		return Session{}, 0, Event{}, errors.New("report lost device: no new hash")
	}
	ch.PasswordChange = true
	var (
		lost Session
		n    int64
	)
	ev, err := s.change(ctx, ch, func(tx *db.Tx, now time.Time) (EventKind, string, error) {
		var err error
		if lost, err = s.targetTx(ctx, tx, now, ch.UserID, handle); err != nil {
			return "", "", err
		}
		// No thief keeps a passkey: those the lost browser added (from any of its
		// sessions) go with it, before its sign-out forgets the browser.
		if err := removeDevicePasskeysTx(ctx, tx, now, ch.UserID, handle, ch.Actor); err != nil {
			return "", "", err
		}
		// The lost device is forgotten; every other session ends as a bystander, so no
		// other confirmation window is left to close.
		if _, err := endSessions(ctx, tx, endedTarget, `handle = ?`, handle); err != nil {
			return "", "", err
		}
		if n, err = s.endOthers(ctx, tx, now, ch); err != nil {
			return "", "", err
		}
		n++ // the lost one
		return EventDeviceLost, lost.Device.Label(), nil
	})
	if err != nil {
		return Session{}, 0, Event{}, fmt.Errorf("report lost device: %w", err)
	}
	return lost, int(n), ev, nil
}

// targetTx finds the user's live session with that handle inside tx; ErrNotFound for an
// unknown, ended or another user's handle alike.
func (s *Sessions) targetTx(ctx context.Context, tx *db.Tx, now time.Time, userID int64, handle string) (Session, error) {
	args := s.liveArgs(now)
	ss, err := scanSession(tx.QueryRowContext(ctx, forUserSQL, append([]any{handle, userID}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("find session: %w", err)
	}
	return ss, nil
}

// RevokeAll signs out every session of the user, for an operator acting on the owner's
// behalf ("my phone was stolen" on the phone); it records who did it and returns how many
// of them were signed in.
func (s *Sessions) RevokeAll(ctx context.Context, userID int64, actor Actor) (int, Event, error) {
	now := s.now()
	var (
		n  int64
		ev Event
	)
	err := s.db.InTx(ctx, account(userID), func(tx *db.Tx) (err error) {
		if n, err = s.endOthers(ctx, tx, now, Change{UserID: userID}); err != nil {
			return err
		}
		ev, err = recordTx(ctx, tx, now, userID, EventOperatorRevoked, actor, strconv.FormatInt(n, 10))
		return err
	})
	if err != nil {
		return 0, Event{}, fmt.Errorf("revoke all sessions: %w", err)
	}
	return int(n), ev, nil
}

// RevokeOthers signs out every session of the user but the acting one, and returns how many went.
func (s *Sessions) RevokeOthers(ctx context.Context, ch Change) (int, Event, error) {
	var n int64
	ev, err := s.change(ctx, ch, func(tx *db.Tx, now time.Time) (EventKind, string, error) {
		var err error
		if n, err = s.endOthers(ctx, tx, now, ch); err != nil {
			return "", "", err
		}
		return EventOthersRevoked, strconv.FormatInt(n, 10), nil
	})
	if err != nil {
		return 0, Event{}, fmt.Errorf("revoke other sessions: %w", err)
	}
	return int(n), ev, nil
}

// ChangePassword stores ch.NewHash as the user's password and, when logoutOthers is
// set, signs out every other session; it returns how many went.
func (s *Sessions) ChangePassword(ctx context.Context, ch Change, logoutOthers bool) (int, Event, error) {
	if ch.NewHash == "" {
		return 0, Event{}, errors.New("change password: no new hash")
	}
	ch.PasswordChange = true
	var n int64
	ev, err := s.change(ctx, ch, func(tx *db.Tx, now time.Time) (EventKind, string, error) {
		// A window opened with the old password must not outlive it on other devices.
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET confirmed_until = 0 WHERE user_id = ? AND handle <> ?`,
			ch.UserID, ch.Current); err != nil {
			return "", "", fmt.Errorf("close confirmation windows: %w", err)
		}
		if !logoutOthers {
			return EventPasswordChanged, "", nil
		}
		var err error
		if n, err = s.endOthers(ctx, tx, now, ch); err != nil {
			return "", "", err
		}
		return EventPasswordChanged, strconv.FormatInt(n, 10), nil
	})
	if err != nil {
		return 0, Event{}, fmt.Errorf("change password: %w", err)
	}
	return int(n), ev, nil
}

// change runs one sign-out action in a write transaction: the action itself, then the
// rotation of the password hash and the re-stamping of the sessions that stay, the
// confirmation window, and the security-log entry. All of it happens or none of it.
func (s *Sessions) change(ctx context.Context, ch Change, act func(*db.Tx, time.Time) (EventKind, string, error)) (Event, error) {
	now := s.now()
	var ev Event
	err := s.db.InTx(ctx, account(ch.UserID), func(tx *db.Tx) error {
		var (
			curHash    string
			curVersion int64
		)
		if err := tx.QueryRowContext(ctx, `SELECT password_hash, password_version FROM users WHERE id = ?`,
			ch.UserID).Scan(&curHash, &curVersion); err != nil {
			return fmt.Errorf("read password hash: %w", err)
		}
		if ch.CheckedVersion != 0 && ch.CheckedVersion != curVersion {
			return ErrPasswordChanged
		}
		oldStamp := s.stamp(curHash)
		// The acting session must still exist, and still carry the current stamp: a device
		// signed out (or made stale by a password change) a moment ago cannot act. An action
		// the confirmation window let through needs that window still open, checked here in
		// the writer's transaction, so a password change that closed it cannot be overtaken.
		args := s.liveArgs(now)
		var confirmedUntil int64
		err := tx.QueryRowContext(ctx, `SELECT s.confirmed_until FROM sessions s WHERE s.handle = ? AND s.user_id = ? AND s.stamp = ? AND `+liveCond,
			append([]any{ch.Current, ch.UserID, oldStamp}, args...)...).Scan(&confirmedUntil)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrSessionEnded
		}
		if err != nil {
			return fmt.Errorf("check acting session: %w", err)
		}
		if ch.ViaWindow && confirmedUntil <= unix(now) {
			return ErrConfirmationNeeded
		}
		kind, detail, err := act(tx, now)
		if err != nil {
			return err
		}
		if ch.NewHash != "" {
			// Sessions whose stamp is already stale (the hash changed behind their backs, or
			// the stamp secret did) end here; re-stamping them would bring them back.
			if _, err := endSessions(ctx, tx, endedElsewhere, `user_id = ? AND stamp <> ?`, ch.UserID, oldStamp); err != nil {
				return err
			}
			if err := setPasswordTx(ctx, tx, ch.UserID, ch.NewHash, ch.PasswordChange); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE sessions SET stamp = ? WHERE user_id = ?`, s.stamp(ch.NewHash), ch.UserID); err != nil {
				return fmt.Errorf("re-stamp sessions: %w", err)
			}
		}
		if !ch.ConfirmUntil.IsZero() {
			if _, err := tx.ExecContext(ctx, `UPDATE sessions SET confirmed_until = ? WHERE handle = ?`,
				unix(ch.ConfirmUntil), ch.Current); err != nil {
				return fmt.Errorf("open confirmation window: %w", err)
			}
		}
		ev, err = recordTx(ctx, tx, now, ch.UserID, kind, ch.Actor, detail)
		return err
	})
	if err != nil {
		return Event{}, err
	}
	return ev, nil
}

// endOthers ends every session of the user but the acting one and says how many of them
// were still signed in at now (rows that ended by their lifetimes go too, uncounted).
func (s *Sessions) endOthers(ctx context.Context, tx *db.Tx, now time.Time, ch Change) (int64, error) {
	var n int64
	args := s.liveArgs(now)
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions s WHERE s.user_id = ? AND s.handle <> ? AND `+liveCond,
		append([]any{ch.UserID, ch.Current}, args...)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	_, err := endSessions(ctx, tx, endedElsewhere, `user_id = ? AND handle <> ?`, ch.UserID, ch.Current)
	return n, err
}

// setPasswordTx stores hash as the user's password hash: the one statement that sets one.
// A new password (not the same one re-salted) bumps the password version, so a sign-in
// checked against the old one is refused.
func setPasswordTx(ctx context.Context, tx *db.Tx, userID int64, hash string, newPassword bool) error {
	bump := 0
	if newPassword {
		bump = 1
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_version = password_version + ? WHERE id = ?`,
		hash, bump, userID); err != nil {
		return fmt.Errorf("set password hash: %w", err)
	}
	return nil
}

// TakeBack follows a mailed link (LinkNotMe or LinkReset) in one transaction: it spends
// the link (and every other of the account), removes every passkey, signs every device
// of the account out, and sets newHash as the password. A "This wasn't me" link works whatever the password is
// now: it is how the owner takes the account back from someone who changed it.
// ErrNotFound when the link does not work.
func (s *Sessions) TakeBack(ctx context.Context, kind, token, newHash string, actor Actor) (Event, error) {
	now := s.now()
	var ev Event
	keys := []db.Key{db.Named("mail link", token)} // not a link: nothing to lock for
	if hash, ok := linkSecretHash(token); ok {
		var err error
		if keys, err = ownerBy(ctx, s.db, `SELECT user_id FROM mail_tokens WHERE token_hash = ?`, hash); err != nil {
			return Event{}, fmt.Errorf("take back: %w", err)
		}
	}
	err := s.db.InTx(ctx, keys, func(tx *db.Tx) error {
		uid, err := consumeLinkTx(ctx, tx, kind, token, now)
		if err != nil {
			return err
		}
		// Whoever took the account may have added passkeys, and a link cannot tell which
		// passkeys are the owner's: every one goes, and the log names them.
		if err := removeAllPasskeysTx(ctx, tx, now, uid, actor); err != nil {
			return err
		}
		// The log counts devices that were signed in, not rows whose lifetime had run out.
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions s WHERE s.user_id = ? AND `+liveCond,
			append([]any{uid}, s.liveArgs(now)...)...).Scan(&n); err != nil {
			return err
		}
		if _, err := endSessions(ctx, tx, endedElsewhere, `user_id = ?`, uid); err != nil {
			return err
		}
		if err := setPasswordTx(ctx, tx, uid, newHash, true); err != nil {
			return err
		}
		evKind := EventAccountRecovered
		if kind == LinkReset {
			evKind = EventPasswordReset
		}
		ev, err = recordTx(ctx, tx, now, uid, evKind, actor, strconv.FormatInt(n, 10))
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("follow link: %w", err)
	}
	return ev, nil
}
