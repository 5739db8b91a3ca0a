package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph/internal/pgtest"
	"github.com/heistgraph/heistgraph/synth"
)

// dumpOf runs store dump with the store flags given and returns its output.
func dumpOf(t *testing.T, storeArgs ...string) string {
	t.Helper()
	r := cli(t, append(storeArgs, "store", "dump")...)
	mustOK(t, r, "store dump")
	if r.stdout == "" {
		t.Fatal("store dump printed nothing")
	}
	return r.stdout
}

// TestStoreDumpBackends: the small synthetic world (clustered as it is
// ingested) and its labels, ingested into Pebble and into a real
// PostgreSQL, dump byte-identically.
func TestStoreDumpBackends(t *testing.T) {
	c := pgtest.Start(t)
	pg := c.NewDatabase(t)
	base := t.TempDir()
	world, data := filepath.Join(base, "world"), filepath.Join(base, "data")
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: world, Seed: 5, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	for _, st := range [][]string{{"--data", data}, {"--store", pg}} {
		start := time.Now()
		mustOK(t, cli(t, append(st, "--quiet", "ingest", "btc", "--blocks", world, "--network", "regtest")...), "ingest")
		mustOK(t, cli(t, append(st, "--quiet", "labels", "import", filepath.Join(world, synth.LabelsFile), "--format", "csv")...), "labels import")
		t.Logf("%s: ingest %v", st[0], time.Since(start))
	}
	start := time.Now()
	a := dumpOf(t, "--data", data)
	t.Logf("pebble dump %v", time.Since(start))
	start = time.Now()
	b := dumpOf(t, "--store", pg)
	t.Logf("postgres dump %v", time.Since(start))
	if a != b {
		t.Errorf("Pebble and PostgreSQL dumps differ:\n%s", firstDiffText(a, b))
	}
}

// firstDiffText shows the first line where a and b differ.
func firstDiffText(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:", i+1) + "\n  " + x + "\n  " + y
		}
	}
	return "(equal)"
}
