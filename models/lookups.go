package models

import (
	"sync"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
)

// maxRememberedLookups bounds the lookups kept between commits; past it they start over.
const maxRememberedLookups = 4096

// lookups remembers the answers of recent session lookups for as long as nothing at all
// has been committed to the database since they were read (db.ChangeStamp: any commit,
// from this process or another, a sign-out, a rotation, an operator's command, starts
// them over). So an answer given from here is the one the database would give, except
// for time, which is checked again at each use (Sessions.live). Where the database cannot
// tell whether anything changed (PostgreSQL, where other servers write), nothing is
// remembered.
type lookups struct {
	mu    sync.Mutex
	stamp db.ChangeStamp
	rows  map[[32]byte]lookedUp
}

// lookedUp is one remembered answer: the session and its user, the stamp already checked.
type lookedUp struct {
	sess Session
	user User
}

// get returns the answer remembered for tokenHash while the database is at stamp.
func (l *lookups) get(stamp db.ChangeStamp, tokenHash []byte) (Session, User, bool) {
	if len(tokenHash) != 32 {
		return Session{}, User{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stamp != stamp {
		return Session{}, User{}, false
	}
	r, ok := l.rows[[32]byte(tokenHash)]
	if !ok {
		return Session{}, User{}, false
	}
	r.sess.Data = append([]byte(nil), r.sess.Data...) // the caller may keep it
	return r.sess, r.user, true
}

// put remembers an answer read from the database at stamp (taken before the read).
func (l *lookups) put(stamp db.ChangeStamp, tokenHash []byte, sess Session, user User) {
	if len(tokenHash) != 32 {
		return
	}
	sess.Data = append([]byte(nil), sess.Data...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stamp != stamp || l.rows == nil || len(l.rows) >= maxRememberedLookups {
		l.stamp = stamp
		l.rows = make(map[[32]byte]lookedUp)
	}
	l.rows[[32]byte(tokenHash)] = lookedUp{sess: sess, user: user}
}

// live says whether a session read earlier is still signed in at now under the current
// lifetimes: liveCond, in Go.
func (s *Sessions) live(ss Session, now time.Time) bool {
	maxAgeCut := int64(-1)
	if s.life.MaxAge > 0 {
		maxAgeCut = unix(now.Add(-s.life.MaxAge))
	}
	if unix(ss.ExpiresAt) <= unix(now) {
		return false
	}
	if ss.Remember {
		return unix(ss.CreatedAt) > unix(now.Add(-s.life.Remember))
	}
	return unix(ss.LastActiveAt) > unix(now.Add(-s.life.Idle)) && unix(ss.CreatedAt) > maxAgeCut
}
