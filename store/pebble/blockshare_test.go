package pebble

import (
	"context"
	"errors"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestBlockShare: with memtables that take more than the block cache
// (Pebble reserves them in it), the cache still holds blocks, and the
// blocks and the memtables never take more than Memory counts for them
// (the blocks may pass the cache's size by what a flush freed since the
// last run). A block cache left to Pebble's accounting
// holds nothing here (the full chain's share emulated on the large world
// was that case).
func TestBlockShare(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	opts := DefaultOptions()
	opts.FS, opts.CacheSize, opts.MemTableSize = vfs.NewMem(), 1<<20, 2<<20
	opts.UTXOCacheSize = -1 // every spend read from the store
	d, err := Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	g := storetest.NewGenerator(heistgraph.ChainBTCRegtest, 5, 40)
	most, cached := int64(0), int64(0)
	for range 30 {
		var bs []*heistgraph.Block
		for range 5 {
			bs = append(bs, g.Next())
		}
		if _, err := d.ApplyBlocks(ctx, bs); err != nil {
			t.Fatal(err)
		}
		m := d.db.Metrics()
		reserved := int64(m.MemTable.Size + m.MemTable.ZombieSize)
		most = max(most, reserved)
		cached = max(cached, m.BlockCache.Size)
		if use := m.BlockCache.Size + reserved; use > opts.Memory().Manual {
			t.Fatalf("blocks %d and memtables %d bytes, more than Memory's %d", m.BlockCache.Size, reserved, opts.Memory().Manual)
		}
	}
	if most <= opts.CacheSize {
		t.Fatalf("memtables took %d bytes at most, not more than the cache's %d: the test shows nothing", most, opts.CacheSize)
	}
	if cached < opts.CacheSize/4 {
		t.Errorf("block cache held %d bytes at most of its %d, under memtables of %d", cached, opts.CacheSize, most)
	}
	t.Logf("memtables %d bytes at most, blocks %d", most, cached)
}

// TestTopBlocks: with Options.TopBlocks, a block cache far smaller than
// the filter and index blocks of level 0 keeps them all, so lookups of
// absent txids, which read a filter in every level 0 file of the txid
// index, read no block from the files the second time; without it they
// read about one a file each time (the emulated full chain's share of
// memory was that case: docs/benchmarks.md, "The full chain's share of
// memory: the upper levels' filter and index blocks kept whole"). The
// blocks and the memtables never
// take more than Memory counts.
func TestTopBlocks(t *testing.T) {
	ctx := context.Background()
	blocks := manyFilesWorld(t)
	for _, tc := range []struct {
		name string
		top  int64
	}{{"cache alone", 0}, {"upper levels kept", 64 << 20}} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.FS, opts.MemTableSize, opts.GroupBytes = vfs.NewMem(), 256<<10, 128<<10
			opts.CacheSize, opts.TopBlocks, opts.BulkLoad = 16<<10, tc.top, true
			opts.BloomBitsPerKey = 80 // filters many times the cache, from a small world
			d := openApplied(t, opts, blocks)
			levels, err := d.db.SSTables(pebbledb.WithProperties())
			if err != nil {
				t.Fatal(err)
			}
			var upper int64
			l0 := 0
			for _, files := range levels[:len(levels)-1] {
				for _, f := range files {
					upper += int64(f.Properties.FilterSize + f.Properties.IndexSize)
				}
			}
			for _, f := range levels[0] {
				if f.Smallest.UserKey[0] == prefixTx {
					l0++
				}
			}
			if upper <= 2*opts.CacheSize || l0 < 4 {
				t.Fatalf("upper levels' filter and index blocks %d bytes, %d level 0 files of the txid index: the test shows nothing", upper, l0)
			}
			lookups := func() int64 {
				before := d.db.Metrics().BlockCache.Misses
				for i := range 200 {
					txid := heistgraph.Hash{0xfe, byte(i), byte(i >> 8), 0x5a}
					if _, err := d.Tx(ctx, heistgraph.ChainBTCRegtest, txid); !errors.Is(err, heistgraph.ErrNotFound) {
						t.Fatalf("absent tx %s: %v", txid, err)
					}
				}
				return d.db.Metrics().BlockCache.Misses - before
			}
			// The reservation as the memtables are now: a flush since the
			// last run would leave the blocks its room until the next.
			d.blocks.follow(d.db)
			lookups()
			misses := lookups()
			m := d.db.Metrics()
			if reserved := int64(m.MemTable.Size + m.MemTable.ZombieSize); m.BlockCache.Size+reserved > opts.Memory().Manual {
				t.Errorf("blocks %d and memtables %d bytes, more than Memory's %d", m.BlockCache.Size, reserved, opts.Memory().Manual)
			}
			if kept := tc.top > 0; kept && misses > 20 || !kept && misses < 200 {
				t.Errorf("200 absent txids read %d blocks from the files the second time (%d level 0 files of the index, filter and index blocks %d bytes, cache %d + %d)",
					misses, l0, upper, opts.CacheSize, tc.top)
			}
			t.Logf("%d misses; %d level 0 files of the txid index, upper levels' filter and index blocks %d bytes", misses, l0, upper)
		})
	}
}

// manyFilesWorld makes every group of a bulk load an ingestion and returns
// 200 blocks of 60 txs, which small groups write into hundreds of files.
func manyFilesWorld(t *testing.T) []*heistgraph.Block {
	t.Helper()
	bulkWorld(t, 7, 0) // every group ingested
	g := storetest.NewGenerator(heistgraph.ChainBTCRegtest, 7, 60)
	blocks := make([]*heistgraph.Block, 200)
	for i := range blocks {
		blocks[i] = g.Next()
	}
	return blocks
}

// openApplied opens a store of opts, closed when the test ends, and
// applies blocks to it ten at a time.
func openApplied(t *testing.T, opts Options, blocks []*heistgraph.Block) *DB {
	t.Helper()
	d, err := Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	for i := 0; i < len(blocks); i += 10 {
		if _, err := d.ApplyBlocks(context.Background(), blocks[i:min(i+10, len(blocks))]); err != nil {
			t.Fatal(err)
		}
	}
	return d
}
