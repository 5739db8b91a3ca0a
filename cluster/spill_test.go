package cluster

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestSpillDir clusters one generated chain with the per-address arrays
// on the heap and spilled to a directory (Options.SpillDir), run by run
// with Update and with an Engine kept between runs: a reorganisation, an
// analyst's merge and split, more blocks. Every membership, evidence
// record and count must be the same, and the directory is left empty.
func TestSpillDir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const seed, txs = 7, 30
	opts := DefaultOptions()
	opts.Change.Window = 6
	opts.Guards.HoldBoth, opts.Guards.HoldChange, opts.Guards.ChangeMaxCluster = 40, 20, 40
	spilled := opts
	spilled.SpillDir = t.TempDir()
	plain, sp, viaEngine := openMem(t), openMem(t), openMem(t)
	stores := []*pebble.DB{plain, sp, viaEngine}
	gen := storetest.NewGenerator(chain, seed, txs)
	var blocks []*heistgraph.Block
	apply := func(n int) { blocks = applyNext(t, stores, gen, n, blocks) }
	var eng *Engine
	run := func(step string) {
		t.Helper()
		a, err := Update(ctx, plain, chain, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Update(ctx, sp, chain, spilled)
		if err != nil {
			t.Fatal(err)
		}
		if eng == nil {
			if eng, err = Open(ctx, viaEngine, chain, spilled); err != nil {
				t.Fatal(err)
			}
		}
		c, err := eng.Update(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !equalStats(a, b) {
			t.Errorf("%s: counts differ:\nheap    %+v\nspilled %+v", step, a, b)
		}
		if a.Addresses != c.Addresses || a.Clusters != c.Clusters || a.Largest != c.Largest {
			t.Errorf("%s: totals differ:\nheap   %+v\nengine %+v", step, a, c)
		}
		for _, st := range stores[1:] {
			if !slices.Equal(memberships(t, plain), memberships(t, st)) {
				t.Errorf("%s: memberships differ", step)
			}
			if !slices.EqualFunc(evidence(t, plain), evidence(t, st), evidenceEqual) {
				t.Errorf("%s: evidence differs", step)
			}
		}
	}

	apply(30)
	run("first run")
	apply(25)
	run("second run")

	// Reorganisation: the last 12 blocks are replaced by a branch of 18.
	gen, blocks = reorg(t, stores, seed, txs, blocks)
	apply(18)
	run("after the reorganisation")

	// An analyst's merge and split, then more blocks.
	ms := memberships(t, plain)
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for i, st := range stores {
		o := opts
		if i > 0 {
			o = spilled
		}
		if _, err := Merge(ctx, st, chain, []string{ms[5].Address, ms[len(ms)/2].Address}, "test", "merge", now, o); err != nil {
			t.Fatal(err)
		}
		if _, err := Split(ctx, st, chain, ms[len(ms)/3].Address, "test", "split", now, o); err != nil {
			t.Fatal(err)
		}
	}
	if err := eng.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	apply(20)
	run("after the overrides and more blocks")

	if joined := len(evidence(t, plain)); joined < 50 {
		t.Errorf("too little clustered to compare: %d evidence records", joined)
	}
	if left, err := os.ReadDir(spilled.SpillDir); err != nil || len(left) != 0 {
		t.Errorf("spill directory: %v, %v; want it empty", left, err)
	}
}

// TestSpillDirMissing: a spill directory that does not exist fails the
// run before anything is clustered.
func TestSpillDirMissing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openMem(t)
	gen := storetest.NewGenerator(chain, 3, 10)
	for range 3 {
		if err := st.ApplyBlock(ctx, gen.Next()); err != nil {
			t.Fatal(err)
		}
	}
	opts := DefaultOptions()
	opts.SpillDir = t.TempDir() + "/missing"
	if _, err := Update(ctx, st, chain, opts); err == nil {
		t.Fatal("Update with a missing spill directory: no error")
	}
	if got := memberships(t, st); len(got) != 0 {
		t.Errorf("%d memberships written, want none", len(got))
	}
}
