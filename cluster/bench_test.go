package cluster

import (
	"context"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/store/storetest"
	"github.com/heistgraph/heistgraph/txgraph"
)

// BenchmarkUpdate clusters a generated chain (storetest.Generator: 200
// blocks of 100 transactions, in memory) from scratch and reports inputs/s
// and the bytes per address a run keeps in memory.
func BenchmarkUpdate(b *testing.B) {
	ctx := context.Background()
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	st, err := pebble.Open("db", opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	gen := storetest.NewGenerator(chain, 1, 100)
	for range 200 {
		blk := gen.Next()
		if err := st.ApplyBlock(ctx, blk); err != nil {
			b.Fatal(err)
		}
	}
	benchUpdate(b, st, chain)
}

// BenchmarkWorld clusters the store in $HEISTGRAPH_BENCH_DATA (an ingested
// world, say the large synthetic one) from scratch: it removes the store's
// clustering first. See docs/benchmarks.md for the command.
func BenchmarkWorld(b *testing.B) {
	dir := os.Getenv("HEISTGRAPH_BENCH_DATA")
	if dir == "" {
		b.Skip("set HEISTGRAPH_BENCH_DATA to a data directory with an ingested world (its clustering is redone)")
	}
	st, err := pebble.Open(dir, pebble.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	benchUpdate(b, st, heistgraph.ChainBTCRegtest)
}

func benchUpdate(b *testing.B, st Store, ch heistgraph.Chain) {
	ctx := context.Background()
	var inputs, addrs int64
	var spent float64
	b.ReportAllocs()
	for b.Loop() {
		if err := st.RewindClusters(ctx, ch, -1); err != nil {
			b.Fatal(err)
		}
		s, err := Update(ctx, st, ch, DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		inputs += s.Inputs
		spent += s.Elapsed.Seconds()
		addrs = s.Addresses
	}
	// Throughput of Update itself (not of removing the clustering first).
	b.ReportMetric(float64(inputs)/spent, "inputs/s")
	b.StopTimer()
	b.ReportMetric(float64(footprint(b, st, ch, DefaultOptions()))/float64(addrs), "B/address")
	b.ReportMetric(float64(addrs), "addresses")
}

// footprint returns the heap a clustering run holds once its state is
// loaded (address table, clusters, rings, labels, waiting candidates).
func footprint(b *testing.B, st Store, ch heistgraph.Chain, opts Options) uint64 {
	var before, after runtime.MemStats
	if _, err := open(context.Background(), st, ch, opts); err != nil { // warm the store's caches
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&before)
	e, err := open(context.Background(), st, ch, opts)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(e)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}

// BenchmarkWorldLoad loads the clustering state of the store in
// $HEISTGRAPH_BENCH_DATA (clustered already), as every run does before
// clustering new blocks, and reports the bytes per address it holds: with
// addresses found by their hashes (store), and with the chain's
// transaction graph giving their ids (graph, when DATA/txgraph holds it;
// the graph's own pages are the file's, mapped, not the heap's).
func BenchmarkWorldLoad(b *testing.B) {
	dir := os.Getenv("HEISTGRAPH_BENCH_DATA")
	if dir == "" {
		b.Skip("set HEISTGRAPH_BENCH_DATA to a data directory with a clustered world")
	}
	st, err := pebble.Open(dir, pebble.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	ch := heistgraph.ChainBTCRegtest
	load := func(b *testing.B, opts Options) {
		var addrs int
		for b.Loop() {
			e, err := open(ctx, st, ch, opts)
			if err != nil {
				b.Fatal(err)
			}
			addrs = e.m.len() - 1
		}
		b.StopTimer()
		b.ReportMetric(float64(footprint(b, st, ch, opts))/float64(addrs), "B/address")
		b.ReportMetric(float64(addrs), "addresses")
	}
	b.Run("store", func(b *testing.B) { load(b, DefaultOptions()) })
	g, err := txgraph.Open(txgraph.Path(filepath.Join(dir, "txgraph"), ch))
	if err != nil {
		return // no graph: the store case only
	}
	b.Cleanup(func() { _ = g.Close() })
	opts := DefaultOptions()
	opts.Graph = g
	b.Run("graph", func(b *testing.B) { load(b, opts) })
}

// blankClusters is a store that shows no clustering and writes none: a
// run on it is the engine and its reads of the chain alone, with no
// Pebble writes, flushes or compactions (and so no evidence read back:
// G5's few drops may differ from a real run's).
type blankClusters struct{ Store }

func (blankClusters) WriteClusters(context.Context, heistgraph.Chain, *store.ClusterBatch) error {
	return nil
}

func (blankClusters) ClusterTip(context.Context, heistgraph.Chain) (store.ClusterTip, error) {
	return store.ClusterTip{}, heistgraph.ErrNotFound
}

func (blankClusters) ClusterPending(context.Context, heistgraph.Chain) ([]byte, error) {
	return nil, heistgraph.ErrNotFound
}

func (blankClusters) Memberships(context.Context, heistgraph.Chain) iter.Seq2[store.ClusterMember, error] {
	return func(func(store.ClusterMember, error) bool) {}
}

func (blankClusters) Evidence(context.Context, heistgraph.Chain, store.EvidenceQuery) iter.Seq2[heistgraph.ClusterEvidence, error] {
	return func(func(heistgraph.ClusterEvidence, error) bool) {}
}

func (blankClusters) Overrides(context.Context, heistgraph.Chain) iter.Seq2[heistgraph.ClusterOverride, error] {
	return func(func(heistgraph.ClusterOverride, error) bool) {}
}

// blankRange is blankClusters reading the blocks in bulk (BlockRangeTxs,
// BlockRangeIDs). The roles' methods are declared, not promoted from an
// embedded store.BlockRangeTxs: the embedded field's name would shadow
// its method, and the engine would read the blocks a transaction at a
// time.
type blankRange struct {
	blankClusters
	br *pebble.DB
}

func (s blankRange) BlockRangeTxs(ctx context.Context, ch heistgraph.Chain, from, to int64) iter.Seq2[store.BlockRecords, error] {
	return s.br.BlockRangeTxs(ctx, ch, from, to)
}

func (s blankRange) BlockRangeIDs(ctx context.Context, ch heistgraph.Chain, from, to int64) iter.Seq2[store.BlockRecords, error] {
	return s.br.BlockRangeIDs(ctx, ch, from, to)
}

func (s blankRange) AddressesByID(ctx context.Context, ch heistgraph.Chain, ids []uint64, dst []string) ([]string, error) {
	return s.br.AddressesByID(ctx, ch, ids, dst)
}

// BenchmarkWorldGraph clusters the world ingested in $HEISTGRAPH_BENCH_DATA
// from scratch reading the store's blocks (store) and reading its
// transaction graph (graph: DATA/txgraph/btc-regtest.txg, written by
// `heistgraph graph build`), in turn, and reports inputs per CPU second
// of the process, Pebble's writes, flushes and compactions included (the
// CPU of compacting away the clustering a run replaces may fall in the
// next case: pair the cases by running with -count). The -engine cases,
// run first, use blankClusters: the engine and its reads of the chain
// alone. BenchmarkWorldLoad measures the bytes per address.
func BenchmarkWorldGraph(b *testing.B) {
	dir := os.Getenv("HEISTGRAPH_BENCH_DATA")
	if dir == "" {
		b.Skip("set HEISTGRAPH_BENCH_DATA to a data directory with an ingested world and its graph (graph build)")
	}
	ctx := context.Background()
	ch := heistgraph.ChainBTCRegtest
	st, err := pebble.Open(dir, pebble.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	g, err := txgraph.Open(txgraph.Path(filepath.Join(dir, "txgraph"), ch))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = g.Close() })
	if cur, err := g.Current(ctx, st); err != nil || !cur {
		b.Fatalf("the graph is not the store's chain (%v): run graph build", err)
	}
	withGraph := DefaultOptions()
	withGraph.Graph = g
	for _, c := range []struct {
		name string
		st   Store
		opts Options
	}{
		{"store-engine", blankRange{blankClusters{st}, st}, DefaultOptions()},
		{"graph-engine", blankClusters{st}, withGraph},
		{"store", st, DefaultOptions()},
		{"graph", st, withGraph},
	} {
		b.Run(c.name, func(b *testing.B) {
			var inputs, addrs int64
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				if _, blank := c.st.(blankClusters); !blank && c.name != "store-engine" {
					if err := st.RewindClusters(ctx, ch, -1); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				b.StartTimer()
				start := testutil.CPUTime(b)
				s, err := Update(ctx, c.st, ch, c.opts)
				if err != nil {
					b.Fatal(err)
				}
				cpu += testutil.CPUTime(b) - start
				inputs += s.Inputs
				addrs = s.Addresses
			}
			if cpu > 0 {
				b.ReportMetric(float64(inputs)/cpu.Seconds(), "inputs/cpu-s")
			}
			b.ReportMetric(float64(addrs), "addresses")
		})
	}
}

// BenchmarkAddressState gives ids to 4M addresses (the address table and
// the memberships, as a run does for addresses it meets) and reports what
// they keep on Go's heap an address (heapB/addr, the arrays' room to grow
// included), on the heap and spilled (Options.SpillDir).
func BenchmarkAddressState(b *testing.B) {
	const n = 4 << 20
	for _, spill := range []bool{false, true} {
		name := "heap"
		if spill {
			name = "spilled"
		}
		b.Run(name, func(b *testing.B) {
			dir := ""
			if spill {
				dir = b.TempDir()
			}
			h := newHasher()
			var kept uint64
			for range b.N {
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				tab, err := newAddrTable(0, dir)
				if err != nil {
					b.Fatal(err)
				}
				m, err := newMembers(0, dir)
				if err != nil {
					b.Fatal(err)
				}
				var buf [8]byte
				for i := range uint64(n) {
					for j := range buf {
						buf[j] = byte(i >> (8 * j))
					}
					tab.add(h.key(string(buf[:])))
					m.add()
				}
				runtime.GC()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				kept = after.HeapAlloc - before.HeapAlloc
				runtime.KeepAlive(tab)
				runtime.KeepAlive(m)
			}
			b.ReportMetric(float64(kept)/n, "heapB/addr")
		})
	}
}

// TestBlankRangeReadsInBulk checks that the store-engine case of
// BenchmarkWorldGraph offers the engine the bulk read.
func TestBlankRangeReadsInBulk(t *testing.T) {
	var st Store = blankRange{}
	if _, ok := st.(store.BlockRangeTxs); !ok {
		t.Error("blankRange is not a store.BlockRangeTxs")
	}
	if _, ok := st.(store.BlockRangeIDs); !ok {
		t.Error("blankRange is not a store.BlockRangeIDs")
	}
}
