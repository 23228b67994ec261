package handlers

import (
	"bytes"
	"container/list"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/elsewhere-dev/elsewhere/db"
)

// pageCacheBytes bounds the memory the kept pages take, keys, bytes and compressed forms
// together: about 16 MiB, some 350 viewers of a 20-device page (one slot each for the
// page and for its list's refresh), least recently viewed first out.
const pageCacheBytes = 16 << 20

// pageCache keeps the Security page's bytes as last drawn for each viewer (one slot per
// session and kind: the page, the list's refresh), with the view they were drawn from
// (its key) and their compressed forms, so that a view that finds the same key is
// answered without drawing or compressing anything. The key is the whole view (see
// views.Security.AppendKey), which the handler builds from what it has just read, so a
// slot can never answer for a state it was not drawn from: no invalidation is needed,
// and a change made anywhere shows on the next view.
type pageCache struct {
	mu    sync.Mutex
	slots map[string]*list.Element // by slot; the list's front is the most recently used
	lru   list.List
	bytes int
	max   int
	// etagKey keys the ETags: they say nothing of a page to whoever sees one without it,
	// and differ from one process (and build) to the next, so no server ever answers 304
	// to an ETag another version of the page was sent with.
	etagKey [32]byte
	zstd    *zstd.Encoder
}

// keptPage is one viewer's page as last drawn.
type keptPage struct {
	slot string
	key  string // the view it was drawn from, with the viewer and kind
	body []byte
	etag string

	zstdOnce, gzipOnce sync.Once
	zstd, gzip         []byte

	// Set by hold, under the cache's lock: the page is what the database held at stamp,
	// for who, until until (see held).
	holds bool
	stamp db.ChangeStamp
	who   pageViewer
	until time.Time
}

func newPageCache(maxBytes int) *pageCache {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic(err) // only for bad options
	}
	pc := &pageCache{slots: make(map[string]*list.Element), max: maxBytes, zstd: enc}
	rand.Read(pc.etagKey[:])
	return pc
}

// get returns the slot's page if it was drawn from key.
func (pc *pageCache) get(slot string, key []byte) (*keptPage, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	el, ok := pc.slots[slot]
	if !ok {
		return nil, false
	}
	p := el.Value.(*keptPage)
	if p.key != string(key) {
		return nil, false
	}
	pc.lru.MoveToFront(el)
	return p, true
}

// held returns the slot's page when it holds without reading anything: drawn (with no
// notice) from what the database held at stamp, which nothing has been committed since,
// for this very viewer, and the clock not yet at the first moment that could change it.
func (pc *pageCache) held(slot string, stamp db.ChangeStamp, who pageViewer, now time.Time) (*keptPage, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	el, ok := pc.slots[slot]
	if !ok {
		return nil, false
	}
	p := el.Value.(*keptPage)
	if !p.holds || p.stamp != stamp || !p.who.same(who) || !now.Before(p.until) {
		return nil, false
	}
	pc.lru.MoveToFront(el)
	return p, true
}

// hold records that p was drawn, with no notice, from what was read at stamp (taken
// before the reads) for who, and holds until until unless something is committed.
func (pc *pageCache) hold(p *keptPage, stamp db.ChangeStamp, who pageViewer, until time.Time) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	p.holds, p.stamp, p.who, p.until = true, stamp, who, until
}

// etag is the ETag of the page drawn from key: the same key, the same bytes.
func (pc *pageCache) etag(key []byte) string {
	m := hmac.New(sha256.New, pc.etagKey[:])
	m.Write(key)
	return `W/"` + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18]) + `"`
}

// put keeps body, drawn from key, in the slot, in place of what it held.
func (pc *pageCache) put(slot string, key []byte, body []byte) *keptPage {
	p := &keptPage{slot: slot, key: string(key), body: bytes.Clone(body), etag: pc.etag(key)}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if el, ok := pc.slots[slot]; ok {
		pc.remove(el)
	}
	if p.size() > pc.max/8 {
		return p // a page this big is answered once and not kept
	}
	pc.slots[slot] = pc.lru.PushFront(p)
	pc.grow(p.size())
	return p
}

// grow counts n more bytes kept, and drops the least recently used pages while over.
func (pc *pageCache) grow(n int) {
	pc.bytes += n
	for pc.bytes > pc.max && pc.lru.Len() > 0 {
		pc.remove(pc.lru.Back())
	}
}

func (pc *pageCache) remove(el *list.Element) {
	p := el.Value.(*keptPage)
	pc.lru.Remove(el)
	delete(pc.slots, p.slot)
	pc.bytes -= p.size()
}

// size is what a kept page holds in memory.
func (p *keptPage) size() int {
	return len(p.slot) + len(p.key) + len(p.body) + len(p.zstd) + len(p.gzip) + 256
}

// encoded returns the page's bytes in encoding ("zstd", "gzip"; else as drawn),
// compressing them the first time they are asked for so.
func (pc *pageCache) encoded(p *keptPage, encoding string) []byte {
	var once *sync.Once
	var out *[]byte
	switch encoding {
	case "zstd":
		once, out = &p.zstdOnce, &p.zstd
	case "gzip":
		once, out = &p.gzipOnce, &p.gzip
	default:
		return p.body
	}
	once.Do(func() {
		var z []byte
		if encoding == "zstd" {
			z = pc.zstd.EncodeAll(p.body, nil)
		} else {
			var buf bytes.Buffer
			w, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
			w.Write(p.body)
			w.Close()
			z = buf.Bytes()
		}
		// Counted under the lock, and only while the page is still kept.
		pc.mu.Lock()
		*out = z
		if el, ok := pc.slots[p.slot]; ok && el.Value == p {
			pc.grow(len(z))
		}
		pc.mu.Unlock()
	})
	return *out
}
