package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// randomGraph builds a random transaction graph: coinbases, then blocks of
// transactions spending random unspent outputs (sometimes several,
// sometimes with an output the store does not hold) into 1–6 outputs
// with a random fee, some of them OP_RETURN or zero-valued.
func randomGraph(rng *rand.Rand) (*testutil.Graph, []heistgraph.Outpoint, mapResolver) {
	g := testutil.NewGraph(chain)
	type coin struct {
		op heistgraph.Outpoint
		v  int64
	}
	var utxo []coin
	var all []heistgraph.Outpoint
	labels := mapResolver{}
	addr := 0
	newAddr := func() string {
		addr++
		a := fmt.Sprintf("a%d", addr)
		switch rng.IntN(12) {
		case 0:
			labels[a] = heistgraph.EntityRef{Name: "Exchange", Category: "exchange"}
		case 1:
			labels[a] = heistgraph.EntityRef{Name: "Thief", Category: "dprk"}
		}
		return a
	}
	ntx := 0
	g.Block(1, 0)
	for i := range 3 {
		var outs []testutil.Out
		for range 1 + rng.IntN(3) {
			outs = append(outs, testutil.Out{Address: newAddr(), Value: 1 + rng.Int64N(50_0000_0000)})
		}
		id := g.Tx(fmt.Sprintf("cb%d", i), nil, outs...)
		for n, o := range outs {
			op := heistgraph.Outpoint{TxID: id, Vout: uint32(n)}
			utxo = append(utxo, coin{op, o.Value})
			all = append(all, op)
		}
	}
	for h := int64(2); h < 2+int64(4+rng.IntN(8)); h++ {
		g.Block(h, 0)
		for range 1 + rng.IntN(5) {
			if len(utxo) == 0 {
				break
			}
			var ins []heistgraph.Outpoint
			var in int64
			for k := 0; k < 1+rng.IntN(3) && len(utxo) > 0; k++ {
				j := rng.IntN(len(utxo))
				ins = append(ins, utxo[j].op)
				in += utxo[j].v
				utxo = append(utxo[:j], utxo[j+1:]...)
			}
			if rng.IntN(15) == 0 {
				ins = append(ins, heistgraph.Outpoint{TxID: testutil.TxID("missing"), Vout: uint32(rng.IntN(5))})
			}
			fee := rng.Int64N(in/10 + 1)
			left := in - fee
			n := 1 + rng.IntN(6)
			var outs []testutil.Out
			for k := range n {
				v := left
				if k < n-1 {
					v = rng.Int64N(left + 1)
					if rng.IntN(8) == 0 {
						v = 0
					}
				}
				left -= v
				a := newAddr()
				if rng.IntN(20) == 0 {
					a = "op_return"
				}
				outs = append(outs, testutil.Out{Address: a, Value: v})
			}
			ntx++
			id := g.Tx(fmt.Sprintf("t%d", ntx), ins, outs...)
			for k, o := range outs {
				op := heistgraph.Outpoint{TxID: id, Vout: uint32(k)}
				all = append(all, op)
				if o.Value > 0 && o.Address != "op_return" {
					utxo = append(utxo, coin{op, o.Value})
				}
			}
		}
	}
	return g, all, labels
}

// TestConservation checks, on random graphs, that every policy but poison
// conserves value per source (Σ sinks + fees = seed amount, exactly; Run
// itself fails otherwise) whatever the stops, and that two runs give
// byte-identical JSON apart from stats.ms, the second with the engine's
// traversal checked as it goes (trace.RunChecked: transactions taken in
// chain order, each once; every arrival taken once, on the input that
// spends its output): a queue or a transaction's queued state that loses,
// misplaces or reorders work fails it.
func TestConservation(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(42, 7))
	ctx := context.Background()
	visited, kinds := 0, 0
	for i := range 60 {
		st, seeds, labels := randomSeeded(t, rng, []string{"", "B", "C"}, true)
		if len(seeds) == 0 {
			continue
		}
		for _, p := range trace.Policies() {
			opts := trace.Options{Chain: chain, Seeds: seeds, Policy: p, Resolver: labels,
				MaxHops: 1 + rng.IntN(6), MinAmount: []int64{-1, 0, 1_000_000}[rng.IntN(3)], Budget: 2 + rng.IntN(30),
				MaxIntervals: 1 + rng.IntN(4)}
			res, err := trace.Run(ctx, st, opts)
			if err != nil {
				t.Fatalf("graph %d, %s: %v", i, p, err)
			}
			if p.Conserving() {
				if got := res.SinksSat() + res.FeesSat; got != res.SeedAmountSat {
					t.Fatalf("graph %d, %s: sinks %d + fees %d != seed %d", i, p, res.SinksSat(), res.FeesSat, res.SeedAmountSat)
				}
				for _, s := range res.Sources {
					if s.SinksSat+s.FeesSat != s.SeedAmountSat {
						t.Fatalf("graph %d, %s, source %s: %d + %d != %d", i, p, s.Source, s.SinksSat, s.FeesSat, s.SeedAmountSat)
					}
				}
			}
			for _, s := range res.Sinks.All() {
				if s.AmountSat <= 0 {
					t.Fatalf("graph %d, %s: sink %+v without value", i, p, s)
				}
			}
			visited += res.Stats.TxsVisited
			kinds += len(res.Totals)
			again, err := trace.RunChecked(ctx, st, opts)
			if err != nil {
				t.Fatalf("graph %d, %s: %v", i, p, err)
			}
			res.Stats.MS, again.Stats.MS = 0, 0
			a, _ := json.Marshal(res)
			b, _ := json.Marshal(again)
			if !bytes.Equal(a, b) {
				t.Fatalf("graph %d, %s: two runs differ", i, p)
			}
		}
	}
	t.Logf("%d transactions visited, %d sink kinds seen over all traces", visited, kinds)
	if visited < 500 {
		t.Errorf("the random graphs exercise little: %d transactions visited", visited)
	}
}

// randomSeeded builds a random graph (randomGraph) in a new store and picks
// up to 4 of its outputs with value as seeds, each of a source drawn from
// sources and, when partial, one in three for part of its value only.
func randomSeeded(t *testing.T, rng *rand.Rand, sources []string, partial bool) (store.Store, []trace.Seed, mapResolver) {
	t.Helper()
	ctx := context.Background()
	g, outs, labels := randomGraph(rng)
	st := openMem(t)
	if err := g.Apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	var seeds []trace.Seed
	for range 1 + rng.IntN(4) {
		op := outs[rng.IntN(len(outs))]
		s := trace.Seed{Kind: trace.SeedOutput, Outpoint: op, Source: sources[rng.IntN(len(sources))]}
		rec, err := st.Output(ctx, chain, op)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Value == 0 {
			continue
		}
		if partial && rng.IntN(3) == 0 {
			s.Amount = 1 + rng.Int64N(rec.Value)
		}
		seeds = append(seeds, s)
	}
	return st, seeds, labels
}
