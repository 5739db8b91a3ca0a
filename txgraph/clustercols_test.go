package txgraph_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"

	"github.com/heistgraph/heistgraph/txgraph"
)

// TestReadClusterColsMatchesReadCluster reads the transactions of
// synthetic worlds a block at a time (ReadClusterCols) and compares each
// with what ReadCluster gives for it: the same answer, and columns that
// say what its record and address ids say. One world is stored as it is;
// in the other some transactions are stored twice, so the graph marks
// them for the store, with what they spend: those and their spenders
// must be left to the store alike. Batches of several blocks' numbers are
// read too (nothing ties a batch to a block).
func TestReadClusterColsMatchesReadCluster(t *testing.T) {
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
			var nums []uint32
			var c txgraph.ClusterCols
			types := g.ScriptTypes()
			read, left, multi := 0, 0, 0
			check := func() {
				g.ReadClusterCols(nums, &c)
				if len(c.Read) != len(nums) || len(c.InEnd) != len(nums) || len(c.OutEnd) != len(nums) {
					t.Fatalf("%d read flags, %d and %d ends for %d numbers", len(c.Read), len(c.InEnd), len(c.OutEnd), len(nums))
				}
				var i0, o0 uint32
				for k, n := range nums {
					want := txgraph.ClusterTx{}
					ok := g.ReadCluster(n, &want)
					if ok != c.Read[k] {
						t.Fatalf("tx %s: read %v, ReadCluster %v", g.TxID(n), c.Read[k], ok)
					}
					i1, o1 := c.InEnd[k], c.OutEnd[k]
					if !ok {
						if i1 != i0 || o1 != o0 {
							t.Fatalf("tx %s left to the store: inputs %d-%d, outputs %d-%d", g.TxID(n), i0, i1, o0, o1)
						}
						left++
						continue
					}
					read++
					tx := &want.Rec.Tx
					if int(i1-i0) != len(tx.Inputs) || int(o1-o0) != len(tx.Outputs) {
						t.Fatalf("tx %s: %d inputs and %d outputs, want %d and %d", g.TxID(n), i1-i0, o1-o0, len(tx.Inputs), len(tx.Outputs))
					}
					if c.Version[k] != tx.Version || c.LockTime[k] != tx.LockTime {
						t.Fatalf("tx %s: version %d lock time %d, want %d %d", g.TxID(n), c.Version[k], c.LockTime[k], tx.Version, tx.LockTime)
					}
					rbf, known := false, true
					for i := range tx.Inputs {
						in, p := &tx.Inputs[i], want.Rec.Prevouts[i]
						rbf = rbf || in.Sequence < 0xfffffffe
						q := i0 + uint32(i)
						if s := c.Spent[q]; in.Coinbase != (s == txgraph.NoTx) || !in.Coinbase && g.TxID(s) != in.PrevOut.TxID || c.Vout[q] != in.PrevOut.Vout {
							t.Fatalf("tx %s input %d: spends %d:%d, want %s:%d", g.TxID(n), i, c.Spent[q], c.Vout[q], in.PrevOut.TxID, in.PrevOut.Vout)
						}
						var value int64
						typ := types[0] // the code 0 of a spent output not held
						if p == nil {
							known = false
						} else {
							value, typ = p.Value, p.Type
						}
						if c.InAddr[q] != want.In[i] || c.InValue[q] != value || types[c.InType[q]] != typ {
							t.Fatalf("tx %s input %d: spends address %d, %d of %q; want %d, %d of %q", g.TxID(n), i, c.InAddr[q], c.InValue[q], types[c.InType[q]], want.In[i], value, typ)
						}
					}
					if c.RBF[k] != rbf || c.Known[k] != known {
						t.Fatalf("tx %s: RBF %v, known %v; want %v, %v", g.TxID(n), c.RBF[k], c.Known[k], rbf, known)
					}
					for j := range tx.Outputs {
						out, q := &tx.Outputs[j], o0+uint32(j)
						if c.OutAddr[q] != want.Out[j] || c.OutValue[q] != out.Value || types[c.OutType[q]] != out.Type {
							t.Fatalf("tx %s output %d: address %d, %d of %q; want %d, %+v", g.TxID(n), j, c.OutAddr[q], c.OutValue[q], types[c.OutType[q]], want.Out[j], out)
						}
					}
					if m, ok := g.ClusterTxNumber(g.TxID(n)); !ok || g.TxID(m) != g.TxID(n) {
						t.Fatalf("tx %s: ClusterTxNumber %d, %v", g.TxID(n), m, ok)
					}
					if len(tx.Inputs) > 1 {
						multi++
					}
					i0, o0 = i1, o1
				}
				nums = nums[:0]
			}
			for i := range g.Blocks() {
				nums, _ = g.BlockTxs(i, nums)
				if (i+1)%tc.batches == 0 || i == g.Blocks()-1 {
					check()
				}
			}
			if read == 0 || multi == 0 || tc.marked != (left > 0) {
				t.Fatalf("%d transactions read (%d of several inputs), %d left to the store (marked world: %v)", read, multi, left, tc.marked)
			}
		})
	}
}

// BenchmarkReadCluster reads every block of the graph in
// $HEISTGRAPH_BENCH_DATA/txgraph (graph build) as the clustering engine
// does, without the addresses' strings: a transaction at a time
// (ReadCluster: tx) and a block at a time (ReadClusterCols: block), and
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
		var c txgraph.ClusterCols
		start := testutil.CPUTime(b)
		for b.Loop() {
			for _, nums := range blocks {
				g.ReadClusterCols(nums, &c)
			}
		}
		cpu := testutil.CPUTime(b) - start
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(inputs), "cpu-ns/input")
	})
}
