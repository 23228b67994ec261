//go:build mattn

package app

import (
	"net/url"

	_ "github.com/mattn/go-sqlite3" // cgo SQLite, registered as "sqlite3", as go-blueprint's starters use
)

// Driver is the database/sql driver the starter opens its SQLite file with.
const Driver = "sqlite3"

// dsn names the starter's file for mattn/go-sqlite3: WAL, foreign keys, a busy
// timeout, and transactions that take the write lock at BEGIN on the writer.
func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	if writer {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}
