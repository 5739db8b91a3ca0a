package pebble

import "sync/atomic"

// MemoryStats is what a store holds in memory now, for profiling a
// process's memory (the hidden --memwatch flag): Pebble's block cache,
// memtables (live and zombie: flushed but still read by an iterator),
// open tables, iterators and snapshots; and the filters of an initial
// ingest with the lookups they let through (kept after Close).
type MemoryStats struct {
	BlockCache, BlockCacheCount int64
	MemTables, MemTableCount    int64
	ZombieTables, ZombieCount   int64
	FileCache, FileCacheTables  int64
	// FileOpens of FileReads: the file cache's look-ups since Open that
	// opened a file again (Options.MaxOpenFiles).
	FileOpens, FileReads          int64
	TableIters, Snapshots, Levels int64
	Lookups                       LookupStats
}

// LookupStats counts what the applier asked the store for the addresses
// and txids its caches and filters could not answer (docs/scaling.md: on
// the full chain these decide whether a filter pays), and the bytes its
// filters take now.
type LookupStats struct {
	// AddrLookups are addresses looked up in the address totals
	// (seekTotals), AddrFound those found there: the rest were new
	// addresses that the filter did not rule out (or had no filter).
	// AddrIDs are the ids given out.
	AddrLookups, AddrFound, AddrIDs int64
	// TxidLookups are txids looked up in the txid index, TxidFound
	// those found there (a repeated txid).
	TxidLookups, TxidFound int64
	// AddrFilter and TxidFilter are the filters' bytes, FilterBuilds the
	// times one was rebuilt larger (ingestfilter.go).
	AddrFilter, TxidFilter, FilterBuilds int64
	// UnspentHits are spends the store resolved from the unspent outputs
	// (unspent.go), UnspentMisses those it read the three tables for (the
	// output not stored, or spent already).
	UnspentHits, UnspentMisses int64
}

// lookupCounts are LookupStats' counters, written by the applier under
// DB.writeMu and read by MemoryStats at any time.
type lookupCounts struct {
	addrLookups, addrFound, addrIDs, txidLookups, txidFound atomic.Int64
	addrFilter, txidFilter, filterBuilds                    atomic.Int64
	unspentHits, unspentMisses                              atomic.Int64
}

func (l *lookupCounts) stats() LookupStats {
	return LookupStats{
		AddrLookups: l.addrLookups.Load(), AddrFound: l.addrFound.Load(), AddrIDs: l.addrIDs.Load(),
		TxidLookups: l.txidLookups.Load(), TxidFound: l.txidFound.Load(),
		AddrFilter: l.addrFilter.Load(), TxidFilter: l.txidFilter.Load(),
		FilterBuilds: l.filterBuilds.Load(),
		UnspentHits:  l.unspentHits.Load(), UnspentMisses: l.unspentMisses.Load(),
	}
}

// MemoryStats returns the store's memory now; only its Lookups when it
// is closed.
func (d *DB) MemoryStats() MemoryStats {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return MemoryStats{Lookups: d.ap.counts.stats()}
	}
	m := d.db.Metrics()
	s := MemoryStats{
		BlockCache: m.BlockCache.Size, BlockCacheCount: m.BlockCache.Count,
		MemTables: int64(m.MemTable.Size), MemTableCount: m.MemTable.Count,
		ZombieTables: int64(m.MemTable.ZombieSize), ZombieCount: m.MemTable.ZombieCount,
		FileCache: m.FileCache.Size, FileCacheTables: m.FileCache.TableCount,
		FileOpens: m.FileCache.Misses, FileReads: m.FileCache.Hits + m.FileCache.Misses,
		TableIters: m.TableIters, Snapshots: int64(m.Snapshots.Count),
		Lookups: d.ap.counts.stats(),
	}
	for i := range m.Levels {
		s.Levels += m.Levels[i].TablesCount
	}
	return s
}
