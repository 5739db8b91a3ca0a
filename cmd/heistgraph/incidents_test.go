package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/incidents"
)

// Fixtures shared with package incident.
var (
	btcPrices      = filepath.Join("..", "..", "incident", "testdata", "prices", "btc-usd-coingecko.csv")
	ethPrices      = filepath.Join("..", "..", "incident", "testdata", "prices", "eth-usd-coingecko.csv")
	partnerFixture = filepath.Join("..", "..", "incident", "testdata", "partner")
)

const (
	jointStatement = "joint-statement-2025-01-14"
	hal1Q2         = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3" // Hal Finney, paid by tx 170
)

// reportJSONTest is `incidents report --json` as a user's script reads it
// (design.md), decoded independently of the command's types; USD values are
// kept as the exact decimal text.
type reportJSONTest struct {
	Year      *int                 `json:"year"`
	By        string               `json:"by"`
	Tier      string               `json:"tier"`
	Actor     string               `json:"actor"`
	TotalUSD  json.Number          `json:"total_usd"`
	Count     int                  `json:"count"`
	Incidents []reportIncidentTest `json:"incidents"`
	Claims    []claimTest          `json:"claims"`
	// Suspected incidents: counted or left out (listed).
	IncludeSuspected bool     `json:"include_suspected"`
	SuspectedLeftOut []string `json:"suspected_left_out"`
}

type reportIncidentTest struct {
	ID           string       `json:"id"`
	Name         string       `json:"name"`
	USD          json.Number  `json:"usd"`
	USDSource    string       `json:"usd_source"`
	USDAt        string       `json:"usd_at"`
	USDNow       *json.Number `json:"usd_now"`
	StolenOn     string       `json:"stolen_on"`
	AttributedOn *string      `json:"attributed_on"`
	Tier         string       `json:"tier"`
	Sources      []string     `json:"sources"`
	Status       string       `json:"status"`
	Figures      []struct {
		Source string      `json:"source"`
		USD    json.Number `json:"usd"`
	} `json:"figures"`
	FigureChoice string `json:"figure_choice"`
}

type claimTest struct {
	Source string      `json:"source"`
	Tier   string      `json:"tier"`
	Year   int         `json:"year"`
	USD    json.Number `json:"usd"`
	Count  int         `json:"count"`
}

func decodeNumbers[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode JSON %q: %v", s, err)
	}
	return v
}

func report(t *testing.T, data string, args ...string) reportJSONTest {
	t.Helper()
	r := cli(t, append([]string{"--data", data, "--json", "incidents", "report"}, args...)...)
	mustOK(t, r, "incidents report "+strings.Join(args, " "))
	return decodeNumbers[reportJSONTest](t, r.stdout)
}

// TestIncidentsReportJointStatement reproduces the joint statement of
// January 2025 from a fresh store: five incidents, $659.13M, each at the
// statement's own figure.
func TestIncidentsReportJointStatement(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	rep := report(t, data, "--source", jointStatement)
	if rep.Count != 5 || rep.TotalUSD != "659130000.00" || len(rep.Incidents) != 5 {
		t.Fatalf("joint statement: %d incidents, total %s; want 5 and 659130000.00", rep.Count, rep.TotalUSD)
	}
	want := map[string]json.Number{"dmm-bitcoin-2024": "308000000.00", "wazirx-2024": "235000000.00", "upbit-2019": "50000000.00",
		"radiant-capital-2024": "50000000.00", "rain-management-2024": "16130000.00"}
	for _, ri := range rep.Incidents {
		if want[ri.ID] != ri.USD || ri.USDSource != jointStatement || !slices.Contains(ri.Sources, jointStatement) {
			t.Errorf("%s: %s from %s, want %s from the statement", ri.ID, ri.USD, ri.USDSource, want[ri.ID])
		}
		if ri.Tier != "official" || ri.AttributedOn == nil || ri.StolenOn == "" || ri.Name == "" {
			t.Errorf("%s: tier %s, attributed %v, stolen %q", ri.ID, ri.Tier, ri.AttributedOn, ri.StolenOn)
		}
	}
	if rep.Year != nil || rep.By != "stolen" || rep.Tier != "any" || rep.Actor != "any" {
		t.Errorf("defaults: year %v, by %s, tier %s, actor %s", rep.Year, rep.By, rep.Tier, rep.Actor)
	}
	// Upbit was stolen in 2019: the statement's "$659M in 2024" is by year
	// attributed, not stolen.
	if rep.Incidents[0].ID != "upbit-2019" || *rep.Incidents[0].AttributedOn != "2024-11-21" {
		t.Errorf("first incident %s attributed %v, want upbit-2019 attributed 2024-11-21", rep.Incidents[0].ID, rep.Incidents[0].AttributedOn)
	}
	again := cli(t, "--data", data, "--json", "incidents", "report", "--source", jointStatement)
	first := cli(t, "--data", data, "--json", "incidents", "report", "--source", jointStatement)
	if again.stdout != first.stdout {
		t.Error("two runs of the same report differ")
	}
	text := cli(t, "--data", data, "incidents", "report", "--source", jointStatement)
	mustOK(t, text, "report as text")
	for _, s := range []string{"$659,130,000.00 in 5 incidents", "$308,000,000.00", "https://www.state.gov/"} {
		if !strings.Contains(text.stdout, s) {
			t.Errorf("text report lacks %q", s)
		}
	}
}

// TestIncidentsReportFlags runs every flag of `incidents report` and the
// errors of each.
func TestIncidentsReportFlags(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	t.Run("2024 official thefts", func(t *testing.T) {
		rep := report(t, data, "--year", "2024", "--by", "stolen", "--tier", "official")
		ids := map[string]bool{}
		for _, ri := range rep.Incidents {
			ids[ri.ID] = true
			if !strings.HasPrefix(ri.StolenOn, "2024-") || ri.Tier != "official" {
				t.Errorf("%s: stolen %s, tier %s", ri.ID, ri.StolenOn, ri.Tier)
			}
		}
		for _, id := range []string{"dmm-bitcoin-2024", "wazirx-2024", "radiant-capital-2024", "rain-management-2024"} {
			if !ids[id] {
				t.Errorf("the statement's 2024 theft %s is missing", id)
			}
		}
		if ids["upbit-2019"] || rep.Year == nil || *rep.Year != 2024 {
			t.Errorf("upbit-2019 in a 2024-by-stolen report, or year %v", rep.Year)
		}
	})
	t.Run("2024 by attributed", func(t *testing.T) {
		rep := report(t, data, "--year", "2024", "--by", "attributed")
		found := false
		for _, ri := range rep.Incidents {
			if ri.AttributedOn == nil || !strings.HasPrefix(*ri.AttributedOn, "2024-") {
				t.Errorf("%s attributed %v in a 2024-by-attributed report", ri.ID, ri.AttributedOn)
			}
			found = found || ri.ID == "upbit-2019"
		}
		if !found {
			t.Error("Upbit, attributed in 2024, is missing")
		}
	})
	t.Run("industry claims beside 2024", func(t *testing.T) {
		rep := report(t, data, "--year", "2024")
		i := slices.IndexFunc(rep.Claims, func(c claimTest) bool { return c.Source == "chainalysis-2024-12-19" })
		if i < 0 || rep.Claims[i].USD != "1340000000.00" || rep.Claims[i].Count != 47 || rep.Claims[i].Tier != "industry" {
			t.Errorf("claims %+v, want Chainalysis' $1.34B over 47 incidents (industry)", rep.Claims)
		}
	})
	t.Run("tier and actor", func(t *testing.T) {
		rep := report(t, data, "--tier", "industry", "--actor", "dprk")
		if rep.Count == 0 {
			t.Fatal("no industry-tier incident")
		}
		for _, ri := range rep.Incidents {
			if ri.Tier != "industry" {
				t.Errorf("%s tier %s in an industry report", ri.ID, ri.Tier)
			}
		}
		all := report(t, data)
		off := report(t, data, "--tier", "official")
		if off.Count+rep.Count > all.Count || off.Count == 0 {
			t.Errorf("official %d + industry %d > all %d", off.Count, rep.Count, all.Count)
		}
	})
	t.Run("2025 with and without the suspected", func(t *testing.T) {
		rep := report(t, data, "--year", "2025")
		with := report(t, data, "--year", "2025", "--include-suspected")
		got := map[string]string{}
		for _, ri := range rep.Incidents {
			got[ri.ID] = ri.Status
		}
		if got["bybit-2025"] != "attributed" || got["phemex-2025"] != "attributed" || len(got) != rep.Count {
			t.Errorf("2025 attributed thefts = %v", got)
		}
		left := []string{"bitopro-2025", "woo-x-2025", "upbit-2025"}
		if rep.IncludeSuspected || !slices.Equal(rep.SuspectedLeftOut, left) {
			t.Errorf("left out %v (include %v), want %v", rep.SuspectedLeftOut, rep.IncludeSuspected, left)
		}
		if !with.IncludeSuspected || with.Count != rep.Count+len(left) || len(with.SuspectedLeftOut) != 0 {
			t.Errorf("--include-suspected: %d incidents, left out %v; want %d and none", with.Count, with.SuspectedLeftOut, rep.Count+len(left))
		}
		total, _ := new(big.Rat).SetString(rep.TotalUSD.String())
		for _, ri := range with.Incidents {
			if slices.Contains(left, ri.ID) {
				if ri.Status != "suspected" {
					t.Errorf("%s: status %s", ri.ID, ri.Status)
				}
				usd, _ := new(big.Rat).SetString(ri.USD.String())
				total.Add(total, usd)
			}
		}
		if withTotal, _ := new(big.Rat).SetString(with.TotalUSD.String()); withTotal.Cmp(total) != 0 {
			t.Errorf("total with the suspected %s, want %s + theirs = %s", with.TotalUSD, rep.TotalUSD, total.FloatString(2))
		}
		bybit := with.Incidents[slices.IndexFunc(with.Incidents, func(ri reportIncidentTest) bool { return ri.ID == "bybit-2025" })]
		if len(bybit.Figures) < 3 || bybit.Figures[0].Source != "fbi-2025-02-26-bybit" || bybit.FigureChoice == "" {
			t.Errorf("bybit figures %+v, choice %q: want every source's figure, the FBI's first, and why", bybit.Figures, bybit.FigureChoice)
		}
		text := cli(t, "--data", data, "incidents", "report", "--year", "2025")
		mustOK(t, text, "2025 report as text")
		if !strings.Contains(text.stdout, "left out as suspected (--include-suspected counts them): bitopro-2025, woo-x-2025, upbit-2025") {
			t.Errorf("text report does not name the suspected incidents it leaves out:\n%s", text.stdout)
		}
	})
	t.Run("one incident", func(t *testing.T) {
		rep := report(t, data, "--incident", "bybit-2025")
		if rep.Count != 1 || rep.Incidents[0].ID != "bybit-2025" {
			t.Errorf("--incident bybit-2025 gave %d incidents", rep.Count)
		}
	})
	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name string
			args []string
			code int
		}{
			{"bad by", []string{"--by", "reported"}, 2},
			{"bad tier", []string{"--tier", "gov"}, 2},
			{"negative year", []string{"--year", "-1"}, 2},
			{"year not a number", []string{"--year", "last"}, 2},
			{"unknown source", []string{"--source", "no-such-source"}, 1},
			{"unknown actor", []string{"--actor", "nobody"}, 1},
			{"unknown incident", []string{"--incident", "no-such-heist"}, 1},
			{"stray argument", []string{"2024"}, 2},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := cli(t, append([]string{"--data", data, "--json", "incidents", "report"}, tc.args...)...)
				wantError(t, r, tc.code)
			})
		}
	})
}

// wantError checks an exit code and that stderr ends with one JSON error
// line.
func wantError(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d; stderr %s", r.code, code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	e := decode[map[string]any](t, lines[len(lines)-1])
	if _, ok := e["error"]; !ok {
		t.Fatalf("last stderr line %q has no error field", lines[len(lines)-1])
	}
}

// TestPricesImport imports both CSV forms and values DMM Bitcoin with them.
func TestPricesImport(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	r := cli(t, "--data", data, "--json", "prices", "import", btcPrices, "--asset", "btc")
	mustOK(t, r, "prices import coingecko")
	sum := decode[struct {
		Format string `json:"format"`
		Prices int    `json:"prices"`
		Assets []struct {
			Asset    string `json:"asset"`
			Days     int    `json:"days"`
			From, To string
		} `json:"assets"`
	}](t, r.stdout)
	if sum.Format != "coingecko" || sum.Prices != 35 || len(sum.Assets) != 1 || sum.Assets[0].Asset != "BTC" ||
		sum.Assets[0].Days != 35 || sum.Assets[0].From != "2024-05-15" || sum.Assets[0].To != "2026-01-31" {
		t.Fatalf("summary %+v", sum)
	}
	// 4,502.9 BTC at CoinGecko's 2024-05-31 snapshot, 68372.49288434093.
	dmm := report(t, data, "--incident", "dmm-bitcoin-2024").Incidents[0]
	if dmm.USD != "307874498.21" || dmm.USDSource != "prices" || dmm.USDAt != "2024-05-31" || dmm.USDNow == nil {
		t.Fatalf("DMM valued %s from %s at %s (now %v), want 307874498.21 from prices", dmm.USD, dmm.USDSource, dmm.USDAt, dmm.USDNow)
	}
	// The statement's report still counts the statement's figures.
	if js := report(t, data, "--source", jointStatement); js.TotalUSD != "659130000.00" {
		t.Errorf("joint statement total %s with prices imported, want its own 659130000.00", js.TotalUSD)
	}

	// A date,asset,usd file replaces the day's price.
	rows := writeFile(t, "prices.csv", []byte("date,asset,usd\n2024-05-31,BTC,70000\n2024-05-31,ETH,3760.5\n"))
	r = cli(t, "--data", data, "--json", "prices", "import", rows)
	mustOK(t, r, "prices import rows")
	if s := decode[map[string]any](t, r.stdout); s["format"] != "date,asset,usd" || s["prices"] != float64(2) {
		t.Errorf("summary %v", s)
	}
	if dmm := report(t, data, "--incident", "dmm-bitcoin-2024").Incidents[0]; dmm.USD != "315203000.00" {
		t.Errorf("DMM after re-pricing the day at 70,000: %s, want 315203000.00", dmm.USD)
	}

	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"coingecko without asset", []string{btcPrices}, 2, "--asset"},
		{"bad row", []string{writeFile(t, "bad.csv", []byte("date,asset,usd\n2024-05-31,BTC,1\n2024-06-01,BTC,-5\n"))}, 2, "line 3"},
		{"rows of another asset", []string{rows, "--asset", "ETH"}, 2, "line 2"},
		{"unknown header", []string{writeFile(t, "x.csv", []byte("day,price\n"))}, 2, "header"},
		{"missing file", []string{filepath.Join(t.TempDir(), "none.csv")}, 2, "none.csv"},
		{"no file", nil, 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, append([]string{"--data", data, "--json", "prices", "import"}, tc.args...)...)
			wantError(t, r, tc.code)
			if !strings.Contains(r.stderr, tc.msg) {
				t.Errorf("error %q does not say %q", r.stderr, tc.msg)
			}
		})
	}
	// The refused files stored nothing: the day is still priced at 70,000.
	if dmm := report(t, data, "--incident", "dmm-bitcoin-2024").Incidents[0]; dmm.USD != "315203000.00" {
		t.Errorf("a refused import changed a price: DMM %s", dmm.USD)
	}
}

type bundleTest struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Objects []struct {
		Type        string `json:"type"`
		SpecVersion string `json:"spec_version"`
		ID          string `json:"id"`
		Name        string `json:"name"`
	} `json:"objects"`
}

// partnerBundleFile exports the partner fixture register as a STIX file.
func partnerBundleFile(t *testing.T) string {
	t.Helper()
	reg, err := incident.Load(os.DirFS(partnerFixture))
	if err != nil {
		t.Fatal(err)
	}
	b, err := incident.Export(reg.Incidents(), reg.Sources(), incident.ExportOptions{Name: "partner"})
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "partner.json", b)
}

// TestSTIX exports bundles, imports a partner's, and reads the imported
// incident back without loss.
func TestSTIX(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	t.Run("export a year", func(t *testing.T) {
		r := cli(t, "--data", data, "export", "stix", "--year", "2024")
		mustOK(t, r, "export stix --year 2024")
		b := decode[bundleTest](t, r.stdout)
		types := map[string]int{}
		for _, o := range b.Objects {
			types[o.Type]++
			if o.SpecVersion != "2.1" && o.Type != "marking-definition" {
				t.Errorf("%s: spec_version %q", o.ID, o.SpecVersion)
			}
		}
		for _, typ := range []string{"identity", "threat-actor", "incident", "indicator", "relationship", "report", "marking-definition"} {
			if types[typ] == 0 {
				t.Errorf("no %s in the bundle (%v)", typ, types)
			}
		}
		if b.Type != "bundle" || types["incident"] < 4 {
			t.Errorf("bundle of %d incidents, want 2024's (at least the statement's 4)", types["incident"])
		}
		if again := cli(t, "--data", data, "export", "stix", "--year", "2024"); again.stdout != r.stdout {
			t.Error("two exports differ")
		}
	})
	t.Run("export one incident to a file", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "dmm.json")
		r := cli(t, "--data", data, "--json", "export", "stix", "--incident", "dmm-bitcoin-2024", "--out", out)
		mustOK(t, r, "export --out")
		sum := decode[map[string]any](t, r.stdout)
		file, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		stdout := cli(t, "--data", data, "export", "stix", "--incident", "dmm-bitcoin-2024")
		if !bytes.Equal(file, []byte(stdout.stdout)) || sum["out"] != out || sum["bytes"] != float64(len(file)) {
			t.Errorf("--out wrote %d bytes (summary %v), stdout export has %d", len(file), sum, len(stdout.stdout))
		}
		if n := strings.Count(string(file), `"type": "incident"`); n != 1 {
			t.Errorf("%d incidents in a one-incident export", n)
		}
		// The summary counts the bundle's objects (it once counted
		// indented lines and said 0).
		b := decode[bundleTest](t, string(file))
		if len(b.Objects) < 5 || sum["objects"] != float64(len(b.Objects)) {
			t.Errorf("summary says %v objects, the bundle has %d", sum["objects"], len(b.Objects))
		}
	})
	t.Run("export errors", func(t *testing.T) {
		tests := []struct {
			name string
			args []string
			code int
		}{
			{"neither flag", nil, 2},
			{"both flags", []string{"--year", "2024", "--incident", "dmm-bitcoin-2024"}, 2},
			{"unknown incident", []string{"--incident", "no-such-heist"}, 1},
			{"a year without thefts", []string{"--year", "1999"}, 1},
			{"bad year", []string{"--year", "-3"}, 2},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := cli(t, append([]string{"--data", data, "--json", "export", "stix"}, tc.args...)...)
				wantError(t, r, tc.code)
				if r.stdout != "" {
					t.Errorf("a failed export wrote %d bytes to stdout", len(r.stdout))
				}
			})
		}
	})
	t.Run("import a partner's bundle", func(t *testing.T) {
		r := cli(t, "--data", data, "--json", "import", "stix", partnerBundleFile(t))
		mustOK(t, r, "import stix")
		sv := decode[incident.Saved](t, r.stdout)
		want := incident.Saved{Incidents: []string{"partner-exchange-2025"}, Sources: []string{"partner-cert-2025-03-01"},
			ShippedIncidents: []string{"dmm-bitcoin-2024"}, ShippedSources: []string{"fbi-2024-12-23-dmm"}}
		if !reflect.DeepEqual(sv, want) {
			t.Fatalf("import summary %+v, want %+v", sv, want)
		}
		list := decode[struct {
			Count     int `json:"count"`
			Incidents []struct {
				ID, Name, Origin string
			} `json:"incidents"`
		}](t, cli(t, "--data", data, "--json", "incidents", "list").stdout)
		origins := map[string]string{}
		for _, it := range list.Incidents {
			origins[it.ID] = it.Origin
		}
		if origins["partner-exchange-2025"] != "imported" || origins["dmm-bitcoin-2024"] != "shipped" || list.Count != len(list.Incidents) {
			t.Errorf("list origins %v", origins)
		}
		// The shipped DMM record won over the partner's copy.
		show := decode[map[string]any](t, cli(t, "--data", data, "--json", "incidents", "show", "dmm-bitcoin-2024").stdout)
		if show["name"] != "DMM Bitcoin" {
			t.Errorf("dmm-bitcoin-2024 is %v after importing a partner's copy", show["name"])
		}
		// Without loss: exporting the imported incident and reading it back
		// gives the partner's incident.
		exp := cli(t, "--data", data, "export", "stix", "--incident", "partner-exchange-2025")
		mustOK(t, exp, "export the imported incident")
		back, err := incident.Import([]byte(exp.stdout))
		if err != nil {
			t.Fatal(err)
		}
		orig, err := incident.Load(os.DirFS(partnerFixture))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := back.Incident("partner-exchange-2025")
		wantInc, _ := orig.Incident("partner-exchange-2025")
		if !reflect.DeepEqual(got, wantInc) {
			t.Errorf("the imported incident changed through the store:\n got %+v\nwant %+v", got, wantInc)
		}
		// A 2025 report counts it.
		rep := report(t, data, "--year", "2025")
		if !slices.ContainsFunc(rep.Incidents, func(ri reportIncidentTest) bool {
			return ri.ID == "partner-exchange-2025" && ri.USD == "100000000.50"
		}) {
			t.Errorf("the 2025 report lacks the imported incident")
		}
	})
	t.Run("import our own export", func(t *testing.T) {
		data := t.TempDir()
		bundle := writeFile(t, "2024.json", []byte(cli(t, "--data", data, "export", "stix", "--year", "2024").stdout))
		r := cli(t, "--data", data, "--json", "import", "stix", bundle)
		mustOK(t, r, "import our export")
		sv := decode[incident.Saved](t, r.stdout)
		if len(sv.Incidents) != 0 || len(sv.Sources) != 0 || !slices.Contains(sv.ShippedIncidents, "dmm-bitcoin-2024") {
			t.Errorf("importing shipped incidents stored %v %v", sv.Incidents, sv.Sources)
		}
	})
	t.Run("import errors", func(t *testing.T) {
		tests := []struct {
			name string
			file string
			code int
		}{
			{"not JSON", writeFile(t, "x.json", []byte("not json")), 2},
			{"not a bundle", writeFile(t, "y.json", []byte(`{"type":"indicator","objects":[]}`)), 2},
			{"no heistgraph incident", writeFile(t, "z.json", []byte(`{"type":"bundle","id":"bundle--1","objects":[]}`)), 2},
			{"missing file", filepath.Join(t.TempDir(), "none.json"), 2},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, cli(t, "--data", data, "--json", "import", "stix", tc.file), tc.code)
			})
		}
	})
}

// showJSONTest is `incidents show --json` as a script reads it.
type showJSONTest struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Origin    string `json:"origin"`
	USD       json.Number
	Addresses []struct {
		Chain, Address, Role, Source string
	} `json:"addresses"`
	Txs []struct {
		Chain, TxID, Role string
		InStore           bool `json:"in_store"`
	} `json:"txs"`
	Sources []struct {
		ID, URL, Origin string
	} `json:"sources"`
	Trace struct {
		Status     string   `json:"status"`
		Note       string   `json:"note"`
		TxsInStore []string `json:"txs_in_store"`
		Evidence   []struct {
			TxID    string   `json:"txid"`
			Height  int64    `json:"block_height"`
			Time    int64    `json:"time"`
			From    []string `json:"from"`
			Outputs []struct {
				Address   string `json:"address"`
				AmountSat int64  `json:"amount_sat"`
			} `json:"outputs"`
		} `json:"evidence"`
		Runs []struct {
			Chain         string `json:"chain"`
			Policy        string `json:"policy"`
			SeedAmountSat int64  `json:"seed_amount_sat"`
			FeesSat       int64  `json:"fees_sat"`
			ByKind        []struct {
				Kind      string `json:"kind"`
				AmountSat int64  `json:"amount_sat"`
			} `json:"by_kind"`
			ByEntity []struct {
				Entity    string `json:"entity"`
				Category  string `json:"category"`
				AmountSat int64  `json:"amount_sat"`
			} `json:"by_entity"`
			Sinks []struct {
				Kind      string `json:"kind"`
				Address   string `json:"address"`
				AmountSat int64  `json:"amount_sat"`
			} `json:"sinks"`
		} `json:"runs"`
	} `json:"trace"`
}

// TestIncidentsShow shows a shipped incident without chain data, and the
// partner fixture's incident, whose "theft" (the coinbase of block 9) is in
// a store holding mainnet blocks 1-255.
func TestIncidentsShow(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	t.Run("shipped, no chain data", func(t *testing.T) {
		r := cli(t, "--data", data, "--json", "incidents", "show", "dmm-bitcoin-2024")
		mustOK(t, r, "show dmm")
		s := decode[showJSONTest](t, r.stdout)
		if s.Name != "DMM Bitcoin" || s.Origin != "shipped" || len(s.Addresses) != 11 || len(s.Txs) != 1 || len(s.Sources) < 3 {
			t.Fatalf("show dmm = %+v", s)
		}
		if s.Addresses[0].Address != "1B6rJRfjTXwEy36SCs5zofGMmdv2kdZw7P" || s.Addresses[0].Role != "attacker" {
			t.Errorf("first address %+v, want the attacker 1B6rJR...", s.Addresses[0])
		}
		if s.Trace.Status != "no_chain_data" || !strings.Contains(s.Trace.Note, "no chain data traced") || s.Txs[0].InStore {
			t.Errorf("trace %+v without chain data", s.Trace)
		}
		text := cli(t, "--data", data, "incidents", "show", "dmm-bitcoin-2024")
		mustOK(t, text, "show as text")
		for _, want := range []string{"1B6rJRfjTXwEy36SCs5zofGMmdv2kdZw7P", "975ec405ac9dc9fa5ab8009d94d6a1fe31dff8a8127ea90d023104e52754e4d7",
			"no chain data traced", "https://www.fbi.gov/"} {
			if !strings.Contains(text.stdout, want) {
				t.Errorf("text lacks %q", want)
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		wantError(t, cli(t, "--data", data, "--json", "incidents", "show", "no-such-heist"), 1)
		wantError(t, cli(t, "--data", data, "--json", "incidents", "show", " "), 2)
		wantError(t, cli(t, "--data", data, "--json", "incidents", "show"), 2)
	})
	t.Run("with chain data", func(t *testing.T) {
		data := t.TempDir()
		mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255), "ingest")
		mustOK(t, cli(t, "--data", data, "--quiet", "import", "stix", partnerBundleFile(t)), "import")
		r := cli(t, "--data", data, "--json", "incidents", "show", "partner-exchange-2025")
		mustOK(t, r, "show partner")
		s := decode[showJSONTest](t, r.stdout)
		if s.Origin != "imported" || len(s.Trace.TxsInStore) != 1 || s.Trace.TxsInStore[0] != block9CB || !s.Txs[0].InStore {
			t.Fatalf("trace %+v", s.Trace)
		}
		ev := s.Trace.Evidence[0]
		if ev.Height != 9 || ev.From[0] != "coinbase" || len(ev.Outputs) != 1 || ev.Outputs[0].Address != satoshi || ev.Outputs[0].AmountSat != sat50BTC {
			t.Errorf("evidence %+v, want block 9's coinbase paying 50 BTC to %s", ev, satoshi)
		}
		checkTraceRuns(t, s)

		// Hal's address labelled as an exchange: the money stops there.
		labels := writeFile(t, "labels.csv", []byte("chain,address,entity,category,source,confidence\nbtc,"+hal1Q2+",Exchange X,exchange,test,0.9\n"))
		mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", labels, "--format", "csv"), "labels import")
		s = decode[showJSONTest](t, cli(t, "--data", data, "--json", "incidents", "show", "partner-exchange-2025").stdout)
		if len(s.Trace.Runs) != 1 || len(s.Trace.Runs[0].ByEntity) != 1 || s.Trace.Runs[0].ByEntity[0].Entity != "Exchange X" ||
			s.Trace.Runs[0].ByEntity[0].Category != "exchange" || s.Trace.Runs[0].ByEntity[0].AmountSat != sat10BTC {
			t.Errorf("by entity %+v, want Exchange X holding 10 BTC", s.Trace.Runs)
		}
		byKind := map[string]int64{}
		for _, k := range s.Trace.Runs[0].ByKind {
			byKind[k.Kind] = k.AmountSat
		}
		if byKind["entity"] != sat10BTC || byKind["unspent"] != sat40BTC {
			t.Errorf("by kind %v, want 10 BTC at the entity and 40 BTC unspent", byKind)
		}

		// The one-incident HTML report carries the evidence.
		page := filepath.Join(t.TempDir(), "partner.html")
		mustOK(t, cli(t, "--data", data, "--quiet", "incidents", "report", "--incident", "partner-exchange-2025", "--html", page), "report --html")
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Incident: Partner Exchange (fixture)", `id="total-usd">$100,000,000<`, "Where the money went",
			`<table id="evidence">`, "btc " + block9CB, satoshi, "5000000000 sat", "2009-01-09 ",
			`<svg id="flowgraph"`, "entity · Exchange X", "haircut policy"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("the incident's HTML report lacks %q", want)
			}
		}
		// Without chain data there is no trace section.
		plain := cli(t, "--data", t.TempDir(), "incidents", "report", "--incident", "dmm-bitcoin-2024", "--html", "-")
		mustOK(t, plain, "report --html -")
		if !strings.Contains(plain.stdout, "<!DOCTYPE html>") || strings.Contains(plain.stdout, "Where the money went") {
			t.Errorf("--html - printed %d bytes, with a trace section: %v", len(plain.stdout), strings.Contains(plain.stdout, "Where the money went"))
		}
	})
}

// checkTraceRuns checks the trace of the partner fixture's incident: the
// 50 BTC of block 9's coinbase, of which tx 170 paid 10 BTC to Hal Finney
// (still unspent in blocks 1-255), traced with the default policy, every
// satoshi accounted for.
func checkTraceRuns(t *testing.T, s showJSONTest) {
	t.Helper()
	if s.Trace.Status != "traced" || len(s.Trace.Runs) != 1 {
		t.Fatalf("trace %+v, want one run", s.Trace)
	}
	run := s.Trace.Runs[0]
	if run.Chain != "btc" || run.Policy != "haircut" || run.SeedAmountSat != sat50BTC {
		t.Errorf("run on %s, policy %s, seed %d sat; want btc, haircut, 50 BTC", run.Chain, run.Policy, run.SeedAmountSat)
	}
	var sinks, kinds int64
	hal := false
	for _, k := range run.Sinks {
		sinks += k.AmountSat
		hal = hal || (k.Address == hal1Q2 && k.Kind == "unspent" && k.AmountSat == sat10BTC)
	}
	for _, k := range run.ByKind {
		kinds += k.AmountSat
	}
	if sinks+run.FeesSat != run.SeedAmountSat || kinds != sinks {
		t.Errorf("sinks %d + fees %d != seed %d (by kind %d)", sinks, run.FeesSat, run.SeedAmountSat, kinds)
	}
	if !hal {
		t.Errorf("no unspent 10 BTC sink at Hal's %s: %+v", hal1Q2, run.Sinks)
	}
}

// TestIncidentsList lists the shipped register on a fresh store: one line
// per incident file, oldest theft first, each valued with a named source.
func TestIncidentsList(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	r := cli(t, "--data", data, "--json", "incidents", "list")
	mustOK(t, r, "incidents list")
	list := decodeNumbers[struct {
		Count     int `json:"count"`
		Incidents []struct {
			ID        string      `json:"id"`
			StolenOn  string      `json:"stolen_on"`
			USD       json.Number `json:"usd"`
			USDSource string      `json:"usd_source"`
			Tier      string      `json:"tier"`
			Origin    string      `json:"origin"`
			Chains    []string    `json:"chains"`
		} `json:"incidents"`
	}](t, r.stdout)
	files, err := incidents.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	if list.Count != len(files)-1 || len(list.Incidents) != list.Count {
		t.Fatalf("%d incidents listed (count %d), want one per incident file (%d)", len(list.Incidents), list.Count, len(files)-1)
	}
	for i, it := range list.Incidents {
		if i > 0 && it.StolenOn < list.Incidents[i-1].StolenOn {
			t.Errorf("%s (%s) listed after %s", it.ID, it.StolenOn, list.Incidents[i-1].StolenOn)
		}
		if it.USDSource == "" || it.USD == "" || it.Tier == "" || it.Origin != "shipped" {
			t.Errorf("%s: usd %s from %q, tier %q, origin %q", it.ID, it.USD, it.USDSource, it.Tier, it.Origin)
		}
	}
	text := cli(t, "--data", data, "incidents", "list")
	mustOK(t, text, "list as text")
	if !strings.Contains(text.stdout, "dmm-bitcoin-2024") || !strings.Contains(text.stdout, fmt.Sprintf("%d incidents", list.Count)) {
		t.Errorf("text list:\n%s", text.stdout)
	}
}

// TestReadmeIncidentsYearlyTable recomputes the README's yearly table of the
// register (DPRK, by day stolen, preferred figures) through the command a
// reader would run, with and without --include-suspected, so the README
// cannot drift from the register.
func TestReadmeIncidentsYearlyTable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- incidents yearly table", "<!-- end of incidents yearly table -->"
	i, j := bytes.Index(readme, []byte(begin)), bytes.Index(readme, []byte(end))
	if i < 0 || j < i {
		t.Fatal("README has no incidents yearly table")
	}
	var rows [][]string
	for _, line := range strings.Split(string(readme[i:j]), "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) == 5 && cells[0] != "year" && !strings.HasPrefix(cells[0], "---") {
			rows = append(rows, cells)
		}
	}
	data := t.TempDir()
	money := func(usd json.Number) string {
		whole, cents, _ := strings.Cut(usd.String(), ".")
		if strings.Trim(cents, "0") != "" {
			return usdTextOf(t, usd)
		}
		return strings.TrimSuffix(usdTextOf(t, json.Number(whole+".00")), ".00")
	}
	years := map[string]bool{}
	for _, r := range rows {
		years[r[0]] = true
		rep := report(t, data, "--year", r[0], "--actor", "dprk")
		all := report(t, data, "--year", r[0], "--actor", "dprk", "--include-suspected")
		got := []string{r[0], fmt.Sprint(rep.Count), money(rep.TotalUSD), fmt.Sprint(all.Count), money(all.TotalUSD)}
		if !slices.Equal(got, r) {
			t.Errorf("README row %v, the register gives %v", r, got)
		}
	}
	// Every year the register has a DPRK theft in has its row.
	every := report(t, data, "--actor", "dprk", "--include-suspected")
	for _, ri := range every.Incidents {
		if y := ri.StolenOn[:4]; !years[y] {
			t.Errorf("the register has %s stolen in %s; the README table has no row for %s", ri.ID, y, y)
		}
	}
}

// usdTextOf writes a report's decimal USD as the text report does.
func usdTextOf(t *testing.T, usd json.Number) string {
	t.Helper()
	v, err := heistgraph.ParseUSD(usd.String())
	if err != nil {
		t.Fatal(err)
	}
	return usdText(v)
}
