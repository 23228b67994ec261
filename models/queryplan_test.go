package models_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/models"
)

// The query-plan test captures the SQL the models really send, by running them over pools
// whose connections note every statement they prepare, so the plans it checks are those
// of the code, not of copies of its queries.

// queryLog is the distinct statements prepared, in the order first seen.
type queryLog struct {
	mu   sync.Mutex
	seen map[string]bool
	list []string
}

func (l *queryLog) add(q string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.seen[q] {
		l.seen[q] = true
		l.list = append(l.list, q)
	}
}

// take returns the statements noted since the last take.
func (l *queryLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.list
	l.list = nil
	return out
}

// capturing opens a pool on the modernc driver whose connections note their statements.
type capturing struct {
	dsn string
	log *queryLog
}

func (c capturing) Connect(context.Context) (driver.Conn, error) {
	conn, err := (&sqlite.Driver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return capturingConn{Conn: conn, log: c.log}, nil
}

func (c capturing) Driver() driver.Driver { return &sqlite.Driver{} }

// capturingConn offers no Exec or Query of its own, so database/sql prepares every
// statement through it.
type capturingConn struct {
	driver.Conn
	log *queryLog
}

func (c capturingConn) Prepare(q string) (driver.Stmt, error) {
	c.log.add(q)
	return c.Conn.Prepare(q)
}

func (c capturingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.log.add(q)
	if pc, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return pc.PrepareContext(ctx, q)
	}
	return c.Conn.Prepare(q)
}

func (c capturingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if bt, ok := c.Conn.(driver.ConnBeginTx); ok {
		return bt.BeginTx(ctx, opts)
	}
	return c.Conn.Begin() //nolint:staticcheck // only when the driver has no BeginTx
}

func (c capturingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if nc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nc.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// planned is the database of a query-plan check: a real file migrated by db.Open, the
// models' pools capturing their statements, and a plain pool to explain them with.
type planned struct {
	db      *db.DB
	plain   *sql.DB
	log     *queryLog
	explain func(t *testing.T, q string) string
}

func newPlanned(t *testing.T) *planned {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plans.db")
	plain, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	log := &queryLog{seen: map[string]bool{}}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)"
	w := sql.OpenDB(capturing{dsn: dsn + "&_txlock=immediate", log: log})
	w.SetMaxOpenConns(1)
	r := sql.OpenDB(capturing{dsn: dsn, log: log})
	t.Cleanup(func() { w.Close(); r.Close() })
	p := &planned{db: &db.DB{Write: w, Read: r}, plain: plain.Write, log: log}
	p.explain = func(t *testing.T, q string) string {
		t.Helper()
		// Plans do not depend on the values: every parameter is NULL.
		rows, err := p.plain.Query("EXPLAIN QUERY PLAN "+q, make([]any, strings.Count(q, "?"))...)
		if err != nil {
			t.Fatalf("explain %s: %v", q, err)
		}
		defer rows.Close()
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(plan, "; ")
	}
	return p
}

// scanned is a plan step that reads a whole table or index ("SCAN sessions", "SCAN s USING
// INDEX ..."), as opposed to a search by key ("SEARCH s USING INDEX ... (token_hash=?)").
// A scan of a subquery's result or a constant row is not a table read.
var scanned = regexp.MustCompile(`(?:^|; )SCAN ([^ ;(]+)`)

// searched is a plan step that finds rows through a key, with the key's constraints.
var searched = regexp.MustCompile(`(?:^|; )SEARCH ([^ ;(]+) USING [^;(]*\(([^)]*)\)`)

// equality is a constraint that pins a key column to one value ("user_id=?"), as opposed
// to a range ("expires_at>?").
var equality = regexp.MustCompile(`(?:^|[^<>!])=`)

// fullReads returns the tables (by name or alias) the plan reads whole: a scan, or a
// search by a range alone ("SEARCH s USING INDEX sessions_expires (expires_at>?)" reads
// every live session, however few are wanted).
func fullReads(plan string) []string {
	var tables []string
	for _, m := range scanned.FindAllStringSubmatch(plan, -1) {
		if m[1] != "CONSTANT" {
			tables = append(tables, m[1])
		}
	}
	for _, m := range searched.FindAllStringSubmatch(plan, -1) {
		if !equality.MatchString(m[2]) {
			tables = append(tables, m[1])
		}
	}
	return tables
}

// fullScans returns the tables (by name or alias) the statement's plan reads whole.
func (p *planned) fullScans(t *testing.T, q string) ([]string, string) {
	t.Helper()
	plan := p.explain(t, q)
	return fullReads(plan), plan
}

// isStatement reports whether q is one that reads or writes rows, as opposed to a pragma
// or transaction control.
func isStatement(q string) bool {
	f := strings.Fields(strings.ToUpper(q))
	return len(f) > 0 && slices.Contains([]string{"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}, f[0])
}

// requestQueries runs every model call a request can make, over p's capturing pools, and
// returns the statements they sent.
func requestQueries(t *testing.T, p *planned) []string {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	h, err := models.NewHasher(fastHash, 2)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := models.StampSecret(ctx, p.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	users := models.NewUsers(p.db, h, clock)
	sessions := models.NewSessions(p.db, secret,
		models.Lifetimes{Idle: 2 * time.Hour, MaxAge: 24 * time.Hour, Remember: 720 * time.Hour}, 3, clock)
	limits := models.NewLimiter(p.db, clock)
	events := models.NewEvents(p.db, clock)
	confirm := models.NewConfirmations(p.db, users, limits, models.DefaultLimits().Confirm, clock)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	ann, err := users.Create(ctx, "ann@example.com", "correct horse battery staple")
	must(err)
	_, err = users.Create(ctx, "ann@example.com", "correct horse battery staple")
	if err == nil {
		t.Fatal("a second account with the same email")
	}
	_, err = users.Authenticate(ctx, "ann@example.com", "correct horse battery staple")
	must(err)
	_, err = users.Authenticate(ctx, "nobody@example.com", "correct horse battery staple")
	if err == nil {
		t.Fatal("an unknown email signed in")
	}
	att, wait, err := limits.Try(ctx, models.LimitKey{Limit: models.DefaultLimits().LoginEmail, Key: "ann@example.com"},
		models.LimitKey{Limit: models.DefaultLimits().LoginIPAll, Key: "192.0.2.1"})
	must(err)
	if wait > 0 {
		t.Fatal("locked before any attempt")
	}
	must(limits.Succeeded(ctx, att))

	var handles []string
	var tokens [][]byte
	for i := range 5 { // over the cap of 3: the sign-in trims
		_, hash := models.NewToken()
		s, _, err := sessions.SignIn(ctx, hash, models.NewSession{UserID: ann.ID, IP: "192.0.2.1",
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", Remember: i%2 == 0})
		must(err)
		handles, tokens = append(handles, s.Handle), append(tokens, hash)
	}
	_, hash := models.NewToken()
	cur, _, err := sessions.SignIn(ctx, hash, models.NewSession{UserID: ann.ID, Replaces: handles[4], PasswordVersion: 1})
	must(err)
	now = now.Add(2 * time.Minute)
	_, _, err = sessions.Lookup(ctx, hash, "198.51.100.7") // touches
	must(err)
	_, _, err = sessions.Lookup(ctx, tokens[0], "") // trimmed: ended from elsewhere
	if err == nil {
		t.Fatal("a trimmed session was accepted")
	}
	list, err := sessions.ListForUser(ctx, ann.ID)
	must(err)
	_, err = sessions.ForUser(ctx, ann.ID, list[len(list)-1].Handle)
	must(err)
	must(sessions.SaveData(ctx, cur.Handle, []byte("data")))
	_, err = events.Latest(ctx, ann.ID, 10)
	must(err)
	ev, err := events.Record(ctx, ann.ID, models.EventSignedIn, models.Actor{}, "x")
	must(err)
	_, err = events.ByID(ctx, ann.ID, ev.ID)
	must(err)

	// Confirmations: a right one, then wrong ones up to the lock.
	cur, err = sessions.ForUser(ctx, ann.ID, cur.Handle)
	must(err)
	version, _, err := confirm.Check(ctx, cur, "correct horse battery staple", models.Actor{})
	must(err)
	for range models.DefaultLimits().Confirm.Max {
		_, _, err = confirm.Check(ctx, cur, "wrong", models.Actor{})
		if err == nil {
			t.Fatal("a wrong confirmation passed")
		}
	}
	list, err = sessions.ListForUser(ctx, ann.ID) // with a lock to join
	must(err)

	newHash, err := h.Hash(ctx, "correct horse battery staple")
	must(err)
	ch := models.Change{UserID: ann.ID, Current: cur.Handle, NewHash: newHash, CheckedVersion: version,
		ConfirmUntil: now.Add(15 * time.Minute)}
	var other string
	for _, s := range list {
		if s.Handle != cur.Handle {
			other = s.Handle
		}
	}
	_, _, err = sessions.Revoke(ctx, ch, other)
	must(err)
	_, _, err = sessions.RevokeOthers(ctx, models.Change{UserID: ann.ID, Current: cur.Handle, ViaWindow: true})
	must(err)
	_, _, err = sessions.ChangePassword(ctx, models.Change{UserID: ann.ID, Current: cur.Handle, NewHash: newHash}, true)
	must(err)
	_, hash2 := models.NewToken()
	lost, _, err := sessions.SignIn(ctx, hash2, models.NewSession{UserID: ann.ID})
	must(err)
	_, _, _, err = sessions.ReportLost(ctx, models.Change{UserID: ann.ID, Current: cur.Handle, NewHash: newHash}, lost.Handle)
	must(err)

	// A stamp gone stale behind the session's back ends it at its next request.
	_, hash3 := models.NewToken()
	_, _, err = sessions.SignIn(ctx, hash3, models.NewSession{UserID: ann.ID, SingleSession: true})
	must(err)
	if _, err := p.plain.Exec(`UPDATE users SET password_hash = 'stale' WHERE id = ?`, ann.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sessions.Lookup(ctx, hash3, ""); err == nil {
		t.Fatal("a stale stamp was accepted")
	}
	_, _, err = sessions.RevokeAll(ctx, ann.ID, models.Actor{})
	must(err)
	_, err = sessions.SignOut(ctx, cur.Handle, models.Actor{})
	must(err)
	must(users.Delete(ctx, ann.ID))
	return p.log.take()
}

// requestQueriesSearchByKey: every statement a request sends, as the models really send
// it, finds its rows through an index or key; none reads a whole table, whose cost would
// grow with every user.
func requestQueriesSearchByKey(t *testing.T) {
	p := newPlanned(t)
	p.log.take() // opening the pools
	qs := requestQueries(t, p)
	n := 0
	for _, q := range qs {
		if !isStatement(q) {
			continue
		}
		n++
		if tables, plan := p.fullScans(t, q); len(tables) > 0 {
			t.Errorf("reads all of %v:\n  %s\n  plan: %s", tables, strings.Join(strings.Fields(q), " "), plan)
		}
	}
	t.Logf("%d statements, each searching by key", n)
	if n < 30 {
		t.Errorf("only %d statements captured; is the capture still seeing the models' queries?", n)
	}
}

// sweepQueriesUseTheirIndexes: the sweeps delete by age through the time indexes.
// Only the sessions sweep reads every session (whether one has ended depends on its
// lifetimes, not on one column), and lockouts are few and swept by their end.
func sweepQueriesUseTheirIndexes(t *testing.T) {
	p := newPlanned(t)
	ctx := context.Background()
	clock := time.Now
	sessions := models.NewSessions(p.db, make([]byte, 32), models.Lifetimes{Idle: time.Hour, Remember: time.Hour}, 3, clock)
	p.log.take()
	if _, _, err := sessions.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if err := models.NewLimiter(p.db, clock).Sweep(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := models.NewEvents(p.db, clock).Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"s": true, "sessions": true, "lockouts": true}
	n := 0
	for _, q := range p.log.take() {
		if !isStatement(q) {
			continue
		}
		n++
		plan := p.explain(t, q)
		for _, m := range scanned.FindAllStringSubmatch(plan, -1) { // a range is what a sweep wants
			if tb := m[1]; !allowed[tb] {
				t.Errorf("reads all of %s:\n  %s\n  plan: %s", tb, strings.Join(strings.Fields(q), " "), plan)
			}
		}
	}
	if n < 5 {
		t.Errorf("only %d sweep statements captured", n)
	}
}

// planCheckSeesAMissingIndex: the check above fails when an index it relies on is gone.
func planCheckSeesAMissingIndex(t *testing.T) {
	p := newPlanned(t)
	for _, idx := range []string{"sessions_user_active", "events_user_at", "events_user_id", "failures_scope_key_at"} {
		if _, err := p.plain.Exec(`DROP INDEX ` + idx); err != nil {
			t.Fatal(err)
		}
	}
	p.log.take()
	scans := map[string]bool{}
	for _, q := range requestQueries(t, p) {
		if !isStatement(q) {
			continue
		}
		tables, _ := p.fullScans(t, q)
		for _, tb := range tables {
			scans[tb] = true
		}
	}
	for _, tb := range []string{"sessions", "events", "failures"} {
		if !scans[tb] && !scans[tb[:1]] { // by name or by alias
			t.Errorf("with its index dropped, no statement was seen reading all of %s (saw %v)", tb, scans)
		}
	}
}
