package models

import (
	"sync"

	"github.com/elsewhere-dev/elsewhere/db"
)

// maxRemembered bounds the answers kept between commits; past it they start over.
const maxRemembered = 4096

// remembered keeps the answers of recent reads for as long as nothing at all has been
// committed to the database since they were read (db.ChangeStamp: any commit, from this
// process or another, a sign-out, a rotation, an operator's command, starts them over).
// An answer given from here is the one the database gave under the same stamp; what
// depends on time is checked again by the caller at each use. Where the database cannot
// tell whether anything changed (PostgreSQL, where other servers write), nothing is
// remembered.
type remembered[K comparable, V any] struct {
	mu    sync.Mutex
	stamp db.ChangeStamp
	rows  map[K]V
}

// get returns the answer remembered for key while the database is at stamp.
func (r *remembered[K, V]) get(stamp db.ChangeStamp, key K) (V, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var zero V
	if r.stamp != stamp {
		return zero, false
	}
	v, ok := r.rows[key]
	return v, ok
}

// put remembers an answer read from the database at stamp (taken before the read).
func (r *remembered[K, V]) put(stamp db.ChangeStamp, key K, v V) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stamp != stamp || r.rows == nil || len(r.rows) >= maxRemembered {
		r.stamp = stamp
		r.rows = make(map[K]V)
	}
	r.rows[key] = v
}

// lookedUp is one remembered session lookup: the session and its user, the password
// stamp already checked.
type lookedUp struct {
	sess Session
	user User
}
