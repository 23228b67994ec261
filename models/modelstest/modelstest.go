// Package modelstest holds what the tests of every package share: cheap hashing, the
// user agents of real browsers, and a database in a temporary directory.
package modelstest

import (
	"testing"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/db/dbtest"
	"github.com/elsewhere-dev/elsewhere/models"
)

// FastHash keeps argon2id cheap in tests (1 MiB, one pass); the real parameters are
// measured by the benchmarks.
func FastHash() models.HashParams {
	return models.HashParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// User agents of real browsers, as the devices of the tests send them.
const (
	UAChromeMac      = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	UASafariIPhone   = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	UAFirefoxWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)

// OpenDB opens (and migrates) a fresh real database on the run's engine (see dbtest),
// closed when the test ends.
func OpenDB(tb testing.TB) *db.DB {
	tb.Helper()
	return dbtest.Open(tb)
}
