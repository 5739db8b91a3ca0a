package main

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph/synth"
)

// TestIngestClustersAlongside ingests one synthetic world (720 blocks:
// several runs of blocks, so the clustering updates while later runs are
// applied) with clustering on, which clusters alongside the ingest, and
// once with --cluster=false followed by cluster update: the store dumps
// (clusters and evidence included) and the clustering's counts must be
// the same. Labels are imported first, so the guards that read them fire
// in both. A rerun over a store that holds every block already clusters
// them all.
func TestIngestClustersAlongside(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "world")
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: dir, Seed: 3, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	labels := filepath.Join(dir, synth.LabelsFile)
	along, after, rerun := filepath.Join(base, "along"), filepath.Join(base, "after"), filepath.Join(base, "rerun")
	for _, data := range []string{along, after, rerun} {
		mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", labels, "--format", "csv"), "labels import")
	}
	r := cli(t, "--data", along, "--quiet", "--json", "ingest", "btc", "--blocks", dir)
	mustOK(t, r, "ingest, clustering alongside")
	got := decode[ingestReport](t, r.stdout)
	mustOK(t, cli(t, "--data", after, "--quiet", "ingest", "btc", "--blocks", dir, "--cluster=false"), "ingest --cluster=false")
	r = cli(t, "--data", after, "--quiet", "--json", "cluster", "update", "--graph", "off")
	mustOK(t, r, "cluster update")
	want := decode[clusterStatsJSON](t, r.stdout)
	if got.Cluster == nil {
		t.Fatal("ingest reported no clustering")
	}
	c := *got.Cluster
	c.Seconds, c.InputsPerS, want.Seconds, want.InputsPerS = 0, 0, 0, 0
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("clustering counts differ:\nalongside %+v\nafter     %+v", c, want)
	}
	if c.Blocks != got.Blocks || c.TipHeight != got.TipHeight {
		t.Fatalf("clustered %d blocks to %d, ingested %d to %d", c.Blocks, c.TipHeight, got.Blocks, got.TipHeight)
	}
	dump := dumpOf(t, "--data", after)
	if dumpOf(t, "--data", along) != dump {
		t.Fatal("store dumps differ between clustering alongside the ingest and after it")
	}
	// A rerun that finds every block stored applies none: the clustering
	// still catches up, after the ingest.
	mustOK(t, cli(t, "--data", rerun, "--quiet", "ingest", "btc", "--blocks", dir, "--cluster=false"), "ingest --cluster=false")
	mustOK(t, cli(t, "--data", rerun, "--quiet", "ingest", "btc", "--blocks", dir), "ingest again, clustering")
	if dumpOf(t, "--data", rerun) != dump {
		t.Fatal("store dumps differ after a rerun that only clusters")
	}
}

// TestIngestClusterOutgrowsMemory makes the clustering beside an ingest
// outgrow its share of --memory (an address counted as a terabyte): the
// ingest applies every block, exits 2 naming the flag, and a cluster
// update afterwards leaves the store as an ingest that clustered
// throughout. Not parallel: it sets clusterBytesPerAddress.
func TestIngestClusterOutgrowsMemory(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "world")
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: dir, Seed: 3, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	capped, whole := filepath.Join(base, "capped"), filepath.Join(base, "whole")
	mustOK(t, cli(t, "--data", whole, "--quiet", "ingest", "btc", "--blocks", dir), "ingest")
	defer func(n int64) { clusterBytesPerAddress = n }(clusterBytesPerAddress)
	clusterBytesPerAddress = 1 << 40
	r := cli(t, "--data", capped, "--quiet", "--memory", "128MiB", "ingest", "btc", "--blocks", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "--memory") || !strings.Contains(r.stderr, "cluster update") {
		t.Fatalf("ingest whose clustering outgrows --memory: exit %d, stderr %q; want 2 naming the flag and cluster update", r.code, r.stderr)
	}
	mustOK(t, cli(t, "--data", capped, "--quiet", "cluster", "update", "--graph", "off"), "cluster update after")
	if dumpOf(t, "--data", capped) != dumpOf(t, "--data", whole) {
		t.Fatal("store dumps differ between an ingest whose clustering stopped, then cluster update, and one that clustered throughout")
	}
}

// TestIngestMemoryGuard: an ingest whose resident memory passes its
// --memory (the reading faked) stops between batches and exits 2 naming
// the flag and how to resume; running it again without the flag resumes,
// and the store is the one a whole ingest writes. Not parallel: it sets
// residentAnon and memGuardEvery.
func TestIngestMemoryGuard(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "world")
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: dir, Seed: 5, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	stopped, whole := filepath.Join(base, "stopped"), filepath.Join(base, "whole")
	mustOK(t, cli(t, "--data", whole, "--quiet", "ingest", "btc", "--blocks", dir), "ingest")
	defer func(f func() int64, every time.Duration) { residentAnon, memGuardEvery = f, every }(residentAnon, memGuardEvery)
	residentAnon, memGuardEvery = func() int64 { return 1 << 40 }, time.Millisecond
	r := cli(t, "--data", stopped, "--quiet", "--memory", "256MiB", "ingest", "btc", "--blocks", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "--memory") || !strings.Contains(r.stderr, "resume") {
		t.Fatalf("ingest past its --memory: exit %d, stderr %q; want 2 naming the flag and how to resume", r.code, r.stderr)
	}
	if dumpOf(t, "--data", stopped) == dumpOf(t, "--data", whole) {
		t.Fatal("the guard did not stop the ingest before its end")
	}
	residentAnon = func() int64 { return 0 }
	mustOK(t, cli(t, "--data", stopped, "--quiet", "--memory", "256MiB", "ingest", "btc", "--blocks", dir), "ingest again")
	if dumpOf(t, "--data", stopped) != dumpOf(t, "--data", whole) {
		t.Fatal("store dumps differ between an ingest stopped by the memory guard and resumed, and a whole one")
	}
}
