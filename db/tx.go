package db

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
)

// Tx is a write transaction. Besides the SQL it carries which users' sessions it changed,
// so that once it commits every app server can tell those users' open pages.
type Tx struct {
	*sql.Tx
	d       *DB
	changed []int64
}

// Begin starts a write transaction. On SQLite it holds the single writer; on PostgreSQL it
// holds the database's writer lock, so writes are serialized on every engine alike.
func (d *DB) Begin(ctx context.Context) (*Tx, error) {
	tx, err := d.Write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{Tx: tx, d: d}, nil
}

// Changed records that userID's sessions changed. Watchers hear of it when the
// transaction commits, and not at all if it rolls back: on PostgreSQL through NOTIFY,
// which the server delivers at commit to every app server listening; on SQLite in process.
func (t *Tx) Changed(ctx context.Context, userID int64) error {
	if t.d.pg != nil {
		if _, err := t.ExecContext(ctx, `SELECT pg_notify(?, ?)`, t.d.pg.channel, strconv.FormatInt(userID, 10)); err != nil {
			return fmt.Errorf("notify change: %w", err)
		}
		return nil
	}
	t.changed = append(t.changed, userID)
	return nil
}

// Commit commits the transaction and then wakes the watchers of the users it changed.
func (t *Tx) Commit() error {
	if err := t.Tx.Commit(); err != nil {
		return err
	}
	if len(t.changed) > 0 {
		t.d.feed.publish(t.changed...)
		t.changed = nil
	}
	return nil
}

// Watch returns a channel that receives a value soon after any change to userID's
// sessions commits, from this app server or, on PostgreSQL, any other; and a function
// that ends the watch. Wake-ups coalesce: a watcher rereads what it shows. The channel is
// closed when the database is closed.
func (d *DB) Watch(userID int64) (<-chan struct{}, func()) {
	if d.pg != nil {
		d.pg.listen(d)
	}
	return d.feed.watch(userID)
}

// InTx runs f in a write transaction and commits it when f succeeds. On an error, from f
// or from the commit, the transaction rolls back and nothing of it remains. It is the one
// place the begin, roll back, commit dance is written; f hands its results out through
// the variables it closes over.
func (d *DB) InTx(ctx context.Context, f func(*Tx) error) error {
	tx, err := d.Begin(ctx)
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
