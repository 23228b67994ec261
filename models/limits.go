package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
)

// Limit is a rate limit: Max failures within Window lock the key for Lock.
type Limit struct {
	Scope  string
	Max    int
	Window time.Duration
	Lock   time.Duration
	// Every makes every attempt count, right ones too: Succeeded keeps it.
	Every bool
}

// scopeConfirm is the scope of the per-session confirmation limit, which the device list
// joins to show a session's lock.
const scopeConfirm = "confirm"

// Limits are the rate limits Elsewhere enforces.
type Limits struct {
	// LoginEmail counts failed sign-ins for one email from browsers the account does not
	// know; its lock applies to them alone, so a stranger who knows the email cannot keep
	// the owner's own browsers out.
	LoginEmail Limit
	// LoginDevice counts failed sign-ins from one browser the account knows (by its device
	// cookie): such a browser has a budget of its own (OWASP's device cookies).
	LoginDevice Limit
	LoginIP     Limit // failed sign-ins from one address
	// LoginIPAll counts every sign-in attempt from one address, right ones too: each
	// costs an argon2id verification, so this caps the hashing one address can cause.
	LoginIPAll Limit
	// Confirm counts wrong confirmations per session (keyed by its handle), so a device
	// that guesses locks only itself.
	Confirm Limit
	// SignupIP counts every sign-up attempt from one address that passes the form checks
	// (not only failures): each costs a password hash, so one client cannot make the
	// server hash, or probe which emails are taken, without bound.
	SignupIP Limit
	// ResetEmail and ResetIP count every password-reset request for one email and from
	// one address: each may send a mail, so nobody can flood an inbox or the mail server.
	ResetEmail Limit
	ResetIP    Limit
}

// DefaultLimits are the limits the spec sets; a function, so nobody can change them for
// everyone else.
func DefaultLimits() Limits {
	const window = 15 * time.Minute
	return Limits{
		LoginEmail:  Limit{Scope: "login-email", Max: 10, Window: window, Lock: window},
		LoginDevice: Limit{Scope: "login-device", Max: 10, Window: window, Lock: window},
		LoginIP:     Limit{Scope: "login-ip", Max: 10, Window: window, Lock: window},
		LoginIPAll:  Limit{Scope: "login-ip-all", Max: 60, Window: window, Lock: window, Every: true},
		Confirm:     Limit{Scope: scopeConfirm, Max: 5, Window: window, Lock: window},
		SignupIP:    Limit{Scope: "signup-ip", Max: 10, Window: time.Hour, Lock: time.Hour, Every: true},
		ResetEmail:  Limit{Scope: "reset-email", Max: 3, Window: time.Hour, Lock: time.Hour, Every: true},
		ResetIP:     Limit{Scope: "reset-ip", Max: 20, Window: time.Hour, Lock: time.Hour, Every: true},
	}
}

// Limiter counts failures per key in the database, so limits hold across restarts.
type Limiter struct {
	db  *db.DB
	now Clock

	// locked remembers the lockouts this process has read: a lockout is only ever
	// extended, never lifted before its end, so "locked until then" stays true, and a
	// flood of attempts on a locked key is refused without asking the database.
	mu     sync.Mutex
	locked map[[2]string]int64
}

// maxLocked bounds the lockouts remembered; past it they start over.
const maxLocked = 10000

// NewLimiter returns the rate limiter.
func NewLimiter(d *db.DB, now Clock) *Limiter {
	return &Limiter{db: d, now: now}
}

// LimitKey is one counter: a limit and the key it counts for (an email, an address, a user).
type LimitKey struct {
	Limit Limit
	Key   string
}

// Attempt is a try reserved by Try: recorded as a failure until Succeeded takes it back.
type Attempt struct {
	ids  []int64
	keys []LimitKey
}

// Try reserves one attempt on every key, atomically: when any key is locked or already
// has Max failures (reserved ones included) in its window, nothing is reserved and Try
// returns how long to wait. Reserving before the password is checked means a burst of
// parallel guesses cannot all pass the check: at most Max of them get through.
func (lm *Limiter) Try(ctx context.Context, keys ...LimitKey) (Attempt, time.Duration, error) {
	now := lm.now()
	var (
		att  Attempt
		wait time.Duration
	)
	// Checked first outside any transaction, on the readers: a refused attempt (a flood of
	// guesses against one account) takes no lock and waits for no writer. What passes is
	// checked again under the counters' locks, which is what the guarantee rests on.
	// A lockout this process remembers refuses before any query.
	for _, k := range keys {
		if w := lm.lockedUntil(k, now); w > 0 {
			return Attempt{}, w, nil
		}
	}
	for _, k := range keys {
		if k.Key == "" {
			continue
		}
		if w, err := lm.full(ctx, lm.db.Read, k, now); err != nil {
			return Attempt{}, 0, fmt.Errorf("rate limit: %w", err)
		} else if w > 0 {
			return Attempt{}, w, nil
		}
	}
	err := lm.db.InTx(ctx, limitKeys(keys), func(tx *db.Tx) error {
		for _, k := range keys {
			if k.Key == "" {
				continue
			}
			w, err := lm.full(ctx, tx, k, now)
			if err != nil {
				return err
			}
			if w > 0 {
				wait = w
				return errLimitReached
			}
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO failures (scope, key, at) VALUES (?, ?, ?) RETURNING id`,
				k.Limit.Scope, k.Key, unix(now)).Scan(&id); err != nil {
				return fmt.Errorf("reserve %s attempt: %w", k.Limit.Scope, err)
			}
			att.ids, att.keys = append(att.ids, id), append(att.keys, k)
		}
		return nil
	})
	switch {
	case errors.Is(err, errLimitReached):
		return Attempt{}, wait, nil // rolled back: nothing reserved on any key
	case err != nil:
		return Attempt{}, 0, fmt.Errorf("rate limit: %w", err)
	}
	return att, 0, nil
}

// rowReader is a pool or a transaction.
type rowReader interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// full returns how long k refuses attempts: locked, or already holding Max failures
// (reserved ones included) in its window; 0 when it takes one more.
func (lm *Limiter) full(ctx context.Context, q rowReader, k LimitKey, now time.Time) (time.Duration, error) {
	if w := lm.lockedUntil(k, now); w > 0 {
		return w, nil
	}
	id := [2]string{k.Limit.Scope, k.Key}
	var until int64
	err := q.QueryRowContext(ctx, `SELECT until FROM lockouts WHERE scope = ? AND key = ? AND until > ?`,
		k.Limit.Scope, k.Key, unix(now)).Scan(&until)
	if err == nil {
		lm.mu.Lock()
		if lm.locked == nil || len(lm.locked) >= maxLocked {
			lm.locked = make(map[[2]string]int64)
		}
		lm.locked[id] = until
		lm.mu.Unlock()
		return retryAfter(now, until), nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("check %s lockout: %w", k.Limit.Scope, err)
	}
	since := unix(now.Add(-k.Limit.Window))
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM failures WHERE scope = ? AND key = ? AND at > ?`,
		k.Limit.Scope, k.Key, since).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s failures: %w", k.Limit.Scope, err)
	}
	if n < k.Limit.Max {
		return 0, nil
	}
	// Full without a lock: attempts still in flight, or a limit that counts every try.
	// Wait until enough of them leave the window.
	var oldest int64
	err = q.QueryRowContext(ctx, `SELECT at FROM failures WHERE scope = ? AND key = ? AND at > ?
		ORDER BY at LIMIT 1 OFFSET ?`, k.Limit.Scope, k.Key, since, n-k.Limit.Max).Scan(&oldest)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// Read outside a transaction (Try's lock-free look first), the count and this
		// read see different moments: attempts taken back in between leave fewer rows
		// than counted, so the key is no longer full. Under the key's lock this cannot
		// happen; there the answer decides, here it only spares refusals a lock.
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("oldest %s failure: %w", k.Limit.Scope, err)
	}
	return retryAfter(now, oldest+int64(k.Limit.Window/time.Second)), nil
}

// lockedUntil is how long k stays locked by a lockout this process has read; 0 for none.
func (lm *Limiter) lockedUntil(k LimitKey, now time.Time) time.Duration {
	lm.mu.Lock()
	until := lm.locked[[2]string{k.Limit.Scope, k.Key}]
	lm.mu.Unlock()
	if until > unix(now) {
		return retryAfter(now, until)
	}
	return 0
}

// errLimitReached rolls Try's transaction back when a key is locked or full.
var errLimitReached = errors.New("rate limit reached")

// Succeeded takes back the failures Try reserved: the attempt was right. Attempts on a
// limit that counts every try stay.
func (lm *Limiter) Succeeded(ctx context.Context, att Attempt) error {
	for i, id := range att.ids {
		if att.keys[i].Limit.Every {
			continue
		}
		if _, err := lm.db.Write.ExecContext(ctx, `DELETE FROM failures WHERE id = ?`, id); err != nil {
			return fmt.Errorf("release attempt: %w", err)
		}
	}
	return nil
}

// Failed keeps the failures Try reserved and locks every key that has reached its Max;
// it returns the longest lock (0: none). The failure that reaches Max starts the lock.
func (lm *Limiter) Failed(ctx context.Context, att Attempt) (time.Duration, error) {
	var lock time.Duration
	err := lm.db.InTx(ctx, limitKeys(att.keys), func(tx *db.Tx) (err error) {
		lock, err = lm.failedTx(ctx, tx, att)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("rate limit: %w", err)
	}
	return lock, nil
}

// failedTx is Failed inside a transaction the caller commits.
func (lm *Limiter) failedTx(ctx context.Context, tx *db.Tx, att Attempt) (time.Duration, error) {
	now := lm.now()
	var lock time.Duration
	for _, k := range att.keys {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM failures WHERE scope = ? AND key = ? AND at > ?`,
			k.Limit.Scope, k.Key, unix(now.Add(-k.Limit.Window))).Scan(&n); err != nil {
			return 0, fmt.Errorf("count %s failures: %w", k.Limit.Scope, err)
		}
		if n < k.Limit.Max {
			continue
		}
		until := now.Add(k.Limit.Lock)
		if _, err := tx.ExecContext(ctx, `INSERT INTO lockouts (scope, key, until) VALUES (?, ?, ?)
			ON CONFLICT (scope, key) DO UPDATE SET until = excluded.until`, k.Limit.Scope, k.Key, unix(until)); err != nil {
			return 0, fmt.Errorf("lock %s: %w", k.Limit.Scope, err)
		}
		// The lock replaces the count: once it ends, the key starts afresh.
		if _, err := tx.ExecContext(ctx, `DELETE FROM failures WHERE scope = ? AND key = ?`, k.Limit.Scope, k.Key); err != nil {
			return 0, fmt.Errorf("lock %s: %w", k.Limit.Scope, err)
		}
		lock = max(lock, retryAfter(now, unix(until)))
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

// AddressKey is the rate-limit key for an address: IPv6 counts per /64, since one
// client usually holds a whole /64.
func AddressKey(ip string) string {
	p := net.ParseIP(strings.TrimSpace(ip))
	if p == nil {
		return ip
	}
	if p.To4() != nil {
		return p.String()
	}
	return p.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
