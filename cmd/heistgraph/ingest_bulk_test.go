package main

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/synth"
)

// TestIngestBulkKilledResumes SIGKILLs a real child process doing a bulk
// ingest (ingest btc --bulk, clustering beside it) of a small synthetic
// world at random moments, reruns it to completion, and checks that the
// store's neutral dump (store dump: chain, clusters, labels) is that of a
// clean ingest by the ordinary path, that no file of an interrupted group
// is left behind, and that groups were ingested as sorted runs (the world
// is over the bulk path's least group, so it is not all batches).
//
// The heavier version takes a world and a number of kills from the
// environment, e.g. the medium world and 20 kills:
//
//	HEISTGRAPH_TEST_BULK_WORLD=/tmp/w1 HEISTGRAPH_TEST_BULK_KILLS=20 \
//	  go test ./cmd/heistgraph -run TestIngestBulkKilledResumes -v -timeout 1h
func TestIngestBulkKilledResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; slow")
	}
	world := os.Getenv("HEISTGRAPH_TEST_BULK_WORLD")
	if world == "" {
		world = t.TempDir()
		if _, err := synth.Generate(context.Background(), synth.Options{Dir: world, Seed: 5, Scale: synth.Small}); err != nil {
			t.Fatal(err)
		}
	}
	kills := 4
	if v := os.Getenv("HEISTGRAPH_TEST_BULK_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("HEISTGRAPH_TEST_BULK_KILLS=%q: want a count", v)
		}
		kills = n
	}
	ingestArgs := []string{"--quiet", "ingest", "btc", "--blocks", world, "--network", "regtest"}
	bulkArgs := func(data string) []string {
		return append([]string{"--data", data, "--quiet", "ingest", "btc", "--bulk"}, ingestArgs[3:]...)
	}

	clean := t.TempDir()
	start := time.Now()
	mustOK(t, cli(t, append([]string{"--data", clean}, ingestArgs...)...), "clean ingest")
	full := time.Since(start)
	want := dumpOf(t, "--data", clean, "--quiet")
	top := tipHeightOf(t, clean, "btc-regtest")

	seed := uint64(time.Now().UnixNano())
	t.Logf("clean ingest %v, tip %d; kill seed %d", full, top, seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	data := t.TempDir()
	// Kill until the wanted number of runs died part-way through the
	// writes (the store holds some blocks but not all), or three times as
	// many attempts.
	partial := 0
	for i := 0; i < 3*kills && partial < kills; i++ {
		cmd := exec.Command(os.Args[0], bulkArgs(data)...)
		cmd.Env = append(os.Environ(), "HEISTGRAPH_TEST_CLI=1", "HEISTGRAPH_DATA=")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// A random moment from process start-up to a clean run's length
		// (the child pays for its start-up too).
		time.Sleep(time.Duration(rng.Int64N(int64(full) + 1)))
		_ = cmd.Process.Kill()
		werr := cmd.Wait()
		tip := tipHeightOf(t, data, "btc-regtest")
		t.Logf("kill %d: exit %v, store tip %d, leftovers %d", i, werr, tip, len(bulkLeftovers(t, data)))
		if werr != nil && tip >= 0 && tip < top {
			partial++
		}
		if tip == top && werr == nil { // finished before the kill: start over
			data = t.TempDir()
		}
	}
	if partial == 0 {
		t.Fatalf("no kill landed in the middle of the writes")
	}
	mustOK(t, cli(t, bulkArgs(data)...), "final rerun")
	if got := dumpOf(t, "--data", data, "--quiet"); got != want {
		t.Fatalf("the dump after kills and a rerun differs from a clean ingest's:\n%s", firstDiffText(got, want))
	}
	if left := bulkLeftovers(t, data); len(left) > 0 {
		t.Fatalf("files of interrupted groups left after the rerun: %v", left)
	}
	// The runs took the sorted-run path, not batches: the store holds
	// files of the block tables as they were ingested (the in-order
	// tables' files are never rewritten).
	st, err := pebble.Open(data, pebble.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, err := st.BulkTables(); err != nil || n == 0 {
		t.Fatalf("the store holds %d bulk-loaded files (%v): no group was ingested as sorted runs", n, err)
	}
}

// tipHeightOf returns the store's tip height on chain, or -1 when it holds
// nothing of it (or no store).
func tipHeightOf(t *testing.T, data, chain string) int64 {
	t.Helper()
	r := cli(t, "--data", data, "--json", "store", "digest", "--chain", chain)
	if r.code == exitFailure && (strings.Contains(r.stderr, "no store at") || strings.Contains(r.stderr, "no blocks of chain")) {
		return -1
	}
	mustOK(t, r, "store digest")
	h, ok := decode[map[string]any](t, r.stdout)["tip_height"].(float64)
	if !ok {
		return -1
	}
	return int64(h)
}

// bulkLeftovers lists the files of bulk-loaded groups in the store's
// directory that Pebble did not take.
func bulkLeftovers(t *testing.T, data string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(data, "bulkload-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestIngestBulkNeedsBlocks: --bulk applies to block files; with --rpc it
// is a usage error (exit 2) and nothing is opened.
func TestIngestBulkNeedsBlocks(t *testing.T) {
	data := filepath.Join(t.TempDir(), "d")
	r := cli(t, "--data", data, "--quiet", "ingest", "btc", "--bulk", "--rpc", "http://127.0.0.1:1")
	if r.code != 2 || !strings.Contains(r.stderr, "--bulk needs --blocks") {
		t.Fatalf("ingest btc --bulk --rpc: exit %d, stderr %q; want exit 2 naming --bulk", r.code, r.stderr)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("a usage error created the store: %v", err)
	}
}

// TestIngestBulkSettles: a bulk ingest that finishes leaves level 0 empty
// (its Close flushes, then compacts level 0 down), and one interrupted by
// SIGINT, as a user's Ctrl-C, exits without that compaction (the CLI asks
// the store to skip it: pebble.DB.SkipSettle) and leaves its files there,
// as store stats reports; a rerun finishes the load and settles it.
func TestIngestBulkSettles(t *testing.T) {
	if testing.Short() {
		t.Skip("interrupts child processes; slow")
	}
	world := t.TempDir()
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: world, Seed: 5, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	bulk := func(data string) []string {
		return []string{"--data", data, "--quiet", "ingest", "btc", "--bulk", "--blocks", world, "--network", "regtest"}
	}
	level0 := func(data, when string) int64 {
		t.Helper()
		r := cli(t, "--data", data, "--json", "store", "stats")
		mustOK(t, r, "store stats "+when)
		rep := decode[store.StatsReport](t, r.stdout)
		if len(rep.Levels) == 0 || rep.TableBytes == 0 || len(rep.Families) == 0 {
			t.Fatalf("store stats %s: %s", when, r.stdout)
		}
		return rep.Levels[0].Files
	}

	clean := t.TempDir()
	start := time.Now()
	mustOK(t, cli(t, bulk(clean)...), "clean bulk ingest")
	full := time.Since(start)
	if n := level0(clean, "after a bulk ingest"); n != 0 {
		t.Fatalf("a finished bulk ingest left %d files in level 0, want none", n)
	}
	top := tipHeightOf(t, clean, "btc-regtest")

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 3))
	for i := 0; ; i++ {
		if i == 12 {
			t.Fatalf("no SIGINT landed in the middle of the writes (kill seed %d)", seed)
		}
		data := t.TempDir()
		cmd := exec.Command(os.Args[0], bulk(data)...)
		cmd.Env = append(os.Environ(), "HEISTGRAPH_TEST_CLI=1", "HEISTGRAPH_DATA=")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// After the first group's sorted tables are in (the process's
		// start-up, under load, can take longer than the clean ingest),
		// at a random moment within half a clean ingest's time.
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if ssts, _ := filepath.Glob(filepath.Join(data, "*.sst")); len(ssts) > 0 {
				break
			}
		}
		time.Sleep(time.Duration(rng.Int64N(int64(full)/2 + 1)))
		_ = cmd.Process.Signal(os.Interrupt)
		werr := cmd.Wait()
		tip := tipHeightOf(t, data, "btc-regtest")
		t.Logf("SIGINT %d: exit %v, store tip %d of %d", i, werr, tip, top)
		if tip < 1 || tip >= top {
			continue // before the first group landed, or after the last
		}
		if n := level0(data, "after an interrupted bulk ingest"); n == 0 {
			t.Fatalf("an interrupted bulk ingest (tip %d of %d) compacted level 0 before exiting", tip, top)
		}
		mustOK(t, cli(t, bulk(data)...), "rerun")
		if n := level0(data, "after the rerun"); n != 0 {
			t.Fatalf("the rerun left %d files in level 0, want none", n)
		}
		if got, want := dumpOf(t, "--data", data, "--quiet"), dumpOf(t, "--data", clean, "--quiet"); got != want {
			t.Fatalf("interrupted and rerun, the store's dump differs from a clean one's:\n%s", firstDiffText(got, want))
		}
		return
	}
}
