package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/heistgraph/heistgraph/synth"
)

// TestSynthLinkedEvalCLI runs a linked world end to end through the CLI as
// a user would: synth --chain evm, labels import, ingest evm --files and
// ingest btc --blocks of the same folder, links build on both chains, then
// eval trace --follow-links: the heists that cross to Bitcoin without a
// mixer reach value recall ≥ 0.90 and false exposure ≤ 0.10 with the
// default policy, and without --follow-links they do not (their value is
// counted at THORChain's router). synth --linked=false writes no Bitcoin.
func TestSynthLinkedEvalCLI(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	mustOK(t, cli(t, "--quiet", "synth", "--out", dir, "--seed", "1", "--scale", "small", "--chain", "evm"), "synth --chain evm")
	mustOK(t, cli(t, "--quiet", "--data", data, "labels", "import", filepath.Join(dir, synth.LabelsFile), "--format", "csv"), "labels import")
	mustOK(t, cli(t, "--quiet", "--data", data, "ingest", "evm", "--files", dir, "--chain", "evm-synth"), "ingest evm --files")
	mustOK(t, cli(t, "--quiet", "--data", data, "ingest", "btc", "--blocks", dir, "--network", "regtest"), "ingest btc --blocks")
	r := cli(t, "--data", data, "--json", "links", "build", "--chain", "evm-synth", "--chain", "btc-regtest")
	mustOK(t, r, "links build")
	truth, err := synth.LoadEVMTruth(filepath.Join(dir, synth.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, s := range truth.Linked.Swaps {
		want += len(s.Outbounds)
		if s.RefundTx != nil {
			want++
		}
	}
	want += len(truth.Linked.BitcoinRefunds)
	if got := decode[struct {
		Links     int   `json:"links"`
		Malformed []any `json:"malformed"`
	}](t, r.stdout); got.Links != want || len(got.Malformed) != 0 {
		t.Fatalf("links build: %+v, the truth has %d links", got, want)
	}

	type evalOut struct {
		Trace synth.AccountTraceEval `json:"trace"`
	}
	for _, follow := range []bool{true, false} {
		args := []string{"--data", data, "--json", "eval", "trace", "--truth", filepath.Join(dir, synth.TruthFile)}
		if follow {
			args = append(args, "--follow-links")
		}
		r := cli(t, args...)
		mustOK(t, r, "eval trace")
		ev := decode[evalOut](t, r.stdout).Trace
		crossing := 0
		for _, h := range ev.Heists {
			if !h.CrossesChains || h.UsesMixer {
				continue
			}
			crossing++
			met := h.ValueRecall >= 0.90 && h.FalseExposure <= 0.10
			if met != follow {
				t.Errorf("--follow-links %v: %s recall %.4f exposure %.4f", follow, h.ID, h.ValueRecall, h.FalseExposure)
			}
		}
		if crossing == 0 || ev.CrossChain.Heists != crossing {
			t.Errorf("--follow-links %v: %d cross-chain heists, %d pooled", follow, crossing, ev.CrossChain.Heists)
		}
	}

	alone := t.TempDir()
	mustOK(t, cli(t, "--quiet", "synth", "--out", alone, "--seed", "1", "--scale", "small", "--chain", "evm", "--linked=false"), "synth --linked=false")
	if blks, _ := filepath.Glob(filepath.Join(alone, "blk*.dat")); len(blks) != 0 {
		t.Errorf("--linked=false wrote %v", blks)
	}
	if _, err := os.Stat(filepath.Join(alone, synth.LinkedTruthFile)); err == nil {
		t.Errorf("--linked=false wrote %s", synth.LinkedTruthFile)
	}
}
