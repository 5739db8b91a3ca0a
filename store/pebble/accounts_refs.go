package pebble

import (
	"sync"
	"sync/atomic"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// acctRefCache caches the hash and time of account blocks by chain and
// height for the history reads (AccountHistory, AccountLogs), whose every
// step names a height: many streams of one trace read the same heights,
// each from its own snapshot.
//
// A cached block at a height is the block some reader's snapshot held
// there. Applying a block only adds a height; only removing blocks
// (RewindTo) changes what a height holds. So the cache counts removals in
// gen, odd while one is being committed: a reader that saw the same even
// gen before and after taking its snapshot shares the snapshot's heights
// with every reader that did so at that gen, and reads and fills only the
// entries of that gen. A removal clears the cache before it ends.
type acctRefCache struct {
	gen atomic.Uint64
	mu  sync.RWMutex
	// m holds the entries in pages of acctRefPage consecutive heights: a
	// lookup is one probe of a small map (at most acctRefMaxPages pages)
	// and an index, where a map by height cost a cache miss a lookup on
	// the trace's hot path. n counts the entries set.
	m map[acctRefPageKey]*acctRefPage
	n int
	// known holds InternalKnown by block (accounts_known.go).
	known map[acctKnownKey]acctKnownEntry
}

// acctRefPage is the cache's entries of heights p·acctRefPageSize to
// (p+1)·acctRefPageSize−1 of one chain (about 14 KB).
type acctRefPage [acctRefPageSize]acctRefEntry

const (
	acctRefPageBits = 8
	acctRefPageSize = 1 << acctRefPageBits
)

type acctRefPageKey struct {
	c chainCode
	p int64
}

type acctRefEntry struct {
	hash heistgraph.EVMHash
	time int64
	gen  uint64
	ok   bool
}

// acctRefCacheMax bounds the cache's entries (about 56 bytes each) and
// acctRefMaxPages its pages (so that sparse heights cannot make it large:
// at most 7 MB); a full cache is cleared.
const (
	acctRefCacheMax = 1 << 17
	acctRefMaxPages = acctRefCacheMax / acctRefPageSize
)

// snapshot takes a snapshot of db and returns the cache generation the
// reads from it may use, ok false when they may not use the cache.
func (rc *acctRefCache) snapshot(db *pebbledb.DB) (snap *pebbledb.Snapshot, gen uint64, ok bool) {
	gen = rc.gen.Load()
	snap = db.NewSnapshot()
	return snap, gen, gen&1 == 0 && rc.gen.Load() == gen
}

func (rc *acctRefCache) get(c chainCode, h int64, gen uint64) (heistgraph.AccountBlockRef, bool) {
	rc.mu.RLock()
	pg := rc.m[acctRefPageKey{c, h >> acctRefPageBits}]
	var e acctRefEntry
	if pg != nil {
		e = pg[h&(acctRefPageSize-1)]
	}
	rc.mu.RUnlock()
	if !e.ok || e.gen != gen {
		return heistgraph.AccountBlockRef{}, false
	}
	return heistgraph.AccountBlockRef{Hash: e.hash, Height: h, Time: e.time}, true
}

func (rc *acctRefCache) put(c chainCode, ref heistgraph.AccountBlockRef, gen uint64) {
	k := acctRefPageKey{c, ref.Height >> acctRefPageBits}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	pg := rc.m[k]
	if pg == nil {
		if rc.m == nil || len(rc.m) >= acctRefMaxPages || rc.n >= acctRefCacheMax {
			rc.m, rc.n = make(map[acctRefPageKey]*acctRefPage), 0
		}
		pg = new(acctRefPage)
		rc.m[k] = pg
	}
	e := &pg[ref.Height&(acctRefPageSize-1)]
	if !e.ok {
		rc.n++
	}
	*e = acctRefEntry{hash: ref.Hash, time: ref.Time, gen: gen, ok: true}
}

// removing marks the start of a commit that removes account blocks; the
// returned function, called once the commit is over (whatever its
// outcome), clears the cache and ends the mark.
func (rc *acctRefCache) removing() (done func()) {
	rc.gen.Add(1)
	return func() {
		rc.mu.Lock()
		rc.m, rc.n, rc.known = nil, 0, nil
		rc.mu.Unlock()
		rc.gen.Add(1)
	}
}
