package pebble

import (
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// TestFitMemory checks that the parts FitMemory gives out stay within the
// budget, that the memtable respects Pebble's bound, and that a budget too
// small is refused.
func TestFitMemory(t *testing.T) {
	for _, total := range []int64{MinMemory, 1 << 30, 24 << 30, 64 << 30} {
		o := DefaultOptions()
		if err := o.FitMemory(total); err != nil {
			t.Fatalf("FitMemory(%d): %v", total, err)
		}
		if err := o.Validate(); err != nil {
			t.Fatalf("FitMemory(%d): options do not validate: %v", total, err)
		}
		// The output cache, and the address ids cache and filter sized from it.
		used := o.CacheSize + o.UTXOCacheSize*13/8 + 4*int64(o.MemTableSize) + 2*o.GroupBytes
		if used > total || o.MemTableSize > maxMemTableSize || o.GroupBytes <= 0 {
			t.Errorf("FitMemory(%d): cache %d, output cache %d, memtable %d, batch %d: %d in all",
				total, o.CacheSize, o.UTXOCacheSize, o.MemTableSize, o.GroupBytes, used)
		}
	}
	o := DefaultOptions()
	if err := o.FitMemory(MinMemory - 1); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("FitMemory below MinMemory: %v, want ErrInvalid", err)
	}
}
