package models_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/db/dbtest"
	"github.com/elsewhere-dev/elsewhere/models"
)

// TestWriterLockWhateverTheIsolation: on PostgreSQL the write locks serialize the models'
// read-then-write steps (here the rate limiter's count-then-reserve, under its counter's
// lock) even where
// the server, database or role defaults to REPEATABLE READ, whose snapshot would
// otherwise be taken before the lock is granted.
func TestWriterLockWhateverTheIsolation(t *testing.T) {
	for _, iso := range []string{"", "repeatable%20read", "serializable"} {
		t.Run("default_transaction_isolation="+iso, func(t *testing.T) {
			dsn := dbtest.PostgresDSN(t)
			if iso != "" {
				dsn += "&default_transaction_isolation=" + iso
			}
			d, err := db.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			// Deterministically: a write transaction runs READ COMMITTED whatever the
			// server's default, so each statement after the lock sees what the lock's
			// previous holder committed.
			tx, err := d.Begin(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var level string
			if err := tx.QueryRowContext(context.Background(), `SELECT current_setting('transaction_isolation')`).Scan(&level); err != nil {
				t.Fatal(err)
			}
			tx.Rollback()
			if level != "read committed" {
				t.Errorf("a write transaction runs %q, want read committed", level)
			}
			lm := models.NewLimiter(d, time.Now)
			key := models.LimitKey{Limit: models.Limit{Scope: "login-email", Max: 5, Window: time.Hour, Lock: time.Hour}, Key: "ann@example.com"}
			var passed, failed atomic.Int64
			var wg sync.WaitGroup
			for range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, wait, err := lm.Try(context.Background(), key)
					switch {
					case err != nil:
						failed.Add(1)
					case wait == 0:
						passed.Add(1)
					}
				}()
			}
			wg.Wait()
			if passed.Load() != 5 || failed.Load() != 0 {
				t.Errorf("%d of 40 parallel attempts passed a limit of 5, %d failed; want 5 and 0", passed.Load(), failed.Load())
			}
		})
	}
}
