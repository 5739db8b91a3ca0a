package ingest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/store"
)

// batching is a store that takes blocks in batches (store.BlockBatcher),
// applying each batch's blocks to a real store, and records the batches.
type batching struct {
	store.Store
	batches [][]int64 // heights of each batch
}

func (b *batching) ApplyBlock(context.Context, *heistgraph.Block) error {
	return errors.New("ApplyBlock called on a BlockBatcher")
}

func (b *batching) ApplyBlocks(ctx context.Context, bs []*heistgraph.Block) (int, error) {
	var hs []int64
	for i, blk := range bs {
		if err := b.Store.ApplyBlock(ctx, blk); err != nil {
			return i, err
		}
		hs = append(hs, blk.Height)
	}
	b.batches = append(b.batches, hs)
	return len(bs), nil
}

// TestStreamBatches: a BlockBatcher gets every block once, in order, in
// batches; the blocks before a bad record are applied, and BlockApplied
// reports each block after its batch is written.
func TestStreamBatches(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(blocks1to255)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1 // block 255 fails its merkle check
	p := filepath.Join(t.TempDir(), "blk00000.dat")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	st := &batching{Store: memStore(t)}
	var reported []int64
	events := ingest.Events{BlockApplied: func(b *heistgraph.Block) {
		if tip, err := st.Tip(context.Background(), b.Chain); err != nil || tip.Height < b.Height {
			t.Errorf("block %d reported before its batch was written", b.Height)
		}
		reported = append(reported, b.Height)
	}}
	stats, err := ingest.Stream(context.Background(), st, source(t, st, p), ingest.Options{Events: events})
	var de *bitcoin.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("err %v, want the decode error of block 255", err)
	}
	var applied []int64
	for _, b := range st.batches {
		applied = append(applied, b...)
	}
	if len(applied) != 255 || stats.Blocks != 255 || len(reported) != 255 {
		t.Fatalf("%d blocks applied in %d batches, %d counted, %d reported; want 255 (0-254)", len(applied), len(st.batches), stats.Blocks, len(reported))
	}
	for i, h := range applied {
		if h != int64(i) || reported[i] != h {
			t.Fatalf("block %d applied as the %dth (reported %d)", h, i, reported[i])
		}
	}
	if tip, err := st.Tip(context.Background(), heistgraph.ChainBTC); err != nil || tip.Height != 254 {
		t.Fatalf("tip %d (%v), want 254", tip.Height, err)
	}
}
