package cluster

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/store/storetest"
	"github.com/heistgraph/heistgraph/txgraph"
)

// graphRun clusters st's chain as `cluster update` does with a graph: it
// brings the graph at path up to the store's tip when extend is set (else
// the graph stays as it is, behind the store), opens it and runs Update
// with it.
func graphRun(t *testing.T, st *pebble.DB, path string, extend bool, opts Options) Stats {
	t.Helper()
	ctx := context.Background()
	if extend {
		if _, err := txgraph.Update(ctx, st, chain, path); err != nil {
			t.Fatal(err)
		}
	}
	g, err := txgraph.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	opts.Graph = g
	s, err := Update(ctx, st, chain, opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Elapsed = 0
	return s
}

// openGraph opens the graph at path, closed when the test ends.
func openGraph(t *testing.T, path string) *txgraph.Graph {
	t.Helper()
	g, err := txgraph.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

// TestGraphPath clusters one generated chain through the store (block
// reads, addresses hashed) and through its transaction graph (addresses
// are the graph's ids), run by run: a graph current and one behind the
// store, labels given before their addresses appear, a reorganisation, an
// analyst's merge and split. Every membership, evidence record and count
// must be the same.
func TestGraphPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const seed, txs = 5, 30
	opts := DefaultOptions()
	opts.Change.Window = 6
	opts.Guards.HoldBoth, opts.Guards.HoldChange, opts.Guards.ChangeMaxCluster = 40, 20, 40
	plain, viaGraph := openMem(t), openMem(t)
	path := filepath.Join(t.TempDir(), "btc.txg")
	gen := storetest.NewGenerator(chain, seed, txs)
	var blocks []*heistgraph.Block
	apply := func(n int) { blocks = applyNext(t, []*pebble.DB{plain, viaGraph}, gen, n, blocks) }
	compare := func(step string, a, b Stats) {
		t.Helper()
		a.Elapsed = 0
		if !equalStats(a, b) {
			t.Errorf("%s: counts differ:\nstore %+v\ngraph %+v", step, a, b)
		}
		if !slices.Equal(memberships(t, plain), memberships(t, viaGraph)) {
			t.Errorf("%s: memberships differ", step)
		}
		if !slices.EqualFunc(evidence(t, plain), evidence(t, viaGraph), evidenceEqual) {
			t.Errorf("%s: evidence differs", step)
		}
	}
	run := func(step string, extend bool) {
		t.Helper()
		a, err := Update(ctx, plain, chain, opts)
		if err != nil {
			t.Fatal(err)
		}
		compare(step, a, graphRun(t, viaGraph, path, extend, opts))
	}
	label := func(addr, entity string) {
		for _, st := range []*pebble.DB{plain, viaGraph} {
			if _, err := st.PutLabels(ctx, []heistgraph.Label{{Chain: chain, Address: addr, Entity: entity,
				Category: "exchange", Source: "test", Confidence: 1}}); err != nil {
				t.Fatal(err)
			}
		}
	}

	// prefix checks that a state loaded with the graph keeps no array of
	// graph ids: the graph and the clustering named the addresses in the
	// same order (graphIDs).
	prefix := func(step string) {
		t.Helper()
		g := openGraph(t, path)
		o := opts
		o.Graph = g
		e, err := open(ctx, viaGraph, chain, o)
		if err != nil {
			t.Fatal(err)
		}
		if e.gid == nil || e.gid.dense != nil || int(e.gid.known) != g.Addresses() {
			t.Errorf("%s: graph ids not the prefix of %d addresses: %+v", step, g.Addresses(), e.gid)
		}
	}

	apply(30)
	// Labels on addresses of the first blocks and of blocks not stored yet.
	label(blocks[3].Txs[1].Outputs[0].Address, "Exchange A")
	label(blocks[20].Txs[2].Outputs[0].Address, "Exchange B")
	run("first run", true)
	prefix("first run")
	later := gen.Fork(0) // the same blocks as gen from here on
	next := later.Next()
	label(next.Txs[1].Outputs[0].Address, "Exchange C")
	apply(25)
	run("graph behind the store", false)
	apply(15)
	run("graph extended", true)
	prefix("graph extended")

	// Reorganisation: the last 12 blocks are replaced by a branch of 18.
	gen, blocks = reorg(t, []*pebble.DB{plain, viaGraph}, seed, txs, blocks)
	apply(18)
	run("after the reorganisation", true)

	// An analyst's merge and split, then more blocks.
	ms := memberships(t, plain)
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	for _, st := range []*pebble.DB{plain, viaGraph} {
		o := opts
		if st == viaGraph {
			g, err := txgraph.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			o.Graph = g
		}
		if _, err := Merge(ctx, st, chain, []string{ms[5].Address, ms[len(ms)/2].Address}, "test", "merge", now, o); err != nil {
			t.Fatal(err)
		}
		if _, err := Split(ctx, st, chain, ms[len(ms)/3].Address, "test", "split", now, o); err != nil {
			t.Fatal(err)
		}
	}
	compare("after the overrides", Stats{}, Stats{})
	apply(20)
	run("after more blocks", true)

	var joined, dropped, held int
	for _, e := range evidence(t, plain) {
		switch e.Status {
		case heistgraph.EvidenceApplied:
			joined++
		case heistgraph.EvidenceDropped:
			dropped++
		case heistgraph.EvidenceHeld:
			held++
		}
	}
	if joined < 50 || held+dropped == 0 {
		t.Errorf("too little clustered to compare: %d joining records, %d held, %d dropped", joined, held, dropped)
	}
}

// equalStats compares two runs' counts.
func equalStats(a, b Stats) bool {
	a.Elapsed, b.Elapsed = 0, 0
	return reflect.DeepEqual(a, b)
}

// TestInterruptedRun: a run cancelled part way (its blocks gathered in a
// run, some of them committed when the run passed the store's bound, the
// rest when it was cancelled) and then resumed stores the same clustering
// as one uninterrupted run, with and without the graph.
func TestInterruptedRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gen := storetest.NewGenerator(chain, 9, 60)
	clean, viaStore, viaGraph := openMem(t), openMem(t), openMem(t)
	for range 120 {
		b := gen.Next()
		for _, st := range []*pebble.DB{clean, viaStore, viaGraph} {
			if err := st.ApplyBlock(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := Update(ctx, clean, chain, DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "btc.txg")
	if _, err := txgraph.Update(ctx, viaGraph, chain, path); err != nil {
		t.Fatal(err)
	}
	g, err := txgraph.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for _, st := range []*pebble.DB{viaStore, viaGraph} {
		opts := DefaultOptions()
		if st == viaGraph {
			opts.Graph = g
		}
		for _, stop := range []int64{40, 90} {
			cctx, cancel := context.WithCancel(ctx)
			opts.Progress = func(h int64) {
				if h == stop {
					cancel()
				}
			}
			if _, err := Update(cctx, st, chain, opts); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled at %d: %v", stop, err)
			}
			cancel()
			// The cancelled run keeps the whole blocks it clustered (as a
			// SIGINT of cluster update does): its tip is the block whose
			// progress cancelled it.
			tip, err := st.ClusterTip(ctx, chain)
			if err != nil || tip.Block.Height != stop {
				t.Fatalf("cancelled at %d, the tip is %d (%v)", stop, tip.Block.Height, err)
			}
		}
		opts.Progress = nil
		if _, err := Update(ctx, st, chain, opts); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(memberships(t, clean), memberships(t, st)) || !slices.EqualFunc(evidence(t, clean), evidence(t, st), evidenceEqual) {
			t.Errorf("graph %v: an interrupted and resumed run differs from one run", st == viaGraph)
		}
	}
}
