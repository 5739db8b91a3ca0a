package pebble

import (
	"context"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestClusterStamp: a chain's clustering stamp is 0 until its clustering
// is written, and every write of it — WriteClusters, a run's commit
// (written as ingested tables), a rewind that removes something — gives a
// stamp not seen before; a rewind
// that removes nothing and a write of another chain keep it.
func TestClusterStamp(t *testing.T) {
	ctx := context.Background()
	const ch, other = heistgraph.ChainBTCRegtest, heistgraph.ChainBTCTestnet
	db := openMem(t, 1<<20)
	stamp := func() uint64 {
		t.Helper()
		s, err := db.ClusterStamp(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := stamp(); s != 0 {
		t.Fatalf("stamp of a chain never stored: %d", s)
	}
	mustApply(t, db, storetest.NewGenerator(ch, 1, 2).Next())
	mustApply(t, db, storetest.NewGenerator(other, 1, 2).Next())
	if s := stamp(); s != 0 {
		t.Fatalf("stamp before any clustering: %d", s)
	}
	seen := map[uint64]string{0: "none"}
	fresh := func(what string) {
		t.Helper()
		s := stamp()
		if w, ok := seen[s]; ok {
			t.Fatalf("after %s: stamp %d, as after %s", what, s, w)
		}
		seen[s] = what
	}
	batches := clusterRunBatches()
	for i, cb := range batches[:3] {
		if err := db.WriteClusters(ctx, ch, cb); err != nil {
			t.Fatal(err)
		}
		fresh("write " + string(rune('0'+i)))
	}
	// A run's commit, written as ingested tables (clusteringest.go).
	defer func(m int) { clusterIngestMin = m }(clusterIngestMin)
	clusterIngestMin = 1
	run, err := db.ClusterRun(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	for _, cb := range batches[3:] {
		if _, err := run.Add(ctx, cb); err != nil {
			t.Fatal(err)
		}
	}
	if err := run.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	fresh("ingested run")
	s := stamp()
	if err := db.RewindClusters(ctx, ch, 10); err != nil { // above the tip: nothing removed
		t.Fatal(err)
	}
	if err := db.WriteClusters(ctx, other, batches[0]); err != nil {
		t.Fatal(err)
	}
	if stamp() != s {
		t.Fatal("a rewind that removes nothing, or a write of another chain, moved the stamp")
	}
	if err := db.RewindClusters(ctx, ch, 1); err != nil {
		t.Fatal(err)
	}
	fresh("rewind")
}
