package db

import (
	"context"
	"errors"
	"fmt"
)

// Ready reports whether the database can serve requests, for a load balancer's readiness
// probe: the read pool answers a read of real tables (Ping), the write pool answers a
// query on a real table (on SQLite that waits for the one writer connection, so a writer
// stuck past ctx shows), and on PostgreSQL the connection that LISTENs for other app
// servers' changes is in place (it is started here if no page has asked for it yet). The
// error says which part failed.
func (d *DB) Ready(ctx context.Context) error {
	if err := d.Ping(ctx); err != nil {
		return fmt.Errorf("read pool: %w", err)
	}
	var n int
	if err := d.Write.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) AS u`).Scan(&n); err != nil {
		return fmt.Errorf("write pool: %w", err)
	}
	if d.pg != nil {
		d.pg.listen(d)
		if !d.pg.connected.Load() {
			return errors.New("change feed: the PostgreSQL LISTEN connection is down")
		}
	}
	return nil
}
