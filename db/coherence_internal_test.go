package db

import (
	"math"
	"strconv"
	"sync/atomic"
	"testing"
)

// TestOutOfOrderCommitsAreNotAcknowledgedByLaterOnes: changes are numbered before they
// commit. When T2 (numbered after T1) commits first, its echo and another server's
// acknowledgement of it say nothing of T1: T1's wait goes on until T1 itself is heard.
// (From the review of the coherence rules; it failed with max(seq) comparisons.)
func TestOutOfOrderCommitsAreNotAcknowledgedByLaterOnes(t *testing.T) {
	c := newCoherence()
	c.since = -int64(waitFor) // listening for long enough
	c.heardFrom("p B 1", nil) // B is known and may hold a lease
	s1, m1 := c.change([]int64{7}, nil)
	s2, m2 := c.change([]int64{8}, nil)
	c.heardFrom(m2, nil)
	c.heardFrom("a B "+c.self+"="+strconv.FormatUint(s2, 10), nil)
	c.mu.Lock()
	done, _ := c.doneLocked(s1)
	c.mu.Unlock()
	if done {
		t.Fatal("T1's wait was over on T2's echo and acknowledgement, though nobody heard T1")
	}
	c.heardFrom(m1, nil)
	c.mu.Lock()
	done, _ = c.doneLocked(s1)
	c.mu.Unlock()
	if done {
		t.Fatal("T1's wait was over while B had heard only up to T2, which came before T1")
	}
	c.heardFrom("a B "+c.self+"="+strconv.FormatUint(s1, 10), nil)
	c.mu.Lock()
	done, _ = c.doneLocked(s1)
	c.mu.Unlock()
	if !done {
		t.Fatal("T1 heard back and acknowledged by B, yet its wait goes on")
	}
}

// TestLookupNeverFilesOldDataUnderANewEpoch: a lookup takes the heard count before its
// read and the account's epoch after; if the count has not moved, the epoch must not
// count a change its data predates. A change is committed (visible to reads) before it is
// heard; forget moves the count before the epochs, so an epoch that counts a change the
// read missed comes with a moved count. (From the review: with the epochs moved first it
// failed within milliseconds.)
func TestLookupNeverFilesOldDataUnderANewEpoch(t *testing.T) {
	c := newCoherence()
	c.until.Store(math.MaxInt64)
	ids := []int64{299}
	for i := int64(0); i < 299; i++ {
		ids = append(ids, i)
	}
	var committed atomic.Uint64 // the changes a read would see
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			committed.Add(1) // the commit, then its message heard
			c.forget(ids, false)
		}
	}()
	bad := 0
	for i := 0; i < 1_000_000 && bad == 0; i++ {
		h0 := c.heard.Load()     // before the read
		seen := committed.Load() // the read, which takes a while
		for range 100 {
			committed.Load()
		}
		epoch := c.epochs[shard(299)].Load() // the epoch taken after the read
		if c.heard.Load() == h0 && epoch > seen {
			bad++
		}
	}
	stop.Store(true)
	<-done
	if bad > 0 {
		t.Error("an answer read before a change was filed under the epoch after it")
	}
}
