package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
)

// ChallengeLife is how long a registration or refresh challenge may be answered: the
// browser answers within milliseconds, so a minute leaves room for a slow network only.
const ChallengeLife = time.Minute

// What a challenge is for: registering a key, or proving it at refresh.
const (
	ChallengeRegister = "register"
	ChallengeRefresh  = "refresh"
)

// keyMisuseEvery is how often one session's use without its key is logged and alerted:
// a thief replaying a copied cookie in a loop makes one entry (and one alert item) per
// period, not one per request.
const keyMisuseEvery = 10 * time.Minute

// Sentinel errors of the key binding.
var (
	// ErrChallenge: the challenge is unknown, used, expired, for another purpose or
	// another session.
	ErrChallenge = errors.New("no such challenge for this session")
	// ErrAlreadyBound: the session has a key already; a key is never replaced.
	ErrAlreadyBound = errors.New("the session is bound to a key already")
)

// DeviceKey is the public key a browser registered for a session.
type DeviceKey struct {
	Alg        string // ES256 or RS256
	JWK        string // the public key as JWK JSON
	Thumbprint []byte // RFC 7638 SHA-256 thumbprint
}

// SessionKeys keeps the device keys sessions are bound to (Device Bound Session
// Credentials) and the challenges that register and prove them. Everything lives in the
// database, so any app server can answer any step.
type SessionKeys struct {
	db  *db.DB
	now Clock
}

// NewSessionKeys returns the key store.
func NewSessionKeys(d *db.DB, now Clock) *SessionKeys {
	return &SessionKeys{db: d, now: now}
}

// hashChallenge is the form a challenge is kept in.
func hashChallenge(c string) []byte {
	h := sha256.Sum256([]byte(c))
	return h[:]
}

// Challenge makes a fresh single-use challenge for the live session handle, for purpose,
// valid ChallengeLife; only its SHA-256 is stored. ErrNotFound when the session is gone.
// Expired challenges are deleted on the way, so they never pile up between sweeps.
func (k *SessionKeys) Challenge(ctx context.Context, handle, purpose string) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	c := base64.RawURLEncoding.EncodeToString(b)
	now := k.now()
	keys, err := ownerOf(ctx, k.db, handle)
	if err != nil {
		return "", fmt.Errorf("challenge: %w", err)
	}
	err = k.db.InTx(ctx, keys, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM session_challenges WHERE expires_at <= ?`, unix(now)); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO session_challenges (challenge_hash, handle, purpose, expires_at)
			SELECT ?, handle, ?, ? FROM sessions WHERE handle = ?`, hashChallenge(c), purpose, unix(now.Add(ChallengeLife)), handle)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("challenge: %w", err)
	}
	return c, nil
}

// consumeTx deletes the challenge if it was made for handle and purpose and is still
// valid: a challenge is answered once, by the session it was given to.
func consumeTx(ctx context.Context, tx *db.Tx, now time.Time, handle, purpose, challenge string) error {
	var got string
	err := tx.QueryRowContext(ctx, `DELETE FROM session_challenges
		WHERE challenge_hash = ? AND handle = ? AND purpose = ? AND expires_at > ? RETURNING handle`,
		hashChallenge(challenge), handle, purpose, unix(now)).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrChallenge
	}
	if err != nil {
		return fmt.Errorf("consume challenge: %w", err)
	}
	return nil
}

// Register binds the session handle to key, answering its registration challenge, and
// records it in the security log, in one transaction. ErrChallenge when the challenge is
// not this session's, used or expired (nothing changes then); ErrAlreadyBound when the
// session has a key.
func (k *SessionKeys) Register(ctx context.Context, userID int64, handle, challenge string, key DeviceKey, actor Actor) (Event, error) {
	now := k.now()
	var ev Event
	err := k.db.InTx(ctx, account(userID), func(tx *db.Tx) error {
		if err := consumeTx(ctx, tx, now, handle, ChallengeRegister, challenge); err != nil {
			return err // rolled back: nothing changes
		}
		var got string
		err := tx.QueryRowContext(ctx, `INSERT INTO session_keys (handle, alg, jwk, thumbprint, bound_at)
			SELECT handle, ?, ?, ?, ? FROM sessions WHERE handle = ? AND user_id = ?
			ON CONFLICT (handle) DO NOTHING RETURNING handle`,
			key.Alg, key.JWK, key.Thumbprint, unix(now), handle, userID).Scan(&got)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrAlreadyBound
		}
		if err != nil {
			return err
		}
		ev, err = recordTx(ctx, tx, now, userID, EventDeviceBound, actor, actor.Device)
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("register key: %w", err)
	}
	return ev, nil
}

// Key returns the key the session handle is bound to; ErrNotFound when it is not bound
// (or gone).
func (k *SessionKeys) Key(ctx context.Context, handle string) (DeviceKey, error) {
	var key DeviceKey
	err := k.db.Read.QueryRowContext(ctx, `SELECT alg, jwk, thumbprint FROM session_keys WHERE handle = ?`, handle).
		Scan(&key.Alg, &key.JWK, &key.Thumbprint)
	if errors.Is(err, sql.ErrNoRows) {
		return DeviceKey{}, ErrNotFound
	}
	if err != nil {
		return DeviceKey{}, fmt.Errorf("session key: %w", err)
	}
	return key, nil
}

// Prove spends the session's refresh challenge, whose proof the caller verified against
// the key with thumbprint: ErrChallenge when the challenge is not this session's, used or
// expired, or the session is no longer bound to that key (signed out meanwhile).
func (k *SessionKeys) Prove(ctx context.Context, handle, challenge string, thumbprint []byte) error {
	now := k.now()
	keys, err := ownerOf(ctx, k.db, handle)
	if err != nil {
		return fmt.Errorf("prove: %w", err)
	}
	err = k.db.InTx(ctx, keys, func(tx *db.Tx) error {
		if err := consumeTx(ctx, tx, now, handle, ChallengeRefresh, challenge); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM session_keys WHERE handle = ? AND thumbprint = ?`, handle, thumbprint).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrChallenge
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("prove key: %w", err)
	}
	return nil
}

// UsedWithoutKey records that the bound session ss was used from ip without its key:
// in the security log, marked on its row, and queued for the owner's alert. Repeats
// within keyMisuseEvery are not recorded again (ok false).
func (k *SessionKeys) UsedWithoutKey(ctx context.Context, ss Session, ip string) (Event, bool, error) {
	now := k.now()
	if !ss.UsedWithoutKeyAt.IsZero() && now.Sub(ss.UsedWithoutKeyAt) < keyMisuseEvery {
		return Event{}, false, nil
	}
	var (
		ev       Event
		recorded bool
	)
	err := k.db.InTx(ctx, account(ss.UserID), func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE session_keys SET misused_at = ? WHERE handle = ? AND misused_at <= ?`,
			unix(now), ss.Handle, unix(now.Add(-keyMisuseEvery)))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // recorded a moment ago, by another request
		}
		label := ss.Device.Label()
		ev, err = recordTx(ctx, tx, now, ss.UserID, EventKeyMissing, Actor{IP: ip, Device: label}, label)
		recorded = err == nil
		return err
	})
	if err != nil {
		return Event{}, false, fmt.Errorf("key misuse: %w", err)
	}
	return ev, recorded, nil
}

// SweepChallenges deletes challenges past their lifetime.
func (k *SessionKeys) SweepChallenges(ctx context.Context) error {
	if _, err := k.db.Write.ExecContext(ctx, `DELETE FROM session_challenges WHERE expires_at <= ?`, unix(k.now())); err != nil {
		return fmt.Errorf("sweep challenges: %w", err)
	}
	return nil
}
