package synth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/evm"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/trace"
)

// BenchmarkEVMWorldTrace measures account traces on a synthetic EVM world
// (seed 1; HEISTGRAPH_BENCH_EVM_SCALE small or medium, default small)
// ingested through the FileSource into a Pebble store on disk, warm after
// the first run, next to two floors in the same run: a raw Pebble scan of
// every account history key of the store (the bytes any trace must read),
// and the store's AccountHistory over every address of the world. The
// traces: every heist with the default options and entity stops from the
// world's labels (as eval trace runs them), and the first heist under
// poison without entity stops and with a 1-wei threshold, which spreads
// through the exchanges into most of the world. transfers/s is transfers
// visited per second of trace.
func BenchmarkEVMWorldTrace(b *testing.B) {
	scale := Small
	if s := os.Getenv("HEISTGRAPH_BENCH_EVM_SCALE"); s != "" {
		sc, err := ParseScale(s)
		if err != nil {
			b.Fatal(err)
		}
		scale = sc
	}
	ctx := context.Background()
	dir, db := b.TempDir(), b.TempDir()
	sum, err := GenerateEVM(ctx, Options{Dir: dir, Seed: 1, Scale: scale})
	if err != nil {
		b.Fatal(err)
	}
	truth, err := LoadEVMTruth(filepath.Join(dir, TruthFile))
	if err != nil {
		b.Fatal(err)
	}
	st, err := pebble.Open(db, pebble.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	params, _ := evm.ParamsFor(EVMChain)
	src, err := evm.OpenFiles(dir, evm.FileOptions{Params: params})
	if err != nil {
		b.Fatal(err)
	}
	stats, err := ingest.SyncAccounts(ctx, st, src, ingest.AccountOptions{Chain: EVMChain})
	src.Close()
	if err != nil {
		b.Fatal(err)
	}
	importLabels(b, st, dir)
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("world %s: %d blocks, %d txs, %d transfers, %d addresses", scale, sum.Blocks, sum.Txs, stats.Transfers, sum.Addresses)

	b.Run("floor=raw-pebble-history-keys", func(b *testing.B) {
		raw, err := pebbledb.Open(db, &pebbledb.Options{ReadOnly: true, Logger: quietLogger{}, Merger: &pebbledb.Merger{Name: "heistgraph.totals.v1",
			Merge: func(key, value []byte) (pebbledb.ValueMerger, error) {
				return nil, errors.New("the floor reads no merged key")
			}}})
		if err != nil {
			b.Fatal(err)
		}
		defer raw.Close()
		lo, hi := historyBounds(b, raw)
		keys := 0
		start, cpu0 := time.Now(), cpuTime(b)
		for b.Loop() {
			it, err := raw.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
			if err != nil {
				b.Fatal(err)
			}
			for it.First(); it.Valid(); it.Next() {
				_ = it.Value()
				keys++
			}
			if err := it.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(keys)/time.Since(start).Seconds(), "keys/s")
		b.ReportMetric(float64(keys)/(cpuTime(b)-cpu0).Seconds(), "keys/cpu-s")
		b.ReportMetric(float64(keys)/float64(b.N), "keys/op")
	})

	st, err = pebble.Open(db, pebble.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	b.Run("floor=store-history-scan", func(b *testing.B) {
		events := 0
		start, cpu0 := time.Now(), cpuTime(b)
		for b.Loop() {
			for _, e := range truth.Entities {
				for _, a := range e.Addresses {
					for _, err := range st.AccountHistory(ctx, EVMChain, a, store.AccountHistoryOptions{}) {
						if err != nil {
							b.Fatal(err)
						}
						events++
					}
				}
			}
		}
		b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
		b.ReportMetric(float64(events)/(cpuTime(b)-cpu0).Seconds(), "events/cpu-s")
		b.ReportMetric(float64(events)/float64(b.N), "events/op")
	})
	run := func(b *testing.B, opts trace.AccountOptions, heists []EVMHeist) {
		b.ReportAllocs()
		visited, txs := 0, 0
		var traced time.Duration
		cpu0 := cpuTime(b)
		for b.Loop() {
			for _, h := range heists {
				o := opts
				o.Seeds = []trace.AccountSeed{{Tx: h.Seeds[0], Asset: &h.Asset}}
				start := time.Now()
				res, err := trace.RunAccounts(ctx, st, o)
				traced += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				visited += res.Stats.TransfersVisited
				txs += res.Stats.TxsVisited
			}
		}
		b.ReportMetric(float64(visited)/traced.Seconds(), "transfers/s")
		b.ReportMetric(float64(visited)/(cpuTime(b)-cpu0).Seconds(), "transfers/cpu-s")
		b.ReportMetric(float64(visited)/float64(b.N), "transfers/op")
		b.ReportMetric(float64(txs)/float64(b.N), "txs/op")
	}
	b.Run("trace=heists/policy=haircut/stops=labels", func(b *testing.B) {
		run(b, trace.AccountOptions{Chain: EVMChain, Resolver: cluster.NewResolver(st)}, truth.Heists)
	})
	b.Run("trace=heist-1/policy=poison/stops=none", func(b *testing.B) {
		run(b, trace.AccountOptions{Chain: EVMChain, Policy: trace.Poison, MinAmount: uint256.NewInt(1), MaxHops: 1_000},
			truth.Heists[:1])
	})
}

// historyBounds returns the key range of the account history table (x +
// chain code + e, store/pebble/accounts.go) of the one account chain the
// store holds.
func historyBounds(b *testing.B, raw *pebbledb.DB) (lo, hi []byte) {
	it, err := raw.NewIter(&pebbledb.IterOptions{LowerBound: []byte{'x'}, UpperBound: []byte{'y'}})
	if err != nil {
		b.Fatal(err)
	}
	defer it.Close()
	if !it.First() || len(it.Key()) < 4 {
		b.Fatal("no account table in the store")
	}
	k := it.Key()
	lo = []byte{'x', k[1], k[2], 'e'}
	hi = []byte{'x', k[1], k[2], 'f'}
	return lo, hi
}

// cpuTime returns the CPU time (user and system) the process has used:
// rates per CPU second stay comparable on a machine other work loads.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// quietLogger keeps the raw Pebble open of the floor from logging its WAL
// replay.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
