package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/db/dbtest"
)

// eventually waits, polling, until cond holds; a busy machine may take its time, so the
// budget is generous and never the point of the test.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not so after 30 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func holdsLease(d *db.DB) func() bool {
	return func() bool { _, ok := d.Remembering(); return ok }
}

// change commits a write transaction on d that changes account id.
func change(t *testing.T, d *db.DB, id int64) {
	t.Helper()
	err := d.InTx(context.Background(), []db.Key{db.Account(id)}, func(tx *db.Tx) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
}

// TestChangeReachesEveryServerBeforeItsWriterAnswers: under their leases both servers
// answer from memory (AccountStamp). A change committed through A moves B's stamp for
// that account before A's commit returns; other accounts' stamps stay. When B's listener
// has fallen behind, A's commit still does not return while B could answer from memory:
// it waits B's lease out, and B has stopped answering from memory by then.
func TestChangeReachesEveryServerBeforeItsWriterAnswers(t *testing.T) {
	a, b := twoServers(t)
	eventually(t, "both servers hold their lease", func() bool { return holdsLease(a)() && holdsLease(b)() })

	before, _ := b.AccountStamp(7)
	other, _ := b.AccountStamp(8)
	change(t, a, 7)
	if now, ok := b.AccountStamp(7); ok && now == before {
		t.Fatal("A's commit returned while B still answered for the account from before it")
	}
	if now, ok := b.AccountStamp(8); ok && now != other {
		t.Error("a change to one account made B forget another")
	}
	if waits, timeouts := a.Coherence(); waits == 0 || timeouts != 0 {
		t.Errorf("with both servers listening: %d commits waited, %d waited the lease out; want some, and none", waits, timeouts)
	}

	eventually(t, "B holds its lease", holdsLease(b))
	before, _ = b.AccountStamp(7)
	resume := db.StallListener(b)
	change(t, a, 7)
	now, ok := b.AccountStamp(7)
	if ok && now == before {
		resume()
		t.Fatal("with B's listener behind, A's commit returned while B still answered from memory")
	}
	if _, timeouts := a.Coherence(); timeouts != 1 {
		t.Errorf("A's commit waited %d leases out, want 1 (B never acknowledged)", timeouts)
	}
	resume()
	eventually(t, "B catches up and holds its lease again", holdsLease(b))
	if now, _ := b.AccountStamp(7); now == before {
		t.Error("B, caught up, answers for the account from before the change")
	}
}

// TestWriterThatCannotHearWaitsTheLeaseOut: A's listener has fallen behind before B even
// started, so A has heard neither of B nor of its own changes. B holds a lease, then its
// listener falls behind too. A's commit must not return while B could still answer from
// memory: A cannot know who to wait for, so it waits out any lease.
func TestWriterThatCannotHearWaitsTheLeaseOut(t *testing.T) {
	dsn := dbtest.PostgresDSN(t)
	a := serverOn(t, dsn)
	eventually(t, "A holds its lease", holdsLease(a))
	resumeA := db.StallListener(a)
	defer resumeA()
	b := serverOn(t, dsn)
	eventually(t, "B holds its lease", holdsLease(b))
	before, _ := b.AccountStamp(7)
	resumeB := db.StallListener(b)
	defer resumeB()
	change(t, a, 7)
	if now, ok := b.AccountStamp(7); ok && now == before {
		t.Fatal("A's commit returned while B still answered from memory")
	}
	if _, ok := a.Remembering(); ok {
		t.Error("A, deaf for a second and more, still answers from memory")
	}
}

// TestOperatorsNotifyMakesEveryServerForget: the NOTIFY the README gives operators who
// wrote behind Elsewhere's back makes every server forget everything, and is not taken for
// a server that writers must wait for.
func TestOperatorsNotifyMakesEveryServerForget(t *testing.T) {
	a, b := twoServers(t)
	eventually(t, "both servers hold their lease", func() bool { return holdsLease(a)() && holdsLease(b)() })
	beforeA, _ := a.AccountStamp(7)
	before, _ := b.AccountStamp(7)
	if _, err := a.Write.Exec(`SELECT pg_notify($1, 'w psql 0 *')`, a.ChangeChannel()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B forgets", func() bool { now, _ := b.AccountStamp(7); return now != before })
	eventually(t, "A forgets", func() bool { now, _ := a.AccountStamp(7); return now != beforeA })
	change(t, a, 8)
	if _, timeouts := a.Coherence(); timeouts != 0 {
		t.Errorf("A's next commit waited the lease out for the operator's message")
	}
}

// TestClosedServerIsNotWaitedFor: a server that closes says so, and writers stop waiting
// for its acknowledgements at once rather than waiting its lease out.
func TestClosedServerIsNotWaitedFor(t *testing.T) {
	a, b := twoServers(t)
	eventually(t, "both servers hold their lease", func() bool { return holdsLease(a)() && holdsLease(b)() })
	change(t, a, 7) // A has heard from B by now: B acknowledged this
	b.Close()
	change(t, a, 7)
	if _, timeouts := a.Coherence(); timeouts != 0 {
		t.Errorf("A's commit after B closed waited B's lease out")
	}
}

// TestFreshWriterWaitsForServersItHasNotHeard: a writer that has just started listening
// (the CLI's `elsewhere sessions revoke`, a server just started) has heard no other
// server's ping yet. Its commit must not return while a server whose listener is a moment
// behind still answers from memory. (From the review: it returned in 2 ms.)
func TestFreshWriterWaitsForServersItHasNotHeard(t *testing.T) {
	dsn := dbtest.PostgresDSN(t)
	b := serverOn(t, dsn)
	for range 3 {
		eventually(t, "B holds its lease", holdsLease(b))
		cli := serverOn(t, dsn)
		before, _ := b.AccountStamp(7)
		resume := db.StallListener(b)
		change(t, cli, 7)
		now, ok := b.AccountStamp(7)
		resume()
		cli.Close()
		if ok && now == before {
			t.Fatal("a fresh writer's commit returned while B still answered from memory")
		}
	}
}

// TestDeafServerIsNotWaitedForLong: a server whose listener is stuck loses its lease and
// stops pinging, so the others soon stop waiting for acknowledgements it cannot send,
// instead of waiting the lease out at every commit. (From the review: every commit
// waited while the deaf server kept pinging.)
func TestDeafServerIsNotWaitedForLong(t *testing.T) {
	a, b := twoServers(t)
	eventually(t, "both servers hold their lease", func() bool { return holdsLease(a)() && holdsLease(b)() })
	resume := db.StallListener(b)
	defer resume()
	// Commit until one returns without waiting the lease out: B has gone silent.
	for i := 0; ; i++ {
		_, before := a.Coherence()
		change(t, a, 100)
		if _, after := a.Coherence(); after == before {
			break
		}
		if i == 20 {
			t.Fatal("20 commits in a row waited the lease out for a server that holds none")
		}
	}
	if _, ok := b.Remembering(); ok {
		t.Error("B, deaf, still answers from memory")
	}
}
