package risk_test

import (
	"context"
	"reflect"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// evmBenchWorld is BenchmarkScreenEVM's world: 5,000 blocks of
// storetest.AccountGen seed 11 over 1,000 addresses, clustered, ten
// addresses labelled.
func evmBenchWorld(b *testing.B) (store.Store, *storetest.AccountGen) {
	ctx := context.Background()
	st := openMem(b)
	gen := storetest.NewAccountGen(evmChain, 11, 1000)
	var parent heistgraph.EVMHash
	for h := range int64(5000) {
		blk := gen.Block(0, h, parent)
		if err := st.ApplyAccountBlock(ctx, blk); err != nil {
			b.Fatal(err)
		}
		parent = blk.Hash
	}
	var ls []heistgraph.Label
	for i, cat := range []string{"dprk", "dprk", "mixer", "mixer", "exchange", "exchange", "exchange", "exchange", "sanctioned", "scam"} {
		a := gen.Addrs[100+i]
		ls = append(ls, heistgraph.Label{Chain: evmChain, Address: a.Lower(), Entity: cat + " " + a.Hex()[:6], Category: cat, Source: "bench", Confidence: 1})
	}
	if _, err := st.PutLabels(ctx, ls); err != nil {
		b.Fatal(err)
	}
	if _, err := cluster.Update(ctx, st, evmChain, cluster.DefaultOptions()); err != nil {
		b.Fatal(err)
	}
	return st, gen
}

// BenchmarkScreenEVM screens addresses of an account chain on demand: 5,000
// blocks of storetest.AccountGen (1,000 addresses that meet often, every
// transfer kind), clustered, with ten addresses labelled dprk, mixer and
// exchange. Each screen reads the histories of the address's senders up
// to H−1 hops back. See docs/benchmarks.md:
//
//	go test ./risk -run XXX -bench 'ScreenEVM$' -benchtime 5x -v
//
// history, the reference, reads the screened address's own history once.
func BenchmarkScreenEVM(b *testing.B) {
	ctx := context.Background()
	st, gen := evmBenchWorld(b)
	for _, addr := range []heistgraph.EVMAddress{gen.Addrs[500], gen.Addrs[7]} {
		it := risk.Item{Chain: evmChain, Address: addr.Hex(), Direction: risk.Received}
		sc, err := risk.NewScreener(st, risk.Options{Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
		if err != nil {
			b.Fatal(err)
		}
		a, err := sc.Screen(ctx, it)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: risk %s, %d direct, %d indirect, %d assets, partial %t", addr.Hex()[:10], a.Risk, len(a.Direct), len(a.Indirect), len(a.Received), a.Partial)
		// The reference: reading the address's own history once.
		b.Run(addr.Hex()[:10]+"/history", func(b *testing.B) {
			for b.Loop() {
				for _, err := range st.AccountHistory(ctx, evmChain, addr, store.AccountHistoryOptions{}) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(addr.Hex()[:10]+"/screen", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				// A Screener per screen: its label index is read again,
				// as a server's per-request answer would after a label change.
				sc, err := risk.NewScreener(st, risk.Options{Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := sc.Screen(ctx, it); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScreenEVMTable screens addresses of BenchmarkScreenEVM's world
// with one long-lived Screener (as serve keeps), on demand (the
// reference: the first 12 addresses) and with the precomputed table (all
// 1,000), and reports screens a second (wall and per CPU second of the
// process), the latency's p50 and p99, the table's build time and size.
// Each address is screened once per run; answers must be the same both
// ways.
//
//	go test ./risk -run XXX -bench ScreenEVMTable -benchtime 1x -v
func BenchmarkScreenEVMTable(b *testing.B) {
	ctx := context.Background()
	st, gen := evmBenchWorld(b)
	opts := risk.Options{Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}
	screenSet := func(b *testing.B, sc *risk.Screener, addrs []heistgraph.EVMAddress) []*risk.Answer {
		var lat []time.Duration
		var out []*risk.Answer
		start, cpu := time.Now(), benchCPU(b)
		for _, a := range addrs {
			t0 := time.Now()
			ans, err := sc.Screen(ctx, risk.Item{Chain: evmChain, Address: a.Hex()})
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
			out = append(out, ans)
		}
		wall, cpuS := time.Since(start).Seconds(), (benchCPU(b) - cpu).Seconds()
		slices.Sort(lat)
		b.ReportMetric(float64(len(addrs))/wall, "screens/s")
		b.ReportMetric(float64(len(addrs))/cpuS, "screens/cpu-s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
		return out
	}
	var want []*risk.Answer
	b.Run("on-demand", func(b *testing.B) {
		sc, err := risk.NewScreener(st, opts)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			want = screenSet(b, sc, gen.Addrs[:12])
		}
	})
	b.Run("table", func(b *testing.B) {
		sc, err := risk.NewScreener(st, opts)
		if err != nil {
			b.Fatal(err)
		}
		start, cpu := time.Now(), benchCPU(b)
		stats, err := sc.Precompute(ctx, evmChain)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("table: built in %s (%.2f CPU-s), %d transfers, %d carry exposure, %d entries", time.Since(start).Round(time.Millisecond), (benchCPU(b) - cpu).Seconds(), stats.Txs, stats.Outputs, stats.Entries)
		var got []*risk.Answer
		for b.Loop() {
			got = screenSet(b, sc, gen.Addrs)
		}
		for i := range want {
			if !reflect.DeepEqual(want[i], got[i]) {
				b.Fatalf("%s: the table's answer differs from the on-demand one", gen.Addrs[i].Hex())
			}
		}
	})
}

// benchCPU returns the CPU time (user and system) the process has used.
func benchCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
