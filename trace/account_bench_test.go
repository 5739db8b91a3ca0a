package trace_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/store/storetest"
	"github.com/heistgraph/heistgraph/trace"
)

// BenchmarkAccountTrace measures the account trace (transfers visited per
// second) on a generated ledger in a compacted Pebble store on disk, warm
// after the first run, next to its floor: a plain AccountHistory scan of
// every address of the same store (events per second; the raw Pebble
// iteration beneath it is store/pebble's BenchmarkAccountHistory). The
// ledger is
// storetest.AccountGen's (every transfer kind; HEISTGRAPH_BENCH_BLOCKS
// blocks, default 20,000, over 2,000 addresses); the seed is a transaction
// of block 100, the threshold one base unit so that the generator's small
// amounts are followed. Poison follows every transfer it reaches; the
// conserving policies stop where taint runs out or is diluted below the
// haircut share.
func BenchmarkAccountTrace(b *testing.B) {
	blocks := int64(20_000)
	if s := os.Getenv("HEISTGRAPH_BENCH_BLOCKS"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		blocks = n
	}
	ctx := context.Background()
	st, err := pebble.Open(b.TempDir(), pebble.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	g := storetest.NewAccountGen(evmChain, 42, 2000)
	var parent heistgraph.EVMHash
	var seed heistgraph.EVMHash
	transfers := 0
	for h := int64(0); h < blocks; h++ {
		blk := g.Block(0, h, parent)
		// Every block as traced with a debug API, so that the walk is
		// the same whatever the engine makes of unknown internals.
		blk.InternalKnown = true
		parent = blk.Hash
		transfers += len(blk.Transfers)
		if seed.IsZero() && h >= 100 && len(blk.Txs) > 0 && blk.Txs[0].Status == 1 {
			seed = blk.Txs[0].Hash
		}
		if err := st.ApplyAccountBlock(ctx, blk); err != nil {
			b.Fatal(err)
		}
	}
	// A warm store as ingestion leaves it once settled: compacted, read
	// through the block cache.
	if err := st.Compact(ctx); err != nil {
		b.Fatal(err)
	}
	size, err := st.StoredBytes(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("ledger: %d blocks, %d transfers, %d addresses; store %d bytes, %.1f a transfer", blocks, transfers, len(g.Addrs), size, float64(size)/float64(transfers))

	b.Run("floor=history-scan", func(b *testing.B) {
		events := 0
		start, cpu := time.Now(), testutil.CPUTime(b)
		for b.Loop() {
			for _, a := range g.Addrs {
				for _, err := range st.AccountHistory(ctx, evmChain, a, store.AccountHistoryOptions{}) {
					if err != nil {
						b.Fatal(err)
					}
					events++
				}
			}
		}
		b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
		if c := testutil.CPUTime(b); c > 0 {
			b.ReportMetric(float64(events)/(c-cpu).Seconds(), "events/cpu-s")
		}
	})
	for _, p := range []trace.Policy{trace.Poison, trace.Haircut, trace.FIFO, trace.TIHO} {
		b.Run("policy="+string(p), func(b *testing.B) {
			opts := trace.AccountOptions{Chain: evmChain, Seeds: []trace.AccountSeed{{Tx: seed}}, Policy: p,
				MinAmount: uint256.NewInt(1), MaxHops: 1_000}
			visited, addrs, opening := 0, 0, 0
			start, cpu := time.Now(), testutil.CPUTime(b)
			for b.Loop() {
				res, err := trace.RunAccounts(ctx, st, opts)
				if err != nil {
					b.Fatal(err)
				}
				visited, addrs, opening = res.Stats.TransfersVisited, res.Stats.Addresses, res.Stats.OpeningEvents
			}
			el := time.Since(start).Seconds()
			b.ReportMetric(float64(visited*b.N)/el, "transfers/s")
			if c := testutil.CPUTime(b); c > 0 {
				b.ReportMetric(float64(visited*b.N)/(c-cpu).Seconds(), "transfers/cpu-s")
			}
			b.ReportMetric(float64(visited), "transfers/op")
			b.ReportMetric(float64(addrs), "addresses/op")
			b.ReportMetric(float64(opening), "opening-events/op")
		})
	}
}
