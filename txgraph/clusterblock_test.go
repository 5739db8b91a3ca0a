package txgraph_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"

	"github.com/heistgraph/heistgraph/txgraph"
)

// TestReadClusterBlockMatchesReadCluster reads the transactions of
// synthetic worlds a block at a time (ReadClusterBlock), with and without
// the addresses, and compares each with what ReadCluster gives for it:
// the same record, address ids and answer. One world is stored as it is;
// in the other some transactions are stored twice, so the graph marks
// them for the store, with what they spend: those and their spenders
// must be left to the store alike. Batches of
// several blocks' numbers are read too (nothing ties a batch to a block).
func TestReadClusterBlockMatchesReadCluster(t *testing.T) {
	w := synthWorld(t, 3)
	ctx := context.Background()
	// The marked world: every tenth block also carries a copy of a
	// transaction of the block five before it (stored twice, as BIP 30's
	// duplicate coinbases were): the graph leaves it, what it spends and
	// so their spenders to the store.
	marked := openStore(t)
	for i, b := range w.blocks {
		if i >= 5 && i%10 == 0 && len(w.blocks[i-5].Txs) > 1 {
			c := *b
			c.Txs = append(append([]heistgraph.Tx(nil), b.Txs...), w.blocks[i-5].Txs[1])
			b = &c
		}
		if err := marked.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		marked  bool // expect transactions the store answers for
		batches int  // blocks a batch
	}{
		{name: "in order", batches: 1},
		{name: "in order, 5 blocks a batch", batches: 5},
		{name: "marked", marked: true, batches: 1},
		{name: "marked, 3 blocks a batch", marked: true, batches: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := w.st
			if tc.marked {
				st = marked
			}
			g, _ := build(t, st, filepath.Join(t.TempDir(), "g.txg"))
			for _, v := range []struct{ noAddr, noTxIDs bool }{{false, false}, {true, false}, {true, true}} {
				noAddr := v.noAddr
				var nums []uint32
				var cb txgraph.ClusterBlock
				cb.NoAddresses, cb.NoSpentTxIDs = noAddr, v.noTxIDs
				read, left := 0, 0
				check := func() {
					g.ReadClusterBlock(nums, &cb)
					if len(cb.Txs) != len(nums) || len(cb.Read) != len(nums) {
						t.Fatalf("%d txs, %d read flags for %d numbers", len(cb.Txs), len(cb.Read), len(nums))
					}
					for k, n := range nums {
						want := txgraph.ClusterTx{NoAddresses: noAddr}
						ok := g.ReadCluster(n, &want)
						if ok != cb.Read[k] {
							t.Fatalf("tx %s: read %v, ReadCluster %v", g.TxID(n), cb.Read[k], ok)
						}
						if !ok {
							left++
							continue
						}
						read++
						got := &cb.Txs[k]
						if m, ok := g.ClusterTxNumber(g.TxID(n)); !ok || g.TxID(m) != g.TxID(n) {
							t.Fatalf("tx %s: ClusterTxNumber %d, %v", g.TxID(n), m, ok)
						}
						if v.noTxIDs {
							// Spent names what each input spends; the
							// txids are left out.
							if len(got.Spent) != len(want.Rec.Tx.Inputs) {
								t.Fatalf("tx %s: %d spent numbers, %d inputs", g.TxID(n), len(got.Spent), len(want.Rec.Tx.Inputs))
							}
							for i := range want.Rec.Tx.Inputs {
								in := &want.Rec.Tx.Inputs[i]
								if p := got.Spent[i]; in.Coinbase != (p == txgraph.NoTx) || !in.Coinbase && g.TxID(p) != in.PrevOut.TxID {
									t.Fatalf("tx %s input %d: spent number %d, want tx %s", g.TxID(n), i, p, in.PrevOut.TxID)
								}
								in.PrevOut.TxID = heistgraph.Hash{}
							}
						} else if got.Spent != nil {
							t.Fatalf("tx %s: spent numbers %v without NoSpentTxIDs", g.TxID(n), got.Spent)
						}
						if !reflect.DeepEqual(got.Rec, want.Rec) {
							t.Fatalf("tx %s:\nblock %+v\nalone %+v", g.TxID(n), got.Rec, want.Rec)
						}
						if !reflect.DeepEqual(got.In, want.In) || !reflect.DeepEqual(got.Out, want.Out) {
							t.Fatalf("tx %s: ids %v %v, alone %v %v", g.TxID(n), got.In, got.Out, want.In, want.Out)
						}
						if noAddr {
							g.ClusterAddresses(got)
							g.ClusterAddresses(&want)
							if !reflect.DeepEqual(got.Rec, want.Rec) {
								t.Fatalf("tx %s with ClusterAddresses:\nblock %+v\nalone %+v", g.TxID(n), got.Rec, want.Rec)
							}
						}
					}
					nums = nums[:0]
				}
				for i := range g.Blocks() {
					nums, _ = g.BlockTxs(i, nums)
					if (i+1)%tc.batches == 0 || i == g.Blocks()-1 {
						check()
					}
				}
				if read == 0 || tc.marked != (left > 0) {
					t.Fatalf("%d transactions read, %d left to the store (marked world: %v)", read, left, tc.marked)
				}
			}
		})
	}
}

// BenchmarkReadCluster reads every block of the graph in
// $HEISTGRAPH_BENCH_DATA/txgraph (graph build) as the clustering engine
// does, without the addresses' strings: a transaction at a time
// (ReadCluster: tx) and a block at a time (ReadClusterBlock: block), and
// reports the process's CPU time an input (steadier than the wall time
// on a shared machine).
func BenchmarkReadCluster(b *testing.B) {
	dir := os.Getenv("HEISTGRAPH_BENCH_DATA")
	if dir == "" {
		b.Skip("set HEISTGRAPH_BENCH_DATA to a data directory with a graph (graph build)")
	}
	g, err := txgraph.Open(txgraph.Path(filepath.Join(dir, "txgraph"), chain))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.Close() })
	var blocks [][]uint32
	inputs := 0
	for i := range g.Blocks() {
		nums, _ := g.BlockTxs(i, nil)
		blocks = append(blocks, nums)
	}
	ct := txgraph.ClusterTx{NoAddresses: true}
	for _, nums := range blocks {
		for _, n := range nums {
			if g.ReadCluster(n, &ct) {
				inputs += len(ct.In)
			}
		}
	}
	b.Run("tx", func(b *testing.B) {
		start := testutil.CPUTime(b)
		for b.Loop() {
			for _, nums := range blocks {
				for _, n := range nums {
					g.ReadCluster(n, &ct)
				}
			}
		}
		cpu := testutil.CPUTime(b) - start
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(inputs), "cpu-ns/input")
	})
	b.Run("block", func(b *testing.B) {
		cb := txgraph.ClusterBlock{NoAddresses: true}
		start := testutil.CPUTime(b)
		for b.Loop() {
			for _, nums := range blocks {
				g.ReadClusterBlock(nums, &cb)
			}
		}
		cpu := testutil.CPUTime(b) - start
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(inputs), "cpu-ns/input")
	})
}
