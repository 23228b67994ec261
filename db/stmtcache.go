package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
)

// maxCachedStmts bounds the statements one connection keeps prepared. The models run a
// fixed set of a few dozen; anything beyond (a statement built at run time) is prepared
// and finalized per use, as without the cache.
const maxCachedStmts = 128

// stmtCache is a connector for SQLite connections that keep every statement they run
// prepared, keyed by its text, for the connection's lifetime: modernc's SQLite parses
// and plans a statement at each Query or Exec otherwise, which was most of the cost of
// a session lookup. pgx does the same on PostgreSQL (its per-connection statement
// cache), so the models' plain QueryContext/ExecContext calls stay as they are.
type stmtCache struct {
	dsn string
	drv driver.Driver
}

// Connect opens one connection with an empty statement cache.
func (c stmtCache) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

// Driver is the SQLite driver the connections come from.
func (c stmtCache) Driver() driver.Driver { return c.drv }

// cachingConn is one SQLite connection and its prepared statements. database/sql uses a
// connection from one goroutine at a time; a statement whose rows are still open (a
// second query inside the same transaction) is not reused meanwhile.
type cachingConn struct {
	driver.Conn
	stmts map[string]*cachedStmt
}

// cachedStmt is a prepared statement; busy while rows read from it are open.
type cachedStmt struct {
	stmt driver.Stmt
	busy bool
}

// the interfaces of modernc's connection that database/sql looks for.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

func (c *cachingConn) inner() sqliteConn { return c.Conn.(sqliteConn) }

// BeginTx begins a transaction on the connection.
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner().BeginTx(ctx, opts)
}

// PrepareContext prepares a statement the caller owns (database/sql's Prepare).
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner().PrepareContext(ctx, query)
}

// Ping checks the connection.
func (c *cachingConn) Ping(ctx context.Context) error { return c.inner().Ping(ctx) }

// ResetSession is called before the pool hands the connection out again.
func (c *cachingConn) ResetSession(ctx context.Context) error { return c.inner().ResetSession(ctx) }

// IsValid reports whether the pool may keep the connection.
func (c *cachingConn) IsValid() bool { return c.inner().IsValid() }

// Close finalizes every cached statement, then closes the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for q, cs := range c.stmts {
		errs = append(errs, cs.stmt.Close())
		delete(c.stmts, q)
	}
	return errors.Join(append(errs, c.Conn.Close())...)
}

// cacheable says whether query may be kept prepared: one statement (a script of several
// is parsed again at each run by the driver anyway) and room left.
func (c *cachingConn) cacheable(query string) bool {
	return len(c.stmts) < maxCachedStmts && !strings.Contains(query, ";")
}

// stmt returns the cached statement for query, preparing it on first use; nil when the
// query is not to be cached or its statement is in use.
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			return nil, nil
		}
		return cs, nil
	}
	if !c.cacheable(query) {
		return nil, nil
	}
	st, err := c.inner().PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{stmt: st}
	c.stmts[query] = cs
	return cs, nil
}

// drop forgets a statement that failed, so the next use prepares it afresh.
func (c *cachingConn) drop(query string, cs *cachedStmt) {
	if c.stmts[query] == cs {
		delete(c.stmts, query)
	}
	cs.stmt.Close()
}

// ExecContext runs query through its cached statement.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.inner().ExecContext(ctx, query, args)
	}
	res, err := cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	if err != nil {
		c.drop(query, cs)
	}
	return res, err
}

// QueryContext runs query through its cached statement; the statement is in use until
// the rows are closed.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.inner().QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.drop(query, cs)
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, cs: cs}, nil
}

// cachedRows are rows read from a cached statement, which they free when closed.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

// Close ends the rows and makes their statement available again.
func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.cs.busy = false
	return err
}
