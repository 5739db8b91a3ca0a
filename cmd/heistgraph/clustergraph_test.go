package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/heistgraph/heistgraph/synth"
)

// TestClusterGraphCLI clusters one synthetic world through the store
// (cluster update --graph off) and through the transaction graph (--graph
// build; ingest's clustering step reading a graph it finds): the
// store dumps (cluster and evidence lines included) and eval cluster's
// JSON must be byte for byte the same.
func TestClusterGraphCLI(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "world")
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: dir, Seed: 3, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	labels, truth := filepath.Join(dir, synth.LabelsFile), filepath.Join(dir, synth.TruthFile)
	viaStore, viaGraph, viaIngest := filepath.Join(base, "store"), filepath.Join(base, "graph"), filepath.Join(base, "ingest")
	for _, data := range []string{viaStore, viaGraph, viaIngest} {
		mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", dir, "--cluster=false"), "ingest")
		mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", labels, "--format", "csv"), "labels import")
	}
	mustOK(t, cli(t, "--data", viaStore, "--quiet", "cluster", "update", "--graph", "off"), "cluster update --graph off")
	mustOK(t, cli(t, "--data", viaGraph, "--quiet", "cluster", "update", "--graph", "build"), "cluster update --graph build")
	graph := filepath.Join(viaGraph, "txgraph", "btc-regtest.txg")
	if _, err := os.Stat(graph); err != nil {
		t.Fatalf("cluster update --graph build wrote no graph: %v", err)
	}
	if _, err := os.Stat(filepath.Join(viaStore, "txgraph", "btc-regtest.txg")); err == nil {
		t.Fatal("cluster update --graph off wrote a graph")
	}
	// Ingest clusters at its end (nothing new to store here) with the
	// graph it finds.
	mustOK(t, cli(t, "--data", viaIngest, "--quiet", "graph", "build"), "graph build")
	mustOK(t, cli(t, "--data", viaIngest, "--quiet", "ingest", "btc", "--blocks", dir), "ingest again, clustering")
	want := dumpOf(t, "--data", viaStore)
	if want != dumpOf(t, "--data", viaGraph) {
		t.Fatal("store dumps differ between clustering through the store and through the graph")
	}
	if want != dumpOf(t, "--data", viaIngest) {
		t.Fatal("store dumps differ between cluster update and ingest's clustering through the graph")
	}
	eval := func(data string) string {
		r := cli(t, "--data", data, "--json", "eval", "cluster", "--truth", truth)
		mustOK(t, r, "eval cluster")
		return r.stdout
	}
	if a, b := eval(viaStore), eval(viaGraph); a != b {
		t.Fatalf("eval cluster differs:\nstore %s\ngraph %s", a, b)
	}
	// From scratch again: the graph is current and read as it is.
	mustOK(t, cli(t, "--data", viaStore, "--quiet", "cluster", "update", "--from-scratch", "--graph", "off"), "again via the store")
	mustOK(t, cli(t, "--data", viaGraph, "--quiet", "cluster", "update", "--from-scratch"), "again via the graph")
	if dumpOf(t, "--data", viaStore) != dumpOf(t, "--data", viaGraph) {
		t.Fatal("store dumps differ after clustering from scratch")
	}
	r := cli(t, "--data", viaGraph, "cluster", "update", "--graph", "sometimes")
	if r.code != exitUsage {
		t.Fatalf("--graph sometimes: exit %d, want %d", r.code, exitUsage)
	}
}
