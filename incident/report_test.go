package incident

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

func loadPrices(t testing.TB) *PriceTable {
	t.Helper()
	table := NewPriceTable()
	for file, asset := range map[string]string{"testdata/prices/btc-usd-coingecko.csv": "BTC", "testdata/prices/eth-usd-coingecko.csv": "ETH"} {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := ParsePrices(f, asset)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, p := range ps {
			table.Add(p)
		}
	}
	return table
}

func ids(rep Report) []string {
	var out []string
	for _, ri := range rep.Incidents {
		out = append(out, ri.ID)
	}
	slices.Sort(out)
	return out
}

// TestJointStatement reproduces the joint statement's figure from the
// register: five incidents, $659,130,000 to the cent, each at the amount the
// statement gives, even when imported prices would value them otherwise.
func TestJointStatement(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	stated := map[string]heistgraph.USD{
		"dmm-bitcoin-2024": 308_000_000_00, "wazirx-2024": 235_000_000_00, "upbit-2019": 50_000_000_00,
		"radiant-capital-2024": 50_000_000_00, "rain-management-2024": 16_130_000_00,
	}
	for _, prices := range []Prices{nil, loadPrices(t)} {
		rep, err := Build(reg, Query{Source: "joint-statement-2025-01-14"}, prices)
		if err != nil {
			t.Fatal(err)
		}
		if rep.TotalUSD != 659_130_000_00 || rep.Count != 5 {
			t.Fatalf("total %s over %d incidents, want 659130000.00 over 5", rep.TotalUSD, rep.Count)
		}
		for _, ri := range rep.Incidents {
			if want, ok := stated[ri.ID]; !ok || ri.USD != want || ri.USDSource != "joint-statement-2025-01-14" {
				t.Errorf("%s: %s from %s, want %s from the statement", ri.ID, ri.USD, ri.USDSource, want)
			}
		}
		// The statement lists amounts and no total: the register records the
		// total derived from them, so nothing remains unnamed.
		if len(rep.Claims) != 1 || rep.Claims[0].NamedUSD != 659_130_000_00 || rep.Claims[0].USD != 659_130_000_00 ||
			rep.Claims[0].RemainderUSD != 0 || !strings.HasPrefix(rep.Claims[0].Note, "Derived from the listed amounts") {
			t.Errorf("claims = %+v", rep.Claims)
		}
	}
}

// TestOfficial2024ByStolen: the statement's four thefts of 2024 and the
// MSMT's BingX and Kyrrex, $667.63M, and nothing stolen in 2019; PlayDapp,
// official but contested (status suspected), only with IncludeSuspected.
func TestOfficial2024ByStolen(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	rep, err := Build(reg, Query{Year: 2024, By: ByStolen, Tier: "official"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"bingx-2024", "dmm-bitcoin-2024", "kyrrex-2024", "radiant-capital-2024", "rain-management-2024", "wazirx-2024"}
	if got := ids(rep); !slices.Equal(got, want) {
		t.Errorf("incidents %v, want %v (plus any other officially attributed 2024 theft added to the register)", got, want)
	}
	if rep.TotalUSD != 667_630_000_00 || rep.IncludeSuspected || !slices.Equal(rep.SuspectedLeftOut, []string{"playdapp-2024"}) {
		t.Errorf("total %s, suspected left out %v, want 667630000.00 and [playdapp-2024]", rep.TotalUSD, rep.SuspectedLeftOut)
	}
	with, err := Build(reg, Query{Year: 2024, By: ByStolen, Tier: "official", IncludeSuspected: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if with.TotalUSD != 957_630_000_00 || with.Count != 7 || len(with.SuspectedLeftOut) != 0 || !with.IncludeSuspected {
		t.Errorf("with suspected: total %s over %d, left out %v", with.TotalUSD, with.Count, with.SuspectedLeftOut)
	}
	// Beside it: the industry tier's aggregate for 2024.
	var found bool
	for _, c := range rep.Claims {
		if c.Source == "chainalysis-2024-12-19" {
			found = true
			if c.USD != 1_340_000_000_00 || c.Count != 47 || c.RemainderCount != 47-c.NamedCount || c.RemainderUSD != c.USD-c.NamedUSD {
				t.Errorf("chainalysis claim = %+v", c)
			}
		}
	}
	if !found {
		t.Error("the Chainalysis aggregate is not shown beside the 2024 report")
	}
}

func TestByAttributedPutsUpbitIn2024(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	byAttr, err := Build(reg, Query{Year: 2024, By: ByAttributed}, nil)
	if err != nil {
		t.Fatal(err)
	}
	byStolen, err := Build(reg, Query{Year: 2024}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ids(byAttr), "upbit-2019") {
		t.Errorf("by attributed 2024 = %v, want Upbit in it", ids(byAttr))
	}
	if slices.Contains(ids(byStolen), "upbit-2019") {
		t.Error("by stolen 2024 holds Upbit (stolen 2019)")
	}
	for _, ri := range byAttr.Incidents {
		if ri.ID == "upbit-2019" && (ri.AttributedOn == nil || *ri.AttributedOn != "2024-11-21" || ri.Tier != heistgraph.TierOfficial) {
			t.Errorf("Upbit line = %+v", ri)
		}
	}
}

func TestIndustryTier(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	rep, err := Build(reg, Query{Year: 2024, Tier: "industry"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(rep); !slices.Equal(got, []string{"concentric-2024"}) {
		t.Errorf("industry-only 2024 thefts = %v", got)
	}
	all, err := Build(reg, Query{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if all.Year != nil || all.By != ByStolen || all.Tier != Any || all.Actor != Any ||
		all.Count+len(all.SuspectedLeftOut) != len(reg.Incidents()) {
		t.Errorf("default report = year %v by %s tier %s actor %s count %d", all.Year, all.By, all.Tier, all.Actor, all.Count)
	}
	for _, inc := range reg.Incidents() {
		if left := slices.Contains(all.SuspectedLeftOut, inc.ID); left != (inc.Status == StatusSuspected) {
			t.Errorf("%s (status %s): left out = %v", inc.ID, inc.Status, left)
		}
	}
	sus, err := Build(reg, Query{Tier: "suspected"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sus.IncludeSuspected || len(sus.SuspectedLeftOut) != 0 || !slices.Contains(ids(sus), "upbit-2025") {
		t.Errorf("--tier suspected = %v, left out %v: want it to ask for the suspected incidents", ids(sus), sus.SuspectedLeftOut)
	}
	var sum heistgraph.USD
	for _, ri := range all.Incidents {
		sum += ri.USD
		if ri.USDSource == "" || len(ri.Sources) == 0 {
			t.Errorf("%s: value without a source", ri.ID)
		}
	}
	if sum != all.TotalUSD {
		t.Errorf("total %s != sum of lines %s", all.TotalUSD, sum)
	}
}

// TestValueFromPrices values the DMM theft (4,502.9 BTC on 2024-05-31) with
// CoinGecko's daily price and checks it against the $308M reported.
func TestValueFromPrices(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	prices := loadPrices(t)
	dmm, _ := reg.Incident("dmm-bitcoin-2024")
	v := Value(dmm, "", prices)
	// 450,290,000,000 sat x 68,372.49288434093 USD/BTC = $307,874,498.21.
	if v.Source != USDFromPrices || v.USD != 307_874_498_21 || formatDate(v.At) != "2024-05-31" {
		t.Fatalf("DMM valued at %s from %s on %s", v.USD, v.Source, formatDate(v.At))
	}
	if diff := 308_000_000_00 - v.USD; diff < 0 || diff > 308_000_000_00/1000 {
		t.Errorf("priced value %s is not within 0.1%% of the $308M reported", v.USD)
	}
	upbit, _ := reg.Incident("upbit-2019")
	if u := Value(upbit, "", prices); u.Source != USDFromPrices || u.USD/100 != 50_470_673 {
		t.Errorf("Upbit valued at %s from %s, want $50,470,673", u.USD, u.Source)
	}
	// Ronin's USDC has no price: the reported figure stands, with its source.
	ronin, _ := reg.Incident("ronin-bridge-2022")
	if r := Value(ronin, "", prices); r.Source != "fbi-2022-04-14-ronin" || r.USD != 620_000_000_00 {
		t.Errorf("Ronin valued at %s from %s", r.USD, r.Source)
	}
	now, at, ok := ValueNow(dmm, prices)
	if !ok || formatDate(at) != "2026-01-31" || now <= 0 {
		t.Errorf("DMM now = %s on %s (%v)", now, formatDate(at), ok)
	}
	rep, err := Build(reg, Query{Incident: "dmm-bitcoin-2024"}, prices)
	if err != nil {
		t.Fatal(err)
	}
	if ri := rep.Incidents[0]; ri.USDSource != USDFromPrices || ri.USDNow == nil || ri.USDNowAt != "2026-01-31" || ri.USDAt != "2024-05-31" {
		t.Errorf("report line = %+v", ri)
	}
}

// TestReportJSON checks the JSON contract of design.md.
func TestReportJSON(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	rep, err := Build(reg, Query{Source: "joint-statement-2025-01-14"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"year", "by", "tier", "actor", "total_usd", "count", "incidents"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report JSON lacks %q", k)
		}
	}
	if total, ok := m["total_usd"].(float64); !ok || total != 659130000 {
		t.Errorf("total_usd = %v, want the number 659130000", m["total_usd"])
	}
	inc := m["incidents"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "name", "usd", "stolen_on", "attributed_on", "tier", "sources"} {
		if _, ok := inc[k]; !ok {
			t.Errorf("incident JSON lacks %q", k)
		}
	}
	if _, ok := inc["usd"].(float64); !ok {
		t.Errorf("usd = %v, want a number", inc["usd"])
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	tests := []struct {
		name string
		q    Query
		want error
	}{
		{"bad by", Query{By: "reported"}, heistgraph.ErrInvalid},
		{"bad tier", Query{Tier: "government"}, heistgraph.ErrInvalid},
		{"bad year", Query{Year: -1}, heistgraph.ErrInvalid},
		{"unknown source", Query{Source: "nobody"}, heistgraph.ErrNotFound},
		{"unknown actor", Query{Actor: "mallory"}, heistgraph.ErrNotFound},
		{"unknown incident", Query{Incident: "nope-2020"}, heistgraph.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Build(reg, tc.q, nil); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestTotals(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	totals, err := Totals(reg, Query{Actor: "dprk"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var y2024 YearTotal
	for _, tt := range totals {
		if tt.Year == 2024 {
			y2024 = tt
		}
	}
	if y2024.Actor != "dprk" || y2024.USD != 669_350_000_00 || y2024.Count != 7 {
		t.Errorf("2024 total = %+v", y2024)
	}
}
