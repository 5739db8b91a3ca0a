package pebble

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// TestAccountLedger: each block's ledger, as AccountLedger reads it, is
// the ledger applied, every transfer with its transaction's hash, in
// ledger order (the Seq AccountHistory gives); after a rewind and another
// branch, it is the other branch's; a height without a block, a negative
// one and a chain with nothing stored wrap ErrNotFound.
func TestAccountLedger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, a, b := forkedBranches(8, 12, 10)
	db := openMem(t, 256<<10)
	applyAcct(t, db, a...)
	check := func(blocks []*heistgraph.AccountBlock) {
		t.Helper()
		for _, blk := range blocks {
			bi, got, err := db.AccountLedger(ctx, histChain, blk.Height)
			if err != nil {
				t.Fatal(err)
			}
			if bi.Hash != blk.Hash || bi.Time != blk.Time || bi.Transfers != len(blk.Transfers) {
				t.Fatalf("block %d: %+v", blk.Height, bi)
			}
			want := make([]heistgraph.Transfer, len(blk.Transfers))
			for i, tr := range blk.Transfers {
				if tr.TxIndex >= 0 {
					tr.TxHash = blk.Txs[tr.TxIndex].Hash
				}
				want[i] = tr
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("block %d: ledger\n got %+v\nwant %+v", blk.Height, got, want)
			}
			// Index i is the Seq of the history's event.
			for i := range got {
				for ev, err := range db.AccountHistory(ctx, histChain, got[i].To, store.AccountHistoryOptions{FromHeight: blk.Height, ToHeight: blk.Height}) {
					if err != nil {
						t.Fatal(err)
					}
					if ev.Block.Height == blk.Height && ev.Seq == int32(i) && !reflect.DeepEqual(ev.Transfer, got[i]) {
						t.Fatalf("block %d: transfer %d is %+v in the history, %+v in the ledger", blk.Height, i, ev.Transfer, got[i])
					}
				}
			}
		}
	}
	check(a)
	if err := db.RewindTo(ctx, histChain, 11); err != nil {
		t.Fatal(err)
	}
	applyAcct(t, db, b...)
	check(append(append([]*heistgraph.AccountBlock(nil), a[:12]...), b...))
	for _, h := range []int64{-1, b[len(b)-1].Height + 1} {
		if _, _, err := db.AccountLedger(ctx, histChain, h); !errors.Is(err, heistgraph.ErrNotFound) {
			t.Errorf("height %d: %v, want not found", h, err)
		}
	}
	if _, _, err := db.AccountLedger(ctx, "bsc", 0); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("a chain with nothing stored: %v, want not found", err)
	}
}

// TestInternalKnown: InternalKnown answers what the block record says,
// from the cache once asked, and a rewind drops the cached answers: the
// same block applied again without its internal transfers answers false.
func TestInternalKnown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, a, _ := forkedBranches(9, 8, 1)
	for i, b := range a {
		b.InternalKnown = i%2 == 0
	}
	db := openMem(t, 256<<10)
	applyAcct(t, db, a...)
	for range 2 { // the second time from the cache
		for i, b := range a {
			k, err := db.InternalKnown(ctx, histChain, b.Hash)
			if err != nil || k != (i%2 == 0) {
				t.Fatalf("block %d: %v %v, want %v", b.Height, k, err, i%2 == 0)
			}
		}
	}
	if err := db.RewindTo(ctx, histChain, 9); err != nil {
		t.Fatal(err)
	}
	if _, err := db.InternalKnown(ctx, histChain, a[10].Hash); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Fatalf("a removed block: %v, want not found", err)
	}
	for _, b := range a[10:] {
		b.InternalKnown = !b.InternalKnown
	}
	applyAcct(t, db, a[10:]...)
	for i, b := range a {
		k, err := db.InternalKnown(ctx, histChain, b.Hash)
		if want := (i%2 == 0) != (i >= 10); err != nil || k != want {
			t.Fatalf("after the rewind, block %d: %v %v, want %v", b.Height, k, err, want)
		}
	}
	if _, err := db.InternalKnown(ctx, "bsc", a[0].Hash); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Fatalf("a chain with nothing stored: %v", err)
	}
}
