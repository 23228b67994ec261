package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
// returns its known_devices id, the name the owner gave it, and whether the account knew
// it before.
func deviceTx(ctx context.Context, tx *db.Tx, now time.Time, userID int64, hash []byte) (int64, string, deviceKnown, error) {
	if len(hash) == 0 {
		return 0, "", deviceUnknown, nil
	}
	var (
		id        int64
		name      string
		signedOut bool
	)
	err := tx.QueryRowContext(ctx, `SELECT id, name, signed_out <> 0 FROM known_devices WHERE user_id = ? AND device_hash = ?`,
		userID, hash).Scan(&id, &name, &signedOut)
	if err == nil {
		if _, err := tx.ExecContext(ctx, `UPDATE known_devices SET last_seen_at = ?, signed_out = 0 WHERE id = ?`, unix(now), id); err != nil {
			return 0, "", deviceUnknown, fmt.Errorf("known device: %w", err)
		}
		if signedOut {
			// Signed out from elsewhere since: whoever signs in on it now is told of as new.
			return id, name, deviceNew, nil
		}
		return id, name, deviceSeen, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, "", deviceUnknown, fmt.Errorf("known device: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO known_devices (user_id, device_hash, first_seen_at, last_seen_at)
		VALUES (?, ?, ?, ?) RETURNING id`, userID, hash, unix(now), unix(now)).Scan(&id); err != nil {
		return 0, "", deviceUnknown, fmt.Errorf("new device: %w", err)
	}
	return id, "", deviceNew, nil
}

// MaxDeviceName is the longest name, in characters, an owner may give a device.
const MaxDeviceName = 40

// What can be wrong with a device's name; views put each in words.
var (
	ErrDeviceNameTooLong = errors.New("device name too long")
	ErrDeviceNameInvalid = errors.New("device name is not plain text")
	// ErrDeviceUnnamed: the session signed in without a device cookie (before there
	// were any, or from a client that keeps no cookies), so there is no browser to name.
	ErrDeviceUnnamed = errors.New("this sign-in has no device to name")
)

// CheckDeviceName returns the form a device name the owner typed is kept in, "" to go
// back to the parsed label, or ErrDeviceNameTooLong, ErrDeviceNameInvalid. It is shown
// escaped, like everything else; controls and invisible characters (which could reorder
// or hide what is shown, or the label beside it) are refused.
func CheckDeviceName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", ErrDeviceNameInvalid
	}
	name = strings.Join(strings.Fields(name), " ")
	// Graphic characters only: no controls, and no format characters (U+202E and the
	// like, which could reorder or hide text), which are not graphic.
	if strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsGraphic(r) }) {
		return "", ErrDeviceNameInvalid
	}
	if utf8.RuneCountInString(name) > MaxDeviceName {
		return "", ErrDeviceNameTooLong
	}
	return name, nil
}

// NameDevice names the browser behind the user's live session with that handle: the name
// belongs to the browser (its device cookie's known_devices row), so the browser's later
// sign-ins carry it too. It is logged, and the user's open pages hear of it. ErrNotFound
// for an unknown, ended or another user's handle alike; ErrDeviceUnnamed for a session
// without a device cookie. name must have passed CheckDeviceName.
func (s *Sessions) NameDevice(ctx context.Context, userID int64, handle, name string, actor Actor) (Event, error) {
	now := s.now()
	var ev Event
	err := s.db.InTx(ctx, account(userID), func(tx *db.Tx) error {
		var deviceID int64
		_, err := scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionColumns+`, s.device_id FROM sessions s
			WHERE s.handle = ? AND s.user_id = ? AND `+liveCond, append([]any{handle, userID}, s.liveArgs(now)...)...), &deviceID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return err
		case deviceID == 0:
			return ErrDeviceUnnamed
		}
		if _, err := tx.ExecContext(ctx, `UPDATE known_devices SET name = ? WHERE id = ? AND user_id = ?`, name, deviceID, userID); err != nil {
			return err
		}
		ev, err = recordTx(ctx, tx, now, userID, EventDeviceNamed, actor, name)
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("name device: %w", err)
	}
	return ev, nil
}
