package pebble

import (
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
)

func TestOpenFilesFor(t *testing.T) {
	for _, tc := range []struct {
		limit uint64
		want  int
	}{
		{0, defaultOpenFiles},         // unknown: Pebble's default
		{100, minOpenFiles},           // below the reserve: Pebble's floor
		{330, minOpenFiles},           // the reserve leaves the floor exactly
		{331, 75},                     // one past it
		{1024, 768},                   // a common soft limit: a quarter kept
		{20000, 15000},                // a quarter kept
		{1 << 20, 3 << 18},            // Linux's fs.nr_open
		{1 << 62, 1 << 30},            // bounded
		{openFilesReserve * 4, 768},   // the reserve and the quarter meet
		{openFilesReserve*4 - 4, 764}, // the reserve, not the quarter
	} {
		if got := openFilesFor(tc.limit); got != tc.want {
			t.Errorf("openFilesFor(%d) = %d, want %d", tc.limit, got, tc.want)
		}
	}
}

// TestCacheOpenFiles checks the bound the block cache sets: open files
// hold at most a quarter of its bytes, never fewer than Pebble's default.
func TestCacheOpenFiles(t *testing.T) {
	for _, tc := range []struct {
		cache int64
		want  int
	}{
		{0, defaultOpenFiles},            // no cache: Pebble's default
		{4 * openFileBytes * 999, 1000},  // below the default
		{4 * openFileBytes * 1001, 1001}, // a quarter of the cache
		{DefaultCacheSize, 15252},        // 256 MiB: 64 MiB of open files
		{24 << 30 * 5 / 16 / 5, 91512},   // --memory 24GiB's block cache
		{1 << 62, 1 << 30},               // bounded
		{4*openFileBytes*2000 + 3, 2000}, // rounded down
	} {
		if got := cacheOpenFiles(tc.cache); got != tc.want {
			t.Errorf("cacheOpenFiles(%d) = %d, want %d", tc.cache, got, tc.want)
		}
	}
}

func TestFileCache(t *testing.T) {
	for _, tc := range []struct {
		n    int
		own  bool
		size int
	}{
		{0, false, 0},    // Pebble's default
		{1000, false, 0}, // Pebble's own cache of 990
		{74, false, 0},   // Pebble's floor: its own
		{73, true, 63},   // below it: ours
		{11, true, 1},    // one file in the cache
		{1, true, 1},     // at least one
	} {
		c := fileCache(tc.n)
		if (c != nil) != tc.own {
			t.Fatalf("fileCache(%d) = %v, want own %v", tc.n, c, tc.own)
		}
		if c != nil {
			c.Unref()
		}
	}
}

// TestMaxOpenFiles reads a bulk-loaded store of many files with room for
// one open file: it reads the same, by opening files again, and the
// default opens each file once.
func TestMaxOpenFiles(t *testing.T) {
	ctx := context.Background()
	blocks := manyFilesWorld(t)
	fs := vfs.NewMem()
	opts := DefaultOptions()
	opts.FS, opts.MemTableSize, opts.GroupBytes, opts.BulkLoad = fs, 256<<10, 128<<10, true
	d := openApplied(t, opts, blocks)
	files, err := d.db.SSTables()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range files {
		n += len(l)
	}
	if n < 20 {
		t.Fatalf("%d files: the test shows nothing", n)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		max  int
	}{{"default", 0}, {"one file", 11}} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts
			o.BulkLoad, o.ReadOnly, o.MaxOpenFiles = false, true, tc.max
			d, err := Open("db", o)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if tc.max == 0 && d.opts.MaxOpenFiles < minOpenFiles {
				t.Errorf("MaxOpenFiles %d by default, below %d", d.opts.MaxOpenFiles, minOpenFiles)
			}
			for pass := range 2 {
				for _, b := range blocks {
					for _, tx := range b.Txs {
						got, err := d.Tx(ctx, heistgraph.ChainBTCRegtest, tx.TxID)
						if err != nil || got.Tx.TxID != tx.TxID {
							t.Fatalf("pass %d: tx %s: %v", pass, tx.TxID, err)
						}
					}
				}
			}
			s := d.MemoryStats()
			if kept := tc.max == 0; kept && s.FileOpens > int64(n) || !kept && s.FileOpens < 2*int64(n) {
				t.Errorf("%d file opens of %d look-ups, %d files", s.FileOpens, s.FileReads, n)
			}
			t.Logf("%d file opens of %d look-ups, %d files", s.FileOpens, s.FileReads, n)
		})
	}
}
