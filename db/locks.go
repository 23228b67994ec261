package db

import (
	"hash/fnv"
	"slices"
	"strconv"
)

// Key names what a write transaction serializes on. On PostgreSQL each key is an advisory
// lock held until the transaction ends, so transactions on different accounts run in
// parallel on every app server while the read-then-write steps of one account (a
// confirmation, the per-device lock, the cap, a sign-in racing a password change) stay
// one at a time, as they were under one lock for the whole database. On SQLite, whose
// single writer serializes every write anyway, keys change nothing.
type Key struct {
	kind, name string
}

// Account is the key of everything one account owns: its sessions, its log, its devices,
// its password. Every transaction that reads an account's rows to decide a write takes it.
func Account(userID int64) Key { return Key{kind: "account", name: strconv.FormatInt(userID, 10)} }

// Named is the key of something that is not an account's: a rate-limit counter (its scope
// and key), an email not yet an account (sign-up), the mail outbox.
func Named(kind, name string) Key { return Key{kind: kind, name: name} }

// Whole is the key of the whole database: it waits for every other writer and holds them
// all off, for the rare transaction that spans every account (the sweeper's).
var Whole = Key{kind: "whole"}

// RowsOnly takes no advisory lock: for writes whose statements are each complete in
// themselves (a touch, a counter reset), which PostgreSQL's row locks keep whole.
var RowsOnly = Key{kind: "rows"}

// lockID is k's advisory lock number within schema: a hash, so two keys may share one
// by chance, which only serializes them.
func (k Key) lockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("elsewhere " + schema + "\x00" + k.kind + "\x00" + k.name))
	return int64(h.Sum64())
}

// lockPlan is what a transaction on keys takes on PostgreSQL: the whole-database lock,
// shared (any key) or exclusive (Whole), then the keys' own locks in ascending order, so
// two transactions wanting the same keys never wait for each other in a circle.
func lockPlan(schema string, keys []Key) (exclusive bool, ids []int64, none bool) {
	if len(keys) == 0 {
		return true, nil, false
	}
	for _, k := range keys {
		switch k {
		case Whole:
			return true, nil, false
		case RowsOnly:
			continue
		}
		ids = append(ids, k.lockID(schema))
	}
	if len(ids) == 0 {
		return false, nil, true
	}
	slices.Sort(ids)
	return false, slices.Compact(ids), false
}
