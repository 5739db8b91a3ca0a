package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/internal/testutil"
)

// sinkKey is the part of a sink that incidents show and trace both print
// (design.md's trace sink fields).
type sinkKey struct {
	Kind      string `json:"kind"`
	Address   string `json:"address"`
	TxID      string `json:"txid"`
	Vout      uint32 `json:"vout"`
	Entity    string `json:"entity"`
	Category  string `json:"category"`
	AmountSat int64  `json:"amount_sat"`
	Hops      int    `json:"hops"`
}

// TestIncidentShowTracesLikeTrace: `incidents show` traces an incident's
// theft transactions as `trace --seed` does, entities resolved through
// clusters. On the small world of seed 7 (labelled and clustered), a staged
// incident whose theft transactions are those of the world's first heist
// gives the same sinks as trace seeded with them, and some of its entity
// sinks sit at addresses that carry no label of their own (the label
// reaches them through their cluster): by labels alone, as incidents show
// resolved entities before, they would not be entity sinks.
func TestIncidentShowTracesLikeTrace(t *testing.T) {
	_, data, truth := tracedWorld(t)
	h := truth.Heists[0]
	var txids []string
	for _, s := range h.Seeds {
		if id, _, _ := strings.Cut(s, ":"); !slices.Contains(txids, id) {
			txids = append(txids, id)
		}
	}
	mustOK(t, cli(t, "--data", data, "--quiet", "import", "stix", stagedIncident(t, txids, h.AmountSat)), "import the staged incident")

	r := cli(t, "--data", data, "--json", "incidents", "show", "synth-heist-2026")
	mustOK(t, r, "incidents show")
	testutil.Golden(t, filepath.Join("json", "incidents_show_staged_synth.json"), []byte(r.stdout))
	s := decode[struct {
		Trace struct {
			Status string `json:"status"`
			Runs   []struct {
				Sinks []sinkKey `json:"sinks"`
			} `json:"runs"`
		} `json:"trace"`
	}](t, r.stdout)
	if s.Trace.Status != "traced" || len(s.Trace.Runs) != 1 {
		t.Fatalf("incidents show: trace %+v, want one run", s.Trace)
	}
	args := []string{"--data", data, "--json", "trace", "--chain", "btc-regtest"}
	for _, id := range txids {
		args = append(args, "--seed", id)
	}
	tr := cli(t, args...)
	mustOK(t, tr, "trace")
	want := decode[struct {
		Sinks []sinkKey `json:"sinks"`
	}](t, tr.stdout).Sinks
	if got := s.Trace.Runs[0].Sinks; !slices.Equal(got, want) {
		t.Errorf("incidents show's sinks differ from trace --seed %s:\n got %+v\nwant %+v", strings.Join(txids, " --seed "), got, want)
	}
	reached := 0
	for _, k := range want {
		if k.Kind != "entity" || k.Address == "" {
			continue
		}
		l := decode[labelsShowTest](t, cli(t, "--data", data, "--json", "labels", "show", k.Address, "--chain", "btc-regtest").stdout)
		if len(l.Labels) == 0 && len(l.ClusterLabels) > 0 {
			reached++
		}
	}
	if reached == 0 {
		t.Errorf("no entity sink at an address its cluster's labels reach (without a label of its own): %+v", want)
	}
}

type labelsShowTest struct {
	Labels        []struct{} `json:"labels"`
	ClusterLabels []struct{} `json:"cluster_labels"`
}

// stagedIncident writes a one-incident register whose theft transactions
// are txids on btc-regtest, exported as a STIX bundle file.
func stagedIncident(t *testing.T, txids []string, amountSat int64) string {
	t.Helper()
	dir := t.TempDir()
	var txs strings.Builder
	for _, id := range txids {
		txs.WriteString("  - {chain: btc-regtest, txid: " + id + ", role: theft, source: synth-cert}\n")
	}
	files := map[string]string{
		"sources.yaml": `sources:
  - id: synth-cert
    publisher: Test CERT
    title: "Fixture: a synthetic world's heist"
    date: 2026-01-02
    url: https://example.org/synth
    tier: official
`,
		"synth-heist-2026.yaml": `id: synth-heist-2026
name: Synthetic heist (fixture)
victim: {name: "Synth Exchange", type: exchange}
stolen_on: 2026-01-01
vectors: [private-key-compromise]
thefts:
  - {chain: btc-regtest, asset: BTC, decimals: 8, amount: "` + strconv.FormatInt(amountSat, 10) + `", source: synth-cert}
figures:
  - {source: synth-cert, usd: "1000000"}
txs:
` + txs.String() + `attributions:
  - {actor: dprk, tier: official, on: 2026-01-02, sources: [synth-cert]}
tlp: green
`,
	}
	return registerBundle(t, dir, files, "staged")
}

// registerBundle writes files (a register's incident and source YAML) into
// dir, loads them as a register and exports it as the STIX bundle
// NAME.json, whose path it returns.
func registerBundle(t *testing.T, dir string, files map[string]string, name string) string {
	t.Helper()
	for file, body := range files {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := incident.Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	b, err := incident.Export(reg.Incidents(), reg.Sources(), incident.ExportOptions{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, name+".json", b)
}
