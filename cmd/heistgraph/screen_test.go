package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// builtinBTC is a Bitcoin address on OFAC's SDN list that the built-in
// labels carry (TIAN Yinyin, DPRK3/CYBER2; label/builtin).
const builtinBTC = "134r8iHv69xdT6p5qVKTsHrcUEuBVZAYak"

// screenJSON decodes a screen answer, or a batch entry that could not be
// screened ({index, error}).
type screenJSON struct {
	risk.Answer
	Index *int   `json:"index"`
	Error string `json:"error"`
}

func TestScreenSanctionedBuiltin(t *testing.T) {
	data := t.TempDir()
	r := cli(t, "--data", data, "--json", "screen", "--chain", "btc", builtinBTC)
	mustOK(t, r, "screen")
	for _, k := range []string{`"address"`, `"chain"`, `"risk"`, `"sanctioned"`, `"direct"`, `"indirect"`, `"reasons"`, `"config"`, `"as_of"`, `"cluster_id"`, `"score"`} {
		if !strings.Contains(r.stdout, k) {
			t.Errorf("screen JSON has no %s: %s", k, r.stdout)
		}
	}
	s := decode[screenJSON](t, r.stdout)
	if !s.Sanctioned || s.Risk != risk.LevelSevere || s.Address != builtinBTC || s.Chain != "btc" || s.Direction != risk.Received || s.Config.H != 3 || s.Config.Lambda != 0.5 {
		t.Errorf("screen = %+v, want sanctioned severe", s)
	}
	if len(s.Direct) == 0 || s.Direct[0].Kind != "ownership" || len(s.Reasons) == 0 {
		t.Errorf("screen: no ownership entry or reason: %+v", s)
	}
	txt := cli(t, "--data", data, "screen", "--chain", "btc", builtinBTC)
	mustOK(t, txt, "screen (text)")
	if !strings.Contains(txt.stdout, "risk SEVERE, SANCTIONED") || !strings.Contains(txt.stdout, "ownership:") {
		t.Errorf("text output:\n%s", txt.stdout)
	}
}

func TestScreenBadInput(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		name string
		args []string
	}{
		{"malformed address", []string{"screen", "--chain", "btc", "1NotAnAddressAtAllXYZ"}},
		{"malformed address in a batch", []string{"screen", "--chain", "btc", builtinBTC, "bc1qnotbech32"}},
		{"outpoint with a bad vout", []string{"screen", "--chain", "btc", tx170 + ":x"}},
		{"outpoint with a bad txid", []string{"screen", "--chain", "btc", strings.Repeat("z", 64) + ":0"}},
		{"bad direction", []string{"screen", "--chain", "btc", "--direction", "up", builtinBTC}},
		{"bad chain", []string{"screen", "--chain", "btc-moon", builtinBTC}},
		{"no item", []string{"screen", "--chain", "btc"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, append([]string{"--data", data, "--json"}, tc.args...)...)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr: %s", r.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if !strings.HasPrefix(lines[len(lines)-1], `{"error":`) {
				t.Errorf("stderr does not end with a JSON error: %s", r.stderr)
			}
		})
	}
	// A well-formed outpoint that is not stored: not found, exit 1.
	r := cli(t, "--data", data, "screen", "--chain", "btc", tx170+":0")
	if r.code != exitFailure {
		t.Errorf("unknown outpoint: exit %d, want 1; stderr %s", r.code, r.stderr)
	}
}

// TestScreenMainnet screens real mainnet transfers (blocks 1-255) with
// Satoshi's address labelled dprk: tx 170 paid Hal Finney 10 BTC straight
// from it, so that deposit is severe with a dprk share of exactly 1, and
// Hal's address (whose only receipt it is) is severe too. A batch answers in
// order, with an outpoint the store lacks as {index, error} in its place.
func TestScreenMainnet(t *testing.T) {
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255), "ingest 1-255")
	csv := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(csv, []byte("chain,address,entity,category,source,confidence\nbtc,"+satoshi+",Test Actor,dprk,test,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", csv, "--format", "csv"), "labels import")

	r := cli(t, "--data", data, "--json", "screen", "--chain", "btc", tx170+":0")
	mustOK(t, r, "screen tx170:0")
	s := decode[screenJSON](t, r.stdout)
	if s.Risk != "severe" || s.Sanctioned || s.TxID == nil || s.TxID.String() != tx170 || s.Vout == nil || *s.Vout != 0 || s.AmountSat == nil || *s.AmountSat != sat10BTC ||
		s.ReceivedSat == nil || *s.ReceivedSat != sat10BTC || s.Address != hal {
		t.Fatalf("screen tx170:0 = %+v", s)
	}
	var dprk float64
	for _, d := range s.Direct {
		if d.Kind == "counterparty" && d.Category == "dprk" {
			dprk = d.Share
			if d.AmountSat != sat10BTC || d.Hops != 1 || d.Entity != "Test Actor" {
				t.Errorf("direct entry %+v", d)
			}
		}
	}
	if dprk != 1 {
		t.Errorf("dprk share = %v, want exactly 1: %s", dprk, r.stdout)
	}

	r = cli(t, "--data", data, "--json", "screen", "--chain", "btc", hal, strings.Repeat("ab", 32)+":3", tx170+":1")
	mustOK(t, r, "screen batch")
	b := decode[struct {
		Results []screenJSON `json:"results"`
	}](t, r.stdout)
	if len(b.Results) != 3 {
		t.Fatalf("batch has %d results: %s", len(b.Results), r.stdout)
	}
	if b.Results[0].Address != hal || b.Results[0].Risk != "severe" {
		t.Errorf("result 0 = %+v", b.Results[0])
	}
	if b.Results[1].Index == nil || *b.Results[1].Index != 1 || !strings.Contains(b.Results[1].Error, "not found") {
		t.Errorf("result 1 = %+v, want {index 1, error not found}", b.Results[1])
	}
	// tx170:1 is Satoshi's change: the payer's own cluster, so no exposure,
	// but its payer owns dprk.
	if b.Results[2].Address != satoshi || b.Results[2].Risk != "severe" || len(b.Results[2].Direct) != 1 || b.Results[2].Direct[0].Kind != "ownership" {
		t.Errorf("result 2 = %+v", b.Results[2])
	}

	// Sent side: Satoshi's cluster paid Hal 10 BTC in tx 170 (its 40 BTC
	// change is not sent value), so at least 10 BTC was sent; exposure
	// only follows it to labelled clusters, and no other is labelled.
	r = cli(t, "--data", data, "--json", "screen", "--chain", "btc", "--direction", "sent", satoshi)
	mustOK(t, r, "screen sent")
	if s := decode[screenJSON](t, r.stdout); s.Direction != risk.Sent || s.SentSat == nil || *s.SentSat < sat10BTC || s.ReceivedSat != nil || s.Risk != "severe" {
		t.Errorf("sent screen = %+v", s)
	}
}

// TestScreenStolen screens the outputs an incident's trace marks: the
// partner fixture's incident, whose "theft" is block 9's coinbase, in a
// store holding mainnet blocks 1-255. Tx 170 paid 10 BTC of it to Hal
// Finney, unspent there: Hal's address and that transfer carry
// stolen:partner-exchange-2025.
func TestScreenStolen(t *testing.T) {
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255), "ingest")
	// Before the incident is known, nothing is stolen.
	before := decode[screenJSON](t, cli(t, "--data", data, "--json", "screen", "--chain", "btc", hal1Q2).stdout)
	if hasCategory(before.Answer, "stolen:partner-exchange-2025") {
		t.Fatalf("stolen before the incident is imported: %+v", before.Direct)
	}
	mustOK(t, cli(t, "--data", data, "--quiet", "import", "stix", partnerBundleFile(t)), "import stix")
	for _, item := range []string{hal1Q2, tx170 + ":0"} {
		r := cli(t, "--data", data, "--json", "screen", "--chain", "btc", item)
		mustOK(t, r, "screen "+item)
		s := decode[screenJSON](t, r.stdout)
		if !hasCategory(s.Answer, "stolen:partner-exchange-2025") || s.Risk == risk.LevelNone {
			t.Errorf("screen %s: risk %s, direct %+v, want stolen:partner-exchange-2025", item, s.Risk, s.Direct)
		}
	}
}

// hasCategory reports whether an answer has a direct entry of category
// cat.
func hasCategory(a risk.Answer, cat string) bool {
	for _, d := range a.Direct {
		if d.Category == cat {
			return true
		}
	}
	return false
}

// TestScreenerReuse screens the small world's exchange and dprk addresses
// (clusters of many addresses, entered from different members) twice with
// one screener and once with a fresh one: a long-lived screener (serve's,
// which memoizes cluster walks) answers as a new one does.
func TestScreenerReuse(t *testing.T) {
	_, data, truth := world(t)
	db, err := pebble.Open(data, pebble.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var items []risk.Item
	for _, e := range truth.Entities {
		if e.Category != "exchange" && e.Category != "dprk" {
			continue
		}
		for _, a := range e.Addresses[:min(3, len(e.Addresses))] {
			items = append(items, risk.Item{Chain: "btc-regtest", Address: a, Direction: risk.Received})
		}
	}
	long, err := newScreener(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	answer := func(sc *risk.Screener, it risk.Item) string {
		a, err := sc.Screen(ctx, it)
		if err != nil {
			t.Fatalf("screen %s: %v", it, err)
		}
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	clustered := 0
	for _, it := range items {
		first := answer(long, it)
		if strings.Contains(first, `"cluster_size"`) && !strings.Contains(first, `"cluster_size":1,`) {
			clustered++
		}
		fresh, err := newScreener(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if again, anew := answer(long, it), answer(fresh, it); again != first || anew != first {
			t.Errorf("%s: answers differ:\nfirst %s\nagain %s\nfresh %s", it, first, again, anew)
		}
	}
	if clustered == 0 {
		t.Fatalf("none of the %d addresses is in a cluster of several", len(items))
	}
}
