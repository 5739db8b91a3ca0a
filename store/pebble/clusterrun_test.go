package pebble

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// clusterRunBatches are the batches of five clustered blocks: new
// addresses, memberships, sizes set and removed, evidence (a record of
// block 1 replaced in block 3 with other addresses), an override and a
// snapshot of pending work.
func clusterRunBatches() []*store.ClusterBatch {
	blk := func(h int64, first uint64) *heistgraph.ClusterBlock {
		return &heistgraph.ClusterBlock{Height: h, Hash: heistgraph.Hash{byte(h), 1}, FirstAddr: first}
	}
	ev := func(h int64, ids ...uint64) heistgraph.ClusterEvidence {
		return heistgraph.ClusterEvidence{Height: h, TxIndex: 2, N: 1, TxID: heistgraph.Hash{9, byte(h)},
			Heuristic: heistgraph.HeuristicCommonInput, Status: heistgraph.EvidenceApplied, AddrIDs: ids}
	}
	dropped := ev(1, 1, 2)
	dropped.AddrIDs = []uint64{1, 3}
	dropped.Status, dropped.Reason = heistgraph.EvidenceDropped, "G5"
	return []*store.ClusterBatch{
		{Block: blk(0, 1), NewAddresses: []string{"a1", "a2"}},
		{Block: blk(1, 3), NewAddresses: []string{"a3", "a4"}, Members: []store.ClusterMember{{AddrID: 2, ClusterID: 1}},
			Sizes: []store.ClusterSize{{ClusterID: 1, Size: 2}}, Evidence: []heistgraph.ClusterEvidence{ev(1, 1, 2)}},
		{Block: blk(3, 5), NewAddresses: []string{"a5"}, Members: []store.ClusterMember{{AddrID: 4, ClusterID: 3}, {AddrID: 2, ClusterID: 2}},
			Sizes: []store.ClusterSize{{ClusterID: 1, Size: 0}, {ClusterID: 3, Size: 2}}, Evidence: []heistgraph.ClusterEvidence{ev(3, 3, 4), dropped}},
		{Overrides: []heistgraph.ClusterOverride{{Seq: 1, Kind: heistgraph.OverrideMerge, Addresses: []string{"a1", "a5"}, By: "t", Why: "w"}}},
		{Block: blk(4, 6), Members: []store.ClusterMember{{AddrID: 5, ClusterID: 1}}, Sizes: []store.ClusterSize{{ClusterID: 1, Size: 2}},
			Pending: []byte("snapshot"), Rebuilt: true},
	}
}

// allKeys returns every key and value of db, but for the clustering
// stamps (random by design: store.ClusterStamps).
func allKeys(t *testing.T, db *DB) [][2][]byte {
	t.Helper()
	it, err := db.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out [][2][]byte
	for ok := it.First(); ok; ok = it.Next() {
		if bytes.HasPrefix(it.Key(), metaClusterStampPrefix) {
			continue
		}
		out = append(out, [2][]byte{bytes.Clone(it.Key()), bytes.Clone(it.Value())})
	}
	return out
}

// TestClusterRun: batches added to a run and committed once store exactly
// what WriteClusters stores one batch at a time; nothing is seen before
// the commit; a batch WriteClusters refuses is refused with nothing of it
// added; a run whose clustering was changed by another writer commits
// nothing.
func TestClusterRun(t *testing.T) { bothCommitWays(t, testClusterRun) }

// bothCommitWays runs test with each way a run's commit writes: a batch,
// and sstables ingested (every commit, whatever its size).
func bothCommitWays(t *testing.T, test func(t *testing.T)) {
	for _, c := range []struct {
		name string
		min  int
	}{{"batch", 1 << 40}, {"ingest", 0}} {
		t.Run(c.name, func(t *testing.T) {
			defer func(m int) { clusterIngestMin = m }(clusterIngestMin)
			clusterIngestMin = c.min
			test(t)
		})
	}
}

func testClusterRun(t *testing.T) {
	ctx := context.Background()
	const ch = heistgraph.ChainBTCRegtest
	one, run := openMem(t, 1<<20), openMem(t, 1<<20)
	b := storetest.NewGenerator(ch, 1, 2).Next()
	mustApply(t, one, b)
	mustApply(t, run, b)
	for _, cb := range clusterRunBatches() {
		if err := one.WriteClusters(ctx, ch, cb); err != nil {
			t.Fatal(err)
		}
	}
	before := allKeys(t, run)
	r, err := run.ClusterRun(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	for i, cb := range clusterRunBatches() {
		if committed, err := r.Add(ctx, cb); err != nil || committed {
			t.Fatalf("add %d: committed %v, %v", i, committed, err)
		}
		// Refused like WriteClusters: a block below the tip, an id not
		// given out; nothing of them is added.
		bad := []*store.ClusterBatch{
			{Block: &heistgraph.ClusterBlock{Height: 0, FirstAddr: 99}},
			{NewAddresses: []string{"x"}, Members: []store.ClusterMember{{AddrID: 100, ClusterID: 1}}},
		}
		for _, cb := range bad {
			if _, err := r.Add(ctx, cb); err == nil {
				t.Fatalf("after batch %d: a bad batch was added", i)
			}
		}
	}
	if r.Pending() != 5 {
		t.Fatalf("pending %d, want 5", r.Pending())
	}
	if len(allKeys(t, run)) != len(before) {
		t.Fatal("the run wrote before its commit")
	}
	if err := r.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	want, got := allKeys(t, one), allKeys(t, run)
	if len(want) != len(got) {
		t.Fatalf("%d keys after the run, %d after WriteClusters", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(want[i][0], got[i][0]) || !bytes.Equal(want[i][1], got[i][1]) {
			t.Fatalf("key %d: run %x=%x, WriteClusters %x=%x", i, got[i][0], got[i][1], want[i][0], want[i][1])
		}
	}
	// The replaced record's index entry for address 2 is gone.
	for e, err := range run.Evidence(ctx, ch, store.EvidenceQuery{Addr: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		t.Errorf("evidence of address 2 after its record was replaced: %+v", e)
	}

	// Another writer in between: the commit refuses.
	r, err = run.ClusterRun(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Add(ctx, &store.ClusterBatch{Block: &heistgraph.ClusterBlock{Height: 5, FirstAddr: 6}, NewAddresses: []string{"a6"}}); err != nil {
		t.Fatal(err)
	}
	if err := run.WriteClusters(ctx, ch, &store.ClusterBatch{Block: &heistgraph.ClusterBlock{Height: 6, FirstAddr: 6}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Commit(ctx); !errors.Is(err, heistgraph.ErrConflict) {
		t.Fatalf("commit after another writer: %v, want ErrConflict", err)
	}
	if _, err := run.AddressCluster(ctx, ch, "a6"); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Fatalf("a refused run's address is stored: %v", err)
	}
}

// TestClusterRunAfterRewind: a clustering rewound to nothing (its tables
// excised) and written again by an ingesting run holds exactly what a
// store that never had one holds after the same batches; a file an
// interrupted ingesting commit left in the store's directory is removed.
func TestClusterRunAfterRewind(t *testing.T) {
	defer func(m int) { clusterIngestMin = m }(clusterIngestMin)
	clusterIngestMin = 0
	ctx := context.Background()
	const ch = heistgraph.ChainBTCRegtest
	var batches []*store.ClusterBatch
	for _, cb := range clusterRunBatches() {
		if len(cb.Overrides) == 0 { // a rewind keeps the overrides
			batches = append(batches, cb)
		}
	}
	fresh, again := openMem(t, 1<<20), openMem(t, 1<<20)
	b := storetest.NewGenerator(ch, 1, 2).Next()
	mustApply(t, fresh, b)
	mustApply(t, again, b)
	for _, cb := range batches {
		if err := fresh.WriteClusters(ctx, ch, cb); err != nil {
			t.Fatal(err)
		}
		if err := again.WriteClusters(ctx, ch, cb); err != nil {
			t.Fatal(err)
		}
	}
	if err := again.RewindClusters(ctx, ch, -1); err != nil {
		t.Fatal(err)
	}
	fs := again.fs()
	left := fs.PathJoin(again.dir, ingestPrefix+"1-1.sst")
	f, err := fs.Create(left, vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := again.ClusterRun(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(left); err == nil {
		t.Fatal("an interrupted commit's file is still in the store's directory")
	}
	for _, cb := range batches {
		if _, err := r.Add(ctx, cb); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	want, got := allKeys(t, fresh), allKeys(t, again)
	if len(want) != len(got) {
		t.Fatalf("%d keys after rewind and run, %d in a fresh store", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(want[i][0], got[i][0]) || !bytes.Equal(want[i][1], got[i][1]) {
			t.Fatalf("key %d: rewound %x=%x, fresh %x=%x", i, got[i][0], got[i][1], want[i][0], want[i][1])
		}
	}
}

// TestClusterRunIngestCancelled: an ingesting commit whose context is
// cancelled writes nothing and leaves no file behind; the run's writes
// are gone with it, as a batch commit's are.
func TestClusterRunIngestCancelled(t *testing.T) {
	defer func(m int) { clusterIngestMin = m }(clusterIngestMin)
	clusterIngestMin = 0
	ctx, cancel := context.WithCancel(context.Background())
	const ch = heistgraph.ChainBTCRegtest
	db := openMem(t, 1<<20)
	mustApply(t, db, storetest.NewGenerator(ch, 1, 2).Next())
	before := allKeys(t, db)
	r, err := db.ClusterRun(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	for _, cb := range clusterRunBatches() {
		if _, err := r.Add(ctx, cb); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := r.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("commit after cancel: %v, want context.Canceled", err)
	}
	if got := allKeys(t, db); len(got) != len(before) {
		t.Fatalf("%d keys after a cancelled commit, %d before", len(got), len(before))
	}
	noLeftovers := func(what string) {
		t.Helper()
		names, err := db.fs().List(db.dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if strings.HasPrefix(n, ingestPrefix) {
				t.Fatalf("%s left %s", what, n)
			}
		}
	}
	noLeftovers("a cancelled commit")

	// A commit that fails after writing files (keys out of order, in two
	// tables) removes them and ingests nothing.
	s := db.newTableSink()
	c := clusterIDKey(nil, 1, clusterID, 5)
	for _, k := range [][]byte{clusterIDKey(nil, 1, clusterAddr, 7), c, clusterIDKey(nil, 1, clusterID, 4)} {
		_ = s.Set(k, []byte("v"), nil)
	}
	if len(s.paths) == 0 {
		t.Fatal("no file written before the failure: the test does not test the clean-up")
	}
	if err := s.ingest(context.Background()); !errors.Is(err, errCorrupt) {
		t.Fatalf("ingest of keys out of order: %v, want errCorrupt", err)
	}
	if got := allKeys(t, db); len(got) != len(before) {
		t.Fatalf("%d keys after a failed ingest, %d before", len(got), len(before))
	}
	noLeftovers("a failed ingest")
}
