package handlers

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/views"
)

// TestPageCacheStaysWithinItsBound: however many viewers there are, the kept pages and
// their compressed forms stay within the cache's bytes, the least recently viewed going
// first; a slot answers only for the key it was drawn from; a page too big is not kept.
func TestPageCacheStaysWithinItsBound(t *testing.T) {
	const max = 200 << 10
	pc := newPageCache(max)
	body := bytes.Repeat([]byte("<li>a device</li>\n"), 1000) // 18 KB
	key := func(i int) []byte { return []byte(fmt.Sprintf("key %d", i)) }
	for i := range 100 {
		p := pc.put(fmt.Sprint("slot ", i), key(i), body)
		pc.encoded(p, "zstd")
		pc.encoded(p, "gzip")
		if i == 50 {
			// An older viewer looking again stays.
			if _, ok := pc.get("slot 45", key(45)); !ok {
				t.Fatal("a recent page is gone")
			}
		}
		if pc.bytes > max {
			t.Fatalf("after %d pages: %d bytes kept, over %d", i+1, pc.bytes, max)
		}
	}
	want := 0
	for el := pc.lru.Front(); el != nil; el = el.Next() {
		want += el.Value.(*keptPage).size()
	}
	if want != pc.bytes || len(pc.slots) != pc.lru.Len() {
		t.Fatalf("counted %d bytes in %d slots; they hold %d in %d", pc.bytes, len(pc.slots), want, pc.lru.Len())
	}
	if _, ok := pc.get("slot 99", key(99)); !ok {
		t.Error("the latest page is gone")
	}
	if _, ok := pc.get("slot 0", key(0)); ok {
		t.Error("the first page is still kept")
	}
	if _, ok := pc.get("slot 99", key(98)); ok {
		t.Error("a slot answered for another key")
	}
	// A page bigger than an eighth of the cache is answered and not kept; its slot's old
	// page goes.
	big := pc.put("slot 99", key(1000), bytes.Repeat(body, 2))
	if string(pc.encoded(big, "")) == "" {
		t.Fatal("no body")
	}
	if _, ok := pc.get("slot 99", key(1000)); ok {
		t.Error("a page over the limit is kept")
	}
	if _, ok := pc.get("slot 99", key(99)); ok {
		t.Error("the slot still answers for its old page")
	}
}

// TestNextMinuteIsWhenTheTextCanChange: what a row says of a time ("Active now", "x
// minutes ago") is the same at every moment from now until nextMinute, and changes
// at nextMinute for a time less than an hour ago (so the hold is not longer than needed
// there either).
func TestNextMinuteIsWhenTheTextCanChange(t *testing.T) {
	base := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	says := func(now, at time.Time) string {
		if now.Sub(at) < activeNowFor {
			return "Active now"
		}
		return views.Ago(now, at)
	}
	for _, ago := range []time.Duration{-90 * time.Second, -time.Nanosecond, 0, time.Nanosecond, 59 * time.Second,
		time.Minute, 119*time.Second + 999*time.Millisecond, 2 * time.Minute, 59*time.Minute + 30*time.Second,
		time.Hour, 90 * time.Minute, 23 * time.Hour, 47 * time.Hour, 30 * 24 * time.Hour} {
		for _, sub := range []time.Duration{0, 123 * time.Millisecond, 37 * time.Second} {
			at := base.Add(-ago).Add(sub)
			now := base
			next := nextMinute(now, at)
			if !next.After(now) {
				t.Fatalf("%v ago: nextMinute %v is not after now", ago, next.Sub(now))
			}
			want := says(now, at)
			for _, step := range []time.Duration{time.Nanosecond, time.Second, 30 * time.Second, next.Sub(now) - time.Nanosecond} {
				if m := now.Add(step); m.Before(next) && says(m, at) != want {
					t.Errorf("%v ago: says %q at now, %q %v later, before nextMinute (%v)", ago, want, says(m, at), step, next.Sub(now))
				}
			}
			if d := now.Sub(at); d >= activeNowFor-time.Minute && d < 59*time.Minute && says(next, at) == want {
				t.Errorf("%v ago: still %q at nextMinute: held longer than needed", ago, want)
			}
		}
	}
}
