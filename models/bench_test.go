package models_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

var fastHash = modelstest.FastHash()

type fixture struct {
	db       *db.DB
	hasher   *models.Hasher
	users    *models.Users
	sessions *models.Sessions
}

func newFixture(tb testing.TB, p models.HashParams) fixture {
	tb.Helper()
	return fixtureOn(tb, p, modelstest.OpenDB(tb))
}

// fixtureOn is newFixture on a database of the caller's.
func fixtureOn(tb testing.TB, p models.HashParams, d *db.DB) fixture {
	tb.Helper()
	h, err := models.NewHasher(p, 2)
	if err != nil {
		tb.Fatal(err)
	}
	secret := make([]byte, 32)
	return fixture{db: d, hasher: h, users: models.NewUsers(d, h, time.Now),
		sessions: models.NewSessions(d, secret, models.Lifetimes{Idle: 2 * time.Hour, Remember: 720 * time.Hour}, 0, time.Now)}
}

// signIn creates n sessions for one user and returns the user and the first handle.
func (f fixture) signIn(tb testing.TB, email string, n int) (models.User, []string) {
	tb.Helper()
	ctx := context.Background()
	u, err := f.users.Create(ctx, email, "correct horse battery staple")
	if err != nil {
		tb.Fatal(err)
	}
	var handles []string
	for i := range n {
		_, hash := models.NewToken()
		s, _, err := f.sessions.SignIn(ctx, hash, models.NewSession{UserID: u.ID, IP: fmt.Sprintf("10.0.%d.%d", i/256, i%256),
			UserAgent: modelstest.UAChromeMac})
		if err != nil {
			tb.Fatal(err)
		}
		handles = append(handles, s.Handle)
	}
	return u, handles
}

// BenchmarkPasswordHash is the cost of one password confirmation with the real argon2id
// parameters (19 MiB, 2 passes, 1 lane).
func BenchmarkPasswordHash(b *testing.B) {
	h, err := models.NewHasher(models.DefaultHashParams(), 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRevokeOthers1000 signs out 999 other devices of a user with 1,000 sessions,
// including the hash rotation and re-stamping (the hash itself is computed beforehand,
// as the handler does; see BenchmarkPasswordHash for its cost).
func BenchmarkRevokeOthers1000(b *testing.B) {
	f := newFixture(b, fastHash)
	ctx := context.Background()
	newHash, _ := f.hasher.Hash(ctx, "correct horse battery staple")
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		u, handles := f.signIn(b, fmt.Sprintf("u%d@example.com", i), 1000)
		b.StartTimer()
		n, _, err := f.sessions.RevokeOthers(ctx, models.Change{UserID: u.ID, Current: handles[0], NewHash: newHash})
		if err != nil || n != 999 {
			b.Fatalf("revoked %d, %v", n, err)
		}
	}
}

// BenchmarkLookup is the per-request cost of finding a session by its token.
func BenchmarkLookup(b *testing.B) {
	f := newFixture(b, fastHash)
	ctx := context.Background()
	u, err := f.users.Create(ctx, "ann@example.com", "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	token, hash := models.NewToken()
	if _, _, err := f.sessions.SignIn(ctx, hash, models.NewSession{UserID: u.ID}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.sessions.Lookup(ctx, models.HashToken(token), ""); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRevokeOthersKeepsOnlyTheCurrent(t *testing.T) {
	f := newFixture(t, fastHash)
	ctx := context.Background()
	u, handles := f.signIn(t, "ann@example.com", 50)
	other, _ := f.signIn(t, "bob@example.com", 3)
	n, ev, err := f.sessions.RevokeOthers(ctx, models.Change{UserID: u.ID, Current: handles[0]})
	if err != nil || n != 49 || ev.Kind != models.EventOthersRevoked {
		t.Fatalf("RevokeOthers = %d, %+v, %v", n, ev, err)
	}
	list, _ := f.sessions.ListForUser(ctx, u.ID)
	if len(list) != 1 || list[0].Handle != handles[0] {
		t.Errorf("left %+v", list)
	}
	if list, _ := f.sessions.ListForUser(ctx, other.ID); len(list) != 3 {
		t.Errorf("other user has %d sessions, want 3", len(list))
	}
	// The acting session must exist: a revoked device cannot act.
	if _, _, err := f.sessions.RevokeOthers(ctx, models.Change{UserID: u.ID, Current: handles[1]}); err == nil {
		t.Error("a revoked session could still revoke others")
	}
}

// TestQueriesUseIndexes reads SQLite's query plans, whatever engine the run is on.
func TestQueriesUseIndexes(t *testing.T) {
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "plans.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f := fixtureOn(t, fastHash, d)
	for _, q := range []string{
		`SELECT * FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = x'00' AND s.expires_at > 0`,
		`SELECT * FROM sessions s WHERE s.user_id = 1 AND s.expires_at > 0 ORDER BY s.last_active_at DESC, s.id DESC`,
		`SELECT * FROM events WHERE user_id = 1 ORDER BY at DESC, id DESC LIMIT 10`,
		`DELETE FROM sessions WHERE expires_at <= 5`,
		`SELECT COUNT(*) FROM failures WHERE scope = 'x' AND key = 'y' AND at > 0`,
		`SELECT 1 FROM ended_sessions WHERE token_hash = x'00' AND expires_at > 0`,
		`SELECT 1 FROM sessions WHERE handle = 'h'`,
	} {
		rows, err := f.db.Read.Query("EXPLAIN QUERY PLAN " + q)
		if err != nil {
			t.Fatal(err)
		}
		var plan string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan += detail + "; "
		}
		rows.Close()
		if !containsAny(plan, "USING INDEX", "USING COVERING INDEX", "USING INTEGER PRIMARY KEY", "USING PRIMARY KEY") ||
			containsAny(plan, "SCAN s ", "SCAN sessions", "SCAN events", "SCAN failures") {
			t.Errorf("%s\n  plan: %s", q, plan)
		}
		// The plan says "SCAN s", never "SCAN s ": look at each step, and count a search by
		// a range alone (expires_at>?) as reading the whole table too.
		if q != `DELETE FROM sessions WHERE expires_at <= 5` {
			if tables := fullReads(strings.TrimSuffix(plan, "; ")); len(tables) > 0 {
				t.Errorf("%s reads all of %v\n  plan: %s", q, tables, plan)
			}
		}
	}
	// The copies above can drift from the code: the models' own statements, captured as
	// they run, are held to the same rule.
	t.Run("every statement of a request", requestQueriesSearchByKey)
	t.Run("the sweeps", sweepQueriesUseTheirIndexes)
	t.Run("the check sees a dropped index", planCheckSeesAMissingIndex)
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
