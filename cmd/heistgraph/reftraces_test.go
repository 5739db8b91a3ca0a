package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRefTracesScript runs scripts/reftraces.sh, the reference traces the
// rounds' measurements compare (docs/benchmarks.md), with this test binary
// standing in for heistgraph, on a small world ingested by blocks and by
// --bulk (the second with its graph built): every trace must visit
// something, and each must give the same JSON and GraphML hashes on both
// stores, so the script keeps working and the two paths keep meaning the
// same.
func TestRefTracesScript(t *testing.T) {
	for _, tool := range []string{"sh", "awk", "sed", "sha256sum", "cut"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH: %v", tool, err)
		}
	}
	if testing.Short() {
		t.Skip("runs 32 traces as processes")
	}
	dir := t.TempDir()
	world := filepath.Join(dir, "w")
	mustOK(t, cli(t, "--quiet", "synth", "--out", world, "--seed", "4", "--scale", "small"), "synth")
	blocks, bulk := filepath.Join(dir, "blocks"), filepath.Join(dir, "bulk")
	mustOK(t, cli(t, "--data", blocks, "--quiet", "ingest", "btc", "--blocks", world, "--network", "regtest"), "ingest by blocks")
	mustOK(t, cli(t, "--data", bulk, "--quiet", "ingest", "btc", "--bulk", "--blocks", world, "--network", "regtest"), "ingest --bulk")
	for _, d := range []string{blocks, bulk} {
		mustOK(t, cli(t, "--data", d, "--quiet", "labels", "import", filepath.Join(world, "labels.csv"), "--format", "csv"), "labels import")
	}
	mustOK(t, cli(t, "--data", bulk, "--quiet", "cluster", "update", "--graph", "build"), "graph build")

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	hg := filepath.Join(dir, "hg")
	wrapper := "#!/bin/sh\nHEISTGRAPH_TEST_CLI=1 exec " + strconv.Quote(self) + " \"$@\"\n"
	if err := os.WriteFile(hg, []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "reftraces.sh"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(data, out string) []string {
		t.Helper()
		cmd := exec.Command("sh", script, hg, data, world, filepath.Join(dir, out))
		b, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("reftraces.sh on %s: %v\n%s%s", data, err, b, stderr)
		}
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	truth, err := os.ReadFile(filepath.Join(world, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	heists := min(strings.Count(string(truth), `{"id":"heist-`), 8)
	a, b := run(blocks, "a"), run(bulk, "b")
	if heists == 0 || len(a) != heists+8 { // one a heist (up to 8), then 8 more
		t.Fatalf("%d traces for %d heists, want %d:\n%s", len(a), heists, heists+8, strings.Join(a, "\n"))
	}
	for i, line := range a {
		f := strings.Fields(line)
		if len(f) != 4 || len(f[2]) != 16 || len(f[3]) != 16 {
			t.Fatalf("line %d %q: want NAME VISITS JSON GRAPHML", i+1, line)
		}
		if n, err := strconv.Atoi(f[1]); err != nil || n <= 0 {
			t.Errorf("%s: %s visits, want some", f[0], f[1])
		}
		if i >= len(b) || b[i] != line {
			t.Errorf("by blocks %q, --bulk with its graph %q", line, b[min(i, len(b)-1)])
		}
	}
	for _, name := range []string{"h01", "big"} {
		if _, err := os.Stat(filepath.Join(dir, "a", name+".graphml")); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
