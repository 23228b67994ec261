package db

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// On PostgreSQL an app server may answer from memory (a session's lookup, a kept page)
// without asking the database, and still refuse a session revoked through any other
// server at its very next request. Three rules make that exact:
//
//  1. Every write transaction that changes an account says so on the change channel
//     (NOTIFY "w <server> <seq> <accounts>", sent inside the transaction, so PostgreSQL
//     delivers it at commit, to every listener, in commit order). A server that
//     receives it moves those accounts' epochs: what it remembered of them is stale.
//     An account written "+<id>" had its sessions changed (Tx.Changed): the server
//     also wakes that account's open pages.
//  2. A server answers from memory only under a lease: it sends itself a ping through
//     the same channel every pingEvery, and when the ping comes back it has received
//     every change committed before the ping was sent; it may then answer from memory
//     until leaseFor after that moment. A listener that falls behind, a lost
//     connection, a stalled process: the pings stop coming back, the lease runs out,
//     and the server asks the database again at every request.
//  3. A writer does not answer its client until every server that may hold a lease has
//     acknowledged its change ("a <server> <writer>=<seq>"), or until leaseFor has
//     passed since its commit (waitFor): any lease still running by then came from a
//     ping sent after the commit, and so from a server that has received the change.
//     The servers that may hold a lease are those heard pinging within waitFor; a writer
//     that has listened for less than that (a command, a server just started) cannot
//     know them all, and waits until it has. Acknowledgements and echoes are compared by
//     their place in the channel's one order, since changes commit out of their numbers'
//     order. A server whose own pings stop coming back (a stuck listener) stops pinging,
//     so the others stop waiting for it once it falls silent.
//
// So by the time a revocation's response leaves one server, every other server has
// either forgotten what it remembered of the account or stopped answering from memory.
// A request concurrent with the revocation may be answered either way, as on one server.
// The wait is a round trip through PostgreSQL while every server answers (about a
// millisecond), and at most waitFor while one has died or gone deaf without saying so.
const (
	leaseFor  = 500 * time.Millisecond
	pingEvery = leaseFor / 5
	waitFor   = leaseFor + leaseFor/4 // the lease, and room for two clocks' rates
	// maxNamed is how many accounts one change message names; a transaction that
	// changes more says "all", and every server forgets everything.
	maxNamed = 300
)

// coherence is one app server's side of the rules above.
type coherence struct {
	self  string    // this process, random: "p" pings, "w" changes and "a" acks name it
	start time.Time // monotonic origin of the nanosecond times below

	epochs [1024]atomic.Uint64 // by account, in shards: moved by every change heard of
	base   atomic.Uint64       // moved when changes may have been missed: everything is stale
	heard  atomic.Uint64       // moved with any epoch or base: a read can tell nothing moved during it
	until  atomic.Int64        // the lease: answers from memory until this time; 0: none

	mu      sync.Mutex
	pings   map[uint64]int64 // sent and not yet back: seq → when sent
	pingSeq uint64
	seq     uint64            // this server's changes, numbered (before they commit, so
	heardAt map[uint64]uint64 // not in commit order): each one heard back → at which message
	pos     uint64            // messages heard since listening, in PostgreSQL's one order
	since   int64             // when the LISTEN now in place began
	peers   map[string]*peer  // other servers heard from
	moved   chan struct{}     // closed (and replaced) at every echo or ack: waiters look again
	acks    map[string]uint64
	ackWake chan struct{}

	waits, timeouts atomic.Uint64 // commits that waited, and those that waited it out
}

type peer struct {
	seen  int64  // when last heard from
	acked uint64 // the last of this server's changes it has heard (acknowledged)
}

func newCoherence() *coherence {
	var b [8]byte
	rand.Read(b[:])
	return &coherence{self: hex.EncodeToString(b[:]), start: time.Now(), pings: map[uint64]int64{},
		heardAt: map[uint64]uint64{}, peers: map[string]*peer{}, moved: make(chan struct{}),
		acks: map[string]uint64{}, ackWake: make(chan struct{}, 1)}
}

func (c *coherence) now() int64 { return int64(time.Since(c.start)) }

// stamp is the stamp of what is remembered of userID's account, while the lease holds.
func (c *coherence) stamp(userID int64) (ChangeStamp, bool) {
	if c.now() >= c.until.Load() {
		return ChangeStamp{}, false
	}
	var s ChangeStamp
	s[0] = 'e'
	binary.BigEndian.PutUint64(s[1:9], c.base.Load())
	binary.BigEndian.PutUint64(s[9:17], c.epochs[shard(userID)].Load())
	return s, true
}

func shard(userID int64) int { return int(uint64(userID) % 1024) }

// forget moves the epochs of ids (every account's, for all): called when a change is
// heard, before it is acknowledged.
func (c *coherence) forget(ids []int64, all bool) {
	// heard first: a read that finds it unmoved after reading an epoch has read an epoch
	// from before this change, never one moved for a change its data may predate.
	c.heard.Add(1)
	if all {
		c.base.Add(1)
	}
	for _, id := range ids {
		c.epochs[shard(id)].Add(1)
	}
}

// lost says that changes may have gone unheard (the listener is down): no lease, and
// nothing remembered is used again.
func (c *coherence) lost() {
	c.until.Store(0)
	c.mu.Lock()
	clear(c.pings)
	c.since = c.now() // until a LISTEN has been in place for a lease, no peer set is whole
	c.mu.Unlock()
	c.forget(nil, true)
}

// nextPing numbers a ping about to be sent and records when; "" while a ping sent more
// than a lease ago has not come back. A server whose listener is stuck so stops pinging,
// holds no lease, and the others soon stop waiting for its acknowledgements; its pings
// resume once the listener catches up (or reconnects, which clears them).
func (c *coherence) nextPing() (uint64, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for _, sent := range c.pings {
		if now-sent > int64(leaseFor) {
			return 0, ""
		}
	}
	c.pingSeq++
	c.pings[c.pingSeq] = now
	return c.pingSeq, "p " + c.self + " " + strconv.FormatUint(c.pingSeq, 10)
}

// dropPing forgets ping n, which failed to go out.
func (c *coherence) dropPing(n uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pings, n)
}

// change numbers a change to the accounts ids, about to be committed, and returns its
// message; changed are those whose sessions changed, a subset of ids.
func (c *coherence) change(ids, changed []int64) (uint64, string) {
	c.mu.Lock()
	c.seq++
	seq := c.seq
	c.mu.Unlock()
	var b strings.Builder
	b.WriteString("w " + c.self + " " + strconv.FormatUint(seq, 10))
	if len(ids) > maxNamed {
		b.WriteString(" *") // everything stale, every page woken
		return seq, b.String()
	}
	for _, id := range ids {
		b.WriteByte(' ')
		if slices.Contains(changed, id) {
			b.WriteByte('+')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return seq, b.String()
}

// heardFrom handles one message from the channel, in the order PostgreSQL delivers them,
// waking the watchers in woken (nil: none) of the sessions a change changed.
func (c *coherence) heardFrom(payload string, woken *feed) {
	f := strings.Fields(payload)
	if len(f) < 2 || len(f[0]) != 1 {
		return // not ours
	}
	from, now := f[1], c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pos++
	switch f[0] {
	case "p": // a ping: its sender has heard everything committed before it
		if len(f) != 3 {
			return
		}
		n, _ := strconv.ParseUint(f[2], 10, 64)
		if from != c.self {
			c.peerLocked(from, now)
			return
		}
		if sent, ok := c.pings[n]; ok {
			if until := sent + int64(leaseFor); until > c.until.Load() {
				c.until.Store(until)
			}
			for k := range c.pings {
				if k <= n {
					delete(c.pings, k)
				}
			}
		}
	case "w": // a change: forget, then acknowledge
		if len(f) < 3 {
			return
		}
		seq, _ := strconv.ParseUint(f[2], 10, 64)
		all := false
		var ids, changed []int64
		for _, s := range f[3:] {
			if s == "*" {
				all = true
				continue
			}
			id, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64)
			if err != nil {
				continue
			}
			ids = append(ids, id)
			if s[0] == '+' {
				changed = append(changed, id)
			}
		}
		c.forget(ids, all)
		if woken != nil {
			if all {
				woken.publishAll()
			} else if len(changed) > 0 {
				woken.publish(changed...)
			}
		}
		if from == c.self {
			c.heardAt[seq] = c.pos
			if len(c.heardAt) > 4096 { // far past any wait; one that misses its entry waits it out
				for k := range c.heardAt {
					if k+2048 < seq {
						delete(c.heardAt, k)
					}
				}
			}
			c.wakeLocked()
			return
		}
		// Acknowledged (the last heard from each writer: all before it in the one order
		// were heard too), but not taken for a server to wait for: servers ping, and an
		// operator's "w psql 0 *" never acknowledges anything.
		c.acks[from] = seq
		select {
		case c.ackWake <- struct{}{}:
		default:
		}
	case "a": // an acknowledgement: "a <server> <writer>=<seq> ..."
		if from == c.self {
			return
		}
		p := c.peerLocked(from, now)
		for _, kv := range f[2:] {
			w, s, ok := strings.Cut(kv, "=")
			if n, err := strconv.ParseUint(s, 10, 64); ok && err == nil && w == c.self {
				p.acked = n // acks arrive in the order they were sent: the last is the latest
			}
		}
		c.wakeLocked()
	case "q": // a server closing: no need to wait for it
		delete(c.peers, from)
		c.wakeLocked()
	}
}

func (c *coherence) peerLocked(id string, now int64) *peer {
	p := c.peers[id]
	if p == nil {
		p = &peer{}
		c.peers[id] = p
	}
	p.seen = now
	return p
}

func (c *coherence) wakeLocked() {
	close(c.moved)
	c.moved = make(chan struct{})
}

// takeAcks returns the acknowledgement message owed, if any.
func (c *coherence) takeAcks() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.acks) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("a " + c.self)
	for w, s := range c.acks {
		b.WriteString(" " + w + "=" + strconv.FormatUint(s, 10))
	}
	clear(c.acks)
	return b.String()
}

// await returns once change seq, committed at committed, has been heard back here and
// acknowledged by every server heard from within a lease, or once waitFor has passed
// since the commit (see rule 3).
func (c *coherence) await(seq uint64, committed int64) {
	deadline := committed + int64(waitFor)
	c.waits.Add(1)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		c.mu.Lock()
		done, recheck := c.doneLocked(seq)
		moved := c.moved
		c.mu.Unlock()
		now := c.now()
		if done || now >= deadline {
			if !done { // waited out, or until a silent server was given up
				c.timeouts.Add(1)
			}
			return
		}
		until := deadline
		if recheck != 0 {
			until = min(until, recheck)
		}
		if timer == nil {
			timer = time.NewTimer(time.Duration(until - now))
		} else {
			timer.Reset(time.Duration(until - now))
		}
		select {
		case <-moved:
		case <-timer.C:
		}
	}
}

// doneLocked says whether change seq has been heard by this server and by every server
// that may hold a lease; if not, recheck is when to look again without news (0: at news).
// Positions, not numbers, say what was heard: changes are numbered before they commit,
// so they may commit out of order, but every server hears the channel in PostgreSQL's one
// order, so a server that has heard any change at or after seq's place has heard seq.
func (c *coherence) doneLocked(seq uint64) (done bool, recheck int64) {
	at, ok := c.heardAt[seq]
	if !ok {
		return false, 0
	}
	now := c.now()
	if whole := c.since + int64(waitFor); now < whole {
		// Listening for less than a lease (a command just started, a server just started
		// or reconnected): a server whose last ping came before the LISTEN may still hold
		// a lease this one never heard of, until a lease after that ping.
		return false, whole
	}
	for id, p := range c.peers {
		if now-p.seen > int64(waitFor) {
			delete(c.peers, id) // silent for longer than any lease it could hold
			continue
		}
		if got, ok := c.heardAt[p.acked]; !ok || got < at {
			return false, 0
		}
	}
	return true, 0
}

// notify sends payload on the change channel, outside any transaction.
func (p *pgState) notify(ctx context.Context, d *DB, payload string) error {
	ctx, cancel := context.WithTimeout(ctx, leaseFor)
	defer cancel()
	_, err := d.Write.ExecContext(ctx, `SELECT pg_notify(?, ?)`, p.channel, payload)
	return err
}

// keepLease pings every pingEvery and sends the acknowledgements owed, until ctx ends.
func (p *pgState) keepLease(ctx context.Context, d *DB) {
	c := p.co
	tick := time.NewTicker(pingEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if !p.connected.Load() {
				continue
			}
			if n, ping := c.nextPing(); ping != "" && p.notify(ctx, d, ping) != nil {
				c.dropPing(n) // never sent: nothing to wait for (a lease not renewed)
			}
		case <-c.ackWake:
			if a := c.takeAcks(); a != "" {
				p.notify(ctx, d, a) // an ack lost is a writer that waits it out
			}
		}
	}
}

// Remembering reports whether this app server may answer from memory now, and the
// number of changes heard so far: a read that takes it before and finds it the same
// after was not overtaken by any change heard of (AccountStamp).
func (d *DB) Remembering() (uint64, bool) {
	if d.pg == nil {
		return 0, d.changes != nil
	}
	c := d.pg.co
	return c.heard.Load(), c.now() < c.until.Load()
}

// AccountStamp is the stamp what is remembered of userID's account must carry to be used
// now. On SQLite it is the database's change stamp (ChangeStamp), which any commit moves.
// On PostgreSQL it is the account's epoch on this app server, which every change to the
// account moves here before its writer answers (see coherence); ok is false while the
// lease does not hold, and then only the database can say.
func (d *DB) AccountStamp(userID int64) (ChangeStamp, bool) {
	if d.pg == nil {
		return d.ChangeStamp()
	}
	return d.pg.co.stamp(userID)
}

// ChangeChannel is the NOTIFY channel the app servers on this PostgreSQL schema share
// ("" on SQLite). An operator who changed rows behind the servers' back sends
// `SELECT pg_notify('<channel>', 'w psql 0 *')` on it, and every server forgets what it
// remembered within a lease.
func (d *DB) ChangeChannel() string {
	if d.pg == nil {
		return ""
	}
	return d.pg.channel
}

// Coherence says how many commits waited for the other app servers to hear of them, and
// how many of those waited the whole lease out (a server gone without a word), for metrics.
func (d *DB) Coherence() (waits, timeouts uint64) {
	if d.pg == nil {
		return 0, 0
	}
	return d.pg.co.waits.Load(), d.pg.co.timeouts.Load()
}
