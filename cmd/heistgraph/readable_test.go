package main

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/synth"
)

// labelRows returns the rows of a world's labels.csv, without the header.
func labelRows(t *testing.T, dir string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, synth.LabelsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}

// labelledAddress returns the first address of a category in a world's
// labels.csv, with its entity.
func labelledAddress(t *testing.T, dir, category string) (addr, entity string) {
	t.Helper()
	for _, row := range labelRows(t, dir) {
		if row[3] == category {
			return row[1], row[2]
		}
	}
	t.Fatalf("no %s in %s", category, synth.LabelsFile)
	return "", ""
}

// bigCluster returns the labelled address of a world whose cluster is the
// largest, with its entity.
func bigCluster(t *testing.T, dir, data string) (addr, entity string) {
	t.Helper()
	var best int64
	for _, row := range labelRows(t, dir) {
		r := cli(t, "--data", data, "--json", "show", "address", row[1])
		mustOK(t, r, "show address "+row[1])
		if v := decode[addressJSON](t, r.stdout); v.ClusterSize > best {
			best, addr, entity = v.ClusterSize, row[1], row[2]
		}
	}
	return addr, entity
}

// TestReadableGoldens pins the human output of show address (with its
// history), cluster show (with its members) on the small world of seed 7
// and on real mainnet blocks, so that readability changes are reviewed
// (trace's is trace_heist01.txt in TestTraceCLI).
func TestReadableGoldens(t *testing.T) {
	dir, data, _ := tracedWorld(t)
	exch, _ := bigCluster(t, dir, data)
	mainnet := t.TempDir()
	mustOK(t, cli(t, "--data", mainnet, "--quiet", "ingest", "btc", "--blocks", blocks1to255), "ingest 1-255")
	tests := []struct {
		name, golden string
		args         []string
	}{
		{"show address", "show_address_exchange.txt", []string{"--data", data, "show", "address", exch}},
		{"show address history", "show_address_exchange_history.txt", []string{"--data", data, "show", "address", exch, "--history", "--limit", "6"}},
		{"show address history page 2", "show_address_exchange_history_2.txt", []string{"--data", data, "show", "address", exch, "--history", "--limit", "6", "--offset", "6"}},
		{"cluster show", "cluster_show_exchange.txt", []string{"--data", data, "cluster", "show", exch, "--limit", "5"}},
		{"cluster show members", "cluster_show_exchange_members.txt", []string{"--data", data, "cluster", "show", exch, "--members", "--limit", "8"}},
		{"cluster show members page 2", "cluster_show_exchange_members_2.txt", []string{"--data", data, "cluster", "show", exch, "--members", "--limit", "8", "--offset", "8"}},
		{"mainnet hal", "show_address_hal_history.txt", []string{"--data", mainnet, "show", "address", hal, "--history"}},
		{"mainnet satoshi's cluster", "cluster_show_satoshi_members.txt", []string{"--data", mainnet, "cluster", "show", satoshi, "--members"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, tc.args...)
			mustOK(t, r, strings.Join(tc.args[2:], " "))
			if r.stderr != "" {
				t.Errorf("stderr %q, want nothing (the clusters are up to date)", r.stderr)
			}
			if again := cli(t, tc.args...); again.stdout != r.stdout {
				t.Error("two runs differ")
			}
			testutil.Golden(t, tc.golden, []byte(r.stdout))
		})
	}
}

// TestShowAddressHistoryPages: the pages of --history, put together, are
// the whole history once, in chain order, and agree with the address's
// totals.
func TestShowAddressHistoryPages(t *testing.T) {
	dir, data, _ := tracedWorld(t)
	exch, entity := labelledAddress(t, dir, "exchange")
	var all []addressEventJSON
	var v addressJSON
	for off := 0; ; {
		r := cli(t, "--data", data, "--json", "show", "address", exch, "--history", "--limit", "7", "--offset", strconv.Itoa(off))
		mustOK(t, r, "show address --history")
		v = decode[addressJSON](t, r.stdout)
		if v.History == nil {
			t.Fatalf("page at %d: no history", off)
		}
		all = append(all, *v.History...)
		if v.NextOffset == nil {
			break
		}
		if *v.NextOffset != off+7 || len(*v.History) != 7 {
			t.Fatalf("page at %d: next %d, %d events", off, *v.NextOffset, len(*v.History))
		}
		off = *v.NextOffset
	}
	var received, spent, nr, ns int64
	for i, e := range all {
		switch e.Kind {
		case "received":
			received += e.AmountSat
			nr++
		case "spent":
			spent += e.AmountSat
			ns++
		default:
			t.Fatalf("event %d: kind %q", i, e.Kind)
		}
		if i > 0 && e.Height < all[i-1].Height {
			t.Fatalf("event %d at height %d after %d: not in chain order", i, e.Height, all[i-1].Height)
		}
	}
	if received != v.ReceivedSat || spent != v.SentSat || nr != v.OutputCount || ns != v.SpendCount {
		t.Errorf("history: %d received in %d, %d spent in %d; totals say %d in %d, %d in %d",
			received, nr, spent, ns, v.ReceivedSat, v.OutputCount, v.SentSat, v.SpendCount)
	}
	if v.ClusterID == nil || v.ClusterSize < 1 || len(v.Labels) == 0 || v.Labels[0].Entity != entity || v.ClustersHeight == nil || v.ClustersBehind != 0 {
		t.Errorf("show address: cluster %v size %d labels %+v clusters at %v behind %d", v.ClusterID, v.ClusterSize, v.Labels, v.ClustersHeight, v.ClustersBehind)
	}
	r := cli(t, "--data", data, "--json", "show", "address", exch, "--history", "--offset", "100000")
	mustOK(t, r, "a page past the end")
	if p := decode[addressJSON](t, r.stdout); p.History == nil || len(*p.History) != 0 || p.NextOffset != nil {
		t.Errorf("a page past the end: history %v, next %v; want [] and none", p.History, p.NextOffset)
	}
	if r := cli(t, "--data", data, "show", "address", exch, "--history", "--limit", "-1"); r.code != exitUsage {
		t.Errorf("--limit -1: exit %d, want 2", r.code)
	}
}

// TestClusterMembersCLI: cluster show --members pages through exactly the
// cluster's addresses, whichever member is asked.
func TestClusterMembersCLI(t *testing.T) {
	dir, data, _ := tracedWorld(t)
	exch, entity := bigCluster(t, dir, data)
	list := func(addr string) ([]string, clusterMembersJSON) {
		var out []string
		var v clusterMembersJSON
		for off := 0; ; {
			r := cli(t, "--data", data, "--json", "cluster", "show", addr, "--members", "--limit", "9", "--offset", strconv.Itoa(off))
			mustOK(t, r, "cluster show --members")
			v = decode[clusterMembersJSON](t, r.stdout)
			for _, m := range v.Members {
				out = append(out, m.Address)
			}
			if v.Next == 0 {
				return out, v
			}
			off = v.Next
		}
	}
	got, v := list(exch)
	if int64(len(got)) != v.Size || v.Size < 10 || len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
		t.Fatalf("members of %s: %d listed (%d distinct), size %d", exch, len(got), len(slices.Compact(slices.Sorted(slices.Values(got)))), v.Size)
	}
	if len(v.Labels) == 0 || v.Labels[0].Entity != entity {
		t.Errorf("labels %+v, want %s", v.Labels, entity)
	}
	// Every listed address says it is in the cluster; another member gives
	// the same list.
	for _, a := range []string{got[0], got[len(got)/2], got[len(got)-1]} {
		r := cli(t, "--data", data, "--json", "show", "address", a)
		mustOK(t, r, "show address "+a)
		if sa := decode[addressJSON](t, r.stdout); sa.ClusterID == nil || *sa.ClusterID != v.ClusterID || sa.ClusterSize != v.Size {
			t.Errorf("%s: cluster %v of %d, want %d of %d", a, sa.ClusterID, sa.ClusterSize, v.ClusterID, v.Size)
		}
	}
	if other, _ := list(got[len(got)-1]); !slices.Equal(other, got) {
		t.Errorf("the list from %s differs from the list from %s", got[len(got)-1], exch)
	}
	if r := cli(t, "--data", data, "cluster", "show", exch, "--members", "--to", got[1]); r.code != exitUsage {
		t.Errorf("--members --to: exit %d, want 2", r.code)
	}
}

// TestClusterOverrideConfirms: merge and split say what they recorded,
// under which override id, and the clusters they left; repeating one
// records nothing and names the override that already says it.
func TestClusterOverrideConfirms(t *testing.T) {
	dir, data, _ := tracedWorld(t)
	exch, _ := labelledAddress(t, dir, "exchange")
	mixer, _ := labelledAddress(t, dir, "mixer")
	overrides := func() int { // the overrides naming the mixer's address
		r := cli(t, "--data", data, "--json", "cluster", "show", mixer)
		mustOK(t, r, "cluster show")
		return len(decode[clusterShowJSON](t, r.stdout).Overrides)
	}
	merge := []string{"--data", data, "cluster", "merge", exch, mixer, "--by", "ana", "--why", "seized server logs"}
	r := cli(t, merge...)
	mustOK(t, r, "cluster merge")
	if !regexp.MustCompile(`^merged \S+ and \S+ on btc-regtest: override 1 \(by ana on \S+: seized server logs\)\n  cluster \d+ of \d+ addresses\n$`).MatchString(r.stdout) {
		t.Errorf("merge says %q", r.stdout)
	}
	if n := overrides(); n != 1 {
		t.Fatalf("%d overrides after a merge", n)
	}
	for range 2 {
		r = cli(t, append(merge[:len(merge):len(merge)], "--json")...)
		mustOK(t, r, "cluster merge again")
		v := decode[overrideResultJSON](t, r.stdout)
		if !v.Duplicate || v.Override.Seq != 1 || v.Stats != nil || len(v.Addresses) != 2 || v.Addresses[0].ClusterID != v.Addresses[1].ClusterID {
			t.Errorf("merge again: %+v", v)
		}
	}
	r = cli(t, merge...)
	if !strings.Contains(r.stdout, "already merged by override 1") || !strings.Contains(r.stdout, "nothing recorded") {
		t.Errorf("merge again says %q", r.stdout)
	}
	if n := overrides(); n != 1 {
		t.Errorf("%d overrides after repeating the merge, want 1", n)
	}
	split := []string{"--data", data, "cluster", "split", mixer, "--by", "bob", "--why", "wrong"}
	r = cli(t, split...)
	mustOK(t, r, "cluster split")
	if !strings.HasPrefix(r.stdout, "split "+mixer+" off its cluster on btc-regtest: override 2 (by bob") || !strings.Contains(r.stdout, "the rest: cluster") {
		t.Errorf("split says %q", r.stdout)
	}
	r = cli(t, split...)
	if !strings.Contains(r.stdout, "already split by override 2") || overrides() != 2 {
		t.Errorf("split again says %q", r.stdout)
	}
}

// TestHalfBuiltClusters builds the situation of issue 14 item 13: a
// cluster update interrupted half-way (and an ingest with clustering off)
// leaves clusters behind the chain; trace, show address and cluster show
// say so on stderr and in their JSON, until cluster update catches up.
func TestHalfBuiltClusters(t *testing.T) {
	base := t.TempDir()
	dir, data := filepath.Join(base, "world"), filepath.Join(base, "data")
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: dir, Seed: 7, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	truth, err := synth.LoadTruth(filepath.Join(dir, synth.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", dir, "--cluster=false"), "ingest without clustering")
	mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", filepath.Join(dir, synth.LabelsFile), "--format", "csv"), "import labels")
	exch, _ := labelledAddress(t, dir, "exchange")
	trace := append([]string{"--data", data, "trace", "--chain", "btc-regtest"}, seedArgs(truth.Heists[0])...)

	// Never clustered.
	r := cli(t, append(trace, "--json")...)
	mustOK(t, r, "trace on no clusters")
	v := decode[struct{ clustersJSON }](t, r.stdout)
	if v.ClustersHeight != nil || v.ClustersBehind != 721 || !strings.Contains(r.stderr, "warning: the btc-regtest chain was never clustered") {
		t.Errorf("never clustered: %+v, stderr %q", v, r.stderr)
	}
	if r := cli(t, "--data", data, "eval", "cluster", "--truth", filepath.Join(dir, synth.TruthFile)); r.code != exitFailure || !strings.Contains(r.stderr, "no clusters of btc-regtest") {
		t.Errorf("eval cluster on no clusters: exit %d, stderr %q", r.code, r.stderr)
	}

	// A cluster update interrupted at height 400 (as a SIGINT does).
	db, err := pebble.Open(data, pebble.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	opts := cluster.DefaultOptions()
	opts.Progress = func(h int64) {
		if h == 400 {
			cancel()
		}
	}
	if _, err := cluster.Update(ctx, db, heistgraph.ChainBTCRegtest, opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted update: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		trace,
		{"--data", data, "show", "address", exch},
		{"--data", data, "cluster", "show", exch},
		{"--data", data, "cluster", "show", exch, "--members"},
	} {
		r := cli(t, append(args, "--json")...)
		mustOK(t, r, strings.Join(args[2:], " "))
		v := decode[struct{ clustersJSON }](t, r.stdout)
		if v.ClustersHeight == nil || *v.ClustersHeight != 400 || v.ClustersBehind != 320 {
			t.Errorf("%v: clusters at %v, %d behind; want 400, 320", args[2:4], v.ClustersHeight, v.ClustersBehind)
		}
		text := cli(t, append(args, "--quiet")...)
		mustOK(t, text, strings.Join(args[2:], " "))
		if want := "heistgraph: warning: clusters of btc-regtest are 320 block(s) behind the chain (clustered to height 400 of 720)"; !strings.HasPrefix(text.stderr, want) ||
			strings.Count(text.stderr, "\n") != 1 {
			t.Errorf("%v: stderr %q, want one line %q...", args[2:4], text.stderr, want)
		}
	}

	// A failed lookup (a well-formed address the store has never seen) on stale
	// clusters says only its error.
	for _, args := range [][]string{
		{"--data", data, "trace", "--seed", strings.Repeat("ab", 32) + ":0"},
		{"--data", data, "cluster", "show", "bcrt1qtfd95kj6tfd95kj6tfd95kj6tfd95kj6qz56sc"},
		{"--data", data, "cluster", "show", "bcrt1qtfd95kj6tfd95kj6tfd95kj6tfd95kj6qz56sc", "--members"},
	} {
		if r := cli(t, args...); r.code != exitFailure || strings.Count(r.stderr, "\n") != 1 || strings.Contains(r.stderr, "warning") {
			t.Errorf("%v: exit %d, stderr %q; want one error line", args[2:], r.code, r.stderr)
		}
	}

	// Caught up: no warning, nothing behind.
	mustOK(t, cli(t, "--data", data, "--quiet", "cluster", "update"), "cluster update")
	r = cli(t, append(trace, "--json")...)
	mustOK(t, r, "trace")
	if v := decode[struct{ clustersJSON }](t, r.stdout); v.ClustersHeight == nil || *v.ClustersHeight != 720 || v.ClustersBehind != 0 || r.stderr != "" {
		t.Errorf("caught up: %+v, stderr %q", v, r.stderr)
	}
}

// TestTerminalEscapes: names from input files reach the terminal with
// their control codes escaped (and JSON keeps them as they are).
func TestTerminalEscapes(t *testing.T) {
	dir, data, _ := tracedWorld(t)
	exch, _ := labelledAddress(t, dir, "exchange")
	evil := "Evil\x1b[2J\x1b]0;owned\x07 Corp\u202e"
	csvPath := filepath.Join(t.TempDir(), "evil.csv")
	content := "chain,address,entity,category,source,confidence\nbtc-regtest," + exch + ",\"" + evil + "\",exchange,\"src\x1b[31m\",0.5\n"
	if err := os.WriteFile(csvPath, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", csvPath, "--format", "csv"), "import the evil label")
	for _, args := range [][]string{
		{"show", "address", exch},
		{"cluster", "show", exch},
		{"cluster", "show", exch, "--members"},
	} {
		r := cli(t, append([]string{"--data", data}, args...)...)
		mustOK(t, r, strings.Join(args, " "))
		if strings.ContainsAny(r.stdout, "\x1b\x07\u202e") {
			t.Errorf("%v prints control codes raw:\n%q", args, r.stdout)
		}
		if !strings.Contains(r.stdout, `Evil\x1b[2J\x1b]0;owned\a Corp\u202e`) || !strings.Contains(r.stdout, `src\x1b[31m`) {
			t.Errorf("%v does not show the escaped name:\n%s", args, r.stdout)
		}
		j := cli(t, append([]string{"--data", data, "--json"}, args...)...)
		if !strings.Contains(j.stdout, `Evil\u001b[2J`) {
			t.Errorf("%v --json lost the name as imported", args)
		}
	}
}

// TestEvalClusterWithoutClusters: eval cluster on a store that holds no
// clusters (or nothing at all) fails as eval trace does, instead of
// scoring no pairs as a perfect 1.0000.
func TestEvalClusterWithoutClusters(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "world")
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: dir, Seed: 3, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	truth := filepath.Join(dir, synth.TruthFile)
	unclustered := filepath.Join(base, "unclustered")
	mustOK(t, cli(t, "--data", unclustered, "--quiet", "ingest", "btc", "--blocks", dir, "--cluster=false"), "ingest without clustering")
	tests := []struct {
		name, data, msg string
	}{
		{"no store", filepath.Join(base, "nothing-here"), "no store at"},
		{"never clustered", unclustered, "no clusters of btc-regtest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, "--data", tc.data, "eval", "cluster", "--truth", truth)
			if r.code != exitFailure || !strings.Contains(r.stderr, tc.msg) || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 saying %q", r.code, r.stdout, r.stderr, tc.msg)
			}
			j := cli(t, "--data", tc.data, "--json", "eval", "cluster", "--truth", truth)
			if j.code != exitFailure || !strings.Contains(j.stderr, `"kind":"not_found"`) || strings.Contains(j.stdout, "precision") {
				t.Errorf("--json: exit %d, stdout %q, stderr %q", j.code, j.stdout, j.stderr)
			}
		})
	}
}
