//go:build !mattn

package app

import (
	"net/url"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// Driver is the database/sql driver the starter opens its SQLite file with.
const Driver = "sqlite"

// dsn names the starter's file for modernc.org/sqlite: WAL, foreign keys, a busy
// timeout, and transactions that take the write lock at BEGIN on the writer.
func dsn(path string, writer bool) string {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	if writer {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}
