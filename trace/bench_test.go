package trace_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/trace"
)

// meshGraph builds blocks of 2-in/3-out transactions that keep mixing a
// pool of coins: a trace from any early coin reaches most of the graph.
func meshGraph(blocks, perBlock int) (*testutil.Graph, heistgraph.Outpoint) {
	rng := rand.New(rand.NewPCG(5, 9))
	g := testutil.NewGraph(chain)
	g.Block(1, 0)
	var pool []heistgraph.Outpoint
	var vals []int64
	for i := range 64 {
		id := g.Tx(fmt.Sprintf("cb%d", i), nil, testutil.Out{Address: fmt.Sprintf("m%d", i), Value: 50_0000_0000})
		pool = append(pool, heistgraph.Outpoint{TxID: id})
		vals = append(vals, 50_0000_0000)
	}
	seed := pool[0]
	n := 0
	for h := int64(2); h < int64(2+blocks); h++ {
		g.Block(h, 0)
		for range perBlock {
			var ins []heistgraph.Outpoint
			var in int64
			for range 2 {
				j := rng.IntN(len(pool))
				ins = append(ins, pool[j])
				in += vals[j]
				pool[j], vals[j] = pool[len(pool)-1], vals[len(vals)-1]
				pool, vals = pool[:len(pool)-1], vals[:len(vals)-1]
			}
			fee := int64(1000)
			a := (in - fee) / 3
			n++
			id := g.Tx(fmt.Sprintf("t%d", n), ins,
				testutil.Out{Address: fmt.Sprintf("a%d", 3*n), Value: a},
				testutil.Out{Address: fmt.Sprintf("a%d", 3*n+1), Value: a},
				testutil.Out{Address: fmt.Sprintf("a%d", 3*n+2), Value: in - fee - 2*a})
			for k := range 3 {
				pool = append(pool, heistgraph.Outpoint{TxID: id, Vout: uint32(k)})
			}
			vals = append(vals, a, a, in-fee-2*a)
		}
	}
	return g, seed
}

// BenchmarkTraceMesh traces through a 20,000-transaction mixing graph in
// an in-memory store, every policy with no thresholds; txs/s is the
// throughput.
func BenchmarkTraceMesh(b *testing.B) {
	g, seed := meshGraph(400, 50)
	st := openMem(b)
	if err := g.Apply(context.Background(), st); err != nil {
		b.Fatal(err)
	}
	for _, p := range trace.Policies() {
		b.Run(string(p), func(b *testing.B) {
			opts := trace.Options{Chain: chain, Policy: p, MinAmount: -1, MinShare: -1, MaxHops: 1000,
				Seeds: []trace.Seed{{Kind: trace.SeedOutput, Outpoint: seed}}}
			benchTrace(b, st, opts)
		})
	}
}

func benchTrace(b *testing.B, r store.ChainReader, opts trace.Options) {
	b.ReportAllocs()
	visited := 0
	for b.Loop() {
		res, err := trace.Run(context.Background(), r, opts)
		if err != nil {
			b.Fatal(err)
		}
		visited = res.Stats.TxsVisited
	}
	b.ReportMetric(float64(visited), "txs/op")
	b.ReportMetric(float64(visited)*float64(b.N)/b.Elapsed().Seconds(), "txs/s")
}

// BenchmarkTraceWorld traces the heists of a synthetic world ingested into
// an embedded store on disk: HEISTGRAPH_BENCH_DATA names the data
// directory and HEISTGRAPH_BENCH_WORLD the world (for truth.json), e.g.
//
//	heistgraph synth --out /tmp/wl --seed 1 --scale large
//	heistgraph --data /tmp/dl ingest btc --blocks /tmp/wl
//	heistgraph --data /tmp/dl labels import /tmp/wl/labels.csv --format csv
//	HEISTGRAPH_BENCH_DATA=/tmp/dl HEISTGRAPH_BENCH_WORLD=/tmp/wl go test ./trace -run - -bench TraceWorld -benchtime 3x
//
// It runs the first heist's seeds with budgets of 10,000 and 100,000
// transactions (poison spreads until the budget; haircut without
// thresholds as far as the taint goes), with and without entity stops
// from the stored labels. It is skipped without the variables.
func BenchmarkTraceWorld(b *testing.B) {
	data, world := os.Getenv("HEISTGRAPH_BENCH_DATA"), os.Getenv("HEISTGRAPH_BENCH_WORLD")
	if data == "" || world == "" {
		b.Skip("set HEISTGRAPH_BENCH_DATA and HEISTGRAPH_BENCH_WORLD (see the benchmark's comment)")
	}
	truth, err := loadTruthSeeds(filepath.Join(world, "truth.json"))
	if err != nil {
		b.Fatal(err)
	}
	st, err := pebble.Open(data, pebble.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for _, budget := range []int{10_000, 100_000} {
		for _, p := range []trace.Policy{trace.Poison, trace.Haircut} {
			b.Run(fmt.Sprintf("%s/budget=%d", p, budget), func(b *testing.B) {
				opts := trace.Options{Chain: heistgraph.ChainBTCRegtest, Policy: p, Budget: budget, MinAmount: -1, MinShare: -1,
					MaxHops: 10_000, Seeds: truth}
				benchTrace(b, st, opts)
			})
		}
	}
	b.Run("haircut/default", func(b *testing.B) {
		opts := trace.DefaultOptions()
		opts.Chain, opts.Seeds = heistgraph.ChainBTCRegtest, truth
		opts.Resolver = labelsOf{st}
		benchTrace(b, st, opts)
	})
}

// labelsOf resolves an address by its own stored labels.
type labelsOf struct{ st store.Labels }

func (l labelsOf) Resolve(ctx context.Context, chain heistgraph.Chain, addr string) (heistgraph.EntityRef, bool, error) {
	ls, err := l.st.AddressLabels(ctx, chain, addr)
	if err != nil || len(ls) == 0 {
		return heistgraph.EntityRef{}, false, err
	}
	return heistgraph.EntityRef{Name: ls[0].Entity, Category: ls[0].Category}, true, nil
}
