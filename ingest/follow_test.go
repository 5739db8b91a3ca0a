package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/store/storetest"
)

const regtest = heistgraph.ChainBTCRegtest

// take returns the next n blocks of g.
func take(g *storetest.Generator, n int) []*heistgraph.Block {
	out := make([]*heistgraph.Block, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

// cat concatenates branches into a new chain.
func cat(parts ...[]*heistgraph.Block) []*heistgraph.Block {
	var out []*heistgraph.Block
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// forked returns two chains sharing blocks 0..common-1 and then going
// their own ways for a and b blocks.
func forked(common, a, b int) (chainA, chainB []*heistgraph.Block) {
	g := storetest.NewGenerator(regtest, 1, 4)
	base := take(g, common)
	alt := g.Fork(7)
	return cat(base, take(g, a)), cat(base, take(alt, b))
}

// freshDigest syncs a new store from blocks and returns its digest: what a
// store holding exactly that chain looks like.
func freshDigest(t *testing.T, blocks []*heistgraph.Block) heistgraph.Hash {
	t.Helper()
	st := openStore(t)
	if _, err := ingest.Sync(context.Background(), st, newFakeSource(blocks), ingest.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	return digest(t, st, regtest)
}

func TestSyncFromEmpty(t *testing.T) {
	t.Parallel()
	blocks := take(storetest.NewGenerator(regtest, 1, 4), 30)
	st := openStore(t)
	var applied []int64
	stats, err := ingest.Sync(context.Background(), st, newFakeSource(blocks), ingest.SyncOptions{
		Events: ingest.Events{BlockApplied: func(b *heistgraph.Block) { applied = append(applied, b.Height) }},
	})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Blocks != 30 || stats.Reorgs != 0 {
		t.Fatalf("stats %+v, want 30 blocks and no reorg", stats)
	}
	for i, h := range applied {
		if h != int64(i) {
			t.Fatalf("block %d applied at position %d: not in height order", h, i)
		}
	}
	if got := tip(t, st, regtest); got != blocks[29].Ref() {
		t.Fatalf("tip %+v, want %+v", got, blocks[29].Ref())
	}
	// The same blocks applied directly give the same store.
	direct := openStore(t)
	for _, b := range blocks {
		if err := direct.ApplyBlock(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if digest(t, st, regtest) != digest(t, direct, regtest) {
		t.Fatal("synced store differs from the blocks applied directly")
	}
	// A second sync has nothing to do.
	stats, err = ingest.Sync(context.Background(), st, newFakeSource(blocks), ingest.SyncOptions{})
	if err != nil || stats.Blocks != 0 {
		t.Fatalf("resync: %+v, %v; want nothing applied", stats, err)
	}
}

func TestSyncConfirmations(t *testing.T) {
	t.Parallel()
	blocks := take(storetest.NewGenerator(regtest, 2, 2), 20)
	st := openStore(t)
	src := newFakeSource(blocks)
	if _, err := ingest.Sync(context.Background(), st, src, ingest.SyncOptions{Confirmations: 6}); err != nil {
		t.Fatal(err)
	}
	if got := tip(t, st, regtest).Height; got != 13 {
		t.Fatalf("tip %d with 6 confirmations on a node at 19, want 13", got)
	}
	// More confirmations than blocks: nothing to do, nothing undone.
	if _, err := ingest.Sync(context.Background(), st, src, ingest.SyncOptions{Confirmations: 100}); err != nil {
		t.Fatal(err)
	}
	if got := tip(t, st, regtest).Height; got != 13 {
		t.Fatalf("tip %d after a sync asking for 100 confirmations, want 13 kept", got)
	}
	if _, err := ingest.Sync(context.Background(), st, src, ingest.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := tip(t, st, regtest).Height; got != 19 {
		t.Fatalf("tip %d, want 19", got)
	}
}

// TestSyncReorg switches the source to a competing branch after the store
// synced the first: the store must end equal to a fresh sync of the
// winner, and report the reorg once with the right fork.
func TestSyncReorg(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		common    int // blocks shared, heights 0..common-1
		a, b      int // blocks of each branch after them
		conf      int64
		wantFork  int64
		wantReorg bool
	}{
		{name: "one block", common: 10, a: 1, b: 2, wantFork: 9, wantReorg: true},
		{name: "same height", common: 10, a: 3, b: 3, wantFork: 9, wantReorg: true},
		{name: "six deep", common: 10, a: 6, b: 8, wantFork: 9, wantReorg: true},
		{name: "new branch shorter", common: 10, a: 6, b: 4, wantFork: 9, wantReorg: true},
		{name: "above the fork only", common: 10, a: 3, b: 5, conf: 3, wantReorg: false},
		{name: "deep with confirmations", common: 10, a: 8, b: 9, conf: 2, wantFork: 9, wantReorg: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			chainA, chainB := forked(tc.common, tc.a, tc.b)
			st := openStore(t)
			src := newFakeSource(chainA)
			opts := ingest.SyncOptions{Confirmations: tc.conf}
			if _, err := ingest.Sync(context.Background(), st, src, opts); err != nil {
				t.Fatal(err)
			}
			type reorg struct{ old, fork int64 }
			var reorgs []reorg
			opts.Events.Reorg = func(c heistgraph.Chain, old, fork int64) {
				if c != regtest {
					t.Errorf("reorg on chain %s", c)
				}
				reorgs = append(reorgs, reorg{old, fork})
			}
			src.setBest(chainB)
			stats, err := ingest.Sync(context.Background(), st, src, opts)
			if err != nil {
				t.Fatal(err)
			}
			oldTip := int64(len(chainA)) - 1 - tc.conf
			switch {
			case tc.wantReorg && (len(reorgs) != 1 || reorgs[0] != reorg{oldTip, tc.wantFork}):
				t.Fatalf("reorgs %v, want one from %d to %d", reorgs, oldTip, tc.wantFork)
			case !tc.wantReorg && len(reorgs) != 0:
				t.Fatalf("reorgs %v, want none", reorgs)
			case tc.wantReorg && stats.Rewound != oldTip-tc.wantFork:
				t.Fatalf("rewound %d blocks, want %d", stats.Rewound, oldTip-tc.wantFork)
			}
			want := chainB[:len(chainB)-int(tc.conf)]
			if got := tip(t, st, regtest); got != want[len(want)-1].Ref() {
				t.Fatalf("tip %+v, want the new branch's %+v", got, want[len(want)-1].Ref())
			}
			if digest(t, st, regtest) != freshDigest(t, want) {
				t.Fatal("store after the reorg differs from a fresh sync of the winning chain")
			}
		})
	}
}

// TestSyncReorgDuringFetch switches branches while blocks are being
// fetched ahead: a fetched block's parent then differs from the block
// applied before it, and Sync must start over from the fork.
func TestSyncReorgDuringFetch(t *testing.T) {
	t.Parallel()
	for _, ahead := range []int{1, 4, 16} {
		t.Run(fmt.Sprintf("fetch-ahead %d", ahead), func(t *testing.T) {
			t.Parallel()
			chainA, chainB := forked(12, 20, 22)
			st := openStore(t)
			src := newFakeSource(chainA[:10])
			if _, err := ingest.Sync(context.Background(), st, src, ingest.SyncOptions{}); err != nil {
				t.Fatal(err)
			}
			src.setBest(chainA)
			var once sync.Once
			src.mu.Lock()
			src.onBlock = func(h int64) {
				if h >= 15 {
					once.Do(func() { src.setBest(chainB) })
				}
			}
			src.mu.Unlock()
			if _, err := ingest.Sync(context.Background(), st, src, ingest.SyncOptions{FetchAhead: ahead}); err != nil {
				t.Fatal(err)
			}
			if got := tip(t, st, regtest); got != chainB[len(chainB)-1].Ref() {
				t.Fatalf("tip %+v, want the new branch's %+v", got, chainB[len(chainB)-1].Ref())
			}
			if digest(t, st, regtest) != freshDigest(t, chainB) {
				t.Fatal("store differs from a fresh sync of the winning chain")
			}
		})
	}
}

// TestSyncSourceBehind: a source whose best block is an ancestor of the
// stored tip (a node still syncing) is waited for, not followed backwards.
func TestSyncSourceBehind(t *testing.T) {
	t.Parallel()
	blocks := take(storetest.NewGenerator(regtest, 3, 2), 25)
	st := openStore(t)
	if _, err := ingest.Sync(context.Background(), st, newFakeSource(blocks), ingest.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	stats, err := ingest.Sync(context.Background(), st, newFakeSource(blocks[:12]), ingest.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Reorgs != 0 || tip(t, st, regtest).Height != 24 {
		t.Fatalf("stats %+v, tip %d: want nothing rewound", stats, tip(t, st, regtest).Height)
	}
}

// TestSyncOtherChain: a store holding a chain that shares no recent block
// with the source is not rewound wholesale.
func TestSyncOtherChain(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	mine := take(storetest.NewGenerator(regtest, 4, 1), 12)
	if _, err := ingest.Sync(context.Background(), st, newFakeSource(mine), ingest.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	other := take(storetest.NewGenerator(regtest, 5, 1), 15)
	tests := []struct {
		name  string
		depth int64
	}{
		{name: "no common block", depth: 100},
		{name: "deeper than allowed", depth: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ingest.Sync(context.Background(), st, newFakeSource(other), ingest.SyncOptions{MaxReorgDepth: tc.depth})
			if !errors.Is(err, heistgraph.ErrConflict) {
				t.Fatalf("err %v, want ErrConflict", err)
			}
			if tip(t, st, regtest) != mine[11].Ref() {
				t.Fatal("store changed")
			}
		})
	}
}

func TestSyncFetchAhead(t *testing.T) {
	t.Parallel()
	blocks := take(storetest.NewGenerator(regtest, 6, 2), 40)
	for _, ahead := range []int{1, 3, 8} {
		t.Run(fmt.Sprintf("%d", ahead), func(t *testing.T) {
			t.Parallel()
			src := newFakeSource(blocks)
			src.mu.Lock()
			src.onBlock = func(int64) { time.Sleep(time.Millisecond) } // let fetches overlap
			src.mu.Unlock()
			st := openStore(t)
			if _, err := ingest.Sync(context.Background(), st, src, ingest.SyncOptions{FetchAhead: ahead}); err != nil {
				t.Fatal(err)
			}
			// Each fetch is a getblockhash then a getblock: at most
			// `ahead` of them run at once.
			if got := src.maxInFlight.Load(); got > int64(ahead) {
				t.Fatalf("%d calls in flight, want at most %d", got, ahead)
			}
			if ahead > 1 && src.maxInFlight.Load() < 2 {
				t.Fatalf("calls never overlapped with fetch-ahead %d", ahead)
			}
			if digest(t, st, regtest) != freshDigest(t, blocks) {
				t.Fatal("digest differs")
			}
		})
	}
}

func TestSyncErrors(t *testing.T) {
	t.Parallel()
	blocks := take(storetest.NewGenerator(regtest, 7, 1), 5)
	tests := []struct {
		name string
		opts ingest.SyncOptions
		fail error
		want error
		// retried: Follow keeps retrying this failure instead of returning.
		retried bool
	}{
		{name: "negative confirmations", opts: ingest.SyncOptions{Confirmations: -1}, want: heistgraph.ErrInvalid},
		{name: "negative fetch-ahead", opts: ingest.SyncOptions{FetchAhead: -1}, want: heistgraph.ErrInvalid},
		{name: "negative poll interval", opts: ingest.SyncOptions{PollInterval: -time.Second}, want: heistgraph.ErrInvalid},
		{name: "negative backoff", opts: ingest.SyncOptions{MaxBackoff: -time.Second}, want: heistgraph.ErrInvalid},
		{name: "negative reorg depth", opts: ingest.SyncOptions{MaxReorgDepth: -1}, want: heistgraph.ErrInvalid},
		{name: "source down", fail: errDown, want: errDown, retried: true},
		{name: "source answers garbage", fail: fmt.Errorf("bad block: %w", heistgraph.ErrInvalid), want: heistgraph.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := newFakeSource(blocks)
			src.failErr = tc.fail
			_, err := ingest.Sync(context.Background(), openStore(t), src, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if tc.retried {
				return
			}
			if _, err := ingest.Follow(context.Background(), openStore(t), src, tc.opts); !errors.Is(err, tc.want) {
				t.Fatalf("Follow: err %v, want %v", err, tc.want)
			}
		})
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitTip waits until the store's tip is want.
func waitTip(t *testing.T, st interface {
	Tip(context.Context, heistgraph.Chain) (heistgraph.BlockRef, error)
}, want heistgraph.BlockRef) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := st.Tip(context.Background(), regtest)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("store tip %+v (%v), want %+v", got, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFollow follows a source that grows, reorganises and goes down for a
// while, then stops on cancellation.
func TestFollow(t *testing.T) {
	t.Parallel()
	chainA, chainB := forked(8, 10, 12)
	st := openStore(t)
	src := newFakeSource(chainA[:5])
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reorgs []int64
	var mu sync.Mutex
	done := make(chan error, 1)
	go func() {
		_, err := ingest.Follow(ctx, st, src, ingest.SyncOptions{
			PollInterval: 5 * time.Millisecond,
			MaxBackoff:   20 * time.Millisecond,
			Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
			Events: ingest.Events{Reorg: func(_ heistgraph.Chain, _, fork int64) {
				mu.Lock()
				reorgs = append(reorgs, fork)
				mu.Unlock()
			}},
		})
		done <- err
	}()
	waitTip(t, st, chainA[4].Ref())
	src.setBest(chainA)
	waitTip(t, st, chainA[len(chainA)-1].Ref())

	src.mu.Lock()
	src.down = 7
	src.mu.Unlock()
	src.setBest(chainB)
	waitTip(t, st, chainB[len(chainB)-1].Ref())
	if !strings.Contains(logs.String(), "source failing, retrying") {
		t.Errorf("no retry line in the log:\n%s", logs.String())
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow returned %v, want context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reorgs) != 1 || reorgs[0] != 7 {
		t.Fatalf("reorgs at forks %v, want one at 7", reorgs)
	}
	if digest(t, st, regtest) != freshDigest(t, chainB) {
		t.Fatal("store after following differs from a fresh sync of the winning chain")
	}
}
