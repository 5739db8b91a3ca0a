package dump_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/dump"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/store/storetest"
)

const (
	utxoChain = heistgraph.ChainBTCRegtest
	evmChain  = heistgraph.Chain("evm-synth")
)

// step is one write of a world's history.
type step func(ctx context.Context, st store.Store) error

// world is a random history of writes (blocks applied, rewound and
// replaced by other branches, clustering runs, labels, tokens, overrides)
// and the content it leaves: final holds the writes that give the same
// content directly (the surviving branches only, clustered once).
type world struct {
	history, final []step
}

// worldParams sizes a world.
type worldParams struct {
	seed        uint64
	blocks      int // UTXO blocks on the first branch
	txsPerBlock int
	reorgs      int
	evmBlocks   int
}

// newWorld builds a random world from p.seed: a UTXO chain and an account
// chain, each reorganised p.reorgs times at random depths (the losing
// branch rewound, a competing one applied), with clustering run between
// reorgs in the history but only once, on the surviving chain, in final.
func newWorld(p worldParams) *world {
	rng := rand.New(rand.NewPCG(p.seed, 17))
	w := &world{}
	both := func(s step) { w.history, w.final = append(w.history, s), append(w.final, s) }

	labels := []heistgraph.Label{
		{Chain: utxoChain, Address: "placeholder", Entity: "Exchange A", Category: "exchange", Source: "test", Confidence: 0.9, TLP: "clear"},
		{Chain: heistgraph.ChainEVM, Address: "0x00000000000000000000000000000000000000aa", Entity: "Mixer B", Category: "mixer", Source: "test", Confidence: 1},
		{Chain: heistgraph.ChainTron, Address: "TXyz", Entity: "Scam", Category: "scam", Source: "ofac", Confidence: 0.5, Note: "ünïcode <&>"},
	}

	// The UTXO chain: branches of generators; best holds the blocks of the
	// best chain by height.
	g := storetest.NewGenerator(utxoChain, p.seed, p.txsPerBlock)
	var best, pending []*heistgraph.Block
	// alts[h] is a competing branch from height h on.
	var alts []*storetest.Generator
	grow := func(n int) {
		for range n {
			alts = append(alts[:len(best)], g.Fork(rng.Uint64()))
			b := g.Next()
			best = append(best, b)
			pending = append(pending, b)
		}
	}
	applyPending := func() {
		bs := pending
		pending = nil
		w.history = append(w.history, func(ctx context.Context, st store.Store) error {
			for _, b := range bs {
				if err := st.ApplyBlock(ctx, b); err != nil {
					return err
				}
			}
			return nil
		})
	}
	clusterStep := func(ctx context.Context, st store.Store) error {
		_, err := cluster.Update(ctx, st, utxoChain, cluster.DefaultOptions())
		return err
	}
	grow(p.blocks)
	// A label on an address of the chain, so that clustering reads it.
	labels[0].Address = best[len(best)/2].Txs[0].Outputs[0].Address
	both(func(ctx context.Context, st store.Store) error {
		_, err := st.PutLabels(ctx, labels)
		return err
	})
	applyPending()
	w.history = append(w.history, clusterStep)
	for range p.reorgs {
		depth := 1 + rng.IntN(min(4, len(best)-1))
		fork := int64(len(best) - depth) // first height replaced
		g, best = alts[fork], best[:fork]
		w.history = append(w.history, func(ctx context.Context, st store.Store) error {
			return st.RewindTo(ctx, utxoChain, fork-1)
		})
		grow(depth + rng.IntN(3))
		applyPending()
		if rng.IntN(2) == 0 {
			w.history = append(w.history, clusterStep)
		}
	}
	final := best
	w.final = append(w.final, func(ctx context.Context, st store.Store) error {
		for _, b := range final {
			if err := st.ApplyBlock(ctx, b); err != nil {
				return err
			}
		}
		return nil
	})

	// The account chain.
	ag := storetest.NewAccountGen(evmChain, p.seed, 12)
	eb := ag.Blocks(0, 0, int64(p.evmBlocks), heistgraph.EVMHash{})
	w.history = append(w.history, applyAccounts(eb))
	for r := range p.reorgs {
		depth := 1 + rng.IntN(min(3, len(eb)-1))
		fork := len(eb) - depth
		w.history = append(w.history, func(ctx context.Context, st store.Store) error {
			return st.RewindTo(ctx, evmChain, int64(fork-1))
		})
		side := ag.Blocks(int64(r+1), int64(fork), int64(depth+rng.IntN(2)), eb[fork-1].Hash)
		eb = append(eb[:fork:fork], side...)
		w.history = append(w.history, applyAccounts(side))
	}
	w.final = append(w.final, applyAccounts(eb))
	tokens := func(ctx context.Context, st store.Store) error {
		for i, a := range ag.Tokens {
			if err := st.PutToken(ctx, heistgraph.TokenInfo{Chain: evmChain, Address: a, Symbol: "TK" + string(rune('A'+i)), Decimals: uint8(6 + 12*i), Known: i == 0}); err != nil {
				return err
			}
		}
		return nil
	}
	both(tokens)

	// Clustering of the surviving chain, then an analyst's overrides.
	addrs := []string{best[1].Txs[0].Outputs[0].Address}
	for _, b := range best[2:] {
		if a := b.Txs[len(b.Txs)-1].Outputs[0].Address; a != "" && a != addrs[0] && len(addrs) == 1 {
			addrs = append(addrs, a)
		}
	}
	both(clusterStep)
	both(func(ctx context.Context, st store.Store) error {
		at := time.Unix(1_700_000_000, 0)
		if _, err := cluster.Merge(ctx, st, utxoChain, addrs, "analyst", "same owner", at, cluster.DefaultOptions()); err != nil {
			return err
		}
		_, err := cluster.Split(ctx, st, utxoChain, addrs[0], "analyst", "not theirs", at, cluster.DefaultOptions())
		return err
	})
	return w
}

func applyAccounts(bs []*heistgraph.AccountBlock) step {
	return func(ctx context.Context, st store.Store) error {
		for _, b := range bs {
			if err := st.ApplyAccountBlock(ctx, b); err != nil {
				return err
			}
		}
		return nil
	}
}

// run applies steps to st.
func run(t testing.TB, st store.Store, steps []step) {
	t.Helper()
	for i, s := range steps {
		if err := s(context.Background(), st); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
}

// dumpOf returns st's dump, checked for order and form.
func dumpOf(t testing.TB, st store.Store, opts dump.Options) []byte {
	t.Helper()
	src, err := dump.For(st)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := dump.Write(context.Background(), &b, src, opts); err != nil {
		t.Fatal(err)
	}
	checkSorted(t, b.Bytes())
	return b.Bytes()
}

func openPebble(t testing.TB) *pebble.DB {
	t.Helper()
	db, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPebbleWith returns a Pebble store written by steps.
func openPebbleWith(t testing.TB, steps []step) *pebble.DB {
	t.Helper()
	st := openPebble(t)
	run(t, st, steps)
	return st
}

func chainOf(s string) heistgraph.Chain { return heistgraph.Chain(s) }

// linesOf returns the lines of d whose chain is chain.
func linesOf(d []byte, chain string) []byte {
	var out []byte
	for _, l := range bytes.SplitAfter(d, []byte("\n")) {
		if bytes.Contains(l, []byte(`,"chain":"`+chain+`",`)) {
			out = append(out, l...)
		}
	}
	return out
}
