package pebble

import (
	"bytes"

	pebbledb "github.com/cockroachdb/pebble/v2"
)

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
//
// With Options.TopBlocks the cache also gets room for the filter and index
// blocks of the files above the bottom level, read from the files'
// properties at the same moments (topBlocks), up to TopBlocks.
type blockShare struct {
	cache   *pebbledb.Cache
	most    int64 // four memtables
	top     int64 // Options.TopBlocks
	held    int64
	release func()
	// tops is what the files above the bottom level took when last read,
	// and sizes each one's filter and index blocks by its number, so that
	// a file's properties are read once.
	tops  int64
	sizes map[uint64]int64
}

// newBlockShare makes the block cache of o, which the caller passes to
// Pebble and closes (close) after it.
func newBlockShare(o *Options) *blockShare {
	return &blockShare{cache: pebbledb.NewCache(o.CacheSize), most: 4 * int64(o.MemTableSize), top: max(o.TopBlocks, 0)}
}

// follow gives the cache back what db's memtables reserve in it now, and
// with TopBlocks the room of the upper levels' filter and index blocks.
func (s *blockShare) follow(db *pebbledb.DB) {
	m := db.Metrics()
	// Size and ZombieSize are the memtables' reservation (ZombieSize is
	// counted as the reservation less Size).
	n := min(int64(m.MemTable.Size+m.MemTable.ZombieSize), s.most)
	if s.top > 0 {
		n += min(s.topBlocks(db), s.top)
	}
	s.set(n)
}

// topBlocks returns the bytes of the filter and index blocks of db's files
// above the bottom level: those a point lookup reads in every file it
// probes. A file's properties are read once, with the other files of its
// table (each file holds one table: tableSpanPolicy), not the whole
// store's at every run; Pebble reads them outside the block cache. On an
// error the last figure stands.
func (s *blockShare) topBlocks(db *pebbledb.DB) int64 {
	levels, err := db.SSTables()
	if err != nil || len(levels) == 0 {
		return s.tops
	}
	upper := levels[:len(levels)-1]
	// The key ranges, by table, of the files not measured yet.
	type span struct{ lo, hi []byte }
	missing := map[byte]span{}
	for _, files := range upper {
		for _, f := range files {
			if _, ok := s.sizes[uint64(f.FileNum)]; ok || len(f.Smallest.UserKey) == 0 {
				continue
			}
			lo, hi := f.Smallest.UserKey, f.Largest.UserKey
			if sp, ok := missing[lo[0]]; ok {
				lo, hi = minKey(lo, sp.lo), maxKey(hi, sp.hi)
			}
			missing[lo[0]] = span{lo, hi}
		}
	}
	measured := map[uint64]int64{}
	for _, sp := range missing {
		end := append(append([]byte(nil), sp.hi...), 0)
		table, err := db.SSTables(pebbledb.WithProperties(), pebbledb.WithKeyRangeFilter(sp.lo, end))
		if err != nil {
			return s.tops
		}
		for _, files := range table[:len(table)-1] {
			for _, f := range files {
				measured[uint64(f.FileNum)] = int64(f.Properties.FilterSize + f.Properties.IndexSize)
			}
		}
	}
	sizes := make(map[uint64]int64, len(s.sizes))
	var n int64
	for _, files := range upper {
		for _, f := range files {
			size, ok := s.sizes[uint64(f.FileNum)]
			if !ok {
				// Measured above, or a file that came since (counted
				// as nothing until the next run).
				size = measured[uint64(f.FileNum)]
			}
			sizes[uint64(f.FileNum)] = size
			n += size
		}
	}
	s.sizes, s.tops = sizes, n
	return n
}

// shareUnit is what the reservation is rounded down to: Pebble splits a
// reservation across the cache's shards and takes a share of -1 a shard
// for one already released (Cache.Reserve), which a few bytes given back
// would be.
const shareUnit = 64 << 10

// set makes the cache's reservation -max(n, 0), rounded down to shareUnit.
func (s *blockShare) set(n int64) {
	n = max(n, 0) / shareUnit * shareUnit
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

// minKey and maxKey order keys as the store's comparer does (bytewise).
func minKey(a, b []byte) []byte {
	if bytes.Compare(a, b) <= 0 {
		return a
	}
	return b
}

func maxKey(a, b []byte) []byte {
	if bytes.Compare(a, b) >= 0 {
		return a
	}
	return b
}
