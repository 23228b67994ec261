package models

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/elsewhere-dev/elsewhere/db"
)

// maxRemembered bounds the answers kept; past it they start over.
const maxRemembered = 4096

// remembered keeps the answers of recent reads, each with the stamp it was read under,
// and gives one back only while the stamp is still the same:
//
//   - On SQLite the stamp is the database's (db.ChangeStamp): any commit at all, from this
//     process or another (a sign-out, a rotation, an operator's command), changes it.
//   - On PostgreSQL, while this app server holds its lease (db/coherence.go), it is the
//     account's epoch here, which every write to the account moves on every server
//     before the writer answers: no round trip at all. Without the lease:
//   - On PostgreSQL, where other app servers write, it is the account's change counter
//     (users.changes, see accountStamp), which every write transaction that touches the
//     account moves, in the same transaction (db.Tx.Stale). The counter is read in the
//     same statement as the session lookup, or, for what a page reads after it, taken
//     from that lookup: a request therefore sees every commit that finished before the
//     request began. A commit that finishes while the request runs may or may not be
//     seen; the request is then concurrent with it, as it is on one server. What a
//     concurrent commit cannot do is make a remembered answer pass for newer than it
//     is: an answer is stored under the counter read before (or with) its data, so
//     data from after a change is at worst filed under the count before it, and missed.
//
// An answer given from here is the one the database gave under the same stamp; what
// depends on time is checked again by the caller at each use.
type remembered[K comparable, V any] struct {
	mu   sync.Mutex
	rows map[K]stamped[V]
}

type stamped[V any] struct {
	stamp db.ChangeStamp
	v     V
}

// get returns the answer remembered for key if it was read at stamp.
func (r *remembered[K, V]) get(stamp db.ChangeStamp, key K) (V, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.rows[key]
	if !ok || e.stamp != stamp {
		var zero V
		return zero, false
	}
	return e.v, true
}

// entry returns the answer remembered for key and the stamp it was read at.
func (r *remembered[K, V]) entry(key K) (db.ChangeStamp, V, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.rows[key]
	return e.stamp, e.v, ok
}

// put remembers an answer read from the database at stamp (taken before the read).
func (r *remembered[K, V]) put(stamp db.ChangeStamp, key K, v V) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rows == nil || len(r.rows) >= maxRemembered {
		r.rows = make(map[K]stamped[V])
	}
	r.rows[key] = stamped[V]{stamp: stamp, v: v}
}

// lookedUp is one remembered session lookup: the session and its user, the password
// stamp already checked.
type lookedUp struct {
	sess Session
	user User
	// epoch is the account's stamp on this server when it was read (PostgreSQL, under
	// the lease; zero otherwise): while it stands, the answer needs no round trip.
	epoch db.ChangeStamp
}

// counterStamp is the stamp of an account whose change counter reads n (PostgreSQL).
func counterStamp(n int64) db.ChangeStamp {
	var s db.ChangeStamp
	s[0] = 'c' // never a WAL index header's first byte pattern; the engines never mix anyway
	binary.BigEndian.PutUint64(s[1:9], uint64(n))
	return s
}

// seenKey carries, in a request's context, the account and change counter its session
// lookup read (WithSeen).
type seenKey struct{}

type seen struct {
	userID, changes int64
	written         uint64
}

// WithSeen returns ctx carrying the change counter that u's lookup read, so what the
// request reads of the account after the lookup is checked against it without another
// round trip. The session middleware calls it once per request.
func WithSeen(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, seenKey{}, seen{userID: u.ID, changes: u.changes, written: u.written})
}

// accountStamp is the stamp what is remembered of userID's account must carry to be
// used now (see remembered); ok is false where nothing may be remembered.
func accountStamp(ctx context.Context, d *db.DB, userID int64) (db.ChangeStamp, bool, error) {
	if s, ok := d.AccountStamp(userID); ok || d.Engine != db.Postgres {
		return s, ok, nil // SQLite's change stamp, or this server's epoch under its lease
	}
	// The lookup's counter stands unless this process has written to the account since
	// (the request's own action, most often): then it is read again.
	if sn, ok := ctx.Value(seenKey{}).(seen); ok && sn.userID == userID && d.Written(userID) == sn.written {
		return counterStamp(sn.changes), true, nil
	}
	var n int64
	switch err := d.Read.QueryRowContext(ctx, `SELECT changes FROM users WHERE id = ?`, userID).Scan(&n); {
	case errors.Is(err, sql.ErrNoRows):
		return db.ChangeStamp{}, false, nil // no such account: the read itself says what there is
	case err != nil:
		return db.ChangeStamp{}, false, fmt.Errorf("account changes: %w", err)
	}
	return counterStamp(n), true, nil
}
