package risk_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// evmTableWorld is a generated account chain (storetest.AccountGen: every
// transfer kind, tokens, fees, rewards) with labels of several categories,
// one weak and one valid only for part of the chain's time, and clusters:
// the screened addresses get exposure from 1 to H hops away.
func evmTableWorld(t *testing.T, st store.Store, blocks int64) (*storetest.AccountGen, []heistgraph.EVMHash, []*heistgraph.AccountBlock) {
	t.Helper()
	ctx := context.Background()
	gen := storetest.NewAccountGen(evmChain, 11, 150)
	var parent heistgraph.EVMHash
	var txs []heistgraph.EVMHash
	var all []*heistgraph.AccountBlock
	for h := range blocks {
		blk := gen.Block(0, h, parent)
		if err := st.(store.AccountWriter).ApplyAccountBlock(ctx, blk); err != nil {
			t.Fatal(err)
		}
		parent = blk.Hash
		all = append(all, blk)
		for i, tx := range blk.Txs {
			if i%3 == 0 {
				txs = append(txs, tx.Hash)
			}
		}
	}
	var ls []heistgraph.Label
	for i, cat := range []string{"dprk", "mixer", "exchange", "exchange", "sanctioned", "scam"} {
		a := gen.Addrs[10+i]
		l := heistgraph.Label{Chain: evmChain, Address: a.Lower(), Entity: cat + " " + a.Hex()[:6], Category: cat, Source: "test", Confidence: 1}
		switch i {
		case 3:
			l.Confidence = 0.3 // weak
		case 5:
			l.ValidUntil = all[len(all)/2].Time // a scam only in the first half
		}
		ls = append(ls, l)
	}
	if _, err := st.PutLabels(ctx, ls); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Update(ctx, st, evmChain, cluster.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	return gen, txs, all
}

// screenAll screens every address of gen (received, with and without its
// cluster) and every transaction of txs with sc, as JSON.
func screenAll(t *testing.T, sc *risk.Screener, gen *storetest.AccountGen, txs []heistgraph.EVMHash) []string {
	t.Helper()
	ctx := context.Background()
	var items []risk.Item
	for i, a := range gen.Addrs {
		items = append(items, risk.Item{Chain: evmChain, Address: a.Hex(), NoCluster: i%2 == 1})
	}
	for i := range txs {
		items = append(items, risk.Item{Chain: evmChain, Tx: &txs[i]})
	}
	var out []string
	for _, it := range items {
		a, err := sc.Screen(ctx, it)
		var s string
		if err != nil {
			s = "error: " + err.Error()
		} else {
			b, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			s = string(b)
		}
		out = append(out, s)
	}
	return out
}

// TestEVMTableMatchesOnDemand screens every address and a third of the
// transactions of a generated account chain on demand and with the
// precomputed table (built at once; built halfway and extended): the
// answers must be identical, and the table must be what answered (the
// on-demand screens of the same Screener then read no sender's history).
func TestEVMTableMatchesOnDemand(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	gen, txs, all := evmTableWorld(t, st, 400)
	opts := risk.Options{Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}
	onDemand, err := risk.NewScreener(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := screenAll(t, onDemand, gen, txs)
	exposed := 0
	for _, s := range want {
		var a risk.Answer
		if err := json.Unmarshal([]byte(s), &a); err == nil && len(a.Indirect) > 0 {
			exposed++
		}
		if a.Partial {
			t.Fatalf("an on-demand screen is partial (raise the budget): %s", s)
		}
	}
	if exposed < len(gen.Addrs)/4 {
		t.Fatalf("only %d of %d answers carry indirect exposure: the world does not test propagation", exposed, len(want))
	}
	pre, err := risk.NewScreener(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := pre.Precompute(ctx, evmChain)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Height != all[len(all)-1].Height || stats.Outputs == 0 {
		t.Fatalf("table stats %+v", stats)
	}
	if !risk.UsesAccountTable(pre, evmChain) {
		t.Fatal("the table does not end at the tip")
	}
	compareAnswers(t, "table", want, screenAll(t, pre, gen, txs))
}

// TestEVMTableExtends builds the table on the first half of a chain,
// applies the second half to the store (the table no longer ends at the
// tip: screens compute on demand), extends it, then rewinds the store and
// applies other blocks (a reorg): each time the answers must be those of
// a Screener that computes on demand.
func TestEVMTableExtends(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	gen, txs, all := evmTableWorld(t, st, 200)
	opts := risk.Options{Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}
	aw := st.(store.AccountWriter)
	half := all[99].Height
	if err := aw.RewindTo(ctx, evmChain, half); err != nil {
		t.Fatal(err)
	}
	pre, err := risk.NewScreener(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := pre.Precompute(ctx, evmChain); err != nil || s.Height != half {
		t.Fatalf("precompute to %d: %+v %v", half, s, err)
	}
	for _, b := range all[100:] {
		if err := aw.ApplyAccountBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string) {
		t.Helper()
		od, err := risk.NewScreener(st, opts)
		if err != nil {
			t.Fatal(err)
		}
		compareAnswers(t, what, screenAll(t, od, gen, txs), screenAll(t, pre, gen, txs))
	}
	if risk.UsesAccountTable(pre, evmChain) {
		t.Fatal("a table behind the tip is used")
	}
	check("table behind the tip")
	if s, err := pre.Precompute(ctx, evmChain); err != nil || s.Height != all[len(all)-1].Height {
		t.Fatalf("extend: %+v %v", s, err)
	}
	if !risk.UsesAccountTable(pre, evmChain) {
		t.Fatal("the extended table is not used")
	}
	check("extended table")
	// A reorg: the last 50 blocks replaced by other ones.
	fork := all[149]
	if err := aw.RewindTo(ctx, evmChain, fork.Height); err != nil {
		t.Fatal(err)
	}
	parent := fork.Hash
	for h := fork.Height + 1; h <= all[len(all)-1].Height; h++ {
		b := gen.Block(1, h, parent)
		if err := aw.ApplyAccountBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
		parent = b.Hash
	}
	if s, err := pre.Precompute(ctx, evmChain); err != nil || s.Height != all[len(all)-1].Height {
		t.Fatalf("after the reorg: %+v %v", s, err)
	}
	if !risk.UsesAccountTable(pre, evmChain) {
		t.Fatal("the rebuilt table is not used")
	}
	check("table rebuilt after a reorg")
}

func compareAnswers(t *testing.T, what string, want, got []string) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d answers, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range want {
		if want[i] != got[i] {
			if bad++; bad <= 3 {
				t.Errorf("%s: answer %d differs:\non demand %s\ntable     %s", what, i, want[i], got[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d answers differ", what, bad, len(want))
	}
}

// TestEVMTableConcurrent screens while Precompute extends the table (run
// with -race): every answer is the on-demand one, whether it came from
// the table or, while the table was behind the tip, on demand.
func TestEVMTableConcurrent(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	gen, txs, all := evmTableWorld(t, st, 120)
	opts := risk.Options{Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}
	od, err := risk.NewScreener(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := screenAll(t, od, gen, txs)
	aw := st.(store.AccountWriter)
	if err := aw.RewindTo(ctx, evmChain, all[59].Height); err != nil {
		t.Fatal(err)
	}
	pre, err := risk.NewScreener(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pre.Precompute(ctx, evmChain); err != nil {
		t.Fatal(err)
	}
	for _, b := range all[60:] {
		if err := aw.ApplyAccountBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := pre.Precompute(ctx, evmChain)
		done <- err
	}()
	compareAnswers(t, "during the extension", want, screenAll(t, pre, gen, txs))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	compareAnswers(t, "after it", want, screenAll(t, pre, gen, txs))
}
