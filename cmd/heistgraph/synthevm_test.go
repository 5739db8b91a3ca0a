package main

import (
	"path/filepath"
	"testing"

	"github.com/heistgraph/heistgraph/synth"
)

// evmWorldStore makes a small EVM world with synth --chain evm, ingests it
// with ingest evm --files and imports its labels, as a user would; it
// returns the world's folder and the data folder.
func evmWorldStore(t *testing.T, seed string) (dir, data string) {
	t.Helper()
	dir, data = t.TempDir(), t.TempDir()
	mustOK(t, cli(t, "--quiet", "synth", "--out", dir, "--seed", seed, "--scale", "small", "--chain", "evm"), "synth --chain evm")
	mustOK(t, cli(t, "--quiet", "--data", data, "ingest", "evm", "--files", dir, "--chain", "evm-synth"), "ingest evm --files")
	mustOK(t, cli(t, "--quiet", "--data", data, "labels", "import", filepath.Join(dir, synth.LabelsFile), "--format", "csv"), "labels import")
	return dir, data
}

// TestSynthEVMEvalCLI runs the EVM world end to end through the CLI: synth,
// ingest, labels, eval trace. Heists with neither mixer nor swap must be
// found (recall ≥ 0.95, false exposure ≤ 0.05 with the default policy);
// the others are scored and reported.
func TestSynthEVMEvalCLI(t *testing.T) {
	dir, data := evmWorldStore(t, "2")
	truth, err := synth.LoadEVMTruth(filepath.Join(dir, synth.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	r := cli(t, "--data", data, "--json", "eval", "trace", "--truth", filepath.Join(dir, synth.TruthFile))
	mustOK(t, r, "eval trace")
	v := decode[struct {
		Trace synth.AccountTraceEval `json:"trace"`
	}](t, r.stdout)
	if v.Trace.Policy != "haircut" || len(v.Trace.Heists) != len(truth.Heists) || v.Trace.Chain != synth.EVMChain {
		t.Fatalf("eval trace: %+v", v.Trace)
	}
	for i, h := range v.Trace.Heists {
		th := truth.Heists[i]
		if h.ID != th.ID || h.UsesMixer != th.UsesMixer || h.UsesSwap != th.UsesSwap || !h.Conserved {
			t.Errorf("heist %d: %+v, truth %s mixer %v swap %v", i, h, th.ID, th.UsesMixer, th.UsesSwap)
		}
		// Cross-chain heists stop at THORChain's router without
		// --follow-links: TestSynthLinkedEvalCLI scores them across.
		if !h.UsesMixer && !h.CrossesChains && (h.ValueRecall < 0.95 || h.FalseExposure > 0.05) {
			t.Errorf("%s: recall %.4f exposure %.4f", h.ID, h.ValueRecall, h.FalseExposure)
		}
	}
	// ingest clustered the world before its labels were imported, so
	// deposit-address reuse knew no exchange; update has nothing new to
	// cluster, and --from-scratch clusters again with the labels.
	type clusterStats struct {
		Account struct {
			DepositAddresses int64 `json:"deposit_addresses"`
		} `json:"account"`
	}
	r = cli(t, "--data", data, "--json", "cluster", "update", "--chain", "evm-synth")
	mustOK(t, r, "cluster update")
	if got := decode[clusterStats](t, r.stdout).Account.DepositAddresses; got != 0 {
		t.Errorf("cluster update: %d deposit addresses, want 0 (no new blocks)", got)
	}
	r = cli(t, "--data", data, "--json", "cluster", "update", "--chain", "evm-synth", "--from-scratch")
	mustOK(t, r, "cluster update --from-scratch")
	if got := decode[clusterStats](t, r.stdout).Account.DepositAddresses; got == 0 || got > int64(len(truth.DepositAddresses)) {
		t.Errorf("cluster update --from-scratch: %d deposit addresses, the truth has %d", got, len(truth.DepositAddresses))
	}

	// The same heist traced by trace itself.
	seed := truth.Heists[0].Seeds[0].String()
	mustOK(t, cli(t, "--data", data, "--json", "trace", "--chain", "evm-synth", "--seed", seed), "trace")

	tests := []struct {
		name string
		args []string
		code int
	}{
		{"unknown synth chain", []string{"synth", "--out", t.TempDir(), "--chain", "sol"}, 2},
		{"asset with eval", []string{"--data", data, "eval", "trace", "--truth", filepath.Join(dir, synth.TruthFile), "--asset", "native"}, 2},
		{"bad policy", []string{"--data", data, "eval", "trace", "--truth", filepath.Join(dir, synth.TruthFile), "--policy", "nope"}, 2},
		{"store without the chain", []string{"--data", t.TempDir(), "eval", "trace", "--truth", filepath.Join(dir, synth.TruthFile)}, 1},
		{"truth not JSON", []string{"--data", data, "eval", "trace", "--truth", filepath.Join(dir, synth.LabelsFile)}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r := cli(t, tc.args...); r.code != tc.code {
				t.Fatalf("exit %d, want %d: %s", r.code, tc.code, r.stderr)
			}
		})
	}
}
