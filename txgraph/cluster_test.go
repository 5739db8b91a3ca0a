package txgraph_test

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/txgraph"
)

// forCluster is rec as ReadCluster gives it (its documentation): no fee,
// spenders, WTxID, size or weight, multisig keys or scripts of outputs
// with an address; of the input sequences only the RBF signal.
func forCluster(rec heistgraph.TxRecord) heistgraph.TxRecord {
	rec.Tx.WTxID, rec.Tx.Size, rec.Tx.Weight = heistgraph.Hash{}, 0, 0
	rec.Fee, rec.FeeKnown, rec.SpentBy = 0, false, nil
	seq := uint32(0xffffffff)
	for _, in := range rec.Tx.Inputs {
		if in.Sequence < 0xfffffffe {
			seq = 0xfffffffd
		}
	}
	for i := range rec.Tx.Inputs {
		rec.Tx.Inputs[i].Sequence = seq
	}
	trimOutputs(&rec)
	return rec
}

// TestAppendAddresses: the strings of a run of address ids, appended
// after what dst holds, are Address's of each, for runs at the ends and in
// the middle of the table and an empty one.
func TestAppendAddresses(t *testing.T) {
	w := synthWorld(t, 3)
	g, _ := build(t, w.st, filepath.Join(t.TempDir(), "g.txg"))
	n := uint32(g.Addresses())
	if n < 10 {
		t.Fatalf("%d addresses", n)
	}
	for _, r := range [][2]uint32{{0, n}, {0, 1}, {n - 1, n}, {3, 9}, {5, 5}} {
		got := g.AppendAddresses([]string{"x"}, r[0], r[1])
		want := []string{"x"}
		for a := r[0]; a < r[1]; a++ {
			want = append(want, g.Address(a))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("AppendAddresses(%d, %d) = %d strings %q..., want %d", r[0], r[1], len(got), got[:min(3, len(got))], len(want))
		}
	}
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestReadClusterMatchesStore reads every block of a synthetic world as
// clustering does (BlockTxs, ReadCluster) and compares each transaction
// with the store's record and its address ids with its addresses.
func TestReadClusterMatchesStore(t *testing.T) {
	w := synthWorld(t, 3)
	ctx := context.Background()
	g, _ := build(t, w.st, filepath.Join(t.TempDir(), "g.txg"))
	if g.Blocks() != len(w.blocks) {
		t.Fatalf("%d blocks in the graph, %d in the world", g.Blocks(), len(w.blocks))
	}
	addrOf := func(id uint32) string {
		if id == txgraph.NoAddress {
			return ""
		}
		return g.Address(id)
	}
	var ct txgraph.ClusterTx
	rbf := 0
	for i, b := range w.blocks {
		if ref := g.Block(i); ref.Hash != b.Hash || ref.Height != b.Height {
			t.Fatalf("block %d: graph %v, world %s at %d", i, ref, b.Hash, b.Height)
		}
		nums, ok := g.BlockTxs(i, nil)
		if !ok || len(nums) != len(b.Txs) {
			t.Fatalf("block %d: %d txs (ok %v), want %d", i, len(nums), ok, len(b.Txs))
		}
		for k, n := range nums {
			if g.TxID(n) != b.Txs[k].TxID {
				t.Fatalf("block %d tx %d: %s, want %s", i, k, g.TxID(n), b.Txs[k].TxID)
			}
			want, err := w.st.Tx(ctx, chain, b.Txs[k].TxID)
			if err != nil {
				t.Fatal(err)
			}
			if !g.ReadCluster(n, &ct) {
				t.Fatalf("tx %s: the graph cannot answer it", want.Tx.TxID)
			}
			if got := forCluster(ct.Rec); !reflect.DeepEqual(got, forCluster(want)) {
				t.Fatalf("tx %s:\ngraph %+v\nstore %+v", want.Tx.TxID, got, forCluster(want))
			}
			for j, p := range want.Prevouts {
				a := ""
				if p != nil {
					a = p.Address
				}
				if addrOf(ct.In[j]) != a {
					t.Fatalf("tx %s input %d: address id %d is %q, want %q", want.Tx.TxID, j, ct.In[j], addrOf(ct.In[j]), a)
				}
			}
			for j, o := range want.Tx.Outputs {
				if addrOf(ct.Out[j]) != o.Address {
					t.Fatalf("tx %s output %d: address id %d is %q, want %q", want.Tx.TxID, j, ct.Out[j], addrOf(ct.Out[j]), o.Address)
				}
				if id, ok := g.AddressID(o.Address); o.Address != "" && (!ok || id != ct.Out[j]) {
					t.Fatalf("AddressID(%s) = %d %v, want %d", o.Address, id, ok, ct.Out[j])
				}
			}
			if ct.Rec.Tx.Inputs[0].Sequence == 0xfffffffd {
				rbf++
			}
			// Without the addresses, then with them filled in.
			lazy := txgraph.ClusterTx{NoAddresses: true}
			if !g.ReadCluster(n, &lazy) {
				t.Fatalf("tx %s: the graph cannot answer it without addresses", want.Tx.TxID)
			}
			for j, o := range lazy.Rec.Tx.Outputs {
				if o.Address != "" {
					t.Fatalf("tx %s output %d: address %q read with NoAddresses", want.Tx.TxID, j, o.Address)
				}
			}
			for j, p := range lazy.Rec.Prevouts {
				if p != nil && p.Address != "" {
					t.Fatalf("tx %s input %d: address %q read with NoAddresses", want.Tx.TxID, j, p.Address)
				}
			}
			g.ClusterAddresses(&lazy)
			if got := forCluster(lazy.Rec); !reflect.DeepEqual(got, forCluster(want)) {
				t.Fatalf("tx %s with ClusterAddresses:\ngraph %+v\nstore %+v", want.Tx.TxID, got, forCluster(want))
			}
		}
	}
	if rbf == 0 {
		t.Error("no transaction of the world signals RBF: the flag is not compared")
	}
}
