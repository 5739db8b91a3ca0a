package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// TestTracerEqualsRun checks, on random graphs and for every policy, that
// a Tracer started at some height and advanced block by block gives, at
// every height, the JSON Run gives from the seeds on the store at that
// height (stats.ms aside); that after a reorg (the store rewound to a
// fork, Rewind, then replacement blocks holding part of the removed
// transactions under other hashes) it still does; and that Rewind below
// the Start height refuses.
func TestTracerEqualsRun(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(16, 2))
	ctx := context.Background()
	advanced, rewound := 0, 0
	for i := range 40 {
		g, _, labels := randomGraph(rng)
		top := g.Blocks[len(g.Blocks)-1].Height
		h0 := 1 + rng.Int64N(top-1) // Start after block h0
		var early []heistgraph.Outpoint
		for _, b := range g.Blocks[:h0] {
			for _, tx := range b.Txs {
				for n := range tx.Outputs {
					early = append(early, heistgraph.Outpoint{TxID: tx.TxID, Vout: uint32(n)})
				}
			}
		}
		fork := h0 + rng.Int64N(top-h0+1)
		for _, p := range trace.Policies() {
			name := fmt.Sprintf("graph %d, %s", i, p)
			st := openMem(t)
			for _, b := range g.Blocks[:h0] {
				if err := st.ApplyBlock(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			var seeds []trace.Seed
			for range 1 + rng.IntN(3) {
				op := early[rng.IntN(len(early))]
				o, err := st.Output(ctx, chain, op)
				if err != nil {
					t.Fatal(err)
				}
				if o.Value == 0 {
					continue
				}
				seeds = append(seeds, trace.Seed{Kind: trace.SeedOutput, Outpoint: op, Source: []string{"", "B"}[rng.IntN(2)]})
			}
			if len(seeds) == 0 {
				continue
			}
			opts := trace.Options{Chain: chain, Seeds: seeds, Policy: p, Resolver: labels,
				MaxHops: 1 + rng.IntN(8), MinAmount: []int64{-1, 0, 1_000_000}[rng.IntN(3)], Budget: 10_000,
				MaxIntervals: 1 + rng.IntN(4)}
			tr, err := trace.Start(ctx, st, opts, h0)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			same(t, ctx, st, tr, opts, name+", start")
			for _, b := range g.Blocks[h0:] {
				if err := st.ApplyBlock(ctx, b); err != nil {
					t.Fatal(err)
				}
				if _, err := tr.Advance(ctx, b); err != nil {
					t.Fatalf("%s, block %d: %v", name, b.Height, err)
				}
				advanced++
				same(t, ctx, st, tr, opts, fmt.Sprintf("%s, block %d", name, b.Height))
			}
			// The reorg: back to fork, then blocks holding about two
			// thirds of the removed transactions (their children spend
			// outputs the store no longer holds when a parent is left
			// out), on other hashes.
			if err := st.RewindTo(ctx, chain, fork); err != nil {
				t.Fatal(err)
			}
			if !tr.Rewind(fork) {
				t.Fatalf("%s: Rewind(%d) from %d refused", name, fork, top)
			}
			rewound++
			same(t, ctx, st, tr, opts, fmt.Sprintf("%s, rewound to %d", name, fork))
			prev := g.Blocks[fork-1].Hash
			for _, b := range g.Blocks[fork:] {
				nb := *b
				nb.Hash[31] ^= 0xff
				nb.PrevHash = prev
				prev = nb.Hash
				nb.Txs = nil
				for _, tx := range b.Txs {
					if rng.IntN(3) > 0 {
						nb.Txs = append(nb.Txs, tx)
					}
				}
				if err := st.ApplyBlock(ctx, &nb); err != nil {
					t.Fatal(err)
				}
				if _, err := tr.Advance(ctx, &nb); err != nil {
					t.Fatalf("%s, replacement block %d: %v", name, nb.Height, err)
				}
				same(t, ctx, st, tr, opts, fmt.Sprintf("%s, replacement block %d", name, nb.Height))
			}
			if h0 > 1 && tr.Rewind(h0-1) {
				t.Fatalf("%s: Rewind below the Start height %d accepted", name, h0)
			}
		}
	}
	t.Logf("%d blocks advanced, %d rewinds", advanced, rewound)
	if advanced < 200 || rewound < 100 {
		t.Errorf("the random graphs exercise little: %d blocks advanced, %d rewinds", advanced, rewound)
	}
}

// same fails the test unless tr's result is Run's on st (stats.ms aside).
func same(t *testing.T, ctx context.Context, st store.ChainReader, tr *trace.Tracer, opts trace.Options, what string) {
	t.Helper()
	want, err := trace.Run(ctx, st, opts)
	if err != nil {
		t.Fatalf("%s: run: %v", what, err)
	}
	got, err := tr.Result(ctx)
	if err != nil {
		t.Fatalf("%s: tracer: %v", what, err)
	}
	want.Stats.MS, got.Stats.MS = 0, 0
	a, _ := json.Marshal(want)
	b, _ := json.Marshal(got)
	if !bytes.Equal(a, b) {
		t.Fatalf("%s: the tracer differs from Run\nrun:    %s\ntracer: %s", what, a, b)
	}
	var ga, gb bytes.Buffer
	if err := want.WriteGraphML(&ga); err != nil {
		t.Fatal(err)
	}
	if err := got.WriteGraphML(&gb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ga.Bytes(), gb.Bytes()) {
		t.Fatalf("%s: the tracer's GraphML differs from Run's", what)
	}
}

// TestTracerUndoDepth checks that a Tracer keeping the undo of 2 blocks
// rewinds the last 2 exactly (as Run on the rewound store) and refuses a
// rewind deeper than the undo it kept (at most twice the depth).
func TestTracerUndoDepth(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 9))
	ctx := context.Background()
	tried := 0
	for i := range 30 {
		g, _, labels := randomGraph(rng)
		top := g.Blocks[len(g.Blocks)-1].Height
		if top < 8 {
			continue
		}
		st := openMem(t)
		if err := st.ApplyBlock(ctx, g.Blocks[0]); err != nil {
			t.Fatal(err)
		}
		opts := trace.Options{Chain: chain, Policy: trace.Haircut, Resolver: labels, MaxHops: 50,
			Seeds: []trace.Seed{{Kind: trace.SeedTx, TxID: g.Blocks[0].Txs[0].TxID}}}
		tr, err := trace.Start(ctx, st, opts, 1)
		if err != nil {
			t.Fatal(err)
		}
		trace.SetUndoDepth(tr, 2)
		for _, b := range g.Blocks[1:] {
			if err := st.ApplyBlock(ctx, b); err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Advance(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.RewindTo(ctx, chain, top-2); err != nil {
			t.Fatal(err)
		}
		if !tr.Rewind(top - 2) {
			t.Fatalf("graph %d: Rewind of the last 2 blocks refused", i)
		}
		same(t, ctx, st, tr, opts, fmt.Sprintf("graph %d, rewound to %d", i, top-2))
		if tr.Rewind(top - 7) {
			t.Fatalf("graph %d: Rewind of 7 blocks with the undo of at most 4 kept accepted", i)
		}
		tried++
	}
	if tried < 5 {
		t.Fatalf("only %d graphs long enough", tried)
	}
}
