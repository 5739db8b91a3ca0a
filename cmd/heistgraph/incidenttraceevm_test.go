package main

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/synth"
)

// TestIncidentsShowEVM registers a heist of a synthetic EVM world as an
// incident (a partner's register imported as STIX, naming the heist's
// theft transaction on evm-synth) and checks that incidents show traces it
// as trace does: the theft's transfers as evidence, the default policy,
// value conserved exactly, and the exchanges the truth says received the
// money as entities (less the sweeps' gas at most).
func TestIncidentsShowEVM(t *testing.T) {
	dir, data := evmWorldStore(t, "3")
	truth, err := synth.LoadEVMTruth(filepath.Join(dir, synth.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	h := truth.Heists[0] // a fan-out: neither mixer nor swap
	if h.UsesMixer || h.UsesSwap || !h.Asset.IsNative() {
		t.Fatalf("heist %s (%s) is not a plain native heist", h.ID, h.Kind)
	}
	seed := h.Seeds[0].String()
	reg := t.TempDir()
	writeRegister(t, reg, map[string]string{
		"synth-heist-2025.yaml": fmt.Sprintf(`# A test fixture: the first heist of a synthetic EVM world.
id: synth-heist-2025
name: Synthetic EVM heist (fixture)
victim: {name: "Victim 1", type: exchange, country: SG}
stolen_on: 2025-01-01
vectors: [private-key-compromise]
thefts:
  - {chain: evm-synth, asset: ETH, decimals: 18, amount: "%s", source: synth-bulletin}
figures:
  - {source: synth-bulletin, usd: "5000000"}
txs:
  - {chain: evm-synth, txid: "%s", role: theft, source: synth-bulletin}
attributions:
  - {actor: dprk, tier: official, on: 2025-01-02, sources: [synth-bulletin]}
`, h.Amount, seed),
		"sources.yaml": `sources:
  - id: synth-bulletin
    publisher: Example Partner CERT
    title: "Fixture: a synthetic heist"
    date: 2025-01-02
    url: https://example.org/bulletins/synth
    tier: official
`,
	})
	r, err := incident.Load(os.DirFS(reg))
	if err != nil {
		t.Fatal(err)
	}
	b, err := incident.Export(r.Incidents(), r.Sources(), incident.ExportOptions{Name: "partner"})
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, cli(t, "--data", data, "--quiet", "import", "stix", writeFile(t, "synth.json", b)), "import stix")

	out := cli(t, "--data", data, "--json", "incidents", "show", "synth-heist-2025")
	mustOK(t, out, "incidents show")
	v := decode[struct {
		Trace hgapp.IncidentTraceView `json:"trace"`
	}](t, out.stdout)
	tr := v.Trace
	if tr.Status != hgapp.TraceDone || len(tr.TxsInStore) != 1 || tr.TxsInStore[0] != seed || len(tr.AccountRuns) != 1 || len(tr.Runs) != 0 {
		t.Fatalf("trace %+v", tr)
	}
	ev := tr.AccountEvidence[0]
	if len(ev.Transfers) != 1 || ev.Transfers[0].Amount != h.Amount || ev.Transfers[0].Kind.String() != "native" {
		t.Errorf("evidence %+v, want one native transfer of %s", ev, h.Amount)
	}
	run := tr.AccountRuns[0]
	if run.Chain != synth.EVMChain || run.Policy != "haircut" || !run.Conserved || run.SeedAmount != h.Amount || run.SeedAsset != "native" {
		t.Fatalf("run %s %s conserved %v seed %s %s", run.Chain, run.Policy, run.Conserved, run.SeedAmount, run.SeedAsset)
	}
	sum := new(big.Int)
	for _, s := range run.Sinks {
		x, _ := new(big.Int).SetString(s.Amount, 10)
		sum.Add(sum, x)
	}
	fees, _ := new(big.Int).SetString(run.Fees, 10)
	if sum.Add(sum, fees).String() != h.Amount {
		t.Errorf("sinks + fees = %s, seed %s", sum, h.Amount)
	}
	// What reached the exchanges (by label name) against the truth (by
	// entity id): at most what was deposited, and at least that less the
	// sweeps' gas (under 0.01 ETH each; a small world's heist makes fewer
	// than 40 deposits).
	names := map[string]string{}
	for _, e := range truth.Entities {
		names[e.ID] = e.Name
	}
	for _, d := range h.Destinations {
		if d.Category != "exchange" {
			continue
		}
		want, _ := new(big.Int).SetString(d.Amount, 10)
		got := new(big.Int)
		for _, e := range run.ByEntity {
			if e.Entity == names[d.Entity] && e.Asset.IsNative() {
				got.SetString(e.Amount, 10)
			}
		}
		slack := new(big.Int).Mul(big.NewInt(40), big.NewInt(1e16))
		if got.Cmp(want) > 0 || new(big.Int).Add(got, slack).Cmp(want) < 0 {
			t.Errorf("%s: trace found %s, truth delivered %s", d.Entity, got, want)
		}
	}
	text := cli(t, "--data", data, "incidents", "show", "synth-heist-2025")
	mustOK(t, text, "incidents show (text)")
	for _, want := range []string{"theft tx " + seed, "haircut policy", "entity Exchange"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, text.stdout)
		}
	}
	page := cli(t, "--data", data, "incidents", "report", "--incident", "synth-heist-2025", "--html", "-")
	mustOK(t, page, "report --html")
	for _, want := range []string{"Where the money went", "evm-synth " + seed} {
		if !strings.Contains(page.stdout, want) {
			t.Errorf("the HTML report lacks %q", want)
		}
	}
}

// writeRegister writes a register directory's files.
func writeRegister(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
