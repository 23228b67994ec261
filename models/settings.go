package models

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"

	"github.com/elsewhere-dev/elsewhere/db"
)

// StampSecret returns the key that password stamps are made with: given, or else the one
// kept in the database, generated on first start.
func StampSecret(ctx context.Context, d *db.DB, given []byte) ([]byte, error) {
	if len(given) > 0 {
		if len(given) < 32 {
			return nil, errors.New("stamp secret: give at least 32 bytes")
		}
		return given, nil
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	if _, err := d.Write.ExecContext(ctx,
		`INSERT INTO settings (name, value) VALUES ('stamp_secret', ?) ON CONFLICT (name) DO NOTHING`, fresh); err != nil {
		return nil, fmt.Errorf("stamp secret: %w", err)
	}
	var secret []byte
	err := d.Write.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'stamp_secret'`).Scan(&secret)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, errors.New("stamp secret: not stored, though it was just written")
	case err != nil:
		return nil, fmt.Errorf("stamp secret: %w", err)
	case len(secret) < 32:
		return nil, fmt.Errorf("stamp secret: the stored one is %d bytes, want at least 32", len(secret))
	}
	return secret, nil
}
