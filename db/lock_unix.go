//go:build unix

package db

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// LockServe makes sure one `elsewhere serve` at a time uses the SQLite file at path: it
// holds an advisory lock on path+".lock" (which names the holder's pid) until release.
// Two servers on one file would each run their own sweeper and mail worker and believe
// their own in-memory state. The kernel drops the lock when the process dies, so a crash
// leaves nothing to clean up. PostgreSQL URLs need no lock: several servers may share one.
func LockServe(path string) (release func(), err error) {
	if IsPostgres(path) {
		return func() {}, nil
	}
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(name)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(b))
			if _, perr := strconv.Atoi(pid); perr != nil {
				pid = "unknown"
			}
			return nil, fmt.Errorf("database %s is in use by another elsewhere serve (pid %s); stop it, or give this one its own -db", path, pid)
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		f.Truncate(0)
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
