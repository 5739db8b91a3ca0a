package pebble

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
)

// settleRatio bounds what settle rewrites: a table's level-0 files are
// compacted down only when the files below that overlap their key span
// hold at most settleRatio times their bytes. A bulk load into an empty
// store, or the ingest of a chain's next blocks into an in-order table,
// passes; a few files of a randomly keyed table over the full chain's
// copy of it below do not: merging them would rewrite that whole table
// down to the bottom level (Pebble's manual compaction goes through every
// level), which the next open's background compactions do a level at a
// time instead.
const settleRatio = 4

// settle compacts the files of level 0 down, table by table, where that
// is cheap enough (settleRatio): each table's files there are merged with
// its files below, once, and the in-order tables' files that a flush left
// in level 0 are moved down. Close calls it for a store that bulk-loaded
// (BulkLoad lets level 0 grow eight times as deep as usual,
// Options.pebbleOptions) or committed a memtable's worth this open
// (settles), after flushing the memtable: without it the next open
// would compact the same files, in the background of whatever command
// opened the store, and meanwhile the store takes more room on disk than it
// needs. Each table is compacted alone, so that a compaction of the
// addresses does not take in the in-order tables between them and the
// txids.
func (d *DB) settle(ctx context.Context) error {
	// The memtable first: a table's Compact below flushes it when it
	// holds keys of that table, and the flush's files of the tables
	// compacted before would stay in level 0.
	if err := d.guard(d.db.Flush); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	levels, err := d.levelSpans()
	if err != nil {
		return err
	}
	spans := settleSpans(levels, settleRatio)
	// Two at a time (Pebble runs two compactions at once,
	// CompactionConcurrencyRange): the tables' compactions overlap
	// nothing, and one core is not left idle while the other merges the
	// addresses. The largest first (the bytes a compaction reads), so
	// that the last one taken is a small one and the two finish at about
	// the same time.
	slices.SortStableFunc(spans, func(x, y settleSpan) int { return cmp.Compare(y.l0+y.below, x.l0+x.below) })
	errs := make([]error, len(spans))
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(spans) {
				return
			}
			s := spans[i]
			end := append(slices.Clone(s.hi), 0) // just past hi
			if err := d.guard(func() error { return d.db.Compact(ctx, s.lo, end, true) }); err != nil {
				errs[i] = fmt.Errorf("compact %q: %w", tableStart(s.lo), err)
			}
		}
	}
	t := goTask(work)
	work()
	t.wait()
	return errors.Join(errs...)
}

// fileSpan is a sorted table's first and last key and its size.
type fileSpan struct {
	lo, hi []byte
	size   uint64
}

// levelSpans lists the sorted tables of each level.
func (d *DB) levelSpans() ([][]fileSpan, error) {
	infos, err := d.db.SSTables()
	if err != nil {
		return nil, err
	}
	levels := make([][]fileSpan, len(infos))
	for i, files := range infos {
		for _, f := range files {
			levels[i] = append(levels[i], fileSpan{lo: f.Smallest.UserKey, hi: f.Largest.UserKey, size: f.Size})
		}
	}
	return levels, nil
}

// settleSpan is one table's files in level 0: the key span they cover and
// their bytes, and the bytes of the files below that overlap the span.
type settleSpan struct {
	lo, hi    []byte
	l0, below uint64
}

// settleSpans groups level 0's files by the table they start in (each file
// holds one table: tableSpanPolicy), sums the bytes of the files of the
// levels below that overlap each group's span, and returns, in key order,
// the spans whose files below hold at most ratio times their own bytes.
func settleSpans(levels [][]fileSpan, ratio uint64) []settleSpan {
	if len(levels) == 0 {
		return nil
	}
	var spans []settleSpan
	var starts [][]byte
	for _, f := range levels[0] {
		start := tableStart(f.lo)
		i := slices.IndexFunc(starts, func(s []byte) bool { return bytes.Equal(s, start) })
		if i < 0 {
			starts = append(starts, start)
			spans = append(spans, settleSpan{lo: f.lo, hi: f.hi})
			i = len(spans) - 1
		}
		s := &spans[i]
		if bytes.Compare(f.lo, s.lo) < 0 {
			s.lo = f.lo
		}
		if bytes.Compare(f.hi, s.hi) > 0 {
			s.hi = f.hi
		}
		s.l0 += f.size
	}
	for _, files := range levels[1:] {
		for _, f := range files {
			for i := range spans {
				if s := &spans[i]; bytes.Compare(f.lo, s.hi) <= 0 && bytes.Compare(f.hi, s.lo) >= 0 {
					s.below += f.size
				}
			}
		}
	}
	spans = slices.DeleteFunc(spans, func(s settleSpan) bool { return s.below > ratio*s.l0 })
	slices.SortFunc(spans, func(a, b settleSpan) int { return bytes.Compare(a.lo, b.lo) })
	for i := range spans {
		spans[i].lo, spans[i].hi = slices.Clone(spans[i].lo), slices.Clone(spans[i].hi)
	}
	return spans
}
