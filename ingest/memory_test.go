package ingest_test

import (
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/ingest"
)

// TestFitMemory checks the buffers Options.FitMemory sizes: decoded (about
// three times their serialized size) the group and the blocks read ahead
// (counted at 1 MiB each) stay within the budget, but for the floor of two
// blocks read ahead; past that, the defaults.
func TestFitMemory(t *testing.T) {
	for _, c := range []struct {
		total     int64
		group     int
		readAhead int
	}{
		{ingest.MinMemory, 1 << 20 / 6, 2},
		{16 << 20, 16 << 20 / 6, 2},
		{64 << 20, ingest.DefaultGroupBytes, 8},
		{1 << 30, ingest.DefaultGroupBytes, 8},
	} {
		var o ingest.Options
		if err := o.FitMemory(c.total); err != nil {
			t.Fatalf("FitMemory(%d): %v", c.total, err)
		}
		if o.GroupBytes != c.group || o.ReadAhead != c.readAhead {
			t.Errorf("FitMemory(%d): group %d bytes, read-ahead %d; want %d, %d", c.total, o.GroupBytes, o.ReadAhead, c.group, c.readAhead)
		}
		if c.readAhead > 2 && int64(3*o.GroupBytes)+int64(3*o.ReadAhead)<<20 > c.total {
			t.Errorf("FitMemory(%d): group %d and %d blocks ahead, decoded, pass the budget", c.total, o.GroupBytes, o.ReadAhead)
		}
		if err := o.Validate(); err != nil {
			t.Errorf("FitMemory(%d): %v", c.total, err)
		}
	}
	var o ingest.Options
	if err := o.FitMemory(ingest.MinMemory - 1); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("FitMemory below MinMemory: %v, want ErrInvalid", err)
	}
}
