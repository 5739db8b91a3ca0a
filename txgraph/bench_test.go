package txgraph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/synth"
	"github.com/heistgraph/heistgraph/trace"
	"github.com/heistgraph/heistgraph/txgraph"
)

// cpuTime is the CPU time the process has used (user and system, all
// threads): on a shared machine, rates per CPU second are steadier than
// rates per wall second.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTraceGraph traces the heists of a synthetic world ingested into
// an embedded store on disk, reading the store and reading the graph in
// turn (the same trace, paired in one run: sub-benchmarks store and graph
// of each case), and fails unless both give the same JSON. It reports
// transactions visited per wall second and per CPU second of the process.
// HEISTGRAPH_BENCH_DATA names the data directory and HEISTGRAPH_BENCH_WORLD
// the world (for truth.json):
//
//	heistgraph synth --out /tmp/wm --seed 1 --scale medium
//	heistgraph --data /tmp/dm ingest btc --blocks /tmp/wm --network regtest
//	HEISTGRAPH_BENCH_DATA=/tmp/dm HEISTGRAPH_BENCH_WORLD=/tmp/wm go test ./txgraph -run '^$' -bench TraceGraph -benchtime 3x
//
// The graph is built (Update) into a temporary directory first; its build
// time is reported by the build case. Cases: every heist's seeds, haircut
// with the defaults through CoinJoins (haircut), and poison with a budget
// of 100,000 transactions and no thresholds (poison100k).
func BenchmarkTraceGraph(b *testing.B) {
	data, world := os.Getenv("HEISTGRAPH_BENCH_DATA"), os.Getenv("HEISTGRAPH_BENCH_WORLD")
	if data == "" || world == "" {
		b.Skip("set HEISTGRAPH_BENCH_DATA and HEISTGRAPH_BENCH_WORLD (see the benchmark's comment)")
	}
	ctx := context.Background()
	truth, err := synth.LoadTruth(filepath.Join(world, synth.TruthFile))
	if err != nil {
		b.Fatal(err)
	}
	st, err := pebble.Open(data, pebble.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	path := filepath.Join(b.TempDir(), "g.txg")
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			os.Remove(path)
			if _, err := txgraph.Update(ctx, st, chain, path); err != nil {
				b.Fatal(err)
			}
		}
	})
	if _, err := os.Stat(path); err != nil { // the build case was filtered out
		if _, err := txgraph.Update(ctx, st, chain, path); err != nil {
			b.Fatal(err)
		}
	}
	g, err := txgraph.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	gr := txgraph.NewReader(g, st)
	var seeds []trace.Seed
	for _, h := range truth.Heists {
		for _, s := range h.Seeds {
			sd, err := trace.ParseSeed(s)
			if err != nil {
				b.Fatal(err)
			}
			sd.Source = h.ID
			seeds = append(seeds, sd)
		}
	}
	cases := []struct {
		name string
		opts trace.Options
	}{
		{"haircut", trace.Options{Chain: chain, Seeds: seeds, Policy: trace.Haircut, ThroughCoinJoin: trace.Haircut}},
		{"poison100k", trace.Options{Chain: chain, Seeds: seeds, Policy: trace.Poison, Budget: 100_000, MinAmount: -1, MaxHops: 10_000}},
	}
	for _, c := range cases {
		var want []byte
		for _, rd := range []struct {
			name string
			r    store.ChainReader
		}{{"store", st}, {"graph", gr}} {
			b.Run(c.name+"/"+rd.name, func(b *testing.B) {
				var res *trace.Result
				visited := 0
				// Each case starts from a collected heap: the garbage of the
				// case before (its result, its JSON) is not this case's work.
				runtime.GC()
				cpu0 := cpuTime(b)
				for b.Loop() {
					res, err = trace.Run(ctx, rd.r, c.opts)
					if err != nil {
						b.Fatal(err)
					}
					visited += res.Stats.TxsVisited
				}
				cpu := cpuTime(b) - cpu0
				b.ReportMetric(float64(res.Stats.TxsVisited), "txs/op")
				b.ReportMetric(float64(res.Sinks.Len()), "sinks/op")
				b.ReportMetric(float64(res.Edges.Len()), "edges/op")
				b.ReportMetric(float64(visited)/b.Elapsed().Seconds(), "txs/s")
				b.ReportMetric(float64(visited)/cpu.Seconds(), "txs/cpu-s")
				res.Stats.MS = 0
				got, err := json.Marshal(res)
				if err != nil {
					b.Fatal(err)
				}
				if want == nil {
					want = got
				} else if !bytes.Equal(got, want) {
					b.Fatalf("%s: the graph's trace differs from the store's", c.name)
				}
			})
		}
	}
	fmt.Fprintf(os.Stderr, "graph of %d txs, tip %d\n", g.Txs(), g.Tip().Height)
	_ = heistgraph.ChainBTCRegtest
}
