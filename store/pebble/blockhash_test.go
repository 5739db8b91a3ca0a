package pebble

import (
	"context"
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestBlockHashAt: the hash read from the height index alone is
// BlockByHeight's, before and after a rewind, and a height without a block
// (below 0, past the tip, rewound) is not found by either.
func TestBlockHashAt(t *testing.T) {
	ctx := context.Background()
	const ch = heistgraph.ChainBTCRegtest
	db := openMem(t, 1<<20)
	gen := storetest.NewGenerator(ch, 3, 4)
	for range 6 {
		mustApply(t, db, gen.Next())
	}
	check := func(when string, heights ...int64) {
		t.Helper()
		for _, h := range heights {
			bi, werr := db.BlockByHeight(ctx, ch, h)
			got, err := db.BlockHashAt(ctx, ch, h)
			switch {
			case errors.Is(werr, heistgraph.ErrNotFound) != errors.Is(err, heistgraph.ErrNotFound):
				t.Errorf("%s, height %d: %v, BlockByHeight %v", when, h, err, werr)
			case werr == nil && (err != nil || got != bi.Hash):
				t.Errorf("%s, height %d: %s, %v; want %s", when, h, got, err, bi.Hash)
			}
		}
	}
	check("stored", -1, 0, 3, 5, 6, 100)
	if err := db.RewindTo(ctx, ch, 2); err != nil {
		t.Fatal(err)
	}
	check("rewound", 0, 2, 3, 5)
}
