package models

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/models/device"
	"github.com/elsewhere-dev/elsewhere/models/text"
)

// touchEvery is how stale last_active may get before a request writes it again.
const touchEvery = time.Minute

// Session is one signed-in device.
type Session struct {
	Handle       string // public id, safe for markup and URLs
	UserID       int64
	CreatedAt    time.Time
	LastActiveAt time.Time
	ExpiresAt    time.Time
	Remember     bool
	IP           string
	UserAgent    string
	Hints        device.Hints
	Device       device.Device
	// DeviceName is what the owner named the browser ("Anna's iPad"), "" for none: it
	// belongs to the browser's device cookie, so every sign-in of that browser has it.
	DeviceName     string
	ConfirmedUntil time.Time // end of the password-confirmation window
	WrongPasswords int       // wrong confirmations since the last right one
	// ConfirmLockedUntil is when this session's confirmations unlock after too many
	// wrong passwords (zero: not locked); set by ListForUser.
	ConfirmLockedUntil time.Time
	Data               []byte // other values the session middleware keeps
	// KeyThumbprint is the thumbprint of the device key the browser bound this session
	// to (DBSC), nil while it is not bound; BoundAt is when it was bound. A bound session
	// is accepted only with a bound cookie made for this key (see SessionKeys).
	KeyThumbprint []byte
	BoundAt       time.Time
	// UsedWithoutKeyAt is the last time the session's cookie came without its bound
	// cookie, after the binding: someone holds a copy of the cookie but not the key.
	UsedWithoutKeyAt time.Time
}

// Bound reports whether the browser bound this session to a device key.
func (ss Session) Bound() bool { return len(ss.KeyThumbprint) > 0 }

// NewSession is what a sign-in knows about the device signing in.
type NewSession struct {
	UserID    int64
	Remember  bool
	IP        string
	UserAgent string
	Hints     device.Hints
	Data      []byte
	// PasswordVersion is the password version the sign-in's password was checked
	// against. When set and no longer the user's, SignIn refuses with ErrPasswordChanged,
	// so a sign-in with a password that was just changed cannot slip in after the change.
	PasswordVersion int64
	// Replaces is the handle of the session this device had before, ended by the sign-in.
	Replaces string
	// SingleSession signs every other device of the user out (the single-session mode).
	SingleSession bool
	// DeviceHash is the hash (HashToken) of the browser's device cookie. A browser the
	// account has not seen is a new device: the owner is alerted by mail. Without one, a
	// device label the account's log has not seen counts as new.
	DeviceHash []byte
	// Quiet signs in a browser that just proved itself another way (it followed a mailed
	// link and set the password): it becomes known, and its sign-in is not alerted.
	Quiet bool

	signUp bool // the account's first sign-in, at its creation: nobody to alert yet
}

// Lifetimes say how long a session lives. They are checked at every request against the
// session's sign-in and last-activity times, so a shorter setting applies at once to
// sessions that already exist.
type Lifetimes struct {
	Idle     time.Duration // without activity, for a device that did not ask to be remembered
	MaxAge   time.Duration // after sign-in, however active, for the same devices (0: no limit)
	Remember time.Duration // after sign-in, for a device that did (its cookie lasts as long)
}

// Sessions stores signed-in devices. It is the backend of the HTTP session store.
type Sessions struct {
	db         *db.DB
	secret     []byte
	life       Lifetimes
	maxPerUser int
	now        Clock
	lookups    remembered[[32]byte, lookedUp] // Lookup and Check, by token hash, while nothing was committed
	lists      remembered[int64, []Session]   // ListForUser, by user, likewise
}

// NewSessions returns the session store; secret keys the password stamps, and a sign-in
// beyond maxPerUser live sessions of one user (0: no cap) signs the least recently active out.
func NewSessions(d *db.DB, secret []byte, life Lifetimes, maxPerUser int, now Clock) *Sessions {
	return &Sessions{db: d, secret: secret, life: life, maxPerUser: maxPerUser, now: now}
}

// forUserSQL reads one user's live session by handle; its arguments are the handle, the
// user and liveArgs.
const forUserSQL = `SELECT ` + sessionColumns + ` FROM sessions s WHERE s.handle = ? AND s.user_id = ? AND ` + liveCond

// flag is a boolean as the 0 or 1 stored in an INTEGER column, the same on every engine.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// stamp is the keyed hash of a password hash that a session carries; never the hash itself.
func (s *Sessions) stamp(passwordHash string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(passwordHash))
	return m.Sum(nil)
}

// SignIn signs a device in under a token whose SHA-256 is tokenHash, in one transaction:
// it ends the session the device replaces, inserts the new one with its stamp (so a
// sign-in racing a password rotation is never stamped stale), signs out the least
// recently active devices beyond the cap, and every other device in single-session mode,
// and records it all in the security log. It returns the session and the events recorded,
// in order, plus an EventNewDevice copy of the sign-in when the account does not know
// the browser (by its device cookie; a browser without one, by its label in the log).
func (s *Sessions) SignIn(ctx context.Context, tokenHash []byte, n NewSession) (Session, []Event, error) {
	var (
		sess   Session
		events []Event
	)
	keys, err := s.signInKeys(ctx, account(n.UserID), n)
	if err != nil {
		return Session{}, nil, fmt.Errorf("create session: %w", err)
	}
	err = s.db.InTx(ctx, keys, func(tx *db.Tx) (err error) {
		sess, events, err = s.signInTx(ctx, tx, tokenHash, n)
		return err
	})
	if err != nil {
		return Session{}, nil, fmt.Errorf("create session: %w", err)
	}
	return sess, events, nil
}

// SignUp creates the account email with passwordHash and signs the device in as it, in
// one transaction: an account exists only with its first session and log entry, so a
// sign-up that fails part-way leaves nothing behind. ErrEmailTaken when the email has an
// account already.
func (s *Sessions) SignUp(ctx context.Context, email, passwordHash string, tokenHash []byte, n NewSession) (User, Session, []Event, error) {
	u := User{Email: email, PasswordHash: passwordHash, PasswordVersion: 1}
	var (
		sess   Session
		events []Event
	)
	// The new account's key is its email's until it has an id; nobody else can know the id.
	keys, err := s.signInKeys(ctx, []db.Key{db.Named("email", email)}, n)
	if err != nil {
		return User{}, Session{}, nil, fmt.Errorf("sign up: %w", err)
	}
	err = s.db.InTx(ctx, keys, func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?)
			ON CONFLICT (email) DO NOTHING RETURNING id`, email, passwordHash, unix(s.now())).Scan(&u.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrEmailTaken
		}
		if err != nil {
			return err
		}
		n.UserID, n.PasswordVersion, n.signUp = u.ID, 0, true
		sess, events, err = s.signInTx(ctx, tx, tokenHash, n)
		return err
	})
	if err != nil {
		return User{}, Session{}, nil, fmt.Errorf("sign up: %w", err)
	}
	return u, sess, events, nil
}

// signInKeys adds to keys the key of the account whose session the signing-in browser
// ends (n.Replaces: a shared computer's other account).
func (s *Sessions) signInKeys(ctx context.Context, keys []db.Key, n NewSession) ([]db.Key, error) {
	if n.Replaces == "" {
		return keys, nil
	}
	owner, err := ownerOf(ctx, s.db, n.Replaces)
	if err != nil {
		return nil, err
	}
	return append(keys, owner...), nil
}

// signInTx is SignIn inside a transaction the caller commits.
func (s *Sessions) signInTx(ctx context.Context, tx *db.Tx, tokenHash []byte, n NewSession) (Session, []Event, error) {
	now := s.now()
	ua := text.Clean(n.UserAgent, device.MaxUserAgentLen)
	hints := n.Hints.Clean()
	hintsJSON := ""
	if hints != (device.Hints{}) {
		b, _ := json.Marshal(hints)
		hintsJSON = string(b)
	}
	sess := Session{
		Handle: newHandle(), UserID: n.UserID, CreatedAt: now.Truncate(time.Second).UTC(),
		LastActiveAt: now.Truncate(time.Second).UTC(), Remember: n.Remember, IP: text.Clean(n.IP, 64),
		UserAgent: ua, Hints: hints, Device: device.Parse(ua, hints), Data: n.Data,
	}
	sess.ExpiresAt = s.expiry(n.Remember, sess.CreatedAt, sess.LastActiveAt)

	var (
		pwHash    string
		pwVersion int64
	)
	if err := tx.QueryRowContext(ctx, `SELECT password_hash, password_version FROM users WHERE id = ?`, n.UserID).Scan(&pwHash, &pwVersion); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Session{}, nil, ErrNotFound
		}
		return Session{}, nil, fmt.Errorf("create session: read user: %w", err)
	}
	if n.PasswordVersion != 0 && n.PasswordVersion != pwVersion {
		return Session{}, nil, ErrPasswordChanged
	}
	replaced, err := s.replaceTx(ctx, tx, now, n)
	if err != nil {
		return Session{}, nil, err
	}
	deviceID, deviceName, known, err := deviceTx(ctx, tx, now, n.UserID, n.DeviceHash)
	if err != nil {
		return Session{}, nil, err
	}
	sess.DeviceName = deviceName
	// The account's time zone, for its mails: what a browser it knows reports (a new
	// device's says nothing, unless the account has none yet), so a thief's first sign-in
	// does not move the owner's clock.
	if _, ok := TimeZone(hints.TimeZone); ok {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET time_zone = ? WHERE id = ? AND (? OR time_zone = '')`,
			hints.TimeZone, n.UserID, known == deviceSeen || n.signUp || n.Quiet); err != nil {
			return Session{}, nil, fmt.Errorf("create session: time zone: %w", err)
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO sessions
		(handle, token_hash, user_id, created_at, last_active_at, expires_at, remember, ip, user_agent,
		 client_hints, browser, os, device_type, device_model, stamp, data, device_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sess.Handle, tokenHash, sess.UserID, unix(sess.CreatedAt), unix(sess.LastActiveAt), unix(sess.ExpiresAt),
		flag(sess.Remember), sess.IP, sess.UserAgent, hintsJSON, sess.Device.Browser, sess.Device.OS,
		string(sess.Device.Type), sess.Device.Model, s.stamp(pwHash), sess.Data, deviceID)
	if err != nil {
		return Session{}, nil, fmt.Errorf("create session: insert: %w", err)
	}
	events, err := s.afterSignInTx(ctx, tx, now, sess, n.SingleSession, known, !n.signUp && !n.Quiet)
	if err != nil {
		return Session{}, nil, err
	}
	events = append(replaced, events...)
	return sess, events, nil
}

// replaceTx ends the session the signing-in browser had (n.Replaces). When it was another
// account's (a shared computer), that account's log says it was signed out there, and its
// open pages hear of it.
func (s *Sessions) replaceTx(ctx context.Context, tx *db.Tx, now time.Time, n NewSession) ([]Event, error) {
	if n.Replaces == "" {
		return nil, nil
	}
	var (
		owner                            int64
		ip, browser, osName, kind, model string
	)
	err := tx.QueryRowContext(ctx, `SELECT user_id, ip, browser, os, device_type, device_model FROM sessions WHERE handle = ?`,
		n.Replaces).Scan(&owner, &ip, &browser, &osName, &kind, &model)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("create session: the replaced one: %w", err)
	}
	if _, err := endSessions(ctx, tx, endedByItself, `s.handle = ?`, n.Replaces); err != nil {
		return nil, fmt.Errorf("create session: end the replaced one: %w", err)
	}
	if owner == n.UserID {
		return nil, nil
	}
	label := device.Device{Browser: browser, OS: osName, Type: device.Type(kind), Model: model}.Known().Label()
	ev, err := recordTx(ctx, tx, now, owner, EventSignedOut, Actor{IP: text.Clean(n.IP, 64), Device: label}, label)
	if err != nil {
		return nil, err
	}
	return []Event{ev}, nil
}

// afterSignInTx does, inside the sign-in's transaction, what a new session brings about:
// the cap, the single-session rule, and the log entry, with its EventNewDevice copy for
// a browser the account has not seen (by its device cookie; without one, a device label
// the account's log has not seen). alert queues a mail alert of the new device.
func (s *Sessions) afterSignInTx(ctx context.Context, tx *db.Tx, now time.Time, sess Session, single bool, known deviceKnown, alert bool) ([]Event, error) {
	label := sess.Device.Label()
	actor := Actor{IP: sess.IP, Device: label}
	events, err := s.trimTx(ctx, tx, now, sess.UserID, sess.Handle, actor)
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	if single {
		ch := Change{UserID: sess.UserID, Current: sess.Handle, Actor: actor}
		ended, err := s.endOthers(ctx, tx, now, ch)
		if err != nil {
			return nil, fmt.Errorf("create session: %w", err)
		}
		if ended > 0 {
			ev, err := recordTx(ctx, tx, now, sess.UserID, EventOthersRevoked, actor, strconv.FormatInt(ended, 10))
			if err != nil {
				return nil, err
			}
			events = append(events, ev)
		}
	}
	seen := known == deviceSeen
	if known == deviceUnknown {
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM events WHERE user_id = ? AND kind = ? AND detail = ? LIMIT 1`,
			sess.UserID, string(EventSignedIn), text.Clean(label, 200)).Scan(&one)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("create session: earlier sign-ins: %w", err)
		}
		seen = err == nil
	}
	ev, err := recordTx(ctx, tx, now, sess.UserID, EventSignedIn, actor, label)
	if err != nil {
		return nil, err
	}
	events = append(events, ev)
	if !seen {
		if alert && known == deviceNew {
			if err := queueAlertTx(ctx, tx, ev, EventNewDevice); err != nil {
				return nil, err
			}
		}
		ev.Kind = EventNewDevice
		events = append(events, ev)
	}
	return events, nil
}

// trimTx signs out the user's least recently active sessions beyond the cap, never the
// one with handle keep, and records each in the security log (and the owner's alert) as
// done by actor, the sign-in that went past the cap; with no actor (the cap lowered), by
// the device itself.
func (s *Sessions) trimTx(ctx context.Context, tx *db.Tx, now time.Time, userID int64, keep string, actor Actor) ([]Event, error) {
	if s.maxPerUser <= 0 {
		return nil, nil
	}
	args := s.liveArgs(now)
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions s WHERE s.user_id = ? AND `+liveCond,
		append([]any{userID}, args...)...).Scan(&n); err != nil {
		return nil, fmt.Errorf("count sessions: %w", err)
	}
	if n <= s.maxPerUser {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT s.handle, s.ip, s.browser, s.os, s.device_type, s.device_model
		FROM sessions s WHERE s.user_id = ? AND s.handle <> ? AND `+liveCond+` ORDER BY s.last_active_at, s.id LIMIT ?`,
		append(append([]any{userID, keep}, args...), n-s.maxPerUser)...)
	if err != nil {
		return nil, fmt.Errorf("oldest sessions: %w", err)
	}
	type gone struct {
		handle, ip string
		dev        device.Device
	}
	var out []gone
	for rows.Next() {
		var g gone
		var dtype string
		if err := rows.Scan(&g.handle, &g.ip, &g.dev.Browser, &g.dev.OS, &dtype, &g.dev.Model); err != nil {
			rows.Close()
			return nil, fmt.Errorf("oldest sessions: %w", err)
		}
		g.dev.Type = device.Type(dtype)
		g.dev = g.dev.Known()
		out = append(out, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("oldest sessions: %w", err)
	}
	var events []Event
	for _, g := range out {
		if _, err := endSessions(ctx, tx, endedElsewhere, `handle = ?`, g.handle); err != nil {
			return nil, err
		}
		by := actor
		if by.Device == "" {
			by = Actor{IP: g.ip, Device: g.dev.Label()}
		}
		ev, err := recordTx(ctx, tx, now, userID, EventSessionLimit, by, g.dev.Label())
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}

const sessionColumns = `s.handle, s.user_id, s.created_at, s.last_active_at, s.expires_at, s.remember, s.ip,
	s.user_agent, s.client_hints, s.browser, s.os, s.device_type, s.device_model, s.confirmed_until, s.wrong_passwords, s.data,
	COALESCE((SELECT k.name FROM known_devices k WHERE k.id = s.device_id), ''),
	(SELECT b.thumbprint FROM session_keys b WHERE b.handle = s.handle),
	COALESCE((SELECT b.bound_at FROM session_keys b WHERE b.handle = s.handle), 0),
	COALESCE((SELECT b.misused_at FROM session_keys b WHERE b.handle = s.handle), 0)`

type rowScanner interface{ Scan(...any) error }

func scanSession(r rowScanner, extra ...any) (Session, error) {
	var (
		ss                                    Session
		created, active, expires, confirmed   int64
		boundAt, misusedAt                    int64
		hints, browser, osName, dtype, dmodel string
	)
	dest := append([]any{&ss.Handle, &ss.UserID, &created, &active, &expires, &ss.Remember, &ss.IP,
		&ss.UserAgent, &hints, &browser, &osName, &dtype, &dmodel, &confirmed, &ss.WrongPasswords, &ss.Data, &ss.DeviceName,
		&ss.KeyThumbprint, &boundAt, &misusedAt}, extra...)
	if err := r.Scan(dest...); err != nil {
		return Session{}, err
	}
	ss.CreatedAt, ss.LastActiveAt, ss.ExpiresAt = fromUnix(created), fromUnix(active), fromUnix(expires)
	ss.BoundAt, ss.UsedWithoutKeyAt = fromUnix(boundAt), fromUnix(misusedAt)
	ss.ConfirmedUntil = fromUnix(confirmed)
	if hints != "" {
		_ = json.Unmarshal([]byte(hints), &ss.Hints) // written by SignIn; a bad value only loses the hints
	}
	// Checked again: an older version stored words of the user agent (device.Known).
	ss.Device = device.Device{Browser: browser, OS: osName, Type: device.Type(dtype), Model: dmodel}.Known()
	return ss, nil
}

// Lookup returns the live session whose token hashes to tokenHash, and its user, in one
// read. It ends the session (ErrStampMismatch) when its stamp no longer matches the
// user's password hash, and records activity at most once a minute.
func (s *Sessions) Lookup(ctx context.Context, tokenHash []byte, ip string) (Session, User, error) {
	return s.lookup(ctx, tokenHash, ip, true, nil)
}

// LookupBound is Lookup (touch) or Peek (no touch) for a request that must also prove
// the session's device key when the session is bound: holdsKey says whether the request
// does (its bound cookie). A bound session whose request does not is refused with
// ErrKeyMissing, before any activity is recorded, and returned with it, so the caller
// can tell the owner; the copy of a cookie without its key keeps nothing alive.
func (s *Sessions) LookupBound(ctx context.Context, tokenHash []byte, ip string, touch bool,
	holdsKey func(Session) bool) (Session, User, error) {
	return s.lookup(ctx, tokenHash, ip, touch, holdsKey)
}

// Peek is Lookup for a device's background traffic (its live stream): the same answers,
// but it records no activity, so an open page alone never keeps a device signed in.
func (s *Sessions) Peek(ctx context.Context, tokenHash []byte) (Session, User, error) {
	return s.lookup(ctx, tokenHash, "", false, nil)
}

// LatestChange is the id of the user's newest security-log entry, 0 for none: every
// change to the user's devices is logged, so a page that saw this id has seen them all.
func (s *Sessions) LatestChange(ctx context.Context, userID int64) (int64, error) {
	var id int64
	err := s.db.Read.QueryRowContext(ctx, `SELECT id FROM events WHERE user_id = ? ORDER BY id DESC LIMIT 1`, userID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("latest change: %w", err)
	}
	return id, nil
}

func (s *Sessions) lookup(ctx context.Context, tokenHash []byte, ip string, touch bool,
	holdsKey func(Session) bool) (Session, User, error) {
	now := s.now()
	// Taken before the read: an answer remembered under it is the database's as long as
	// the stamp stays the same (see remembered). On PostgreSQL the stamp is the account's
	// change counter: one query reads it for a remembered answer; a fresh lookup reads it
	// in the same statement as the session.
	pg := s.db.Engine == db.Postgres
	changes, canRemember := s.db.ChangeStamp()
	canRemember = (canRemember || pg) && len(tokenHash) == 32
	heard, _ := s.db.Remembering() // PostgreSQL: before the read, see epochOf
	if canRemember {
		var (
			r  lookedUp
			ok bool
		)
		if !pg {
			r, ok = s.lookups.get(changes, [32]byte(tokenHash))
		} else {
			var at db.ChangeStamp
			if at, r, ok = s.lookups.entry([32]byte(tokenHash)); ok {
				if e, eok := s.db.AccountStamp(r.user.ID); !eok || e != r.epoch {
					r.user.written = s.db.Written(r.user.ID) // before the counter is read
					var n int64
					switch err := s.db.Read.QueryRowContext(ctx, `SELECT changes FROM users WHERE id = ?`, r.user.ID).Scan(&n); {
					case errors.Is(err, sql.ErrNoRows):
						ok = false // the account is gone: the lookup below says so
					case err != nil:
						return Session{}, User{}, fmt.Errorf("look up session: %w", err)
					default:
						ok = at == counterStamp(n)
					}
					if ok { // the counter says it stands: under the lease, no round trip next time
						if r.epoch = s.epochOf(heard, r.user.ID); r.epoch != (db.ChangeStamp{}) {
							s.lookups.put(at, [32]byte(tokenHash), r)
						}
					}
				}
			}
		}
		if ok && s.live(r.sess, now) {
			r.sess.Data = append([]byte(nil), r.sess.Data...) // the caller may keep it
			if holdsKey != nil && r.sess.Bound() && !holdsKey(r.sess) {
				return r.sess, r.user, ErrKeyMissing
			}
			if !(touch && now.Sub(r.sess.LastActiveAt) >= touchEvery) {
				return r.sess, r.user, nil
			}
		}
	}
	var (
		u     User
		stamp []byte
	)
	args := s.liveArgs(now)
	ss, err := scanSession(s.db.Read.QueryRowContext(ctx,
		`SELECT `+sessionColumns+`, s.stamp, u.id, u.email, u.password_hash, u.password_version, u.time_zone, u.changes
		 FROM sessions s JOIN users u ON u.id = s.user_id
		 WHERE s.token_hash = ? AND `+liveCond, append([]any{tokenHash}, args...)...),
		&stamp, &u.ID, &u.Email, &u.PasswordHash, &u.PasswordVersion, &u.TimeZone, &u.changes)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, User{}, s.whyGone(ctx, tokenHash, now)
	}
	if err != nil {
		return Session{}, User{}, fmt.Errorf("look up session: %w", err)
	}
	if !hmac.Equal(stamp, s.stamp(u.PasswordHash)) {
		if err := s.endStale(ctx, ss, tokenHash); err != nil {
			return Session{}, User{}, err
		}
		return Session{}, User{}, ErrStampMismatch
	}
	if pg {
		changes = counterStamp(u.changes) // read with the session, in one snapshot
		// After the read: a commit of this process in between is one concurrent with this
		// request, which it need not see; the request's own writes come later.
		u.written = s.db.Written(u.ID)
	}
	if holdsKey != nil && ss.Bound() && !holdsKey(ss) {
		if canRemember { // a flood of such requests is answered from memory too
			kept := ss
			kept.Data = append([]byte(nil), ss.Data...)
			s.lookups.put(changes, [32]byte(tokenHash), lookedUp{sess: kept, user: u})
		}
		return ss, u, ErrKeyMissing
	}
	ip = text.Clean(ip, 64)
	if touch && now.Sub(ss.LastActiveAt) >= touchEvery {
		touched := ss
		touched.LastActiveAt = now.Truncate(time.Second).UTC()
		if ip != "" {
			touched.IP = ip
		}
		// A remembered device ends RememberFor after sign-in, as its cookie does; any
		// other ends after Idle without activity or MaxAge after sign-in, the sooner.
		touched.ExpiresAt = s.expiry(ss.Remember, ss.CreatedAt, touched.LastActiveAt)
		err := s.db.InTx(ctx, []db.Key{db.RowsOnly}, func(tx *db.Tx) error {
			tx.Stale(ss.UserID) // other servers' remembered copies carry the old expiry
			_, err := tx.ExecContext(ctx,
				`UPDATE sessions SET last_active_at = ?, expires_at = ?, ip = ? WHERE token_hash = ?`,
				unix(touched.LastActiveAt), unix(touched.ExpiresAt), touched.IP, tokenHash)
			return err
		})
		switch {
		case err == nil:
			ss = touched
		case ctx.Err() != nil:
			return Session{}, User{}, fmt.Errorf("touch session: %w", err)
		}
		// Otherwise the database cannot take writes (full, read-only, busy for too long).
		// Recording activity is bookkeeping: the session is as valid as it was, and the
		// device may still read; an action it tries will fail with the real error.
	}
	if canRemember {
		kept := ss
		kept.Data = append([]byte(nil), ss.Data...)
		s.lookups.put(changes, [32]byte(tokenHash), lookedUp{sess: kept, user: u, epoch: s.epochOf(heard, u.ID)})
	}
	return ss, u, nil
}

// epochOf is the account's stamp under this server's lease for what was read after the
// changes heard numbered heard (PostgreSQL): the stamp now, if no change was heard of
// since, and so the stamp before the read; zero (never a stamp) otherwise.
func (s *Sessions) epochOf(heard uint64, userID int64) db.ChangeStamp {
	if s.db.Engine != db.Postgres {
		return db.ChangeStamp{}
	}
	e, ok := s.db.AccountStamp(userID)
	if now, _ := s.db.Remembering(); !ok || now != heard {
		return db.ChangeStamp{}
	}
	return e
}

// whyGone tells a token that was ended from elsewhere (ErrSessionEnded), or after too
// many wrong passwords typed on it (ErrGuessedOut), from one that never existed or simply
// expired (ErrNotFound).
func (s *Sessions) whyGone(ctx context.Context, tokenHash []byte, now time.Time) error {
	var reason string
	err := s.db.Read.QueryRowContext(ctx, `SELECT reason FROM ended_sessions WHERE token_hash = ? AND expires_at > ?`,
		tokenHash, unix(now)).Scan(&reason)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("look up ended session: %w", err)
	case reason == endedGuessing.told:
		return ErrGuessedOut
	}
	return ErrSessionEnded
}

// endStale deletes a session whose stamp went stale, checking again inside the write
// transaction so a session re-stamped in the meantime is left alone.
func (s *Sessions) endStale(ctx context.Context, ss Session, tokenHash []byte) error {
	err := s.db.InTx(ctx, account(ss.UserID), func(tx *db.Tx) error {
		var (
			stamp  []byte
			pwHash string
		)
		err := tx.QueryRowContext(ctx, `SELECT s.stamp, u.password_hash FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE s.token_hash = ?`, tokenHash).Scan(&stamp, &pwHash)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // already gone
		}
		if err != nil {
			return err
		}
		if hmac.Equal(stamp, s.stamp(pwHash)) {
			return nil // re-stamped meanwhile
		}
		if _, err := endSessions(ctx, tx, endedStale, `s.token_hash = ?`, tokenHash); err != nil {
			return err
		}
		_, err = recordTx(ctx, tx, s.now(), ss.UserID, EventStampMismatch,
			Actor{IP: ss.IP, Device: ss.Device.Label()}, ss.Device.Label())
		return err
	})
	if err != nil {
		return fmt.Errorf("end stale session: %w", err)
	}
	return nil
}

// SignOut ends the session with that handle, as its own device asked, and logs it, in
// one transaction; the user's open pages hear of it. An actor without a device or IP is
// the session's own, as stored. Signing out one that is gone is not an error: the Event
// is then zero.
func (s *Sessions) SignOut(ctx context.Context, handle string, actor Actor) (Event, error) {
	var ev Event
	keys, err := ownerOf(ctx, s.db, handle)
	if err != nil {
		return Event{}, fmt.Errorf("sign out: %w", err)
	}
	err = s.db.InTx(ctx, keys, func(tx *db.Tx) error {
		var (
			userID                           int64
			ip, browser, osName, kind, model string
		)
		err := tx.QueryRowContext(ctx, `SELECT user_id, ip, browser, os, device_type, device_model FROM sessions WHERE handle = ?`, handle).
			Scan(&userID, &ip, &browser, &osName, &kind, &model)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // gone already: nothing to log
		}
		if err != nil {
			return err
		}
		if _, err := endSessions(ctx, tx, endedByItself, `s.handle = ?`, handle); err != nil {
			return err
		}
		label := device.Device{Browser: browser, OS: osName, Type: device.Type(kind), Model: model}.Known().Label()
		if actor.Device == "" {
			actor.Device = label
		}
		if actor.IP == "" {
			actor.IP = ip
		}
		ev, err = recordTx(ctx, tx, s.now(), userID, EventSignedOut, actor, label)
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("sign out: %w", err)
	}
	return ev, nil
}

// SaveData stores the session middleware's other values for a session.
func (s *Sessions) SaveData(ctx context.Context, handle string, data []byte) error {
	err := s.db.InTx(ctx, []db.Key{db.RowsOnly}, func(tx *db.Tx) error {
		var uid int64
		err := tx.QueryRowContext(ctx, `UPDATE sessions SET data = ? WHERE handle = ? RETURNING user_id`, data, handle).Scan(&uid)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		tx.Stale(uid) // remembered lookups carry the data
		return err
	})
	if err != nil {
		return fmt.Errorf("save session data: %w", err)
	}
	return nil
}

// ListForUser returns the user's live sessions, most recently active first: at most the
// cap (or 1,000 without one), so a page never grows without bound even before the sweeper
// has trimmed an account left over the cap. Each carries its confirmation lock, if any.
func (s *Sessions) ListForUser(ctx context.Context, userID int64) ([]Session, error) {
	now := s.now()
	changes, canRemember, err := accountStamp(ctx, s.db, userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	if canRemember {
		if list, ok := s.lists.get(changes, userID); ok {
			out := make([]Session, 0, len(list))
			for _, ss := range list {
				if s.live(ss, now) {
					out = append(out, ss)
				}
			}
			return out, nil
		}
	}
	args := s.liveArgs(now)
	limit := s.maxPerUser
	if limit <= 0 {
		limit = 1000
	}
	args = append([]any{unix(now), scopeConfirm, userID}, args...)
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+sessionColumns+`, COALESCE(l.until, 0) FROM sessions s
		LEFT JOIN lockouts l ON l.until > ? AND l.scope = ? AND l.key = s.handle
		WHERE s.user_id = ? AND `+liveCond+` ORDER BY s.last_active_at DESC, s.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var locked int64
		ss, err := scanSession(rows, &locked)
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		ss.ConfirmLockedUntil = fromUnix(locked)
		out = append(out, ss)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	// A list cut at the limit is not remembered: as its sessions end, older ones past
	// the limit would show, which only the database knows. Sessions that were live show
	// while they are (live), and a lock shown is compared with the time by its reader.
	if canRemember && len(out) < limit {
		s.lists.put(changes, userID, slices.Clone(out))
	}
	return out, nil
}

// ForUser returns the user's live session with that handle; ErrNotFound for an unknown,
// expired or another user's handle alike.
func (s *Sessions) ForUser(ctx context.Context, userID int64, handle string) (Session, error) {
	args := s.liveArgs(s.now())
	ss, err := scanSession(s.db.Read.QueryRowContext(ctx, forUserSQL, append([]any{handle, userID}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("session %s: %w", handle, err)
	}
	return ss, nil
}

// sweepExpired ends the sessions whose lifetime ran out, in a transaction of its own.
func (s *Sessions) sweepExpired(ctx context.Context, liveArgs []any) (int64, error) {
	var n int64
	err := s.db.InTx(ctx, []db.Key{db.Whole}, func(tx *db.Tx) (err error) {
		n, err = endSessions(ctx, tx, endedExpired, `NOT (`+liveCond+`)`, liveArgs...)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sweep sessions: %w", err)
	}
	return n, nil
}

// Sweep deletes sessions that ended under the current lifetimes (and expired records of
// ended ones), signs out the least recently active sessions of accounts over the cap (a
// lowered cap, or rows from before there was one), and returns how many sessions went and
// the events it recorded.
func (s *Sessions) Sweep(ctx context.Context) (int64, []Event, error) {
	now := s.now()
	args := s.liveArgs(now)
	n, err := s.sweepExpired(ctx, args)
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.db.Write.ExecContext(ctx, `DELETE FROM ended_sessions WHERE expires_at <= ?`, unix(now)); err != nil {
		return 0, nil, fmt.Errorf("sweep ended sessions: %w", err)
	}
	if s.maxPerUser <= 0 {
		return n, nil, nil
	}
	var over []int64
	rows, err := s.db.Read.QueryContext(ctx, `SELECT user_id FROM sessions GROUP BY user_id HAVING COUNT(*) > ?`, s.maxPerUser)
	if err != nil {
		return n, nil, fmt.Errorf("sweep: accounts over the cap: %w", err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return n, nil, fmt.Errorf("sweep: accounts over the cap: %w", err)
		}
		over = append(over, id)
	}
	rows.Close()
	var events []Event
	for _, id := range over {
		evs, err := s.trim(ctx, id)
		if err != nil {
			return n, events, fmt.Errorf("sweep: %w", err)
		}
		n += int64(len(evs))
		events = append(events, evs...)
	}
	return n, events, nil
}

// trim brings one user's sessions down to the cap, in a transaction of its own.
func (s *Sessions) trim(ctx context.Context, userID int64) ([]Event, error) {
	var evs []Event
	err := s.db.InTx(ctx, account(userID), func(tx *db.Tx) (err error) {
		evs, err = s.trimTx(ctx, tx, s.now(), userID, "", Actor{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("trim sessions: %w", err)
	}
	return evs, nil
}
