package server

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// ScreenEpoch identifies what screening answers are computed from: Store
// is the store's write count (store.WriteCounter), Screener the
// generation of the backend's screening engine (bumped when it is replaced,
// after labels, watches or incidents changed). Both only grow.
type ScreenEpoch struct {
	Store, Screener uint64
}

// after reports whether e is a later epoch than o.
func (e ScreenEpoch) after(o ScreenEpoch) bool {
	return e != o && e.Store >= o.Store && e.Screener >= o.Screener
}

// ScreenCacher is implemented by backends whose answers to single
// screening requests the server may keep and give again (the answer
// cache). A kept answer is given again only to the same request bytes,
// while the epoch has not moved and before the time the answer holds to
// (ScreenResult.Until); so a backend must move the epoch on every change
// its answers can see, and its answers may depend on time only through
// what Until bounds.
type ScreenCacher interface {
	// ScreenEpoch returns the current epoch and the backend's clock (Unix
	// seconds, the time its answers are given at). ok is false when no
	// answer may be kept now (a store other processes write). The server
	// reads the epoch before it asks for an answer, and keeps the answer
	// under the epoch it read.
	ScreenEpoch() (e ScreenEpoch, now int64, ok bool)
}

// DefaultScreenCache is the default size of the answer cache in bytes.
const DefaultScreenCache = 32 << 20

// maxCachedRequest is the longest request body whose answer is kept (a
// single screen is about 100 bytes).
const maxCachedRequest = 1 << 10

// answerCache holds encoded answers of single screens by request bytes,
// for one epoch at a time, least recently used first out.
type answerCache struct {
	mu         sync.Mutex
	epoch      ScreenEpoch
	max, size  int64
	m          map[string]*cachedEntry
	head, tail *cachedEntry // head: most recently used

	hits, misses prometheus.Counter
}

// cachedEntry is a kept answer. body (the answer's JSON and a newline) is
// never modified once kept.
type cachedEntry struct {
	key        string
	body       []byte
	clen       []string // Content-Length
	risk       string
	until      int64
	prev, next *cachedEntry
}

// entryOverhead is what an entry costs besides its key and body (the entry,
// its map slot).
const entryOverhead = 160

func newAnswerCache(max int64, reg prometheus.Registerer) *answerCache {
	c := &answerCache{max: max, m: map[string]*cachedEntry{},
		hits: prometheus.NewCounter(prometheus.CounterOpts{Name: "heistgraph_screen_cache_hits_total",
			Help: "Single screens answered from the answer cache (the same request, nothing it depends on changed)."}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{Name: "heistgraph_screen_cache_misses_total",
			Help: "Single screens the answer cache could have answered but did not hold (computed and kept)."}),
	}
	reg.MustRegister(c.hits, c.misses)
	return c
}

// setEpoch moves the cache to epoch e if e is later, emptying it, and
// reports whether the cache is at e. c.mu is held.
func (c *answerCache) setEpoch(e ScreenEpoch) bool {
	if e.after(c.epoch) {
		c.epoch = e
		clear(c.m)
		c.head, c.tail, c.size = nil, nil, 0
	}
	return e == c.epoch
}

// get returns the kept answer to key under epoch e at time now.
func (c *answerCache) get(key []byte, e ScreenEpoch, now int64) (*cachedEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.setEpoch(e) {
		return nil, false // e is older than what the cache holds: a request that raced a write
	}
	en := c.m[string(key)]
	switch {
	case en == nil:
		c.misses.Inc()
		return nil, false
	case now >= en.until:
		c.remove(en)
		c.misses.Inc()
		return nil, false
	}
	c.hits.Inc()
	if en != c.head {
		c.unlink(en)
		c.pushFront(en)
	}
	return en, true
}

// newEntry returns the entry of body (an answer's JSON and its newline)
// for key, valid before until.
func newEntry(key, body []byte, risk string, until int64) *cachedEntry {
	return &cachedEntry{key: string(key), body: body, clen: []string{strconv.Itoa(len(body))}, risk: risk, until: until}
}

// put keeps en under epoch e.
func (c *answerCache) put(en *cachedEntry, e ScreenEpoch) {
	n := int64(len(en.key)+len(en.body)) + entryOverhead
	if n > c.max/16 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.setEpoch(e) {
		return
	}
	if old := c.m[en.key]; old != nil {
		c.remove(old)
	}
	c.m[en.key] = en
	c.pushFront(en)
	c.size += n
	for c.size > c.max && c.tail != nil {
		c.remove(c.tail)
	}
}

func (c *answerCache) remove(en *cachedEntry) {
	c.unlink(en)
	delete(c.m, en.key)
	c.size -= int64(len(en.key)+len(en.body)) + entryOverhead
}

func (c *answerCache) unlink(en *cachedEntry) {
	if en.prev != nil {
		en.prev.next = en.next
	} else {
		c.head = en.next
	}
	if en.next != nil {
		en.next.prev = en.prev
	} else {
		c.tail = en.prev
	}
	en.prev, en.next = nil, nil
}

func (c *answerCache) pushFront(en *cachedEntry) {
	en.next = c.head
	if c.head != nil {
		c.head.prev = en
	}
	c.head = en
	if c.tail == nil {
		c.tail = en
	}
}

// len returns the number of answers kept.
func (c *answerCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// write writes the kept answer with status (writeJSON has set the other
// headers).
func (en *cachedEntry) write(w http.ResponseWriter, status int) {
	w.Header()["Content-Length"] = en.clen
	w.WriteHeader(status)
	_, _ = w.Write(en.body)
}
