package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/synth"
	"github.com/heistgraph/heistgraph/trace"
)

// truthResolver names the entity of a synthetic world's address from its
// truth (the labels a perfect clustering would give).
type truthResolver map[string]heistgraph.EntityRef

func (r truthResolver) Resolve(_ context.Context, _ heistgraph.Chain, addr string) (heistgraph.EntityRef, bool, error) {
	ref, ok := r[addr]
	return ref, ok, nil
}

// synthWorld generates a small synthetic world and returns its blocks in
// chain order and its truth.
func synthWorld(t testing.TB, seed int64) ([]*heistgraph.Block, *synth.Truth) {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := synth.Generate(ctx, synth.Options{Dir: dir, Seed: seed, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	truth, err := synth.LoadTruth(filepath.Join(dir, synth.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	net := heistgraph.Regtest
	src, err := bitcoin.NewFileSource([]string{dir}, bitcoin.FileOptions{Network: &net})
	if err != nil {
		t.Fatal(err)
	}
	var blocks []*heistgraph.Block
	opts := ingest.Options{Events: ingest.Events{BlockApplied: func(b *heistgraph.Block) { blocks = append(blocks, b) }}}
	if _, err := ingest.Stream(ctx, openStore(t), src, opts); err != nil {
		t.Fatal(err)
	}
	return blocks, truth
}

// TestTracerFollowsSynthWorld is the watch's incremental trace on a
// synthetic world with heists: for every policy, a trace.Tracer started
// at the theft's block and advanced block by block equals trace.Run from
// the seeds on the store at every height (entities resolved from the
// world's truth, so the exchanges, bridges and mixers stop it); and after
// a reorg of 6 blocks, rewound and then advanced over replacement blocks
// that hold part of the removed transactions, it still does.
func TestTracerFollowsSynthWorld(t *testing.T) {
	t.Parallel()
	blocks, truth := synthWorld(t, 7)
	ctx := context.Background()
	labels := truthResolver{}
	for _, e := range truth.Entities {
		for _, a := range e.Addresses {
			labels[a] = heistgraph.EntityRef{Name: e.ID, Category: e.Category}
		}
	}
	h := truth.Heists[0]
	var seeds []trace.Seed
	for _, s := range h.Seeds {
		sd, err := trace.ParseSeed(s)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, sd)
	}
	st := openStore(t)
	apply := func(b *heistgraph.Block) {
		if err := st.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	for ; i < len(blocks) && blocks[i].Height <= h.Height; i++ {
		apply(blocks[i])
	}
	var trs []*trace.Tracer
	var opts []trace.Options
	for _, p := range trace.Policies() {
		o := trace.DefaultOptions()
		o.Chain, o.Seeds, o.Policy, o.Resolver = regtest, seeds, p, labels
		tr, err := trace.Start(ctx, st, o, h.Height)
		if err != nil {
			t.Fatal(err)
		}
		trs, opts = append(trs, tr), append(opts, o)
	}
	check := func(what string) {
		t.Helper()
		for k, tr := range trs {
			sameTrace(t, ctx, st, tr, opts[k], fmt.Sprintf("%s, %s", opts[k].Policy, what))
		}
	}
	check("theft block")
	// Checked after every block that changed a trace, and every 50th
	// (a trace from the seeds per block and policy would take a minute).
	moved := 0
	for ; i < len(blocks); i++ {
		apply(blocks[i])
		changed := false
		for _, tr := range trs {
			c, err := tr.Advance(ctx, blocks[i])
			if err != nil {
				t.Fatalf("block %d: %v", blocks[i].Height, err)
			}
			changed = changed || c
		}
		if changed || i%50 == 0 {
			check(fmt.Sprintf("block %d", blocks[i].Height))
		}
		if changed {
			moved++
		}
	}
	if moved < 10 {
		t.Fatalf("the traces changed in %d blocks only", moved)
	}
	n := len(blocks) - 6 // blocks[n:] are reorganised away
	fork := blocks[n-1].Height
	if err := st.RewindTo(ctx, regtest, fork); err != nil {
		t.Fatal(err)
	}
	for _, tr := range trs {
		if !tr.Rewind(fork) {
			t.Fatalf("Rewind(%d) refused", fork)
		}
	}
	check(fmt.Sprintf("rewound to %d", fork))
	rng := rand.New(rand.NewPCG(1, 6))
	prev := blocks[n-1].Hash
	for _, b := range blocks[n:] {
		nb := *b
		nb.Hash[0] ^= 0xff
		nb.PrevHash, prev = prev, nb.Hash
		nb.Txs = nb.Txs[:1:1] // the coinbase
		for _, tx := range b.Txs[1:] {
			if rng.IntN(3) > 0 {
				nb.Txs = append(nb.Txs, tx)
			}
		}
		apply(&nb)
		for _, tr := range trs {
			if _, err := tr.Advance(ctx, &nb); err != nil {
				t.Fatalf("replacement block %d: %v", nb.Height, err)
			}
		}
		check(fmt.Sprintf("replacement block %d", nb.Height))
	}
}

// sameTrace fails the test unless tr's result is trace.Run's on st
// (stats.ms aside).
func sameTrace(t *testing.T, ctx context.Context, st store.ChainReader, tr *trace.Tracer, opts trace.Options, what string) {
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
		t.Fatalf("%s: the tracer differs from a trace from the seeds\nrun:    %.2000s\ntracer: %.2000s", what, a, b)
	}
}
