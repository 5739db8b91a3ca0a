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
	db := rangeWorld(t, ch)
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

// rangeWorld returns a store of 241 blocks of ch (heights 0 to 240), more
// than rangeSpanTxs transactions, reorganised at 220.
func rangeWorld(t *testing.T, ch heistgraph.Chain) *DB {
	t.Helper()
	db := openMem(t, 1<<20)
	g := storetest.NewGenerator(ch, 4, 40)
	for range 221 {
		mustApply(t, db, g.Next())
	}
	f := g.Fork(7)
	for range 29 {
		mustApply(t, db, g.Next())
	}
	if err := db.RewindTo(context.Background(), ch, 220); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		mustApply(t, db, f.Next())
	}
	return db
}

// TestBlockRangeIDs: BlockRangeIDs yields BlockRangeTxs's records with
// the addresses left empty (and the scripts of outputs with an address),
// and AddrIDs names, for every spent output and output in order, the id
// AddressesByID resolves to the address BlockRangeTxs gives (0 for none);
// an id not given out is not found.
func TestBlockRangeIDs(t *testing.T) {
	ctx := context.Background()
	const ch = heistgraph.ChainBTCRegtest
	db := rangeWorld(t, ch)
	var want []store.BlockRecords
	for b, err := range db.BlockRangeTxs(ctx, ch, 0, 240) {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, b)
	}
	var maxID uint64
	i := 0
	for got, err := range db.BlockRangeIDs(ctx, ch, 0, 240) {
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(want) || got.Block.Height != want[i].Block.Height {
			t.Fatalf("block %d at %d, want %d blocks", i, got.Block.Height, len(want))
		}
		w := want[i]
		ids := got.AddrIDs
		for k := range got.Txs {
			g, wt := &got.Txs[k], &w.Txs[k]
			var in, out []uint64
			in, out, ids = store.TxAddrIDs(ids, &g.Tx)
			var addrs []string
			check := func(what string, id uint64, o, wo *heistgraph.TxOut) {
				t.Helper()
				if o != nil && o.Address != "" {
					t.Fatalf("tx %s %s: address %q", g.Tx.TxID, what, o.Address)
				}
				if wo == nil || wo.Address == "" {
					if id != 0 {
						t.Fatalf("tx %s %s: id %d for no address", g.Tx.TxID, what, id)
					}
					return
				}
				if id == 0 {
					t.Fatalf("tx %s %s: no id for %s", g.Tx.TxID, what, wo.Address)
				}
				maxID = max(maxID, id)
				var err error
				if addrs, err = db.AddressesByID(ctx, ch, []uint64{id}, addrs[:0]); err != nil || addrs[0] != wo.Address {
					t.Fatalf("tx %s %s: id %d is %v (%v), want %s", g.Tx.TxID, what, id, addrs, err, wo.Address)
				}
				o.Address = wo.Address
				if wo.Script != nil && o.Script == nil {
					o.Script = wo.Script
				}
			}
			for j := range g.Prevouts {
				check("input", in[j], g.Prevouts[j], wt.Prevouts[j])
			}
			for j := range g.Tx.Outputs {
				check("output", out[j], &g.Tx.Outputs[j], &wt.Tx.Outputs[j])
			}
		}
		if len(ids) != 0 {
			t.Fatalf("block %d: %d ids left over", got.Block.Height, len(ids))
		}
		got.AddrIDs = nil
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("block %d differs from BlockRangeTxs once its addresses are filled in", got.Block.Height)
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("%d blocks, want %d", i, len(want))
	}
	if _, err := db.AddressesByID(ctx, ch, []uint64{maxID + 1000}, nil); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("an id not given out: %v", err)
	}
}
