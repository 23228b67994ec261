//go:build mattn && cgo

package dbtest

import (
	"database/sql"
	"net/url"

	_ "github.com/mattn/go-sqlite3" // registers "sqlite3", as go-blueprint's starters use
)

func init() {
	Driver = "mattn"
	rawPool = func(path string) (*sql.DB, error) {
		return sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	}
	hostPools = func(path string) (*sql.DB, *sql.DB, error) {
		dsn := func(writer bool) string {
			q := url.Values{}
			q.Set("_journal_mode", "WAL")
			q.Set("_busy_timeout", "10000")
			q.Set("_foreign_keys", "on")
			q.Set("_synchronous", "NORMAL")
			if writer {
				q.Set("_txlock", "immediate")
			}
			return "file:" + path + "?" + q.Encode()
		}
		w, err := sql.Open("sqlite3", dsn(true))
		if err != nil {
			return nil, nil, err
		}
		w.SetMaxOpenConns(1)
		r, err := sql.Open("sqlite3", dsn(false))
		if err != nil {
			w.Close()
			return nil, nil, err
		}
		return w, r, nil
	}
}
