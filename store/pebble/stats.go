package pebble

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// StatsReport says where a store's bytes are: in which of Pebble's levels,
// and in which key family (schema.go), for an operator deciding what the
// disk holds and whether a load has settled. Building it reads no key
// unless StatsOptions.Keys asks for a count.
type StatsReport struct {
	// DiskBytes is the bytes of every file in the store's directory: what
	// the disk holds for it (sorted tables, write-ahead log, manifest,
	// audit log, files Pebble has yet to delete).
	DiskBytes int64 `json:"disk_bytes"`
	// TableBytes is the bytes of the live sorted tables, WALBytes those of
	// the write-ahead log files (recycled ones included).
	TableBytes int64 `json:"table_bytes"`
	WALBytes   int64 `json:"wal_bytes"`
	// Levels are Pebble's seven levels, 0 first. Level 0 is where a bulk
	// load leaves its randomly keyed tables until Close compacts them down
	// (or the next open, when the load was interrupted).
	Levels []LevelStats `json:"levels"`
	// Compactions is the number running, CompactionDebt Pebble's estimate
	// of the bytes still to compact for the levels to be in shape.
	Compactions    int64  `json:"compactions"`
	CompactionDebt uint64 `json:"compaction_debt"`
	// Families are the key families by name (a prefix byte; with Keys, the
	// sub-tables of the clustering, accounts, keys, alerts, webhooks and
	// sharing tables too), with Pebble's estimate of their bytes on disk.
	Families []FamilyStats `json:"families"`
}

// LevelStats is one level of a StatsReport.
type LevelStats struct {
	Level     int   `json:"level"`
	Files     int64 `json:"files"`
	Bytes     int64 `json:"bytes"`
	Sublevels int32 `json:"sublevels"` // level 0 only: files that overlap, stacked
}

// FamilyStats is one key family of a StatsReport. Keys, KeyBytes and
// ValueBytes (logical, before compression) are counted only when
// StatsOptions.Keys asks; DiskBytes is Pebble's estimate over the family's
// key range (with several chains, a chain-scoped sub-table's range spans
// the other chains' keys between its first and last).
type FamilyStats struct {
	Family     string `json:"family"`
	Table      string `json:"table"`
	DiskBytes  uint64 `json:"disk_bytes"`
	Keys       *int64 `json:"keys,omitempty"`
	KeyBytes   *int64 `json:"key_bytes,omitempty"`
	ValueBytes *int64 `json:"value_bytes,omitempty"`
}

// StatsOptions tunes Stats.
type StatsOptions struct {
	// Keys reads every key of the store to count each family's keys and
	// bytes (minutes on a full chain; without it Stats reads none).
	Keys bool
}

// familyTables names the tables of schema.go by their prefix byte.
var familyTables = map[byte]string{
	prefixMeta:     "metadata and counters",
	prefixAddress:  "address totals and ids",
	prefixBlock:    "block records",
	prefixEvent:    "address events",
	prefixHeight:   "best-chain height index",
	prefixOutput:   "output records",
	prefixPending:  "pending spends",
	prefixSpend:    "spend markers",
	prefixTx:       "txid index",
	prefixUndo:     "undo records",
	prefixPrice:    "prices",
	prefixIncident: "incidents",
	prefixSource:   "incident sources",
	prefixLabel:    "labels",
	prefixLabelSet: "label sets",
	prefixCluster:  "clustering",
	prefixAccount:  "accounts (EVM)",
	prefixAddrByID: "addresses by id",
	prefixAlerts:   "alerts",
	prefixKeys:     "API keys",
	prefixLinks:    "cross-chain links",
	prefixSharing:  "sharing",
	prefixTxNum:    "txids by number",
	prefixTxRec:    "tx records by number",
	prefixWatches:  "watches",
	prefixWebhooks: "webhooks",
}

// Stats reports where the store's bytes are (see StatsReport).
func (d *DB) Stats(ctx context.Context, opts StatsOptions) (StatsReport, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return StatsReport{}, errClosed
	}
	m := d.db.Metrics()
	rep := StatsReport{
		WALBytes:       int64(m.WAL.PhysicalSize + m.WAL.ObsoletePhysicalSize),
		Compactions:    m.Compact.NumInProgress,
		CompactionDebt: m.Compact.EstimatedDebt,
		Levels:         make([]LevelStats, len(m.Levels)),
	}
	for i := range m.Levels {
		l := &m.Levels[i]
		rep.Levels[i] = LevelStats{Level: i, Files: l.TablesCount, Bytes: l.TablesSize}
		if i == 0 {
			rep.Levels[i].Sublevels = l.Sublevels
		}
		rep.TableBytes += l.TablesSize
	}
	var err error
	if rep.DiskBytes, err = d.dirBytes(); err != nil {
		return StatsReport{}, fmt.Errorf("store stats: %w", err)
	}
	if opts.Keys {
		rep.Families, err = d.familiesByKeys(ctx)
	} else {
		rep.Families, err = d.familiesByPrefix()
	}
	if err != nil {
		return StatsReport{}, fmt.Errorf("store stats: %w", err)
	}
	return rep, nil
}

// familiesByPrefix estimates each prefix byte's range on disk without
// reading a key; families of no bytes are left out.
func (d *DB) familiesByPrefix() ([]FamilyStats, error) {
	var out []FamilyStats
	for p := 0; p < 256; p++ {
		end := []byte{byte(p + 1)}
		if p == 0xff {
			end = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		}
		n, err := d.db.EstimateDiskUsage([]byte{byte(p)}, end)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			continue
		}
		out = append(out, FamilyStats{Family: familyName(byte(p)), Table: familyTables[byte(p)], DiskBytes: n})
	}
	return out, nil
}

// familyName is a prefix byte as a family name: the letter schema.go uses,
// or the byte in hex.
func familyName(p byte) string {
	if p >= 'a' && p <= 'z' || p >= 'A' && p <= 'Z' {
		return string(rune(p))
	}
	return fmt.Sprintf("%#02x", p)
}

// familyOf names the family of a key: its prefix byte, and for the tables
// that hold sub-tables (clustering, accounts, keys, alerts, webhooks,
// sharing) the sub-table byte too.
func familyOf(k []byte) string {
	switch {
	case len(k) == 0:
		return "?"
	case (k[0] == prefixCluster || k[0] == prefixAccount) && len(k) > 3:
		return familyName(k[0]) + familyName(k[3])
	case (k[0] == prefixKeys || k[0] == prefixAlerts || k[0] == prefixWebhooks || k[0] == prefixSharing) && len(k) > 1:
		return familyName(k[0]) + familyName(k[1])
	}
	return familyName(k[0])
}

// familiesByKeys reads every key once, counting each family's keys and
// bytes, and estimates each family's range on disk from its first and last
// key.
func (d *DB) familiesByKeys(ctx context.Context) ([]FamilyStats, error) {
	it, err := d.db.NewIter(nil)
	if err != nil {
		return nil, err
	}
	type family struct {
		FamilyStats
		keys, keyBytes, valBytes int64
		first, last              []byte
	}
	byName := map[string]*family{}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		if n++; n%(1<<16) == 0 && ctx.Err() != nil {
			_ = it.Close()
			return nil, ctx.Err()
		}
		k := it.Key()
		name := familyOf(k)
		f := byName[name]
		if f == nil {
			f = &family{FamilyStats: FamilyStats{Family: name, Table: familyTables[k[0]]}, first: slices.Clone(k)}
			byName[name] = f
		}
		f.keys++
		f.keyBytes += int64(len(k))
		lv := it.LazyValue()
		f.valBytes += int64(lv.Len())
		f.last = append(f.last[:0], k...)
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	out := make([]FamilyStats, 0, len(byName))
	for _, f := range byName {
		disk, err := d.db.EstimateDiskUsage(f.first, append(f.last, 0))
		if err != nil {
			return nil, err
		}
		f.DiskBytes = disk
		f.Keys, f.KeyBytes, f.ValueBytes = &f.keys, &f.keyBytes, &f.valBytes
		out = append(out, f.FamilyStats)
	}
	slices.SortFunc(out, func(a, b FamilyStats) int { return strings.Compare(a.Family, b.Family) })
	return out, nil
}

// dirBytes sums the sizes of the files in the store's directory.
func (d *DB) dirBytes() (int64, error) {
	fsys := d.fs()
	names, err := fsys.List(d.dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, name := range names {
		fi, err := fsys.Stat(fsys.PathJoin(d.dir, name))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted since the listing (an obsolete file)
			}
			return 0, err
		}
		if fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n, nil
}
