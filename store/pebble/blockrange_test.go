package pebble

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestBlockRangeTxs: BlockRangeTxs yields, for every best-chain block of a
// range, what BlockTxs yields for it, across spans (more than
// rangeSpanTxs transactions) and after a reorganisation; it skips no
// block and invents none, and ends with the context's error.
func TestBlockRangeTxs(t *testing.T) {
	ctx := context.Background()
	const ch = heistgraph.ChainBTCRegtest
	db := openMem(t, 1<<20)
	g := storetest.NewGenerator(ch, 4, 40)
	for range 221 {
		mustApply(t, db, g.Next())
	}
	f := g.Fork(7)
	for range 29 {
		mustApply(t, db, g.Next())
	}
	if err := db.RewindTo(ctx, ch, 220); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		mustApply(t, db, f.Next())
	}
	want := func(h int64) store.BlockRecords {
		t.Helper()
		bi, err := db.BlockByHeight(ctx, ch, h)
		if err != nil {
			t.Fatal(err)
		}
		r := store.BlockRecords{Block: bi}
		for tr, err := range db.BlockTxs(ctx, ch, h) {
			if err != nil {
				t.Fatal(err)
			}
			r.Txs = append(r.Txs, tr)
		}
		return r
	}
	for _, tc := range []struct{ from, to, first, last int64 }{
		{0, 240, 0, 240},
		{-5, 1000, 0, 240},
		{100, 130, 100, 130},
		{225, 225, 225, 225},
		{241, 300, 0, -1},
	} {
		next, txs := tc.first, 0
		for got, err := range db.BlockRangeTxs(ctx, ch, tc.from, tc.to) {
			if err != nil {
				t.Fatalf("%d..%d: %v", tc.from, tc.to, err)
			}
			if got.Block.Height != next {
				t.Fatalf("%d..%d: block %d, want %d", tc.from, tc.to, got.Block.Height, next)
			}
			if w := want(next); !reflect.DeepEqual(got, w) {
				t.Fatalf("%d..%d: block %d differs from BlockTxs", tc.from, tc.to, next)
			}
			txs += len(got.Txs)
			next++
		}
		if next != tc.last+1 {
			t.Errorf("%d..%d: ended before %d, want %d", tc.from, tc.to, next, tc.last+1)
		}
		if tc.from == 0 && txs <= rangeSpanTxs {
			t.Errorf("%d transactions: one span only", txs)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	var last error
	for _, err := range db.BlockRangeTxs(cctx, ch, 0, 240) {
		last = err
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("cancelled: %v", last)
	}
}
