package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsPostgres reports whether a -db value names a PostgreSQL database rather than a file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Describe names the database dsn opens for a log line: a PostgreSQL URL without its
// password.
func Describe(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres (unparsable URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// pgState is what a PostgreSQL database needs beyond its pools: the channel its changes
// travel on between app servers, and the listener that receives them.
type pgState struct {
	cfg     *pgx.ConnConfig
	channel string // NOTIFY channel, one per schema, so databases sharing a server stay apart
	schema  string // the advisory locks' namespace (Key.lockID), so databases sharing a server stay apart

	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc
	done    chan struct{}
	// connected is whether the LISTEN is in place, for readiness (db/ready.go).
	connected atomic.Bool
	co        *coherence // what lets this server answer from memory (db/coherence.go)
	gate      sync.Mutex // held by the listener while it handles a message
	asked     *atomic.Uint64
}

// Reads counts the statements this app server has sent PostgreSQL through its read pool
// (0 on SQLite), for tests and metrics.
func (d *DB) Reads() uint64 {
	if d.pg == nil {
		return 0
	}
	return d.pg.asked.Load()
}

// openPostgres connects to PostgreSQL through pgx and migrates the schema. Model code is
// shared with SQLite: its ? placeholders become $n here, and every write transaction
// takes the advisory locks of its keys first (Key: an account's, a rate-limit counter's),
// so the models' read-then-write steps keep their guarantees across app servers while
// transactions on different accounts run in parallel. Reads run on their own pool.
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// A server that vanished (a cut network, not a closed socket) is noticed within about
	// 30 s, on every connection: a writer holding the lock, the listener waiting for news.
	dialer := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}}
	cfg.DialFunc = dialer.DialContext
	asked := new(atomic.Uint64)
	read := sql.OpenDB(&pgConnector{inner: stdlib.GetConnector(*cfg), asked: asked})
	read.SetMaxOpenConns(16)
	read.SetMaxIdleConns(16)
	read.SetConnMaxIdleTime(5 * time.Minute)
	var schema sql.NullString
	if err := read.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		read.Close()
		return nil, fmt.Errorf("open database %s: %w", redact(cfg), err)
	}
	if !schema.Valid {
		read.Close()
		return nil, fmt.Errorf("open database %s: no schema to create tables in: check search_path", redact(cfg))
	}
	pg := &pgState{cfg: cfg, channel: channelName(schema.String), schema: schema.String, co: newCoherence(), asked: asked}
	// A writer waits for its locks as SQLite's writer waits out a busy database: ten
	// seconds, then the request fails as busy (503) rather than hanging.
	wcfg := cfg.Copy()
	if _, ok := wcfg.RuntimeParams["lock_timeout"]; !ok {
		wcfg.RuntimeParams["lock_timeout"] = "10s"
	}
	// An app server that stops mid-transaction, holding its locks, loses them after a
	// minute rather than when PostgreSQL finds the connection dead.
	if _, ok := wcfg.RuntimeParams["idle_in_transaction_session_timeout"]; !ok {
		wcfg.RuntimeParams["idle_in_transaction_session_timeout"] = "60s"
	}
	write := sql.OpenDB(&pgConnector{inner: stdlib.GetConnector(*wcfg), writer: true})
	// Enough writers for transactions on several accounts at once; one account's wait
	// for its lock in PostgreSQL, not for a connection here.
	write.SetMaxOpenConns(16)
	write.SetMaxIdleConns(16)
	write.SetConnMaxIdleTime(5 * time.Minute)
	if err := migratePostgres(ctx, write, Whole.lockID(schema.String)); err != nil {
		read.Close()
		write.Close()
		return nil, err
	}
	d := &DB{Write: write, Read: read, Engine: Postgres, pg: pg}
	// Listening from the start: a commit waits for the other servers to hear of it, and
	// hears that they did on this connection (db/coherence.go).
	pg.listen(d)
	return d, nil
}

// redact names the database without its password, for messages.
func redact(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("postgres %s@%s/%s", cfg.User, cfg.Host, cfg.Database)
}

func channelName(schema string) string {
	if schema == "public" {
		return "elsewhere"
	}
	if c := "elsewhere_" + schema; len(c) <= 63 {
		return c
	}
	h := fnv.New64a()
	h.Write([]byte(schema))
	return "elsewhere_" + strconv.FormatUint(h.Sum64(), 16)
}

// The schema is written once, in schema.sql, in the SQL both engines share; these are the
// words PostgreSQL spells differently. Unix times and ids are 64-bit on both.
var pgTypes = strings.NewReplacer(
	"INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
	"INTEGER", "BIGINT",
	"BLOB", "BYTEA",
)

// PostgresSchema is Schema as PostgreSQL runs it.
func PostgresSchema() string { return pgTypes.Replace(Schema) }

// pgSince is the schema version PostgreSQL support began with: a PostgreSQL database is
// created at it, and only migrations after it need a PostgreSQL text.
const pgSince = 3

// pgMigrations[v] moves a PostgreSQL database from version v to v+1, for v >= pgSince.
var pgMigrations = map[int]string{
	3: `ALTER TABLE sessions ADD COLUMN device_id BIGINT NOT NULL DEFAULT 0;`,
	4: pgTypes.Replace(migrations[3]), // the same words as SQLite's, in PostgreSQL's types
	5: pgTypes.Replace(migrations[4]),
	6: pgTypes.Replace(migrations[5]),
}

// migratePostgres brings a PostgreSQL schema to Version, under the whole database's lock
// (whole), so app servers starting together migrate once.
func migratePostgres(ctx context.Context, w *sql.DB, whole int64) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, whole); err != nil {
		return fmt.Errorf("migrate: take the lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var v int
	switch err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		v = 0
	case err != nil:
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if v > Version {
		return fmt.Errorf("migrate: database is at schema version %d, newer than this build's %d", v, Version)
	}
	if v > 0 {
		for i := max(v, pgSince); i < Version; i++ {
			m, ok := pgMigrations[i]
			if !ok {
				return fmt.Errorf("migrate: no PostgreSQL migration from version %d", i)
			}
			if _, err := tx.ExecContext(ctx, m); err != nil {
				return fmt.Errorf("migrate: version %d to %d: %w", i, i+1, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, PostgresSchema()); err != nil {
		return fmt.Errorf("migrate: apply schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM schema_version`); err != nil {
		return fmt.Errorf("migrate: set version: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, Version); err != nil {
		return fmt.Errorf("migrate: set version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// listen starts, once, the goroutine that receives this schema's changes from every app
// server and wakes the local watchers.
func (p *pgState) listen(d *DB) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return
	}
	p.started = true
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	ready := make(chan struct{})
	go p.run(ctx, d, ready)
	go p.keepLease(ctx, d)
	// The first watcher must not miss a change made right after it asked: wait until the
	// LISTEN is in place (or has failed once; it is retried, and watchers reread on success).
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
	}
}

// run holds a connection that LISTENs on the channel, reconnecting after a failure with
// a growing pause. After a reconnection every watcher is woken, since changes may have
// been missed while it was down.
func (p *pgState) run(ctx context.Context, d *DB, ready chan struct{}) {
	defer close(p.done)
	signal := func() {
		if ready != nil {
			close(ready)
			ready = nil
		}
	}
	defer signal()
	pause := 100 * time.Millisecond
	for first := true; ctx.Err() == nil; first = false {
		err := p.listenOnce(ctx, d, func() {
			p.co.lost() // what was missed while down: no lease until a ping sent now is back
			p.connected.Store(true)
			signal()
			pause = 100 * time.Millisecond
			if !first {
				d.feed.publishAll()
			}
		})
		p.connected.Store(false)
		p.co.lost()
		if ctx.Err() != nil {
			return
		}
		signal()
		d.log("live changes: lost the PostgreSQL listener; reconnecting", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(pause*2, 5*time.Second)
	}
}

func (p *pgState) listenOnce(ctx context.Context, d *DB, listening func()) error {
	conn, err := pgx.ConnectConfig(ctx, p.cfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{p.channel}.Sanitize()); err != nil {
		return err
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		p.gate.Lock() // tests hold it to stand for a listener that has fallen behind
		p.co.heardFrom(n.Payload, &d.feed)
		p.gate.Unlock()
	}
}

func (p *pgState) stop(d *DB) {
	p.mu.Lock()
	started, cancel, done := p.started, p.cancel, p.done
	p.mu.Unlock()
	if started {
		if p.connected.Load() { // the others need not wait for this server's acks any more
			p.co.until.Store(0) // and it answers nothing from memory from now on
			ctx, stop := context.WithTimeout(context.Background(), time.Second)
			p.notify(ctx, d, "q "+p.co.self)
			stop()
		}
		cancel()
		<-done
	}
}

// placeholder finds the ? placeholders outside quoted text and comments.
var placeholder = regexp.MustCompile(`'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*[\s\S]*?\*/|\?`)

// rebound caches each statement's PostgreSQL text: the models' statements are constants.
var rebound sync.Map

// rebind turns a statement's ? placeholders into PostgreSQL's $1, $2, ...
func rebind(query string) string {
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	if !strings.Contains(query, "?") {
		return query
	}
	n := 0
	q := placeholder.ReplaceAllStringFunc(query, func(m string) string {
		if m != "?" {
			return m
		}
		n++
		return "$" + strconv.Itoa(n)
	})
	rebound.Store(query, q)
	return q
}

// pgConnector opens pgx connections that take the models' SQL as it is written.
type pgConnector struct {
	inner  driver.Connector
	writer bool           // the writer pool: its transactions run READ COMMITTED
	asked  *atomic.Uint64 // the read pool's: counts the statements it runs (Reads)
}

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{inner: conn.(*stdlib.Conn), writer: c.writer, asked: c.asked}, nil
}

func (c *pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn rewrites placeholders; on the writer pool its transactions run READ COMMITTED
// (Tx takes the locks, as the transaction's first statement).
type pgConn struct {
	inner  *stdlib.Conn
	writer bool
	inTx   bool
	asked  *atomic.Uint64
}

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.inner.Prepare(rebind(query))
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, rebind(query))
}

func (c *pgConn) Close() error { return c.inner.Close() }

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.writer && opts.Isolation == driver.IsolationLevel(sql.LevelDefault) {
		// READ COMMITTED whatever the server's default: each statement then sees what the
		// previous holder of the transaction's locks committed. Under REPEATABLE READ the
		// snapshot would be taken by the lock statement, before the locks are granted.
		opts.Isolation = driver.IsolationLevel(sql.LevelReadCommitted)
	}
	tx, err := c.inner.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.inTx = true
	return &pgTx{inner: tx, c: c}, nil
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.asked != nil {
		c.asked.Add(1)
	}
	return c.inner.ExecContext(ctx, rebind(query), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.asked != nil {
		c.asked.Add(1)
	}
	return c.inner.QueryContext(ctx, rebind(query), args)
}

func (c *pgConn) Ping(ctx context.Context) error { return c.inner.Ping(ctx) }

func (c *pgConn) CheckNamedValue(v *driver.NamedValue) error { return c.inner.CheckNamedValue(v) }

func (c *pgConn) ResetSession(ctx context.Context) error {
	if c.inTx {
		return driver.ErrBadConn
	}
	return c.inner.ResetSession(ctx)
}

// pgTx ends the connection's transaction state with the transaction.
type pgTx struct {
	inner driver.Tx
	c     *pgConn
}

func (t *pgTx) Commit() error {
	t.c.inTx = false
	return t.inner.Commit()
}

func (t *pgTx) Rollback() error {
	t.c.inTx = false
	return t.inner.Rollback()
}

// isPgBusy reports a PostgreSQL error worth retrying later: too many connections, a lock
// not available, a serialization failure or a deadlock.
func isPgBusy(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "53300", "55P03", "40001", "40P01":
		return true
	}
	return false
}
