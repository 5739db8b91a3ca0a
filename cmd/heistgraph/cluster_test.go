package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph/synth"
)

// clusteredWorld generates the small synthetic world of seed 1, ingests
// it, imports its labels and clusters it, under t.TempDir().
func clusteredWorld(t *testing.T) (dir, data string) {
	t.Helper()
	base := t.TempDir()
	dir, data = filepath.Join(base, "world"), filepath.Join(base, "data")
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: dir, Seed: 1, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", dir, "--network", "regtest", "--cluster=false"), "ingest the world (clustered below by cluster update)")
	mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", filepath.Join(dir, synth.LabelsFile), "--format", "csv"), "import labels")
	return dir, data
}

// TestClusterSmallWorld clusters the small world and scores it against its
// truth: the CI run of methods.md §3's must-show (the medium world is in
// the package's benchmarks and docs).
func TestClusterSmallWorld(t *testing.T) {
	dir, data := clusteredWorld(t)
	r := cli(t, "--data", data, "--json", "cluster", "update")
	mustOK(t, r, "cluster update")
	st := decode[clusterStatsJSON](t, r.stdout)
	if st.Blocks == 0 || st.Inputs == 0 || st.CommonInput == 0 || st.Change == 0 || st.CoinJoins["whirlpool"] == 0 || st.CoinJoins["wasabi2"] == 0 {
		t.Errorf("cluster update: %+v", st)
	}
	r = cli(t, "--data", data, "--json", "cluster", "update")
	mustOK(t, r, "cluster update again")
	if again := decode[clusterStatsJSON](t, r.stdout); again.Blocks != 0 || again.Addresses != st.Addresses || again.Clusters != st.Clusters {
		t.Errorf("second update: %+v, want nothing new", again)
	}

	r = cli(t, "--data", data, "--json", "eval", "cluster", "--truth", filepath.Join(dir, synth.TruthFile))
	mustOK(t, r, "eval cluster")
	type evalOut struct {
		Cluster struct {
			Precision      float64 `json:"precision"`
			Recall         float64 `json:"recall"`
			F1             float64 `json:"f1"`
			Clusters       int64   `json:"clusters"`
			MergedEntities int64   `json:"merged_entities"`
			ByCategory     map[string]struct {
				MergedEntities int64 `json:"merged_entities"`
			} `json:"by_category"`
		} `json:"cluster"`
	}
	ev := decode[evalOut](t, r.stdout).Cluster
	t.Logf("small world: precision %.4f recall %.4f f1 %.4f, %d clusters, %d mixing", ev.Precision, ev.Recall, ev.F1, ev.Clusters, ev.MergedEntities)
	if ev.Precision < 0.99 || ev.Recall <= 0.05 || ev.Clusters == 0 {
		t.Errorf("eval cluster: %+v, want precision >= 0.99", ev)
	}
	if n := ev.ByCategory["exchange"].MergedEntities; n != 0 {
		t.Errorf("%d exchange clusters mix entities", n)
	}

	// A labelled exchange address: its cluster, labels and evidence.
	f, err := os.Open(filepath.Join(dir, synth.LabelsFile))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var addr, entity string
	for _, row := range rows[1:] {
		if row[3] == "exchange" {
			addr, entity = row[1], row[2]
			break
		}
	}
	r = cli(t, "--data", data, "--json", "cluster", "show", addr)
	mustOK(t, r, "cluster show")
	cs := decode[clusterShowJSON](t, r.stdout)
	if cs.ClusterID == 0 || cs.Size < 1 || len(cs.Labels) == 0 || cs.Labels[0].Entity != entity {
		t.Errorf("cluster show %s: %+v", addr, cs)
	}
	r = cli(t, "--data", data, "--json", "show", "address", addr)
	mustOK(t, r, "show address")
	sa := decode[addressJSON](t, r.stdout)
	if sa.ClusterID == nil || *sa.ClusterID != cs.ClusterID || len(sa.Labels) == 0 || sa.Labels[0].Entity != entity {
		t.Errorf("show address %s: cluster %v labels %+v, want cluster %d", addr, sa.ClusterID, sa.Labels, cs.ClusterID)
	}
	r = cli(t, "--data", data, "--json", "labels", "show", addr)
	mustOK(t, r, "labels show")
	if ls := decode[labelsShowOut](t, r.stdout); ls.Cluster == nil || *ls.Cluster != cs.ClusterID {
		t.Errorf("labels show %s: %+v", addr, ls)
	}
	// An address with evidence shows it, and the path to a cluster mate.
	tested := false
	for _, row := range rows[1:] {
		r = cli(t, "--data", data, "--json", "cluster", "show", row[1], "--limit", "1")
		mustOK(t, r, "cluster show "+row[1])
		cs = decode[clusterShowJSON](t, r.stdout)
		if len(cs.Evidence) == 0 {
			continue
		}
		mate := cs.Evidence[0].Addresses[0]
		if mate == row[1] {
			mate = cs.Evidence[0].Addresses[1]
		}
		r = cli(t, "--data", data, "--json", "cluster", "show", row[1], "--to", mate)
		mustOK(t, r, "cluster show --to")
		if p := decode[clusterShowJSON](t, r.stdout); p.PathFound == nil || !*p.PathFound || len(p.Path) == 0 {
			t.Errorf("path from %s to %s: %+v", row[1], mate, p)
		}
		// Split the mate off and merge it back, with who and why.
		r = cli(t, "--data", data, "--json", "cluster", "split", mate, "--by", "ana", "--why", "test")
		mustOK(t, r, "cluster split")
		r = cli(t, "--data", data, "--json", "cluster", "show", mate)
		mustOK(t, r, "cluster show after split")
		if after := decode[clusterShowJSON](t, r.stdout); after.ClusterID == cs.ClusterID || len(after.Overrides) != 1 || after.Overrides[0].By != "ana" {
			t.Errorf("after split: %+v", after)
		}
		mustOK(t, cli(t, "--data", data, "--json", "cluster", "merge", mate, row[1], "--by", "ana", "--why", "undo"), "cluster merge")
		r = cli(t, "--data", data, "--json", "cluster", "show", mate)
		if after := decode[clusterShowJSON](t, r.stdout); after.ClusterID != cs.ClusterID {
			t.Errorf("after merge: cluster %d, want %d", after.ClusterID, cs.ClusterID)
		}
		tested = true
		break
	}
	if !tested {
		t.Error("no labelled address has evidence")
	}
}

func TestClusterBadUsage(t *testing.T) {
	data := t.TempDir()
	r := cli(t, "--data", data, "--json", "--quiet", "ingest", "btc", "--blocks", blocks1to255, "--cluster")
	mustOK(t, r, "ingest --cluster")
	type ingestOut struct {
		Cluster *clusterStatsJSON `json:"cluster"`
	}
	if c := decode[ingestOut](t, r.stdout).Cluster; c == nil || c.Blocks != 256 || c.TipHeight != 255 || c.Addresses == 0 {
		t.Errorf("ingest --cluster: %+v", c)
	}
	mustOK(t, cli(t, "--data", data, "--quiet", "cluster", "update"), "cluster update of mainnet blocks")
	tests := []struct {
		name string
		args []string
		code int
		kind string
	}{
		{"merge without by", []string{"cluster", "merge", satoshi, hal, "--why", "x"}, exitUsage, "invalid"},
		{"merge one address", []string{"cluster", "merge", satoshi, "--by", "a", "--why", "x"}, exitUsage, "invalid"},
		{"split unknown address", []string{"cluster", "split", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "--by", "a", "--why", "x"}, exitFailure, "not_found"},
		{"show unknown address", []string{"cluster", "show", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}, exitFailure, "not_found"},
		{"show negative limit", []string{"cluster", "show", satoshi, "--limit", "-1"}, exitUsage, "invalid"},
		{"update unknown heuristic", []string{"cluster", "update", "--change", "fresh,bogus"}, exitUsage, "invalid"},
		{"update a chain not in the registry", []string{"cluster", "update", "--chain", "nochain"}, exitUsage, "invalid"},
		{"eval without truth", []string{"eval", "cluster"}, exitUsage, "invalid"},
		{"eval missing truth file", []string{"eval", "cluster", "--truth", filepath.Join(data, "nope.json")}, exitUsage, "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, append([]string{"--data", data, "--json"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, `"kind":"`+tc.kind+`"`) {
				t.Errorf("exit %d, want %d (%s); stderr %s", r.code, tc.code, tc.kind, r.stderr)
			}
		})
	}
	// Mainnet's first blocks: Hal received from Satoshi, nothing joins them.
	r = cli(t, "--data", data, "--json", "cluster", "show", hal)
	mustOK(t, r, "cluster show hal")
	if v := decode[clusterShowJSON](t, r.stdout); v.Size != 1 || len(v.Evidence) != 0 {
		t.Errorf("hal: %+v", v)
	}
}
