package pebble

import (
	"errors"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// TestFitMemory checks that what FitMemory gives out, as Memory counts it,
// stays within the budget, that the memtable and the batch respect their
// bounds, and that a budget too small is refused.
func TestFitMemory(t *testing.T) {
	for _, total := range []int64{MinMemory, 100 << 20, 1 << 30, 6 << 30, 64 << 30} {
		o := DefaultOptions()
		if err := o.FitMemory(total); err != nil {
			t.Fatalf("FitMemory(%d): %v", total, err)
		}
		if err := o.Validate(); err != nil {
			t.Fatalf("FitMemory(%d): options do not validate: %v", total, err)
		}
		m := o.Memory()
		if m.Manual+m.Heap > total || m.Manual <= 0 || m.Heap <= 0 {
			t.Errorf("FitMemory(%d): Memory() = %+v: %d in all", total, m, m.Manual+m.Heap)
		}
		if o.MemTableSize > fitMaxMemTable || o.GroupBytes <= 0 || o.GroupBytes > fitMaxGroup || o.UTXOCacheSize <= 0 {
			t.Errorf("FitMemory(%d): memtable %d, batch %d, output cache %d", total, o.MemTableSize, o.GroupBytes, o.UTXOCacheSize)
		}
	}
	o := DefaultOptions()
	if err := o.FitMemory(MinMemory - 1); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("FitMemory below MinMemory: %v, want ErrInvalid", err)
	}
}

// TestMemoryCounts checks Memory against the options it reads: each part
// is counted, and a turned-off output cache counts nothing.
func TestMemoryCounts(t *testing.T) {
	// An output cache of 10 entries (400 bytes each); the ids cache 7
	// (176 bytes each), with 42 bytes of filters each.
	o := Options{CacheSize: 100, MemTableSize: 10 << 20, UTXOCacheSize: 4000, GroupBytes: 7}
	want := MemoryUse{Manual: 100 + 40<<20, Heap: 4000 + 7*176 + 7*42 + 35 + 2*(5<<20+1<<20)}
	if got := o.Memory(); got != want {
		t.Errorf("Memory() = %+v, want %+v", got, want)
	}
	o.UTXOCacheSize = -1
	want.Heap -= 4000 + 7*176 + 7*42
	if got := o.Memory(); got != want {
		t.Errorf("Memory() without the output cache = %+v, want %+v", got, want)
	}
}

// TestBulkLoadWaitsLonger: under BulkLoad Pebble lets level 0 grow
// bulkL0Factor times as far before it compacts it or stops writes, in
// sublevels and in files, and makes no compaction for tombstones alone;
// every other option is the same.
func TestBulkLoadWaitsLonger(t *testing.T) {
	var plain, bulk Options
	bulk.BulkLoad = true
	for _, o := range []*Options{&plain, &bulk} {
		if err := o.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	p, b := plain.pebbleOptions(newHealth(nil)), bulk.pebbleOptions(newHealth(nil))
	if b.L0CompactionThreshold != bulkL0Factor*p.L0CompactionThreshold || b.L0StopWritesThreshold != bulkL0Factor*p.L0StopWritesThreshold {
		t.Errorf("level 0 thresholds: bulk %d/%d, plain %d/%d", b.L0CompactionThreshold, b.L0StopWritesThreshold,
			p.L0CompactionThreshold, p.L0StopWritesThreshold)
	}
	if b.L0CompactionFileThreshold != bulkL0Factor*l0FilesPerFactor || b.L0CompactionFileThreshold <= 500 {
		t.Errorf("level 0 file threshold under bulk %d", b.L0CompactionFileThreshold)
	}
	if b.Experimental.TombstoneDenseCompactionThreshold >= 0 || p.Experimental.TombstoneDenseCompactionThreshold != 0 {
		t.Errorf("tombstone-dense compactions: bulk %v, plain %v (want off under bulk only)",
			b.Experimental.TombstoneDenseCompactionThreshold, p.Experimental.TombstoneDenseCompactionThreshold)
	}
	if b.Experimental.SpanPolicyFunc == nil || p.Experimental.SpanPolicyFunc == nil {
		t.Error("no span policy: files may span tables")
	}
	if b.Experimental.LevelMultiplier != levelMultiplier || p.Experimental.LevelMultiplier != levelMultiplier {
		t.Errorf("level multiplier: bulk %d, plain %d (want %d for every open: the next open would reshape a bulk load's levels)",
			b.Experimental.LevelMultiplier, p.Experimental.LevelMultiplier, levelMultiplier)
	}
	// The groups' files are written with level 0's writer options
	// (tableSink), the compactions' with their level's.
	for i := range b.Levels {
		if got := b.MakeWriterOptions(i, pebbledb.FormatNewest.MaxTableFormat()).BlockSize; got != bulkBlockSize {
			t.Errorf("level %d: block size %d under bulk, want %d", i, got, bulkBlockSize)
		}
	}
	if got := p.MakeWriterOptions(0, pebbledb.FormatNewest.MaxTableFormat()).BlockSize; got == bulkBlockSize {
		t.Errorf("level 0: block size %d without bulk, want Pebble's default", got)
	}
	if got := p.MakeWriterOptions(len(p.Levels)-1, pebbledb.FormatNewest.MaxTableFormat()).BlockSize; got != bulkBlockSize {
		t.Errorf("bottom level: block size %d without bulk, want %d", got, bulkBlockSize)
	}
	if b.MemTableSize != p.MemTableSize || b.LBaseMaxBytes != p.LBaseMaxBytes || b.TargetFileSizes != p.TargetFileSizes {
		t.Error("BulkLoad changed more than level 0's thresholds")
	}
}

// TestSmallMemtablesWaitLonger: with memtables smaller than the default
// (--memory), level 0 takes as many more flushed files before it is
// compacted, up to maxL0Factor, so that a compaction of it takes in as
// many bytes as at the default; a bulk load keeps its own factor alone.
func TestSmallMemtablesWaitLonger(t *testing.T) {
	for _, c := range []struct {
		memtable          uint64
		bulk              bool
		compact, stopping int
	}{
		{DefaultMemTableSize, false, 4, 24},
		{2 * DefaultMemTableSize, false, 4, 24},
		{DefaultMemTableSize - 1, false, 4, 24},
		{DefaultMemTableSize / 2, false, 8, 48},
		{16 << 20, false, 16, 96}, // --memory 1GiB
		{4 << 20, false, 32, 192},
		{1 << 10, false, 32, 192},
		{16 << 20, true, 64, 384},
		{DefaultMemTableSize, true, 64, 384},
	} {
		o := Options{MemTableSize: c.memtable, BulkLoad: c.bulk}
		if err := o.Validate(); err != nil {
			t.Fatal(err)
		}
		p := o.pebbleOptions(newHealth(nil))
		if p.L0CompactionThreshold != c.compact || p.L0StopWritesThreshold != c.stopping {
			t.Errorf("memtable %d, bulk %v: level 0 thresholds %d/%d, want %d/%d", c.memtable, c.bulk,
				p.L0CompactionThreshold, p.L0StopWritesThreshold, c.compact, c.stopping)
		}
	}
}
