package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/elsewhere-dev/elsewhere/db"
)

// The keys of the models' write transactions (see db.Key): what one account owns is
// written under its key, so its read-then-write steps stay one at a time on every app
// server while other accounts' run in parallel.

// account is the key of the user's account.
func account(userID int64) []db.Key { return []db.Key{db.Account(userID)} }

// ownerOf is the key of the account that owns the session handle, read before the
// transaction begins: a handle's owner never changes, and a handle not found now is
// never found inside the transaction either (handles are never reused, and a device
// learns its handle only once its session is committed). On SQLite, whose one writer
// serializes everything, it reads nothing.
func ownerOf(ctx context.Context, d *db.DB, handle string) ([]db.Key, error) {
	return ownerBy(ctx, d, `SELECT user_id FROM sessions WHERE handle = ?`, handle)
}

// ownerBy is ownerOf for any query that names one account's id.
func ownerBy(ctx context.Context, d *db.DB, query string, args ...any) ([]db.Key, error) {
	if d.Engine != db.Postgres {
		return nil, nil
	}
	var uid int64
	switch err := d.Read.QueryRowContext(ctx, query, args...).Scan(&uid); {
	case errors.Is(err, sql.ErrNoRows):
		return []db.Key{db.RowsOnly}, nil
	case err != nil:
		return nil, fmt.Errorf("whose account: %w", err)
	}
	return account(uid), nil
}

// limitKeys are the keys of the rate-limit counters keys name.
func limitKeys(keys []LimitKey) []db.Key {
	out := make([]db.Key, 0, len(keys))
	for _, k := range keys {
		if k.Key != "" {
			out = append(out, db.Named("limit "+k.Limit.Scope, k.Key))
		}
	}
	if len(out) == 0 {
		out = append(out, db.RowsOnly)
	}
	return out
}
