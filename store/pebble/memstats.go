package pebble

// MemoryStats is what a store holds in memory now, for profiling a
// process's memory (the hidden --memwatch flag): Pebble's block cache,
// memtables (live and zombie: flushed but still read by an iterator),
// open tables, iterators and snapshots.
type MemoryStats struct {
	BlockCache, BlockCacheCount   int64
	MemTables, MemTableCount      int64
	ZombieTables, ZombieCount     int64
	FileCache, FileCacheTables    int64
	TableIters, Snapshots, Levels int64
}

// MemoryStats returns the store's memory now; the zero value when it is
// closed.
func (d *DB) MemoryStats() MemoryStats {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return MemoryStats{}
	}
	m := d.db.Metrics()
	s := MemoryStats{
		BlockCache: m.BlockCache.Size, BlockCacheCount: m.BlockCache.Count,
		MemTables: int64(m.MemTable.Size), MemTableCount: m.MemTable.Count,
		ZombieTables: int64(m.MemTable.ZombieSize), ZombieCount: m.MemTable.ZombieCount,
		FileCache: m.FileCache.Size, FileCacheTables: m.FileCache.TableCount,
		TableIters: m.TableIters, Snapshots: int64(m.Snapshots.Count),
	}
	for i := range m.Levels {
		s.Levels += m.Levels[i].TablesCount
	}
	return s
}
