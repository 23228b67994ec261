package models

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/elsewhere-dev/elsewhere/db"
)

// MaxUserAgentLen is how many bytes of a user agent are kept.
const MaxUserAgentLen = 512

// touchEvery is how stale last_active may get before a request writes it again.
const touchEvery = time.Minute

// Session is one signed-in device.
type Session struct {
	Handle         string // public id, safe for markup and URLs
	UserID         int64
	CreatedAt      time.Time
	LastActiveAt   time.Time
	ExpiresAt      time.Time
	Remember       bool
	IP             string
	UserAgent      string
	Hints          ClientHints
	Device         Device
	ConfirmedUntil time.Time // end of the password-confirmation window
	Data           []byte    // other values the session middleware keeps
}

// NewSession is what a sign-in knows about the device signing in.
type NewSession struct {
	UserID    int64
	Remember  bool
	IP        string
	UserAgent string
	Hints     ClientHints
	Data      []byte
	// PasswordVersion is the password version the sign-in's password was checked
	// against. When set and no longer the user's, Create refuses with ErrPasswordChanged,
	// so a sign-in with a password that was just changed cannot slip in after the change.
	PasswordVersion int64
}

// Lifetimes say how long a session lives.
type Lifetimes struct {
	Idle     time.Duration // without activity, for a device that did not ask to be remembered
	Remember time.Duration // after sign-in, for a device that did (its cookie lasts as long)
}

// Sessions stores signed-in devices. It is the backend of the HTTP session store.
type Sessions struct {
	db     *db.DB
	secret []byte
	life   Lifetimes
	now    Clock
}

// NewSessions returns the session store; secret keys the password stamps.
func NewSessions(d *db.DB, secret []byte, life Lifetimes, now Clock) *Sessions {
	return &Sessions{db: d, secret: secret, life: life, now: now}
}

// stamp is the keyed hash of a password hash that a session carries; never the hash itself.
func (s *Sessions) stamp(passwordHash string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(passwordHash))
	return m.Sum(nil)
}

func (s *Sessions) lifetime(remember bool) time.Duration {
	if remember {
		return s.life.Remember
	}
	return s.life.Idle
}

// Create signs a device in under a token whose SHA-256 is tokenHash, deleting the
// session it replaces (if any) in the same transaction. The stamp is computed in that
// transaction too, so a sign-in racing a password rotation is never stamped stale.
func (s *Sessions) Create(ctx context.Context, tokenHash []byte, n NewSession, replaces string) (Session, error) {
	now := s.now()
	ua := CleanText(n.UserAgent, MaxUserAgentLen)
	hints := n.Hints.clean()
	hintsJSON := ""
	if hints != (ClientHints{}) {
		b, _ := json.Marshal(hints)
		hintsJSON = string(b)
	}
	sess := Session{
		Handle: newHandle(), UserID: n.UserID, CreatedAt: now.Truncate(time.Second).UTC(),
		LastActiveAt: now.Truncate(time.Second).UTC(), Remember: n.Remember, IP: CleanText(n.IP, 64),
		UserAgent: ua, Hints: hints, Device: ParseDevice(ua, hints), Data: n.Data,
	}
	sess.ExpiresAt = sess.LastActiveAt.Add(s.lifetime(n.Remember))

	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return Session{}, fmt.Errorf("create session: %w", err)
	}
	defer tx.Rollback()
	var (
		pwHash    string
		pwVersion int64
	)
	if err := tx.QueryRowContext(ctx, `SELECT password_hash, password_version FROM users WHERE id = ?`, n.UserID).Scan(&pwHash, &pwVersion); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Session{}, ErrNotFound
		}
		return Session{}, fmt.Errorf("create session: read user: %w", err)
	}
	if n.PasswordVersion != 0 && n.PasswordVersion != pwVersion {
		return Session{}, ErrPasswordChanged
	}
	if replaces != "" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE handle = ?`, replaces); err != nil {
			return Session{}, fmt.Errorf("create session: delete replaced: %w", err)
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO sessions
		(handle, token_hash, user_id, created_at, last_active_at, expires_at, remember, ip, user_agent,
		 client_hints, browser, os, device_type, device_model, stamp, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sess.Handle, tokenHash, sess.UserID, unix(sess.CreatedAt), unix(sess.LastActiveAt), unix(sess.ExpiresAt),
		sess.Remember, sess.IP, sess.UserAgent, hintsJSON, sess.Device.Browser, sess.Device.OS,
		string(sess.Device.Type), sess.Device.Model, s.stamp(pwHash), sess.Data)
	if err != nil {
		return Session{}, fmt.Errorf("create session: insert: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Session{}, fmt.Errorf("create session: commit: %w", err)
	}
	return sess, nil
}

const sessionColumns = `s.handle, s.user_id, s.created_at, s.last_active_at, s.expires_at, s.remember, s.ip,
	s.user_agent, s.client_hints, s.browser, s.os, s.device_type, s.device_model, s.confirmed_until, s.data`

type rowScanner interface{ Scan(...any) error }

func scanSession(r rowScanner, extra ...any) (Session, error) {
	var (
		ss                                    Session
		created, active, expires, confirmed   int64
		hints, browser, osName, dtype, dmodel string
	)
	dest := append([]any{&ss.Handle, &ss.UserID, &created, &active, &expires, &ss.Remember, &ss.IP,
		&ss.UserAgent, &hints, &browser, &osName, &dtype, &dmodel, &confirmed, &ss.Data}, extra...)
	if err := r.Scan(dest...); err != nil {
		return Session{}, err
	}
	ss.CreatedAt, ss.LastActiveAt, ss.ExpiresAt = fromUnix(created), fromUnix(active), fromUnix(expires)
	ss.ConfirmedUntil = fromUnix(confirmed)
	if hints != "" {
		_ = json.Unmarshal([]byte(hints), &ss.Hints) // written by Create; a bad value only loses the hints
	}
	ss.Device = Device{Browser: browser, OS: osName, Type: DeviceType(dtype), Model: dmodel}
	return ss, nil
}

// Lookup returns the live session whose token hashes to tokenHash. It ends the session
// (ErrStampMismatch) when its stamp no longer matches the user's password hash, and
// records activity at most once a minute.
func (s *Sessions) Lookup(ctx context.Context, tokenHash []byte, ip string) (Session, error) {
	now := s.now()
	var (
		pwHash string
		stamp  []byte
	)
	ss, err := scanSession(s.db.Read.QueryRowContext(ctx,
		`SELECT `+sessionColumns+`, s.stamp, u.password_hash
		 FROM sessions s JOIN users u ON u.id = s.user_id
		 WHERE s.token_hash = ? AND s.expires_at > ?`, tokenHash, unix(now)), &stamp, &pwHash)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, s.whyGone(ctx, tokenHash, now)
	}
	if err != nil {
		return Session{}, fmt.Errorf("look up session: %w", err)
	}
	if !hmac.Equal(stamp, s.stamp(pwHash)) {
		if err := s.endStale(ctx, ss, tokenHash); err != nil {
			return Session{}, err
		}
		return Session{}, ErrStampMismatch
	}
	ip = CleanText(ip, 64)
	if now.Sub(ss.LastActiveAt) >= touchEvery {
		touched := ss
		touched.LastActiveAt = now.Truncate(time.Second).UTC()
		if ip != "" {
			touched.IP = ip
		}
		if !ss.Remember { // a remembered device ends RememberFor after sign-in, as its cookie does
			touched.ExpiresAt = touched.LastActiveAt.Add(s.life.Idle)
		}
		_, err := s.db.Write.ExecContext(ctx,
			`UPDATE sessions SET last_active_at = ?, expires_at = ?, ip = ? WHERE token_hash = ?`,
			unix(touched.LastActiveAt), unix(touched.ExpiresAt), touched.IP, tokenHash)
		switch {
		case err == nil:
			ss = touched
		case ctx.Err() != nil:
			return Session{}, fmt.Errorf("touch session: %w", err)
		}
		// Otherwise the database cannot take writes (full, read-only, busy for too long).
		// Recording activity is bookkeeping: the session is as valid as it was, and the
		// device may still read; an action it tries will fail with the real error.
	}
	return ss, nil
}

// whyGone tells a token that was ended from elsewhere (ErrSessionEnded) from one that
// never existed or simply expired (ErrNotFound).
func (s *Sessions) whyGone(ctx context.Context, tokenHash []byte, now time.Time) error {
	var one int
	err := s.db.Read.QueryRowContext(ctx, `SELECT 1 FROM ended_sessions WHERE token_hash = ? AND expires_at > ?`,
		tokenHash, unix(now)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("look up ended session: %w", err)
	}
	return ErrSessionEnded
}

// endStale deletes a session whose stamp went stale, checking again inside the write
// transaction so a session re-stamped in the meantime is left alone.
func (s *Sessions) endStale(ctx context.Context, ss Session, tokenHash []byte) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("end stale session: %w", err)
	}
	defer tx.Rollback()
	var (
		stamp  []byte
		pwHash string
	)
	err = tx.QueryRowContext(ctx, `SELECT s.stamp, u.password_hash FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ?`, tokenHash).Scan(&stamp, &pwHash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // already gone
	}
	if err != nil {
		return fmt.Errorf("end stale session: %w", err)
	}
	if hmac.Equal(stamp, s.stamp(pwHash)) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("end stale session: %w", err)
	}
	if _, err := recordTx(ctx, tx, s.now(), ss.UserID, EventStampMismatch,
		Actor{IP: ss.IP, Device: ss.Device.Label()}, ss.Device.Label()); err != nil {
		return err
	}
	return tx.Commit()
}

// Delete ends the session with that handle; deleting one that is gone is not an error.
func (s *Sessions) Delete(ctx context.Context, handle string) error {
	if _, err := s.db.Write.ExecContext(ctx, `DELETE FROM sessions WHERE handle = ?`, handle); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// SaveData stores the session middleware's other values for a session.
func (s *Sessions) SaveData(ctx context.Context, handle string, data []byte) error {
	if _, err := s.db.Write.ExecContext(ctx, `UPDATE sessions SET data = ? WHERE handle = ?`, data, handle); err != nil {
		return fmt.Errorf("save session data: %w", err)
	}
	return nil
}

// ListForUser returns the user's live sessions, most recently active first.
func (s *Sessions) ListForUser(ctx context.Context, userID int64) ([]Session, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions s
		WHERE s.user_id = ? AND s.expires_at > ? ORDER BY s.last_active_at DESC, s.id DESC`, userID, unix(s.now()))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		ss, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, ss)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// ForUser returns the user's live session with that handle; ErrNotFound for an unknown,
// expired or another user's handle alike.
func (s *Sessions) ForUser(ctx context.Context, userID int64, handle string) (Session, error) {
	ss, err := scanSession(s.db.Read.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions s
		WHERE s.handle = ? AND s.user_id = ? AND s.expires_at > ?`, handle, userID, unix(s.now())))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("session %s: %w", handle, err)
	}
	return ss, nil
}

// Sweep deletes expired sessions (and expired records of ended ones) and returns how many
// sessions went.
func (s *Sessions) Sweep(ctx context.Context) (int64, error) {
	now := unix(s.now())
	res, err := s.db.Write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now)
	if err != nil {
		return 0, fmt.Errorf("sweep sessions: %w", err)
	}
	if _, err := s.db.Write.ExecContext(ctx, `DELETE FROM ended_sessions WHERE expires_at <= ?`, now); err != nil {
		return 0, fmt.Errorf("sweep ended sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// CleanText makes attacker-supplied text safe to store: valid UTF-8, no control
// characters, at most max bytes (cut on a character boundary).
func CleanText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return strings.TrimSpace(s)
}

func (h ClientHints) clean() ClientHints {
	const n = 256
	return ClientHints{UA: CleanText(h.UA, n), Mobile: CleanText(h.Mobile, 8), Platform: CleanText(h.Platform, 64),
		PlatformVersion: CleanText(h.PlatformVersion, 64), Model: CleanText(h.Model, 128)}
}
