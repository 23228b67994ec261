package main

import (
	"errors"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// postgres is the database the servers share: a throwaway one the soak started (which it
// can restart), or one given by URL (which it cannot).
type postgres struct {
	url  string
	root string
	dir  string // the throwaway server's directory, "" for a given URL
}

func (p *postgres) start() error {
	out, err := exec.Command(filepath.Join(p.root, ".ci", "postgres"), "start").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf(".ci/postgres start: %w\n%s", err, ee.Stderr)
		}
		return fmt.Errorf(".ci/postgres start: %w", err)
	}
	p.url = strings.TrimSpace(string(out))
	u, err := url.Parse(p.url)
	if err != nil {
		return err
	}
	p.dir = u.Query().Get("host")
	log.Printf("started PostgreSQL in %s", p.dir)
	return nil
}

func (p *postgres) stop() {
	if p.dir != "" {
		exec.Command(filepath.Join(p.root, ".ci", "postgres"), "stop", p.dir).Run()
	}
}

// canRestart says whether restart can work: only for the soak's own server.
func (p *postgres) canRestart() bool { return p.dir != "" }

// restart stops PostgreSQL (fast: every connection is cut) and starts it again.
func (p *postgres) restart() error {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		return errors.New("no pg_ctl found")
	}
	// The server logs to its file: pg_ctl's output would be a pipe the new server holds
	// open for its life.
	args := []string{bins[len(bins)-1], "-D", filepath.Join(p.dir, "data"), "-l", filepath.Join(p.dir, "server.log"),
		"-m", "fast", "-w", "-t", "60", "restart"}
	if os.Getuid() == 0 {
		args = append([]string{"runuser", "-u", "postgres", "--"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pg_ctl restart: %w (see %s)", err, filepath.Join(p.dir, "server.log"))
	}
	return nil
}
