package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/models"
)

// world is what was seeded: the accounts the clients act on, with their passwords and
// sessions, and the watched accounts whose live streams measure push latency.
type world struct {
	db       *db.DB
	accounts []*account
	watchers []*account
	sessions int
}

// account is one seeded account; a client holds mu while it acts on it, so its password
// and its sessions' states are known.
type account struct {
	mu       sync.Mutex
	id       int64
	email    string
	password string
	changes  int // password changes so far, for the next new password
	devices  []*seeded
}

// seeded is a session made by the seeding: its cookie's token and its handle.
type seeded struct {
	token, handle string
	dead          bool // signed out by the soak
}

// seedHash is a cheap argon2id for the seeded passwords, so seeding thousands of accounts
// takes seconds; the servers verify each hash with the parameters it carries. Passwords
// the soak changes through the servers get their full cost.
var seedHash = models.HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const seedUA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"

// seed creates the accounts and their sessions through the models, in process: the same
// code the servers run, without HTTP and the full password cost in the way.
func seed(ctx context.Context, dsn string, cfg config) (*world, error) {
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	secret, err := models.StampSecret(ctx, d, nil)
	if err != nil {
		return nil, err
	}
	hasher, err := models.NewHasher(seedHash, 8)
	if err != nil {
		return nil, err
	}
	users := models.NewUsers(d, hasher, time.Now)
	sessions := models.NewSessions(d, secret,
		models.Lifetimes{Idle: 2 * time.Hour, MaxAge: 24 * time.Hour, Remember: 720 * time.Hour}, 50, time.Now)
	w := &world{db: d}
	all := make([]*account, cfg.accounts+cfg.watchers)
	for i := range all {
		all[i] = &account{email: fmt.Sprintf("soak-%05d@example.test", i), password: fmt.Sprintf("soak password %05d, seeded", i)}
	}
	var made atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, a := range all {
		n := cfg.sessions / cfg.accounts
		if i < cfg.sessions%cfg.accounts {
			n++
		}
		if i >= cfg.accounts {
			n = 2 // a watcher: the stream's device and the one that makes changes
		}
		g.Go(func() error {
			u, err := users.Create(gctx, a.email, a.password)
			if err != nil {
				return fmt.Errorf("seed %s: %w", a.email, err)
			}
			a.id = u.ID
			for j := 0; j < n; j++ {
				token, hash := models.NewToken()
				ns := models.NewSession{UserID: u.ID, Remember: true,
					IP: fmt.Sprintf("10.%d.%d.%d", i/65536%256, i/256%256, i%256), UserAgent: seedUA, Quiet: true}
				if i >= cfg.accounts {
					// A device cookie makes the watched device one that can be named: the
					// change the push latency is measured with.
					ns.DeviceHash = models.HashToken(fmt.Sprintf("soak device %d %d", i, j))
				}
				s, _, err := sessions.SignIn(gctx, hash, ns)
				if err != nil {
					return fmt.Errorf("seed a session of %s: %w", a.email, err)
				}
				a.devices = append(a.devices, &seeded{token: token, handle: s.Handle})
				made.Add(1)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		d.Close()
		return nil, err
	}
	w.accounts, w.watchers, w.sessions = all[:cfg.accounts], all[cfg.accounts:], int(made.Load())
	return w, nil
}
