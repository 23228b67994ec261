package db

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// walHeader is the size of the header at the start of an SQLite WAL index (the -shm
// file), which is kept twice, one copy after the other
// (https://www.sqlite.org/walformat.html).
const walHeader = 48

// ChangeStamp says whether anything was committed to the database between two moments:
// two equal stamps, the first taken before reading, mean that what was read is still
// what the database holds. On SQLite it is the header of the WAL index, which every
// commit rewrites (its frame count, checksums and salts change), from any connection of
// any process: an operator's command in another process counts too. ok is false where
// it cannot tell (PostgreSQL, a torn read while a commit rewrites the header, an error);
// then nothing may be assumed.
type ChangeStamp [walHeader]byte

// changes reads the WAL index of an SQLite database; keep is a connection of its own,
// held open for the database's lifetime so that SQLite never deletes the index under it
// (it does when the last connection closes), taken from no pool.
type changes struct {
	// mu keeps close from unmapping the header under a reader: a request still running
	// when the database closes must get "no stamp", not read unmapped memory (a fault
	// that would take the whole process down).
	mu     sync.RWMutex
	closed bool
	shm    *os.File
	head   []byte // the file's first page mapped read-only, where the system allows; else read
	keep   *sql.DB
	wal    string // the WAL file's path

	watching sync.Once
	stop     chan struct{} // closed by close: ends the watch of commits
	stopped  chan struct{} // closed when that watch has ended
}

// openChanges opens the WAL index of the SQLite database that read opens, read-only.
func openChanges(ctx context.Context, read *sql.DB) (*changes, error) {
	var seq int
	var name, file string
	if err := read.QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &name, &file); err != nil || file == "" {
		return nil, fmt.Errorf("watch for commits: the database file %q: %v", file, err)
	}
	// Through the pool's own driver: a host's mattn/go-sqlite3 pools get a mattn
	// connection here, never a second SQLite library on their file. Both drivers take a
	// file: URI; the connection only ever pings.
	keep := sql.OpenDB(dsnConnector{drv: read.Driver(), dsn: "file:" + escapePath(file)})
	keep.SetMaxOpenConns(1)
	keep.SetMaxIdleConns(1)
	keep.SetConnMaxLifetime(0)
	if err := keep.PingContext(ctx); err != nil {
		keep.Close()
		return nil, fmt.Errorf("watch for commits: %w", err)
	}
	shm, err := os.Open(file + "-shm")
	if err != nil {
		keep.Close()
		return nil, fmt.Errorf("watch for commits: %w", err)
	}
	return &changes{shm: shm, head: mapHeader(shm), keep: keep, wal: file + "-wal",
		stop: make(chan struct{}), stopped: make(chan struct{})}, nil
}

// commitsEvery is how often the change stamp is looked at for commits made by another
// process (an operator's `elsewhere sessions revoke`), which this one's feed never hears
// of: open pages learn of them within it.
const commitsEvery = 250 * time.Millisecond

// watchCommits starts, once, the watch that wakes every watcher of f when the stamp moves.
// A commit of this process is published by its transaction already; one that moves the
// stamp here too costs each open page one reread, no more than a quarter of a second's
// worth of commits together.
func (c *changes) watchCommits(f *feed) {
	c.watching.Do(func() {
		last, _ := c.stamp()
		go func() {
			defer close(c.stopped)
			t := time.NewTicker(commitsEvery)
			defer t.Stop()
			for {
				select {
				case <-c.stop:
					return
				case <-t.C:
				}
				now, ok := c.stamp()
				if !ok || now == last {
					continue // a torn read is looked at again next tick
				}
				last = now
				f.publishAll()
			}
		}()
	})
}

// dsnConnector opens connections of a driver by name, as sql.Open does for a registered one.
type dsnConnector struct {
	drv driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

// stamp reads the WAL index header; both copies must agree and say it is initialised.
func (c *changes) stamp() (ChangeStamp, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ChangeStamp{}, false
	}
	var b [2 * walHeader]byte
	if c.head != nil {
		copy(b[:], c.head) // a read torn by a commit leaves the copies unequal, below
	} else if _, err := c.shm.ReadAt(b[:], 0); err != nil {
		return ChangeStamp{}, false
	}
	const isInit = 12 // offset of the isInit byte
	if b[isInit] != 1 || !bytes.Equal(b[:walHeader], b[walHeader:]) {
		return ChangeStamp{}, false
	}
	return ChangeStamp(b[:walHeader]), true
}

// walIntact reports an error when the WAL file is shorter than the frames its index says
// it holds: cut short (a full disk, a careless copy, a truncation), and every read of a
// page kept there fails, although a connection with the page cached, or a query reading
// no page, still answers.
func (c *changes) walIntact() error {
	b, ok := c.stamp()
	if !ok {
		return nil // mid-commit, or no index: nothing to judge by
	}
	page := int64(binary.NativeEndian.Uint16(b[14:16])) // the header is in the machine's byte order
	if page == 1 {
		page = 65536
	}
	frames := int64(binary.NativeEndian.Uint32(b[16:20]))
	if frames == 0 {
		return nil
	}
	fi, err := os.Stat(c.wal)
	if err != nil {
		return fmt.Errorf("the WAL file: %w", err)
	}
	if again, ok := c.stamp(); !ok || again != b {
		return nil // a commit or a checkpoint came between: judge next time
	}
	if want := 32 + frames*(24+page); fi.Size() < want {
		return fmt.Errorf("the WAL file %s is %d bytes, shorter than the %d frames its index lists (%d bytes): it was damaged", c.wal, fi.Size(), frames, want)
	}
	return nil
}

func (c *changes) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	close(c.stop)
	started := true
	c.watching.Do(func() { started = false })
	if started {
		c.mu.Unlock() // the watch reads the stamp under mu
		<-c.stopped
		c.mu.Lock()
	}
	head := c.head
	c.head = nil
	return errors.Join(unmapHeader(head), c.shm.Close(), c.keep.Close())
}

// ChangeStamp returns the database's change stamp now (see ChangeStamp).
func (d *DB) ChangeStamp() (ChangeStamp, bool) {
	if d.changes == nil {
		return ChangeStamp{}, false
	}
	return d.changes.stamp()
}
