package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/storetest"
)

const devChain heistgraph.Chain = "dev"

// fakeAccountSource is an in-memory heistgraph.AccountSource whose best
// chain the test sets and changes at will; it can fail a number of Block
// calls, as a node that drops, and counts Token calls.
type fakeAccountSource struct {
	mu         sync.Mutex
	id         uint64
	blocks     []*heistgraph.AccountBlock
	failBlocks int // the next this many Block calls fail
	tokenCalls map[heistgraph.EVMAddress]int
}

func newFakeAccountSource(blocks []*heistgraph.AccountBlock) *fakeAccountSource {
	return &fakeAccountSource{id: 1337, blocks: blocks, tokenCalls: map[heistgraph.EVMAddress]int{}}
}

func (f *fakeAccountSource) set(blocks []*heistgraph.AccountBlock) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blocks = blocks
}

func (f *fakeAccountSource) ChainID(context.Context) (uint64, error) { return f.id, nil }

func (f *fakeAccountSource) TipHeight(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(len(f.blocks)) - 1, nil
}

func (f *fakeAccountSource) at(h int64) (*heistgraph.AccountBlock, error) {
	if h < 0 || h >= int64(len(f.blocks)) {
		return nil, fmt.Errorf("fake node: height %d: %w", h, heistgraph.ErrNotFound)
	}
	return f.blocks[h], nil
}

func (f *fakeAccountSource) BlockHash(_ context.Context, h int64) (heistgraph.EVMHash, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.at(h)
	if err != nil {
		return heistgraph.EVMHash{}, err
	}
	return b.Hash, nil
}

func (f *fakeAccountSource) Block(_ context.Context, h int64) (*heistgraph.AccountBlock, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failBlocks > 0 {
		f.failBlocks--
		return nil, errDown
	}
	b, err := f.at(h)
	if err != nil {
		return nil, err
	}
	c := *b // the caller owns it
	return &c, nil
}

func (f *fakeAccountSource) Token(_ context.Context, a heistgraph.EVMAddress) (heistgraph.TokenInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenCalls[a]++
	return heistgraph.TokenInfo{Symbol: "T" + a.Hex()[2:6], Decimals: 6, Known: true}, nil
}

// accountDigest is the digest of a store that held exactly blocks.
func accountDigest(t *testing.T, blocks []*heistgraph.AccountBlock) heistgraph.Hash {
	t.Helper()
	st := openStore(t)
	for _, b := range blocks {
		if err := st.ApplyAccountBlock(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	return digest(t, st, devChain)
}

func accountOpts() ingest.AccountOptions {
	o := ingest.AccountOptions{Chain: devChain}
	o.FetchAhead = 4
	return o
}

func TestSyncAccounts(t *testing.T) {
	ctx := context.Background()
	g := storetest.NewAccountGen(devChain, 21, 6)
	blocks := g.Blocks(0, 0, 25, heistgraph.EVMHash{})
	src := newFakeAccountSource(blocks)
	st := openStore(t)
	var applied []int64
	opts := accountOpts()
	opts.BlockApplied = func(b *heistgraph.AccountBlock) { applied = append(applied, b.Height) }
	stats, err := ingest.SyncAccounts(ctx, st, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Blocks != 25 || len(applied) != 25 || applied[0] != 0 || applied[24] != 24 {
		t.Errorf("applied %d blocks (%v), want 0..24 in order", stats.Blocks, applied)
	}
	if digest(t, st, devChain) != accountDigest(t, blocks) {
		t.Error("the synced store differs from one the blocks were applied to directly")
	}
	var transfers int64
	for _, b := range blocks {
		transfers += int64(len(b.Transfers))
	}
	if stats.Transfers != transfers {
		t.Errorf("stats count %d transfers, want %d", stats.Transfers, transfers)
	}
	// Each token was read once and stored.
	for _, tok := range g.Tokens {
		if n := src.tokenCalls[tok]; n != 1 {
			t.Errorf("token %s read %d times, want once", tok, n)
		}
		ti, err := st.Token(ctx, devChain, tok)
		if err != nil || ti.Symbol != "T"+tok.Hex()[2:6] || ti.Chain != devChain || ti.Address != tok {
			t.Errorf("stored token %+v %v", ti, err)
		}
	}
	// Nothing new: nothing applied, and tokens are not read again.
	stats, err = ingest.SyncAccounts(ctx, st, src, opts)
	if err != nil || stats.Blocks != 0 {
		t.Errorf("second sync: %d blocks, %v; want nothing", stats.Blocks, err)
	}
}

func TestSyncAccountsRange(t *testing.T) {
	ctx := context.Background()
	g := storetest.NewAccountGen(devChain, 22, 6)
	blocks := g.Blocks(0, 0, 20, heistgraph.EVMHash{})
	src := newFakeAccountSource(blocks)
	st := openStore(t)
	opts := accountOpts()
	opts.From, opts.To, opts.Bounded = 5, 11, true
	if _, err := ingest.SyncAccounts(ctx, st, src, opts); err != nil {
		t.Fatal(err)
	}
	rng, err := st.AccountStored(ctx, devChain)
	if err != nil || rng != (store.AccountRange{Lowest: 5, Highest: 11, Count: 7}) {
		t.Errorf("stored %+v %v, want 5..11", rng, err)
	}
	// Resuming with the default range continues after 11, up to the tip,
	// with confirmations left out.
	opts = accountOpts()
	opts.Confirmations = 3
	if _, err := ingest.SyncAccounts(ctx, st, src, opts); err != nil {
		t.Fatal(err)
	}
	if digest(t, st, devChain) != accountDigest(t, blocks[5:17]) {
		t.Error("resumed store differs from blocks 5..16 applied directly")
	}
	for _, bad := range []ingest.AccountOptions{
		{Chain: "btc"}, {Chain: "nochain"}, {Chain: devChain, From: -1}, {Chain: devChain, From: 5, To: 4, Bounded: true},
	} {
		if _, err := ingest.SyncAccounts(ctx, st, src, bad); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("options %+v: %v, want ErrInvalid", bad, err)
		}
	}
}

func TestSyncAccountsWrongChain(t *testing.T) {
	ctx := context.Background()
	g := storetest.NewAccountGen(devChain, 23, 4)
	src := newFakeAccountSource(g.Blocks(0, 0, 3, heistgraph.EVMHash{}))
	src.id = 1 // mainnet
	st := openStore(t)
	_, err := ingest.SyncAccounts(ctx, st, src, accountOpts())
	if !errors.Is(err, heistgraph.ErrInvalid) {
		t.Fatalf("a node of chain id 1 for dev: %v, want ErrInvalid", err)
	}
	if want := "chain id 1 (eth), not dev's 1337"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if _, err := st.AccountTip(ctx, devChain); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("something was stored: %v", err)
	}
	// Follow stops too: retrying cannot fix it.
	if _, err := ingest.FollowAccounts(ctx, st, src, accountOpts()); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("follow: %v, want ErrInvalid", err)
	}
}

func TestSyncAccountsReorg(t *testing.T) {
	ctx := context.Background()
	g := storetest.NewAccountGen(devChain, 24, 6)
	main := g.Blocks(0, 0, 15, heistgraph.EVMHash{})
	src := newFakeAccountSource(main)
	st := openStore(t)
	var reorgs [][2]int64
	opts := accountOpts()
	opts.Events.Reorg = func(_ heistgraph.Chain, old, fork int64) { reorgs = append(reorgs, [2]int64{old, fork}) }
	if _, err := ingest.SyncAccounts(ctx, st, src, opts); err != nil {
		t.Fatal(err)
	}
	// The node switches to a branch forking after block 9, longer by 3.
	branch := append(append([]*heistgraph.AccountBlock(nil), main[:10]...), g.Blocks(1, 10, 8, main[9].Hash)...)
	src.set(branch)
	stats, err := ingest.SyncAccounts(ctx, st, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Reorgs != 1 || stats.Rewound != 5 || stats.Blocks != 8 || len(reorgs) != 1 || reorgs[0] != [2]int64{14, 9} {
		t.Errorf("stats %+v, reorgs %v; want one reorg 14 -> 9, 5 rewound, 8 applied", stats, reorgs)
	}
	if digest(t, st, devChain) != accountDigest(t, branch) {
		t.Error("after the reorg the store differs from the new branch applied directly")
	}
}

// A fetched block whose parent is not the stored tip (the node reorganised
// between the tip check and the fetch) makes the pass start over.
func TestSyncAccountsParentMismatch(t *testing.T) {
	ctx := context.Background()
	g := storetest.NewAccountGen(devChain, 25, 6)
	main := g.Blocks(0, 0, 8, heistgraph.EVMHash{})
	branch := append(append([]*heistgraph.AccountBlock(nil), main[:4]...), g.Blocks(1, 4, 6, main[3].Hash)...)
	src := &switchingSource{fakeAccountSource: newFakeAccountSource(main), after: 6, next: branch}
	st := openStore(t)
	if _, err := ingest.SyncAccounts(ctx, st, src, accountOpts()); err != nil {
		t.Fatal(err)
	}
	if digest(t, st, devChain) != accountDigest(t, branch) {
		t.Error("the store does not hold the branch the node switched to")
	}
}

// switchingSource switches its chain to next after serving after blocks.
type switchingSource struct {
	*fakeAccountSource
	after  int
	served int
	next   []*heistgraph.AccountBlock
}

func (s *switchingSource) Block(ctx context.Context, h int64) (*heistgraph.AccountBlock, error) {
	b, err := s.fakeAccountSource.Block(ctx, h)
	s.mu.Lock()
	s.served++
	if s.served == s.after {
		s.blocks = s.next
	}
	s.mu.Unlock()
	return b, err
}

func TestSyncAccountsNodeDrops(t *testing.T) {
	ctx := context.Background()
	g := storetest.NewAccountGen(devChain, 26, 6)
	blocks := g.Blocks(0, 0, 30, heistgraph.EVMHash{})
	src := newFakeAccountSource(blocks[:12])
	st := openStore(t)
	if _, err := ingest.SyncAccounts(ctx, st, src, accountOpts()); err != nil {
		t.Fatal(err)
	}
	src.set(blocks)
	src.failBlocks = 3
	_, err := ingest.SyncAccounts(ctx, st, src, accountOpts())
	if !errors.Is(err, errDown) {
		t.Fatalf("sync while the node is down: %v, want its error", err)
	}
	tipBefore, err := st.AccountTip(ctx, devChain)
	if err != nil || tipBefore.Height != 11 {
		t.Fatalf("tip after the failure %+v %v, want 11 (whole blocks only)", tipBefore, err)
	}
	// Follow retries while the node is down, then catches up.
	src.failBlocks = 5
	opts := accountOpts()
	opts.PollInterval, opts.MaxBackoff = time.Millisecond, 5*time.Millisecond
	fctx, cancel := context.WithCancel(ctx)
	opts.BlockApplied = func(b *heistgraph.AccountBlock) {
		if b.Height == 29 {
			cancel()
		}
	}
	_, err = ingest.FollowAccounts(fctx, st, src, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("follow: %v, want cancelled once caught up", err)
	}
	if digest(t, st, devChain) != accountDigest(t, blocks) {
		t.Error("after the node came back the store differs from the blocks applied directly")
	}
}

func TestFetchAhead(t *testing.T) {
	ctx := context.Background()
	for _, ahead := range []int{0, 1, 3, 16} {
		var got []int64
		for v, err := range ingest.FetchAhead(ctx, 3, 40, ahead, func(_ context.Context, h int64) (int64, error) {
			if h%7 == 0 {
				time.Sleep(time.Millisecond) // out-of-order completion
			}
			return h * 10, nil
		}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		if len(got) != 38 || got[0] != 30 || got[37] != 400 {
			t.Fatalf("ahead %d: got %v", ahead, got)
		}
		for i := 1; i < len(got); i++ {
			if got[i] != got[i-1]+10 {
				t.Fatalf("ahead %d: out of order at %d: %v", ahead, i, got)
			}
		}
	}
	// The first error ends the sequence.
	n := 0
	var last error
	for _, err := range ingest.FetchAhead(ctx, 0, 100, 4, func(_ context.Context, h int64) (int64, error) {
		if h == 5 {
			return 0, errDown
		}
		return h, nil
	}) {
		n++
		last = err
	}
	if n != 6 || !errors.Is(last, errDown) {
		t.Errorf("%d items, last error %v: want 6 ending with the failure", n, last)
	}
}
