package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
)

// Limit is a rate limit: Max failures within Window lock the key for Lock.
type Limit struct {
	Scope  string
	Max    int
	Window time.Duration
	Lock   time.Duration
}

// The limits Elsewhere enforces.
var (
	LimitLoginEmail = Limit{Scope: "login-email", Max: 10, Window: 15 * time.Minute, Lock: 15 * time.Minute}
	LimitLoginIP    = Limit{Scope: "login-ip", Max: 10, Window: 15 * time.Minute, Lock: 15 * time.Minute}
	LimitConfirm    = Limit{Scope: "confirm", Max: 5, Window: 15 * time.Minute, Lock: 15 * time.Minute}
	// LimitSignupIP counts accounts created from one address (not failures): each costs
	// a password hash and a row, so one client cannot create them without bound.
	LimitSignupIP = Limit{Scope: "signup-ip", Max: 10, Window: time.Hour, Lock: time.Hour}
)

// Limiter counts failures per key in the database, so limits hold across restarts.
type Limiter struct {
	db  *db.DB
	now Clock
}

// NewLimiter returns the rate limiter.
func NewLimiter(d *db.DB, now Clock) *Limiter {
	return &Limiter{db: d, now: now}
}

// Locked returns how long key stays locked under l, or 0 when it is not.
func (lm *Limiter) Locked(ctx context.Context, l Limit, key string) (time.Duration, error) {
	now := lm.now()
	var until int64
	err := lm.db.Read.QueryRowContext(ctx, `SELECT until FROM lockouts WHERE scope = ? AND key = ? AND until > ?`,
		l.Scope, key, unix(now)).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("check %s lockout: %w", l.Scope, err)
	}
	return retryAfter(now, until), nil
}

// Fail records a failure for key and returns how long the key is now locked (0: not locked).
// The failure that reaches Max starts the lock.
func (lm *Limiter) Fail(ctx context.Context, l Limit, key string) (time.Duration, error) {
	now := lm.now()
	tx, err := lm.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("record %s failure: %w", l.Scope, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO failures (scope, key, at) VALUES (?, ?, ?)`,
		l.Scope, key, unix(now)); err != nil {
		return 0, fmt.Errorf("record %s failure: %w", l.Scope, err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM failures WHERE scope = ? AND key = ? AND at > ?`,
		l.Scope, key, unix(now.Add(-l.Window))).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s failures: %w", l.Scope, err)
	}
	var lock time.Duration
	if n >= l.Max {
		until := now.Add(l.Lock)
		if _, err := tx.ExecContext(ctx, `INSERT INTO lockouts (scope, key, until) VALUES (?, ?, ?)
			ON CONFLICT (scope, key) DO UPDATE SET until = excluded.until`, l.Scope, key, unix(until)); err != nil {
			return 0, fmt.Errorf("lock %s: %w", l.Scope, err)
		}
		// The lock replaces the count: once it ends, the key starts afresh.
		if _, err := tx.ExecContext(ctx, `DELETE FROM failures WHERE scope = ? AND key = ?`, l.Scope, key); err != nil {
			return 0, fmt.Errorf("lock %s: %w", l.Scope, err)
		}
		lock = retryAfter(now, unix(until))
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("record %s failure: %w", l.Scope, err)
	}
	return lock, nil
}

// Sweep deletes failures and lockouts too old to matter.
func (lm *Limiter) Sweep(ctx context.Context, oldest time.Duration) error {
	now := lm.now()
	if _, err := lm.db.Write.ExecContext(ctx, `DELETE FROM failures WHERE at < ?`, unix(now.Add(-oldest))); err != nil {
		return fmt.Errorf("sweep failures: %w", err)
	}
	if _, err := lm.db.Write.ExecContext(ctx, `DELETE FROM lockouts WHERE until < ?`, unix(now)); err != nil {
		return fmt.Errorf("sweep lockouts: %w", err)
	}
	return nil
}

func retryAfter(now time.Time, until int64) time.Duration {
	d := time.Unix(until, 0).Sub(now)
	if d < time.Second {
		d = time.Second
	}
	return d
}
