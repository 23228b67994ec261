package db

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
)

// Tx is a write transaction. Besides the SQL it carries which users' sessions it changed,
// so that once it commits every app server can tell those users' open pages.
type Tx struct {
	*sql.Tx
	d        *DB
	changed  []int64
	stale    []int64 // accounts whose change counter moves at commit (PostgreSQL)
	staleSet map[int64]bool
}

// Begin starts a write transaction on keys (none: Whole). On SQLite it holds the single
// writer; on PostgreSQL it holds the keys' advisory locks (see Key), taken in one round
// trip before anything is read.
func (d *DB) Begin(ctx context.Context, keys ...Key) (*Tx, error) {
	tx, err := d.Write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	t := &Tx{Tx: tx, d: d}
	if d.pg != nil {
		if err := t.lock(ctx, keys); err != nil {
			tx.Rollback()
			return nil, err
		}
		for _, k := range keys {
			if k.kind == "account" {
				id, _ := strconv.ParseInt(k.name, 10, 64)
				t.stale = append(t.stale, id)
			}
		}
	}
	return t, nil
}

// lock takes the advisory locks of keys on PostgreSQL (lockPlan says which, and in what
// order). Each waits at most lock_timeout, then the transaction fails as busy.
func (t *Tx) lock(ctx context.Context, keys []Key) error {
	exclusive, ids, none := lockPlan(t.d.pg.schema, keys)
	whole := Whole.lockID(t.d.pg.schema)
	var err error
	switch {
	case none:
		return nil
	case exclusive:
		_, err = t.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, whole)
	case len(ids) == 1: // the usual case, one round trip; arguments are evaluated in order
		_, err = t.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared(?), pg_advisory_xact_lock(?)`, whole, ids[0])
	default:
		if _, err = t.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared(?)`, whole); err == nil {
			for _, id := range ids {
				if _, err = t.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, id); err != nil {
					break
				}
			}
		}
	}
	if err != nil {
		return fmt.Errorf("take the write locks: %w", err)
	}
	return nil
}

// Stale records that what is remembered of userID's account must not be used after this
// transaction commits: on PostgreSQL the account's change counter (users.changes) moves
// in the same transaction, so it moves exactly when the change becomes visible (see
// models/remembered.go). SQLite's change stamp moves with every commit by itself.
func (t *Tx) Stale(userID int64) {
	if t.d.pg == nil {
		return
	}
	if t.staleSet == nil {
		t.staleSet = make(map[int64]bool)
		for _, id := range t.stale {
			t.staleSet[id] = true
		}
	}
	if !t.staleSet[userID] {
		t.staleSet[userID] = true
		t.stale = append(t.stale, userID)
	}
}

// Changed records that userID's sessions changed. Watchers hear of it when the
// transaction commits, and not at all if it rolls back: on PostgreSQL in the change
// message Commit sends inside the transaction, which the server delivers at commit to
// every app server listening (db/coherence.go); on SQLite in process.
func (t *Tx) Changed(userID int64) {
	t.Stale(userID)
	t.changed = append(t.changed, userID)
}

// Commit moves the change counters of the accounts the transaction may have changed and
// tells the other app servers (PostgreSQL), commits, wakes the watchers of the users it
// changed, and returns once the other servers can no longer answer for those accounts
// from what they remembered before (db/coherence.go).
func (t *Tx) Commit() error {
	var seq uint64
	if len(t.stale) > 0 {
		slices.Sort(t.stale) // one order for every transaction: no circular row-lock waits
		for _, id := range t.stale {
			if _, err := t.Exec(`UPDATE users SET changes = changes + 1 WHERE id = ?`, id); err != nil {
				return fmt.Errorf("move the change counter: %w", err)
			}
		}
		var msg string
		seq, msg = t.d.pg.co.change(t.stale, t.changed)
		if _, err := t.Exec(`SELECT pg_notify(?, ?)`, t.d.pg.channel, msg); err != nil {
			return fmt.Errorf("tell the other servers: %w", err)
		}
	}
	if err := t.Tx.Commit(); err != nil {
		return err
	}
	for _, id := range t.stale {
		t.d.written[uint64(id)%uint64(len(t.d.written))].Add(1)
	}
	if t.d.pg == nil && len(t.changed) > 0 { // on PostgreSQL the listener wakes them, here too
		t.d.feed.publish(t.changed...)
		t.changed = nil
	}
	if seq != 0 {
		// The client hears back once every server, this one too, has heard of the change
		// (and forgotten what it remembered of the accounts), or can no longer answer
		// from memory (db/coherence.go).
		co := t.d.pg.co
		co.await(seq, co.now())
	}
	return nil
}

// Watch returns a channel that receives a value soon after any change to userID's
// sessions commits, from this app server or, on PostgreSQL, any other (on SQLite, a
// commit by another process wakes every watcher within commitsEvery); and a function
// that ends the watch. Wake-ups coalesce: a watcher rereads what it shows. The channel is
// closed when the database is closed.
func (d *DB) Watch(userID int64) (<-chan struct{}, func()) {
	if d.pg != nil {
		d.pg.listen(d)
	}
	if d.changes != nil {
		d.changes.watchCommits(&d.feed)
	}
	return d.feed.watch(userID)
}

// Written counts the commits of this process that moved userID's change counter (and,
// by chance, others'): a request that read the counter before, and finds this count
// unchanged, knows that its own process has not changed the account since, so the
// counter it read still stands for everything this process did before the request.
func (d *DB) Written(userID int64) uint64 {
	return d.written[uint64(userID)%uint64(len(d.written))].Load()
}

// InTx runs f in a write transaction on keys (see Key) and commits it when f succeeds. On an error, from f
// or from the commit, the transaction rolls back and nothing of it remains. It is the one
// place the begin, roll back, commit dance is written; f hands its results out through
// the variables it closes over.
func (d *DB) InTx(ctx context.Context, keys []Key, f func(*Tx) error) error {
	tx, err := d.Begin(ctx, keys...)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
