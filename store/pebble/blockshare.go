package pebble

import pebbledb "github.com/cockroachdb/pebble/v2"

// Pebble charges its memtables to the block cache: each memtable's arena
// is reserved in it (and the one it keeps to recycle), so the blocks get
// Options.CacheSize less what the memtables take. Memory counts the two
// apart (the cache, and four memtables at most), as FitMemory splits them,
// so the blocks got less than their share: under a bulk load the
// memtables take 8–16 MiB, and at the full chain's share of memory
// emulated on the large world (--store-as 24GiB/780, a block cache of
// 2 MiB) no block was cached at all, and every lookup read the filter and
// index blocks of every file it probed from the disk (docs/benchmarks.md,
// "The block cache's share kept from the memtables"). blockShare gives the
// cache back what the memtables reserve, at most Memory's four of them, by
// a reservation of as much less (Cache.Reserve of a negative size): the
// blocks then get CacheSize, and the blocks and the memtables together
// never take more than Memory counts, however stale the reservation is
// (it is made again after every run ApplyBlocks commits, reading
// Pebble's metrics).
type blockShare struct {
	cache   *pebbledb.Cache
	most    int64 // four memtables
	held    int64
	release func()
}

// newBlockShare makes the block cache of o, which the caller passes to
// Pebble and closes (close) after it.
func newBlockShare(o *Options) *blockShare {
	return &blockShare{cache: pebbledb.NewCache(o.CacheSize), most: 4 * int64(o.MemTableSize)}
}

// follow gives the cache back what db's memtables reserve in it now.
func (s *blockShare) follow(db *pebbledb.DB) {
	m := db.Metrics()
	// Size and ZombieSize are the memtables' reservation (ZombieSize is
	// counted as the reservation less Size).
	s.set(int64(m.MemTable.Size + m.MemTable.ZombieSize))
}

// shareUnit is what the reservation is rounded down to: Pebble splits a
// reservation across the cache's shards and takes a share of -1 a shard
// for one already released (Cache.Reserve), which a few bytes given back
// would be.
const shareUnit = 64 << 10

// set makes the cache's reservation -min(n, most), rounded down to
// shareUnit.
func (s *blockShare) set(n int64) {
	n = max(min(n, s.most), 0) / shareUnit * shareUnit
	if n == s.held {
		return
	}
	if s.release != nil {
		s.release()
	}
	s.release, s.held = nil, n
	if n > 0 {
		s.release = s.cache.Reserve(-int(n))
	}
}

// close drops the reservation and the caller's reference to the cache.
func (s *blockShare) close() {
	s.set(0)
	s.cache.Unref()
}
