package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// openStore opens an in-memory Pebble store closed at the end of the test.
func openStore(tb testing.TB) store.Store {
	tb.Helper()
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	opts.MemTableSize = 1 << 20
	opts.CacheSize = 8 << 20
	db, err := pebble.Open("db", opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// digest returns the store's digest of chain.
func digest(tb testing.TB, r store.ChainReader, chain heistgraph.Chain) heistgraph.Hash {
	tb.Helper()
	d, err := r.Digest(context.Background(), chain)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// tip returns the store's tip of chain.
func tip(tb testing.TB, r store.ChainReader, chain heistgraph.Chain) heistgraph.BlockRef {
	tb.Helper()
	t, err := r.Tip(context.Background(), chain)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// errDown is what fakeSource answers while it is "down".
var errDown = errors.New("fake node: connection refused")

// fakeSource is an in-memory heistgraph.BlockSource whose best chain the
// test sets and changes (reorgs) at will. It counts calls in flight and
// can fail a number of calls, as a node that is down.
type fakeSource struct {
	net heistgraph.Network

	mu      sync.Mutex
	best    []*heistgraph.Block // best chain by height
	all     map[heistgraph.Hash]*heistgraph.Block
	down    int           // fail this many more calls with errDown
	failErr error         // when set, every call fails with it
	onBlock func(h int64) // called (without mu) at each Block call

	inFlight, maxInFlight atomic.Int64
	blockCalls            atomic.Int64
}

func newFakeSource(blocks []*heistgraph.Block) *fakeSource {
	s := &fakeSource{net: heistgraph.Regtest, all: map[heistgraph.Hash]*heistgraph.Block{}}
	s.setBest(blocks)
	return s
}

// setBest replaces the source's best chain; it keeps the blocks it had.
func (s *fakeSource) setBest(blocks []*heistgraph.Block) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.best = blocks
	for _, b := range blocks {
		s.all[b.Hash] = b
	}
}

func (s *fakeSource) enter() error {
	n := s.inFlight.Add(1)
	for {
		m := s.maxInFlight.Load()
		if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failErr != nil {
		return s.failErr
	}
	if s.down > 0 {
		s.down--
		return errDown
	}
	return nil
}

func (s *fakeSource) leave() { s.inFlight.Add(-1) }

func (s *fakeSource) Network(context.Context) (heistgraph.Network, error) {
	defer s.leave()
	if err := s.enter(); err != nil {
		return heistgraph.Network{}, err
	}
	return s.net, nil
}

func (s *fakeSource) TipHeight(context.Context) (int64, error) {
	defer s.leave()
	if err := s.enter(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.best) - 1), nil
}

func (s *fakeSource) BlockHash(_ context.Context, h int64) (heistgraph.Hash, error) {
	defer s.leave()
	if err := s.enter(); err != nil {
		return heistgraph.Hash{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h < 0 || h >= int64(len(s.best)) {
		return heistgraph.Hash{}, fmt.Errorf("fake getblockhash %d: %w", h, heistgraph.ErrNotFound)
	}
	return s.best[h].Hash, nil
}

func (s *fakeSource) Block(_ context.Context, hash heistgraph.Hash, h int64) (*heistgraph.Block, error) {
	defer s.leave()
	s.blockCalls.Add(1)
	if err := s.enter(); err != nil {
		return nil, err
	}
	if f := s.hook(); f != nil {
		f(h)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.all[hash] // a node keeps the blocks of branches it left
	if !ok {
		return nil, fmt.Errorf("fake getblock %s: %w", hash, heistgraph.ErrNotFound)
	}
	c := *b
	c.Height = h
	return &c, nil
}

func (s *fakeSource) hook() func(int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.onBlock
}
