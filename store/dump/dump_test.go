package dump_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/heistgraph/heistgraph/store/dump"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.jsonl")

// smallWorld is the world of the golden dump: every kind of line, two
// reorgs on each chain.
var smallWorld = worldParams{seed: 1, blocks: 6, txsPerBlock: 3, reorgs: 2, evmBlocks: 4}

// TestGolden pins the dump of a small fixed world: any change to what a
// dump holds or how it is written shows here (go test -update rewrites
// it, to be reviewed as a change of the format).
func TestGolden(t *testing.T) {
	st := openPebble(t)
	run(t, st, newWorld(smallWorld).history)
	got := dumpOf(t, st, dump.Options{})
	path := filepath.Join("testdata", "golden.jsonl")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("dump differs from %s (go test -update rewrites it):\n%s", path, firstDiff(got, want))
	}
	// The external sort spilling every line to its own run gives the same
	// bytes as sorting in memory.
	if spilled := dumpOf(t, st, dump.Options{SortMemory: 1, TempDir: t.TempDir()}); !bytes.Equal(spilled, got) {
		t.Errorf("a dump sorted in runs on disk differs:\n%s", firstDiff(spilled, got))
	}
	for _, kind := range []string{"block", "tx", "output", "transfer", "address", "account", "token", "cluster", "evidence", "override", "label"} {
		if !bytes.Contains(got, []byte(`{"kind":"`+kind+`"`)) {
			t.Errorf("the golden world has no %s line", kind)
		}
	}
}

// TestMetamorphic: random worlds whose history reorganises both chains
// (rewinds, competing branches, clustering between reorgs) dump exactly as
// a fresh store fed only the surviving chains.
func TestMetamorphic(t *testing.T) {
	for seed := uint64(10); seed < 13; seed++ {
		w := newWorld(worldParams{seed: seed, blocks: 10, txsPerBlock: 8, reorgs: 3, evmBlocks: 8})
		a, b := openPebble(t), openPebble(t)
		run(t, a, w.history)
		run(t, b, w.final)
		if got, want := dumpOf(t, a, dump.Options{}), dumpOf(t, b, dump.Options{}); !bytes.Equal(got, want) {
			t.Errorf("seed %d: the reorganised store and the fresh one differ:\n%s", seed, firstDiff(got, want))
		}
	}
}

// firstDiff shows the first line where a and b differ.
func firstDiff(a, b []byte) string {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y []byte
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if !bytes.Equal(x, y) {
			return "line " + strconv.Itoa(i+1) + ":\n got  " + string(x) + "\n want " + string(y)
		}
	}
	return "(equal)"
}

// TestCancel: a cancelled dump ends with the context's error, not with a
// dump that looks whole.
func TestCancel(t *testing.T) {
	st := openPebble(t)
	run(t, st, newWorld(smallWorld).history)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src, err := dump.For(st)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := dump.Write(ctx, &b, src, dump.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("dump with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := dump.For(struct{}{}); err == nil {
		t.Error("dump.For accepted a value that is no store")
	}
}
