package store

import "context"

// Statser is a store that says where its bytes are (`heistgraph store
// stats`): an operator deciding what the disk holds, whether a load has
// settled, which table grows. Both backends are.
type Statser interface {
	Stats(ctx context.Context, opts StatsOptions) (StatsReport, error)
}

// StatsOptions tunes Stats.
type StatsOptions struct {
	// Keys reads every key (Pebble) or counts every row (PostgreSQL) of the
	// store to count each family's keys and bytes: minutes on a full chain;
	// without it Stats reads none and reports estimates.
	Keys bool
}

// StatsReport says where a store's bytes are: in which of Pebble's levels,
// and in which key family or table. Building it reads no key unless
// StatsOptions.Keys asks for a count.
type StatsReport struct {
	// Backend is "pebble" or "postgres".
	Backend string `json:"backend"`
	// DiskBytes is the bytes the disk holds for the store. Pebble: every
	// file in the store's directory (sorted tables, write-ahead log,
	// manifest, audit log, files Pebble has yet to delete). PostgreSQL: the
	// store's tables with their indexes and TOAST (pg_total_relation_size);
	// the server's write-ahead log is shared by its databases and not
	// counted.
	DiskBytes int64 `json:"disk_bytes"`
	// TableBytes is the bytes of the live sorted tables (Pebble) or of the
	// tables' rows without their indexes (PostgreSQL); WALBytes those of the
	// write-ahead log files (Pebble, recycled ones included); IndexBytes
	// those of the indexes (PostgreSQL).
	TableBytes int64 `json:"table_bytes"`
	WALBytes   int64 `json:"wal_bytes"`
	IndexBytes int64 `json:"index_bytes,omitempty"`
	// Levels are Pebble's seven levels, 0 first (none on PostgreSQL). Level
	// 0 is where a bulk load leaves its randomly keyed tables until Close
	// compacts them down (or the next open, when the load was interrupted).
	Levels []LevelStats `json:"levels"`
	// Compactions is the number running, CompactionDebt Pebble's estimate
	// of the bytes still to compact for the levels to be in shape.
	Compactions    int64  `json:"compactions"`
	CompactionDebt uint64 `json:"compaction_debt"`
	// Families are, on Pebble, the key families by name (a prefix byte;
	// with Keys, the sub-tables of the clustering, accounts, keys, alerts,
	// webhooks and sharing tables too) with Pebble's estimate of their bytes
	// on disk; on PostgreSQL, the store's tables by name.
	Families []FamilyStats `json:"families"`
}

// LevelStats is one level of a StatsReport.
type LevelStats struct {
	Level     int   `json:"level"`
	Files     int64 `json:"files"`
	Bytes     int64 `json:"bytes"`
	Sublevels int32 `json:"sublevels"` // level 0 only: files that overlap, stacked
}

// FamilyStats is one key family (Pebble) or table (PostgreSQL) of a
// StatsReport. Keys, and on Pebble KeyBytes and ValueBytes (logical, before
// compression), are counted only when StatsOptions.Keys asks. DiskBytes is,
// on Pebble, its estimate over the family's key range (with several
// chains, a chain-scoped sub-table's range spans the other chains' keys
// between its first and last); on PostgreSQL, the table's bytes with its
// indexes and TOAST, of which IndexBytes are the indexes', and Rows the
// planner's estimate of its rows (-1 for a table never analyzed or
// vacuumed).
type FamilyStats struct {
	Family     string `json:"family"`
	Table      string `json:"table"`
	DiskBytes  uint64 `json:"disk_bytes"`
	IndexBytes uint64 `json:"index_bytes,omitempty"`
	Rows       *int64 `json:"rows,omitempty"`
	Keys       *int64 `json:"keys,omitempty"`
	KeyBytes   *int64 `json:"key_bytes,omitempty"`
	ValueBytes *int64 `json:"value_bytes,omitempty"`
	// Files is, on Pebble, the sorted tables whose first key is the
	// family's (each holds one table), SmallFiles those of them below
	// 1 MiB.
	Files      int64 `json:"files,omitempty"`
	SmallFiles int64 `json:"small_files,omitempty"`
}
