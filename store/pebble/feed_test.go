package pebble

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"slices"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestFeedApplied: every block ApplyBlocks commits is fed, in order, with
// the records BlockRangeTxs reads back right after the commit and the
// address ids BlockRangeIDs reads back (store.BlockRecords.AddrIDs), in runs of
// one block or many, across a reorganisation (but for the addresses of the
// spent outputs resolved from the unspent outputs, which the ids name);
// a block with an input whose
// output is not stored is not fed (its record changes when the output
// comes: the reader reads it back), nor is anything once the feed stops.
func TestFeedApplied(t *testing.T) {
	ctx := context.Background()
	const ch = heistgraph.ChainBTCRegtest
	db := openMem(t, 1<<20)
	// An output cache that holds little: most spends are resolved from
	// the unspent outputs.
	db.opts.UTXOCacheSize = 1
	left := 0 // spent outputs fed without their addresses
	var fed []store.BlockRecords
	db.FeedApplied(ch, func(r store.BlockRecords) { fed = append(fed, r) })
	readBack := func(h int64, blocks func(context.Context, heistgraph.Chain, int64, int64) iter.Seq2[store.BlockRecords, error]) store.BlockRecords {
		t.Helper()
		for r, err := range blocks(ctx, ch, h, h) {
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		t.Fatalf("block %d: not stored", h)
		return store.BlockRecords{}
	}
	// apply applies bs in one call and checks what it fed: the blocks of
	// heights want, each as read back.
	apply := func(name string, bs []*heistgraph.Block, want ...int64) {
		t.Helper()
		fed = fed[:0]
		if n, err := db.ApplyBlocks(ctx, bs); err != nil || n != len(bs) {
			t.Fatalf("%s: applied %d of %d: %v", name, n, len(bs), err)
		}
		var got []int64
		for _, r := range fed {
			got = append(got, r.Block.Height)
			ids := r.AddrIDs
			r.AddrIDs = nil
			// A spent output the store resolved from the unspent outputs
			// comes without its address: its id names it.
			j := 0
			for _, rec := range r.Txs {
				for k, o := range rec.Prevouts {
					if o != nil && o.Address == "" && ids[j+k] != 0 {
						strs, err := db.AddressesByID(ctx, ch, ids[j+k:j+k+1], nil)
						if err != nil {
							t.Fatal(err)
						}
						o.Address = strs[0]
						left++
					}
				}
				j += len(rec.Tx.Inputs) + len(rec.Tx.Outputs)
			}
			if rb := readBack(r.Block.Height, db.BlockRangeTxs); !reflect.DeepEqual(r, rb) {
				t.Errorf("%s: block %d: fed records differ from those read back", name, r.Block.Height)
			}
			if rb := readBack(r.Block.Height, db.BlockRangeIDs); !slices.Equal(ids, rb.AddrIDs) || len(ids) == 0 {
				t.Errorf("%s: block %d: fed address ids %v, read back %v", name, r.Block.Height, ids, rb.AddrIDs)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: fed heights %v, want %v", name, got, want)
		}
	}
	heights := func(bs []*heistgraph.Block) []int64 {
		var hs []int64
		for _, b := range bs {
			hs = append(hs, b.Height)
		}
		return hs
	}
	g := storetest.NewGenerator(ch, 5, 30)
	var bs []*heistgraph.Block
	for range 130 {
		bs = append(bs, g.Next())
	}
	for _, run := range [][2]int{{0, 1}, {1, 8}, {8, 60}, {60, 61}, {61, 120}} {
		apply("run", bs[run[0]:run[1]], heights(bs[run[0]:run[1]])...)
	}
	// Block 121 before 120: its spends of 120's outputs are unresolved
	// (not fed); 120 resolves them.
	if !spendsFrom(bs[121], bs[120]) {
		t.Fatal("the generator's block 121 spends nothing of block 120")
	}
	apply("gap", bs[121:122])
	apply("fill", bs[120:121], 120)
	// A reorganisation: the branch's blocks are fed as the old ones were.
	f := storetest.NewGenerator(ch, 5, 30)
	for range 101 {
		f.Next()
	}
	f = f.Fork(3)
	if err := db.RewindTo(ctx, ch, 100); err != nil {
		t.Fatal(err)
	}
	var branch []*heistgraph.Block
	for range 25 {
		branch = append(branch, f.Next())
	}
	apply("branch", branch, heights(branch)...)
	if _, err := db.ApplyBlocks(ctx, []*heistgraph.Block{nil}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("a nil block, fed: %v, want ErrInvalid", err)
	}
	db.FeedApplied(ch, nil)
	apply("stopped", []*heistgraph.Block{f.Next()})
	if left == 0 {
		t.Error("no spent output fed without its address: the unspent outputs resolved none")
	}
}

// spendsFrom reports whether b spends an output of a.
func spendsFrom(b, a *heistgraph.Block) bool {
	for i := range b.Txs {
		for _, in := range b.Txs[i].Inputs {
			if slices.ContainsFunc(a.Txs, func(tx heistgraph.Tx) bool { return tx.TxID == in.PrevOut.TxID }) {
				return true
			}
		}
	}
	return false
}

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
