package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/synth"
)

// tracedWorld generates a small synthetic world (seed 7), ingests it,
// imports its labels and clusters it, into a data directory; both
// directories are under t.TempDir(). It
// returns the world's directory, the data directory and the truth.
func tracedWorld(t *testing.T) (dir, data string, truth *synth.Truth) {
	t.Helper()
	base := t.TempDir()
	dir, data = filepath.Join(base, "world"), filepath.Join(base, "data")
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: dir, Seed: 7, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	truth, err := synth.LoadTruth(filepath.Join(dir, synth.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", dir), "ingest the world")
	mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", filepath.Join(dir, synth.LabelsFile), "--format", "csv"), "import labels")
	mustOK(t, cli(t, "--data", data, "--quiet", "cluster", "update"), "cluster")
	return dir, data, truth
}

// seedArgs returns --seed flags for a heist's seeds.
func seedArgs(h synth.Heist) []string {
	var out []string
	for _, s := range h.Seeds {
		out = append(out, "--seed", s)
	}
	return out
}

type traceJSONTest struct {
	Chain         string   `json:"chain"`
	Policy        string   `json:"policy"`
	Conserved     bool     `json:"conserved"`
	Seeds         []string `json:"seeds"`
	SeedAmountSat int64    `json:"seed_amount_sat"`
	FeesSat       int64    `json:"fees_sat"`
	Sinks         []struct {
		Kind      string  `json:"kind"`
		Address   string  `json:"address"`
		TxID      string  `json:"txid"`
		Vout      *int    `json:"vout"`
		Entity    *string `json:"entity"`
		Category  *string `json:"category"`
		AmountSat int64   `json:"amount_sat"`
		Hops      *int    `json:"hops"`
	} `json:"sinks"`
	Edges []struct {
		From      string `json:"from"`
		To        string `json:"to"`
		AmountSat int64  `json:"amount_sat"`
	} `json:"edges"`
	Events []map[string]any `json:"events"`
	Stats  struct {
		TxsVisited *int   `json:"txs_visited"`
		MS         *int64 `json:"ms"`
	} `json:"stats"`
}

var msField = regexp.MustCompile(`"ms": [0-9]+`)

func TestTraceCLI(t *testing.T) {
	_, data, truth := tracedWorld(t)
	h := truth.Heists[0]
	base := append([]string{"--data", data, "trace", "--chain", "btc-regtest"}, seedArgs(h)...)

	t.Run("json contract and determinism", func(t *testing.T) {
		first := cli(t, append(base, "--json")...)
		mustOK(t, first, "trace --json")
		for _, policy := range []string{"haircut", "fifo", "lifo", "tiho", "poison"} {
			r := cli(t, append(base, "--json", "--policy", policy)...)
			mustOK(t, r, "trace --policy "+policy)
			v := decode[traceJSONTest](t, r.stdout)
			if v.Policy != policy || v.Chain != "btc-regtest" || len(v.Seeds) != len(h.Seeds) || v.SeedAmountSat != h.AmountSat {
				t.Fatalf("%s: policy %q chain %q seeds %d amount %d; want %d seeds, %d sat", policy, v.Policy, v.Chain, len(v.Seeds), v.SeedAmountSat, len(h.Seeds), h.AmountSat)
			}
			if v.Stats.TxsVisited == nil || v.Stats.MS == nil || len(v.Sinks) == 0 || len(v.Edges) == 0 {
				t.Fatalf("%s: stats, sinks or edges missing", policy)
			}
			var sum int64
			kinds := map[string]bool{"unspent": true, "entity": true, "threshold": true, "hop_limit": true, "untraced": true, "burned": true, "overlap": true}
			for _, s := range v.Sinks {
				if !kinds[s.Kind] || s.TxID == "" || s.Vout == nil || s.Entity == nil || s.Category == nil || s.Hops == nil {
					t.Fatalf("%s: sink %+v lacks a contract field", policy, s)
				}
				sum += s.AmountSat
			}
			for _, e := range v.Events {
				if e["kind"] == nil || e["txid"] == nil {
					t.Fatalf("%s: event %v without kind and txid", policy, e)
				}
			}
			if policy != "poison" && (!v.Conserved || sum+v.FeesSat != v.SeedAmountSat) {
				t.Fatalf("%s: sinks %d + fees %d != seed %d", policy, sum, v.FeesSat, v.SeedAmountSat)
			}
			again := cli(t, append(base, "--json", "--policy", policy)...)
			if msField.ReplaceAllString(r.stdout, "") != msField.ReplaceAllString(again.stdout, "") {
				t.Fatalf("%s: two runs differ beyond stats.ms", policy)
			}
		}
	})

	t.Run("human output", func(t *testing.T) {
		r := cli(t, base...)
		mustOK(t, r, "trace")
		testutil.Golden(t, "trace_heist01.txt", []byte(r.stdout))
	})

	t.Run("compare", func(t *testing.T) {
		r := cli(t, append(base, "--compare", "--json")...)
		mustOK(t, r, "trace --compare")
		v := decode[struct {
			Policies []string         `json:"policies"`
			Rows     []map[string]any `json:"rows"`
			Results  []traceJSONTest  `json:"results"`
		}](t, r.stdout)
		if len(v.Policies) != 5 || len(v.Results) != 5 || len(v.Rows) == 0 {
			t.Fatalf("compare: %d policies, %d results, %d rows", len(v.Policies), len(v.Results), len(v.Rows))
		}
		text := cli(t, append(base, "--compare")...)
		mustOK(t, text, "trace --compare")
		for _, p := range []string{"haircut", "poison", "fifo", "lifo", "tiho"} {
			if !strings.Contains(text.stdout, p) {
				t.Errorf("compare table lacks %s:\n%s", p, text.stdout)
			}
		}
	})

	t.Run("graph files", func(t *testing.T) {
		dir := t.TempDir()
		gm, dotPath := filepath.Join(dir, "t.graphml"), filepath.Join(dir, "t.dot")
		r := cli(t, append(base, "--json", "--graphml", gm, "--dot", dotPath)...)
		mustOK(t, r, "trace --graphml --dot")
		decode[traceJSONTest](t, r.stdout) // --json output unaffected
		b, err := os.ReadFile(gm)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Graph struct {
				Nodes []struct{} `xml:"node"`
				Edges []struct{} `xml:"edge"`
			} `xml:"graph"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil || len(doc.Graph.Nodes) == 0 || len(doc.Graph.Edges) == 0 {
			t.Fatalf("GraphML: %v, %d nodes, %d edges", err, len(doc.Graph.Nodes), len(doc.Graph.Edges))
		}
		d, err := os.ReadFile(dotPath)
		if err != nil || !bytes.HasPrefix(d, []byte("digraph trace {")) {
			t.Fatalf("DOT: %v %q", err, d[:min(len(d), 40)])
		}
		out := cli(t, append(base, "--dot", "-")...)
		mustOK(t, out, "trace --dot -")
		if !bytes.Equal([]byte(out.stdout), d) {
			t.Error("--dot - differs from --dot FILE")
		}
	})

	t.Run("bad input", func(t *testing.T) {
		seed := h.Seeds[0]
		tests := []struct {
			name string
			args []string
			code int
			msg  string
		}{
			{"no seed", []string{"trace"}, 2, "--seed"},
			{"bad until", []string{"trace", "--seed", seed, "--until", "yesterday"}, 2, "--until"},
			{"bad policy", []string{"trace", "--seed", seed, "--policy", "random"}, 2, "policy"},
			{"bad seed", []string{"trace", "--seed", "abc:def:1"}, 2, "seed"},
			{"bad max hops", []string{"trace", "--seed", seed, "--max-hops", "0"}, 2, "--max-hops"},
			{"bad min share", []string{"trace", "--seed", seed, "--min-share", "2"}, 2, "--min-share"},
			{"bad chain", []string{"trace", "--seed", seed, "--chain", "btc-nope"}, 2, "chain"},
			{"two graphs on stdout", []string{"trace", "--seed", seed, "--dot", "-", "--graphml", "-"}, 2, "stdout"},
			{"unknown output", []string{"trace", "--seed", strings.Repeat("ab", 32) + ":0"}, 1, "not found"},
			{"output index out of range", []string{"trace", "--seed", strings.Split(seed, ":")[0] + ":99"}, 1, "not found"},
			// Well-formed (checksum and network prefix right) but absent:
			// not found. A malformed one is bad input (exit 2).
			{"unknown address", []string{"trace", "--seed", "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202"}, 1, "not found"},
			{"malformed address", []string{"trace", "--seed", "bcrt1qnotanaddressweknow"}, 2, "not a valid btc-regtest address"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := cli(t, append([]string{"--data", data}, tc.args...)...)
				if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
					t.Fatalf("exit %d (want %d), stderr %q (want one line with %q)", r.code, tc.code, r.stderr, tc.msg)
				}
				j := cli(t, append([]string{"--data", data, "--json"}, tc.args...)...)
				lines := strings.Split(strings.TrimSpace(j.stderr), "\n")
				var e map[string]any
				if err := json.Unmarshal([]byte(lines[len(lines)-1]), &e); err != nil || e["error"] == nil || j.code != tc.code {
					t.Fatalf("--json: exit %d, last stderr line %q", j.code, lines[len(lines)-1])
				}
			})
		}
	})
}

func TestEvalTraceCLI(t *testing.T) {
	dir, data, truth := tracedWorld(t)
	r := cli(t, "--data", data, "--json", "eval", "trace", "--truth", filepath.Join(dir, synth.TruthFile))
	mustOK(t, r, "eval trace")
	v := decode[struct {
		Trace struct {
			Policy        string   `json:"policy"`
			ValueRecall   *float64 `json:"value_recall"`
			FalseExposure *float64 `json:"false_exposure"`
			Heists        []struct {
				ID            string   `json:"id"`
				UsesCoinJoin  *bool    `json:"uses_coinjoin"`
				ValueRecall   *float64 `json:"value_recall"`
				FalseExposure *float64 `json:"false_exposure"`
			} `json:"heists"`
		} `json:"trace"`
	}](t, r.stdout)
	if v.Trace.Policy != "haircut" || v.Trace.ValueRecall == nil || v.Trace.FalseExposure == nil || len(v.Trace.Heists) != len(truth.Heists) {
		t.Fatalf("eval trace: %+v", v.Trace)
	}
	for i, h := range v.Trace.Heists {
		if h.ID != truth.Heists[i].ID || h.UsesCoinJoin == nil || *h.UsesCoinJoin != truth.Heists[i].UsesCoinJoin ||
			h.ValueRecall == nil || h.FalseExposure == nil {
			t.Fatalf("heist %d: %+v", i, h)
		}
	}
	for _, args := range [][]string{
		{"eval", "trace"},
		{"eval", "trace", "--truth", filepath.Join(dir, synth.TruthFile), "--policy", "nope"},
	} {
		if r := cli(t, append([]string{"--data", data}, args...)...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, r.code, r.stderr)
		}
	}
	if r := cli(t, "--data", data, "eval", "trace", "--truth", filepath.Join(t.TempDir(), "missing.json")); r.code != 2 {
		t.Errorf("missing truth: exit %d, want 2 (bad input) (%s)", r.code, r.stderr)
	}
}
