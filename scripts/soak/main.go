// Command soak runs several Elsewhere app servers on one PostgreSQL behind a small
// round-robin proxy, seeds thousands of accounts and tens of thousands of sessions, and
// drives a mix of page views, sign-ins, revocations and password changes from many
// clients for a set time. Midway it kills one app server (SIGKILL; a replacement starts
// on the same port three seconds later) and restarts PostgreSQL. It prints the requests
// made, the 5xx answers outside those restarts, the revocations whose device was accepted
// afterwards by any server (must be 0), the mails queued against those an SMTP sink
// received (nothing lost), and how long a change made through one server takes to reach a
// live stream open on another.
//
//	go run ./scripts/soak -servers 4 -duration 10m
//
// Without -pg it starts a throwaway PostgreSQL with .ci/postgres (Debian's postgresql
// package) and removes it afterwards; with -pg (an empty database) it cannot restart
// PostgreSQL and says so.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// config is the soak's flags.
type config struct {
	servers     int
	duration    time.Duration
	accounts    int
	sessions    int
	clients     int
	watchers    int
	pg          string
	keep        bool
	restartKill bool
}

func main() {
	var cfg config
	flag.IntVar(&cfg.servers, "servers", 4, "app servers (at least 3: the live streams' and the changes' servers are never the one killed)")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Minute, "how long the load runs")
	flag.IntVar(&cfg.accounts, "accounts", 2000, "accounts seeded")
	flag.IntVar(&cfg.sessions, "sessions", 20000, "sessions seeded, spread over the accounts")
	flag.IntVar(&cfg.clients, "clients", 32, "clients making requests at once")
	flag.IntVar(&cfg.watchers, "watchers", 20, "live streams open (one per account, on the first server) for the push latency")
	flag.StringVar(&cfg.pg, "pg", os.Getenv("ELSEWHERE_PG"), "postgres:// URL of an empty database (default: start a throwaway one with .ci/postgres)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the work directory (servers' logs) afterwards")
	flag.BoolVar(&cfg.restartKill, "replace", true, "start a replacement for the killed server")
	flag.Parse()
	if cfg.servers < 3 {
		log.Fatal("soak: -servers must be at least 3")
	}
	if cfg.sessions < cfg.accounts*2 {
		log.Fatal("soak: -sessions must be at least twice -accounts (each account needs a device to act from and one to revoke)")
	}
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	if err := run(cfg); err != nil {
		log.Fatal("soak: ", err)
	}
}

func run(cfg config) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "elsewhere-soak-")
	if err != nil {
		return err
	}
	if cfg.keep {
		log.Printf("work directory (servers' logs): %s", work)
	} else {
		defer os.RemoveAll(work)
	}

	pg := &postgres{url: cfg.pg, root: root}
	if pg.url == "" {
		if err := pg.start(); err != nil {
			return err
		}
		defer pg.stop()
	}

	log.Printf("building the app once")
	bin := filepath.Join(work, "elsewhere")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}

	sink, err := startSink()
	if err != nil {
		return err
	}
	defer sink.close()

	started := time.Now()
	world, err := seed(ctx, pg.url, cfg)
	if err != nil {
		return err
	}
	log.Printf("seeded %d accounts and %d sessions in %s", len(world.accounts), world.sessions, time.Since(started).Round(time.Millisecond))
	defer world.db.Close()

	proxy, err := startProxy()
	if err != nil {
		return err
	}
	defer proxy.close()
	fleet := &fleet{bin: bin, work: work, pg: pg.url, base: proxy.url, smtp: sink.addr}
	for i := 0; i < cfg.servers; i++ {
		if err := fleet.start(i); err != nil {
			return err
		}
	}
	defer fleet.stopAll()
	proxy.setBackends(fleet.addrs())
	if err := fleet.waitReady(ctx, 60*time.Second); err != nil {
		return err
	}
	log.Printf("%d app servers ready behind %s", cfg.servers, proxy.url)

	l := newLoad(cfg, world, proxy.url, fleet)
	report, err := l.run(ctx, pg)
	if err != nil {
		return err
	}
	report.mail = drainMail(ctx, world, sink)
	report.metrics = fleet.scrapeAll()
	report.print(os.Stdout, cfg)
	if report.accepted > 0 {
		return errors.New("revoked devices were accepted afterwards")
	}
	return nil
}

// moduleRoot is the directory of the repository's go.mod, where the app is built.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the repository: go run ./scripts/soak")
	}
	return filepath.Dir(mod), nil
}
