package models_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/db/dbtest"
	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/modelstest"
)

// twoServers opens one fresh PostgreSQL database twice, as two app servers would.
func twoServers(tb testing.TB) (*db.DB, *db.DB) {
	tb.Helper()
	dsn := dbtest.PostgresDSN(tb)
	var out [2]*db.DB
	for i := range out {
		d, err := db.Open(context.Background(), dsn)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { d.Close() })
		out[i] = d
	}
	return out[0], out[1]
}

// TestOutboxAtMostOnceAcrossServers: two app servers' mail workers, two each, claim from
// one outbox at once; every mail is claimed, and by one worker only. Claims take the
// outbox's own lock, not an account's: mails of many accounts are one queue.
func TestOutboxAtMostOnceAcrossServers(t *testing.T) {
	ctx := context.Background()
	d1, d2 := twoServers(t)
	u, _ := fixtureOn(t, fastHash, d1).signIn(t, "ann@example.com", 1)
	const mails = 60
	for i := range mails {
		if err := models.NewMail(d1, time.Now).Queue(ctx, models.Outgoing{UserID: u.ID, Kind: models.MailAlert,
			To: "ann@example.com", Subject: fmt.Sprint("mail ", i), Text: "-"}); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu      sync.Mutex
		claimed []int64
		wg      sync.WaitGroup
	)
	for _, d := range []*db.DB{d1, d2, d1, d2} {
		m := models.NewMail(d, time.Now)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				o, ok, err := m.Claim(ctx, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				claimed = append(claimed, o.ID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.Sort(claimed)
	if n := len(slices.Compact(slices.Clone(claimed))); n != mails || len(claimed) != mails {
		t.Errorf("%d claims of %d distinct mails, want each of the %d mails claimed once", len(claimed), n, mails)
	}
}

// BenchmarkPostgresWritesByAccounts: write transactions (a sign-in, then its sign-out)
// from 8 goroutines, all on one account, then each on its own of 8. Writes lock per
// account, so the 8 accounts' run in parallel; the one account's wait for each other.
// Compare the writes/s metrics: the ratio is what per-account locks buy.
func BenchmarkPostgresWritesByAccounts(b *testing.B) {
	for _, accounts := range []int{1, 8} {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
			d, _ := twoServers(b)
			f := fixtureOn(b, fastHash, d)
			users := make([]models.User, accounts)
			for i := range users {
				users[i], _ = f.signIn(b, fmt.Sprintf("user%d@example.com", i), 1)
			}
			ctx := context.Background()
			const workers = 8
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					u := users[w%accounts]
					for i := w; i < b.N; i += workers {
						_, hash := models.NewToken()
						s, _, err := f.sessions.SignIn(ctx, hash, models.NewSession{UserID: u.ID, UserAgent: modelstest.UAChromeMac, Quiet: true})
						if err != nil {
							b.Error(err)
							return
						}
						if _, err := f.sessions.SignOut(ctx, s.Handle, models.Actor{}); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
		})
	}
}

// TestSweptEventsLeaveEveryLog: the sweep of events past EventRetention leaves the log a
// page shows at once, even where the log was remembered: on PostgreSQL the sweep moves the
// change counter of every account it shortened.
func TestSweptEventsLeaveEveryLog(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	u, _ := fixtureOn(t, fastHash, d).signIn(t, "ann@example.com", 0)
	events := models.NewEvents(d, clock)
	if _, err := events.Record(ctx, u.ID, models.EventSignedIn, models.Actor{}, "old"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(models.EventRetention + time.Hour)
	kept, err := events.Record(ctx, u.ID, models.EventSignedIn, models.Actor{}, "new")
	if err != nil {
		t.Fatal(err)
	}
	if evs, err := events.Latest(ctx, u.ID, 10); err != nil || len(evs) != 2 {
		t.Fatalf("before the sweep: %d events (%v), want 2", len(evs), err)
	}
	if n, err := events.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d (%v), want 1", n, err)
	}
	if evs, err := events.Latest(ctx, u.ID, 10); err != nil || len(evs) != 1 || evs[0].ID != kept.ID {
		t.Errorf("after the sweep: %+v (%v), want the new event alone", evs, err)
	}
}

// TestRememberedReadsAskNothingUnderTheLease: on PostgreSQL, under the server's lease, a
// device list and a log read again with nothing changed ask the database nothing, even
// outside a request whose lookup read the account's counter (a live stream's reread, a
// write on this server to another account); a change through the other server is read.
func TestRememberedReadsAskNothingUnderTheLease(t *testing.T) {
	ctx := context.Background()
	a, b := twoServers(t)
	fa := fixtureOn(t, fastHash, a)
	u, _ := fa.signIn(t, "ann@example.com", 2)
	events := models.NewEvents(a, time.Now)
	read := func() {
		t.Helper()
		if _, err := fa.sessions.ListForUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := events.Latest(ctx, u.ID, 20); err != nil {
			t.Fatal(err)
		}
	}
	dbtest.HoldLeases(t, a)
	read()
	// A write on A to another account, which moves this process's own-write count.
	if err := a.InTx(ctx, []db.Key{db.Account(u.ID + 256)}, func(*db.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	before := a.Reads()
	read()
	if n := a.Reads() - before; n != 0 {
		t.Errorf("reading again with nothing changed asked PostgreSQL %d times", n)
	}
	if err := b.InTx(ctx, []db.Key{db.Account(u.ID)}, func(*db.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	before = a.Reads()
	read()
	if a.Reads() == before {
		t.Error("after a change through B, A answered from memory")
	}
}
