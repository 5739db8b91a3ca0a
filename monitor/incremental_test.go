package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/monitor"
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
	seeds, err := trace.ParseSeeds(h.Seeds)
	if err != nil {
		t.Fatal(err)
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
	for _, nb := range replacements(blocks[n-1], blocks[n:], 1) {
		apply(nb)
		for _, tr := range trs {
			if _, err := tr.Advance(ctx, nb); err != nil {
				t.Fatalf("replacement block %d: %v", nb.Height, err)
			}
		}
		check(fmt.Sprintf("replacement block %d", nb.Height))
	}
}

// replacements returns a branch replacing removed (the blocks after
// fork) for a reorg: blocks at the same heights on other hashes, each with
// its coinbase and about two thirds of its other transactions (chosen by
// seed; a child whose parent is left out spends an output the store does
// not hold).
func replacements(fork *heistgraph.Block, removed []*heistgraph.Block, seed uint64) []*heistgraph.Block {
	rng := rand.New(rand.NewPCG(seed, 6))
	prev := fork.Hash
	var out []*heistgraph.Block
	for _, b := range removed {
		nb := *b
		nb.Hash[0] ^= 0xff
		nb.PrevHash, prev = prev, nb.Hash
		nb.Txs = nb.Txs[:1:1] // the coinbase
		for _, tx := range b.Txs[1:] {
			if rng.IntN(3) > 0 {
				nb.Txs = append(nb.Txs, tx)
			}
		}
		out = append(out, &nb)
	}
	return out
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

// TestLiveIncrementalSynthWorld follows a synthetic heist world block by
// block with Live, one watch per policy on the first heist's seeds, the
// world's exchanges, bridges and mixers labelled: after every block that
// raised alerts, every 50th and the last, and across a reorg of 6 blocks
// replaced by others holding part of their transactions, each watch's
// alerts in the store (retracted ones aside) are exactly those a check
// from the seeds (Check) calls for; and no block made Live trace a watch
// again from its seeds but the theft's (the seeds' block).
func TestLiveIncrementalSynthWorld(t *testing.T) {
	t.Parallel()
	blocks, truth := synthWorld(t, 11)
	ctx := context.Background()
	st := openStore(t)
	var labels []heistgraph.Label
	for _, e := range truth.Entities {
		if e.Category != "exchange" && e.Category != "bridge" && e.Category != "mixer" {
			continue
		}
		for _, a := range e.Addresses {
			labels = append(labels, heistgraph.Label{Chain: regtest, Address: a, Entity: e.ID, Category: e.Category, Source: "truth", Confidence: 1})
		}
	}
	if _, err := st.PutLabels(ctx, labels); err != nil {
		t.Fatal(err)
	}
	h := truth.Heists[0]
	var ws []heistgraph.Watch
	for _, p := range trace.Policies() {
		w := heistgraph.Watch{Name: "w-" + string(p), Chain: regtest, Seeds: h.Seeds, Policy: string(p), Created: 1}
		if err := st.PutWatch(ctx, w); err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	var logs bytes.Buffer
	live := monitor.NewLive(st, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	apply := func(b *heistgraph.Block) int {
		t.Helper()
		if err := st.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
		n, err := live.Applied(ctx, b)
		if err != nil {
			t.Fatalf("block %d: %v", b.Height, err)
		}
		return n
	}
	check := func(what string) {
		t.Helper()
		held := map[string]int{}
		retracted := map[string]bool{}
		var all []store.StoredAlert
		for a, err := range st.AlertList(ctx, store.AlertQuery{}) {
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, a)
			if a.Kind == heistgraph.AlertRetracted {
				retracted[a.Retracts] = true
			}
		}
		for _, a := range all {
			if a.Kind != heistgraph.AlertRetracted && !retracted[a.IdempotencyKey] {
				held[a.Watch]++
			}
		}
		for _, w := range ws {
			r, err := monitor.Check(ctx, st, w)
			if err != nil {
				t.Fatalf("%s, %s: %v", what, w.Name, err)
			}
			if len(r.Raised) > 0 || held[w.Name] != len(r.Alerts) {
				t.Fatalf("%s, %s: a check from the seeds calls for %d alerts, %d of them new; the store holds %d",
					what, w.Name, len(r.Alerts), len(r.Raised), held[w.Name])
			}
		}
	}
	if err := st.ApplyBlock(ctx, blocks[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := live.Start(ctx, regtest); err != nil {
		t.Fatal(err)
	}
	raised := 0
	n := len(blocks) - 6 // blocks[n:] are reorganised away
	for i, b := range blocks[1:n] {
		k := apply(b)
		raised += k
		if k > 0 || i%50 == 0 {
			check(fmt.Sprintf("block %d", b.Height))
		}
	}
	check("before the reorg")
	if raised == 0 {
		t.Fatal("the world raised no alert")
	}
	for _, b := range blocks[n:] {
		apply(b)
	}
	fork := blocks[n-1].Height
	if err := st.RewindTo(ctx, regtest, fork); err != nil {
		t.Fatal(err)
	}
	if _, err := live.Rewound(ctx, fork); err != nil {
		t.Fatal(err)
	}
	check(fmt.Sprintf("rewound to %d", fork))
	for _, nb := range replacements(blocks[n-1], blocks[n:], 2) {
		apply(nb)
		check(fmt.Sprintf("replacement block %d", nb.Height))
	}
	if c := strings.Count(logs.String(), "watch traced again from its seeds"); c > 0 {
		t.Fatalf("Live traced a watch again from its seeds %d times:\n%s", c, logs.String())
	}
	t.Logf("%d alerts raised", raised)
}
