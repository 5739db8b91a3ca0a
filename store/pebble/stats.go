package pebble

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph/store"
)

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
	prefixUnspent:  "unspent outputs",
}

// Stats reports where the store's bytes are (see store.StatsReport).
func (d *DB) Stats(ctx context.Context, opts store.StatsOptions) (store.StatsReport, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return store.StatsReport{}, errClosed
	}
	m := d.db.Metrics()
	rep := store.StatsReport{
		Backend:        "pebble",
		WALBytes:       int64(m.WAL.PhysicalSize + m.WAL.ObsoletePhysicalSize),
		Compactions:    m.Compact.NumInProgress,
		CompactionDebt: m.Compact.EstimatedDebt,
		Levels:         make([]store.LevelStats, len(m.Levels)),
	}
	for i := range m.Levels {
		l := &m.Levels[i]
		rep.Levels[i] = store.LevelStats{Level: i, Files: l.TablesCount, Bytes: l.TablesSize}
		if i == 0 {
			rep.Levels[i].Sublevels = l.Sublevels
		}
		rep.TableBytes += l.TablesSize
	}
	var err error
	if rep.DiskBytes, err = d.dirBytes(); err != nil {
		return store.StatsReport{}, fmt.Errorf("store stats: %w", err)
	}
	name := func(k []byte) string { return familyName(k[0]) }
	if opts.Keys {
		rep.Families, err = d.familiesByKeys(ctx)
		name = familyOf
	} else {
		rep.Families, err = d.familiesByPrefix()
	}
	if err == nil {
		err = d.countFiles(rep.Families, name)
	}
	if err != nil {
		return store.StatsReport{}, fmt.Errorf("store stats: %w", err)
	}
	return rep, nil
}

// smallFile is the size below which FamilyStats counts a file as small.
const smallFile = 1 << 20

// countFiles sets each family's files, naming a file's family by name of
// its first key.
func (d *DB) countFiles(fams []store.FamilyStats, name func([]byte) string) error {
	levels, err := d.db.SSTables()
	if err != nil {
		return err
	}
	at := make(map[string]int, len(fams))
	for i, f := range fams {
		at[f.Family] = i
	}
	for _, files := range levels {
		for _, f := range files {
			if k := f.Smallest.UserKey; len(k) > 0 {
				if i, ok := at[name(k)]; ok {
					fams[i].Files++
					if f.Size < smallFile {
						fams[i].SmallFiles++
					}
				}
			}
		}
	}
	return nil
}

// familiesByPrefix estimates each prefix byte's range on disk without
// reading a key; families of no bytes are left out.
func (d *DB) familiesByPrefix() ([]store.FamilyStats, error) {
	var out []store.FamilyStats
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
		out = append(out, store.FamilyStats{Family: familyName(byte(p)), Table: familyTables[byte(p)], DiskBytes: n})
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
func (d *DB) familiesByKeys(ctx context.Context) ([]store.FamilyStats, error) {
	it, err := d.db.NewIter(nil)
	if err != nil {
		return nil, err
	}
	type family struct {
		store.FamilyStats
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
			f = &family{FamilyStats: store.FamilyStats{Family: name, Table: familyTables[k[0]]}, first: slices.Clone(k)}
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
	out := make([]store.FamilyStats, 0, len(byName))
	for _, f := range byName {
		disk, err := d.db.EstimateDiskUsage(f.first, append(f.last, 0))
		if err != nil {
			return nil, err
		}
		f.DiskBytes = disk
		f.Keys, f.KeyBytes, f.ValueBytes = &f.keys, &f.keyBytes, &f.valBytes
		out = append(out, f.FamilyStats)
	}
	slices.SortFunc(out, func(a, b store.FamilyStats) int { return strings.Compare(a.Family, b.Family) })
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
