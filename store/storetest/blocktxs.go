package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// testBlockTxs checks store.BlockTxs, for backends that have it, against
// Tx: the same transactions in block order, without spenders, with
// prevouts that agree on value, type and address.
func testBlockTxs(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	w := newWorld(chain)
	st := fresh(t, open, append(w.blocks, w.branch("a", 2)...)...)
	bt, ok := st.(store.BlockTxs)
	if !ok {
		t.Skip("the backend has no BlockTxs")
	}
	for h := int64(0); h <= 4; h++ {
		bi, err := st.BlockByHeight(ctx, chain, h)
		if err != nil {
			t.Fatal(err)
		}
		var got []heistgraph.TxRecord
		for tr, err := range bt.BlockTxs(ctx, chain, h) {
			if err != nil {
				t.Fatalf("block %d: %v", h, err)
			}
			got = append(got, tr)
		}
		if len(got) != len(bi.TxIDs) {
			t.Fatalf("block %d: %d txs, want %d", h, len(got), len(bi.TxIDs))
		}
		for i, tr := range got {
			want := mustTx(t, st, chain, bi.TxIDs[i])
			if tr.SpentBy != nil {
				t.Errorf("block %d tx %d: SpentBy %v, want nil", h, i, tr.SpentBy)
			}
			if len(tr.Prevouts) != len(want.Prevouts) {
				t.Fatalf("block %d tx %d: %d prevouts, want %d", h, i, len(tr.Prevouts), len(want.Prevouts))
			}
			for j, p := range tr.Prevouts {
				q := want.Prevouts[j]
				if (p == nil) != (q == nil) || p != nil && (p.Value != q.Value || p.Type != q.Type || p.Address != q.Address) {
					t.Errorf("block %d tx %d prevout %d: %+v, want %+v", h, i, j, p, q)
				}
			}
			tr.Prevouts, want.Prevouts, want.SpentBy = nil, nil, nil
			if !reflect.DeepEqual(tr, want) {
				t.Errorf("block %d tx %d:\n got %+v\nwant %+v", h, i, tr, want)
			}
		}
	}
	for _, err := range bt.BlockTxs(ctx, chain, 9) {
		wantNotFound(t, "transactions of a height without a block", err)
	}
	for _, err := range bt.BlockTxs(ctx, "btc-signet", 0) {
		wantNotFound(t, "transactions on a chain not stored", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for _, err := range bt.BlockTxs(cctx, chain, 2) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v", err)
		}
		break
	}
}
