package pebble

import (
	"context"
	"testing"

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
