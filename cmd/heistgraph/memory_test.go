package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/synth"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"1048576", 1 << 20},
		{"512MiB", 512 << 20},
		{"512m", 512 << 20},
		{"2GiB", 2 << 30},
		{" 2 gib ", 2 << 30},
		{"1.5GB", 1_500_000_000},
		{"24G", 24 << 30},
		{"1TiB", 1 << 40},
		{"64KB", 64_000},
		{"100B", 100},
	} {
		got, err := parseSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "GiB", "-1GiB", "12x", "1e9", "NaN", "Inf", "0x10", "1_000", "99999999TiB", "1 2"} {
		if got, err := parseSize(in); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("parseSize(%q) = %d, %v; want ErrInvalid", in, got, err)
		}
	}
}

func TestMemoryFlag(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--memory", "256MiB", "--quiet", "ingest", "btc", "--blocks", blocks1to255), "ingest with --memory")
	for _, bad := range []string{"12x", "1MiB"} {
		if r := cli(t, "--data", data, "--memory", bad, "show", "block", "1"); r.code != 2 {
			t.Errorf("--memory %s: exit %d, want 2 (stderr %q)", bad, r.code, r.stderr)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"2GiB", "1.5GB", "0", "12x", "-1", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("parseSize(%q): error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("parseSize(%q) = %d < 0", s, n)
		}
	})
}

// TestSplitMemory checks the split of --memory: the parts add up to no
// more than the budget, Go's limit leaves the store's memory outside Go's
// heap and the reserve, the clustering gets a share that grows with the
// budget, and a budget below the minimum is refused.
func TestSplitMemory(t *testing.T) {
	for _, c := range []struct {
		total int64
		// minCluster is the least share the clustering must get.
		minCluster int64
	}{
		// The store's caches counted at what they take on the heap
		// (pebble's TestCacheBytes) leave the clustering less than
		// before at small budgets: 2 MiB at 128 MiB, about 150,000
		// addresses spilled.
		{memMin, 1 << 20},
		{256 << 20, 48 << 20},
		{512 << 20, 160 << 20},
		{1 << 30, 384 << 20},
		{24 << 30, 12 << 30},
	} {
		b, err := splitMemory(c.total)
		if err != nil {
			t.Fatalf("splitMemory(%d): %v", c.total, err)
		}
		opts := pebble.DefaultOptions()
		if err := opts.FitMemory(b.Store); err != nil {
			t.Fatalf("splitMemory(%d): store share %d: %v", c.total, b.Store, err)
		}
		use := opts.Memory()
		if b.GoLimit+use.Manual+memReserve != c.total {
			t.Errorf("splitMemory(%d): Go limit %d + store outside Go %d + reserve %d != total", c.total, b.GoLimit, use.Manual, memReserve)
		}
		if heap := use.Heap + b.Ingest + b.Feed + b.Cluster; heap > b.GoLimit*3/4 {
			t.Errorf("splitMemory(%d): store heap %d + ingest %d + feed %d + cluster %d = %d leaves Go's collector less than a quarter of %d",
				c.total, use.Heap, b.Ingest, b.Feed, b.Cluster, heap, b.GoLimit)
		}
		if b.Cluster < c.minCluster {
			t.Errorf("splitMemory(%d): cluster share %d MiB < %d MiB", c.total, b.Cluster>>20, c.minCluster>>20)
		}
		var io ingest.Options
		if err := io.FitMemory(b.Ingest); err != nil {
			t.Errorf("splitMemory(%d): ingest share %d: %v", c.total, b.Ingest, err)
		}
		if fb := b.feedBytes(); fb <= 0 || fb*feedDecodedPerByte > b.Feed {
			t.Errorf("splitMemory(%d): the feed holds %d serialized bytes, outside its share %d", c.total, fb, b.Feed)
		}
	}
	for _, total := range []int64{0, 1 << 20, memMin - 1} {
		if b, err := splitMemory(total); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("splitMemory(%d) = %+v, %v; want ErrInvalid", total, b, err)
		}
	}
}

// TestGoMemoryLimit checks when --memory sets Go's limit: with the flag,
// unless GOMEMLIMIT is set.
func TestGoMemoryLimit(t *testing.T) {
	b, err := splitMemory(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		b    memoryBudget
		env  string
		want int64
		ok   bool
	}{
		{b, "", b.GoLimit, true},
		{b, "768MiB", 0, false},
		{memoryBudget{}, "", 0, false},
	} {
		if got, ok := goMemoryLimit(c.b, c.env); got != c.want || ok != c.ok {
			t.Errorf("goMemoryLimit(%d, %q) = %d, %v; want %d, %v", c.b.Total, c.env, got, ok, c.want, c.ok)
		}
	}
}

// TestMemoryTooSmall checks that a budget below the minimum is bad usage
// naming the flag, before anything is written.
func TestMemoryTooSmall(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	r := cli(t, "--data", data, "--memory", "100MiB", "ingest", "btc", "--blocks", blocks1to255)
	if r.code != 2 || !strings.Contains(r.stderr, "--memory 100MiB") || !strings.Contains(r.stderr, "128 MiB") {
		t.Errorf("--memory 100MiB: exit %d, stderr %q; want 2 naming the flag and the minimum", r.code, r.stderr)
	}
	if entries, err := os.ReadDir(data); err != nil || len(entries) != 0 {
		t.Errorf("--memory 100MiB: the store directory holds %d entries (%v), want none", len(entries), err)
	}
}

// TestBoundMalloc: the arenas are capped once, trim runs every interval
// until stop, and not after.
func TestBoundMalloc(t *testing.T) {
	t.Parallel()
	var arenas []int
	trims := make(chan struct{}, 100)
	stop := boundMalloc(func(n int) { arenas = append(arenas, n) }, func() bool { trims <- struct{}{}; return true }, time.Millisecond)
	for range 3 {
		select {
		case <-trims:
		case <-time.After(10 * time.Second):
			t.Fatal("trim not called every millisecond")
		}
	}
	stop()
	stop()
	if len(arenas) != 1 || arenas[0] != mallocArenas {
		t.Errorf("limit called with %v, want [%d]", arenas, mallocArenas)
	}
	time.Sleep(5 * time.Millisecond) // a tick under way when stop was called
	for len(trims) > 0 {
		<-trims
	}
	time.Sleep(20 * time.Millisecond)
	if n := len(trims); n != 0 {
		t.Errorf("trim called %d times after stop", n)
	}
}

// TestMemorySpillsClustering: under --memory the clustering's arrays are
// spilled to files in the data directory, which are gone once the command
// ends, and the store is the one an ingest and a cluster update without
// the flag write.
func TestMemorySpillsClustering(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir := filepath.Join(base, "world")
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: dir, Seed: 4, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	capped, whole := filepath.Join(base, "capped"), filepath.Join(base, "whole")
	mustOK(t, cli(t, "--data", whole, "--quiet", "ingest", "btc", "--blocks", dir, "--cluster=false"), "ingest")
	mustOK(t, cli(t, "--data", whole, "--quiet", "cluster", "update", "--graph", "off"), "cluster update")
	mustOK(t, cli(t, "--data", capped, "--quiet", "--memory", "256MiB", "ingest", "btc", "--blocks", dir), "ingest --memory")
	mustOK(t, cli(t, "--data", capped, "--quiet", "--memory", "256MiB", "cluster", "update", "--graph", "off"), "cluster update --memory")
	if dumpOf(t, "--data", capped) != dumpOf(t, "--data", whole) {
		t.Fatal("store dumps differ between clustering spilled under --memory and on the heap")
	}
	if left, _ := filepath.Glob(filepath.Join(capped, "*.spill")); len(left) != 0 {
		t.Errorf("spill files left in the data directory: %v", left)
	}
	var o cluster.Options
	(&app{memory: "256MiB", dataDir: capped}).clusterSpill(&o)
	if o.SpillDir != capped {
		t.Errorf("SpillDir under --memory = %q, want the data directory %q", o.SpillDir, capped)
	}
	for _, a := range []*app{{dataDir: capped}, {memory: "256MiB", storeURL: "postgres://x/y", dataDir: capped}} {
		o = cluster.Options{}
		if a.clusterSpill(&o); o.SpillDir != "" {
			t.Errorf("SpillDir without --memory or with PostgreSQL = %q, want none", o.SpillDir)
		}
	}
}

// TestStatusField reads /proc/PID/status fields.
func TestStatusField(t *testing.T) {
	t.Parallel()
	const status = "Name:\thg\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nRssAnon:\t 512 kB\nThreads:\t7\n"
	for _, c := range []struct {
		key  string
		want int64
	}{{"VmRSS", 1 << 20}, {"RssAnon", 512 << 10}, {"VmHWM", 2 << 20}, {"Threads", 7}, {"RssFile", 0}, {"Vm", 0}} {
		if got := statusField(strings.NewReader(status), c.key); got != c.want {
			t.Errorf("statusField(%s) = %d, want %d", c.key, got, c.want)
		}
	}
}

// TestSpillFullExit: a clustering whose spill directory ran out of disk
// ends the command with exit 2 and one line naming the directory and the
// bytes it needed.
func TestSpillFullExit(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("cluster btc-regtest: block 7: %w", &cluster.SpillFullError{Dir: "/data/hg", Need: 5 << 20, Free: 4096})
	if code := exitCode(err); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	msg := errorText(err)
	for _, want := range []string{"/data/hg", "5242880 more bytes", "4096 bytes"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q: want %q in it", msg, want)
		}
	}
	if strings.Contains(msg, "invalid") {
		t.Errorf("%q: the class word of bad input is left out", msg)
	}
}
