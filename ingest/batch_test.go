package ingest_test

import (
	"context"
	"errors"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

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

// countingStream yields n empty blocks of size bytes each and counts them.
type countingStream struct {
	n, size int
	yielded atomic.Int64
}

func (s *countingStream) Network() heistgraph.Network { return heistgraph.Mainnet }

func (s *countingStream) Blocks(ctx context.Context) iter.Seq2[*heistgraph.Block, error] {
	return func(yield func(*heistgraph.Block, error) bool) {
		for h := range s.n {
			b := &heistgraph.Block{Chain: heistgraph.ChainBTC, Height: int64(h), Size: s.size}
			b.Hash[0], b.Hash[1] = byte(h), byte(h>>8)
			s.yielded.Add(1)
			if !yield(b, nil) {
				return
			}
		}
	}
}

// waitingBatcher is a BlockBatcher that, applying a group, waits until
// the source has yielded the whole next group (or a second has passed),
// and records the groups' lengths and what it saw.
type waitingBatcher struct {
	store.ChainWriter
	src    *countingStream
	groups []int
	ahead  []bool
	done   int
}

func (w *waitingBatcher) ApplyBlocks(_ context.Context, bs []*heistgraph.Block) (int, error) {
	want := int64(w.done + 2*len(bs))
	deadline := time.Now().Add(time.Second)
	for w.src.yielded.Load() < min(want, int64(w.src.n)) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	w.ahead = append(w.ahead, w.src.yielded.Load() >= min(want, int64(w.src.n)))
	w.groups = append(w.groups, len(bs))
	w.done += len(bs)
	return len(bs), nil
}

// TestStreamDecodesGroupAhead: while the store applies a group, the next
// group is decoded whole (not only ReadAhead blocks of it), and the groups
// are cut by GroupBlocks.
func TestStreamDecodesGroupAhead(t *testing.T) {
	t.Parallel()
	src := &countingStream{n: 100, size: 10}
	w := &waitingBatcher{src: src}
	st, err := ingest.Stream(context.Background(), w, src, ingest.Options{ReadAhead: 2, GroupBlocks: 30})
	if err != nil {
		t.Fatal(err)
	}
	if st.Blocks != 100 || !slices.Equal(w.groups, []int{30, 30, 30, 10}) {
		t.Fatalf("%d blocks in groups %v, want 100 in 30, 30, 30, 10", st.Blocks, w.groups)
	}
	for i, ok := range w.ahead {
		if !ok {
			t.Errorf("group %d applied before the next one was decoded", i)
		}
	}
}
