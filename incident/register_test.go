package incident

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incidents"
)

func loadShipped(t testing.TB) *Register {
	t.Helper()
	reg, err := Load(incidents.FS)
	if err != nil {
		t.Fatalf("load shipped register: %v", err)
	}
	return reg
}

// TestLoadShipped loads every shipped incident file and checks the register
// holds what the issue asks for, each figure with a source.
func TestLoadShipped(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	files, err := incidents.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var want int
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".yaml") && f.Name() != SourcesFile {
			want++
			id := strings.TrimSuffix(f.Name(), ".yaml")
			if _, ok := reg.Incident(id); !ok {
				t.Errorf("%s: incident %s not in the register", f.Name(), id)
			}
		}
	}
	if got := len(reg.Incidents()); got != want || got < 18 {
		t.Errorf("register holds %d incidents, want %d files (at least 18)", got, want)
	}
	for _, id := range []string{"dmm-bitcoin-2024", "wazirx-2024", "upbit-2019", "radiant-capital-2024", "rain-management-2024",
		"ronin-bridge-2022", "harmony-horizon-2022", "atomic-wallet-2023", "stake-2023", "coinex-2023", "alphapo-2023",
		"coinspaid-2023", "bybit-2025"} {
		inc, ok := reg.Incident(id)
		if !ok {
			t.Errorf("missing incident %s", id)
			continue
		}
		if len(inc.Figures) == 0 || inc.Figures[0].Source == "" {
			t.Errorf("%s: no sourced USD figure", id)
		}
	}
	js, ok := reg.Source("joint-statement-2025-01-14")
	if !ok || js.Tier != heistgraph.TierOfficial || len(js.Aggregates) != 1 || len(js.Aggregates[0].Incidents) != 5 {
		t.Errorf("joint statement source = %+v", js)
	}
	ch, ok := reg.Source("chainalysis-2024-12-19")
	if !ok || ch.Tier != heistgraph.TierIndustry || ch.Aggregates[0].USD != 134_000_000_000 || ch.Aggregates[0].Count != 47 {
		t.Errorf("chainalysis source = %+v", ch)
	}
	dmm, _ := reg.Incident("dmm-bitcoin-2024")
	if dmm.Thefts[0].Amount.Uint64() != 450_290_000_000 || dmm.Txs[0].TxID != "975ec405ac9dc9fa5ab8009d94d6a1fe31dff8a8127ea90d023104e52754e4d7" {
		t.Errorf("DMM theft = %+v %+v", dmm.Thefts, dmm.Txs)
	}
	// Every source record is used by some incident or aggregate.
	used := map[string]bool{}
	for _, inc := range reg.Incidents() {
		for _, s := range inc.SourceIDs() {
			used[s] = true
		}
	}
	for _, s := range reg.Sources() {
		if !used[s.ID] && len(s.Aggregates) == 0 {
			t.Errorf("source %s is cited by nothing", s.ID)
		}
	}
}

const testSources = `sources:
  - {id: gov, publisher: A Government, title: Statement, date: 2024-12-23, url: "https://example.gov/s", tier: official}
  - {id: firm, publisher: A Firm, title: Report, date: 2024-12-19, url: "https://example.com/r", tier: industry,
     aggregates: [{year: 2024, usd: "1000000000", count: 3, incidents: [test-2024]}]}
`

const testIncident = `id: test-2024
name: Test
victim: {name: Victim, type: exchange, country: JP}
stolen_on: 2024-05-31
vectors: [private-key-compromise]
thefts:
  - {chain: btc, asset: BTC, decimals: 8, amount: "100000000", source: gov}
figures:
  - {source: gov, usd: "1000000"}
addresses:
  - {chain: eth, address: "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", role: attacker, source: gov}
txs:
  - {chain: btc, txid: 975ec405ac9dc9fa5ab8009d94d6a1fe31dff8a8127ea90d023104e52754e4d7, role: theft, source: gov}
attributions:
  - {actor: dprk, group: lazarus, tier: official, on: 2024-12-23, sources: [gov]}
tlp: clear
`

func testFS(sources, incident string) fstest.MapFS {
	return fstest.MapFS{
		SourcesFile:      {Data: []byte(sources)},
		"test-2024.yaml": {Data: []byte(incident)},
	}
}

func TestLoadValid(t *testing.T) {
	t.Parallel()
	reg, err := Load(testFS(testSources, testIncident))
	if err != nil {
		t.Fatal(err)
	}
	inc, ok := reg.Incident("test-2024")
	if !ok || inc.BestTier("") != heistgraph.TierOfficial || inc.Figures[0].USD != 100_000_000 {
		t.Fatalf("incident = %+v", inc)
	}
}

// TestLoadRejects feeds malformed files and checks that the error names the
// file and the field and wraps heistgraph.ErrInvalid.
func TestLoadRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		old, new  string // replacement in the incident file
		src       string // replacement sources file, if set
		file      string
		wantField string
	}{
		{name: "unknown top-level key", old: "tlp: clear\n", new: "tlp: clear\ncolour: red\n", file: "test-2024.yaml", wantField: "colour"},
		{name: "unknown nested key", old: "decimals: 8,", new: "decimals: 8, colour: red,", file: "test-2024.yaml", wantField: "thefts[0].colour"},
		{name: "bad date", old: "stolen_on: 2024-05-31", new: "stolen_on: 2024-13-01", file: "test-2024.yaml", wantField: "stolen_on"},
		{name: "missing date", old: "stolen_on: 2024-05-31\n", new: "", file: "test-2024.yaml", wantField: "stolen_on"},
		{name: "bad tier", old: "tier: official", new: "tier: government", file: "test-2024.yaml", wantField: "attributions[0].tier"},
		{name: "unknown actor", old: "actor: dprk", new: "actor: mallory", file: "test-2024.yaml", wantField: "attributions[0].actor"},
		{name: "unknown group", old: "group: lazarus", new: "group: fancybear", file: "test-2024.yaml", wantField: "attributions[0].group"},
		{name: "official without date", old: "on: 2024-12-23, ", new: "", file: "test-2024.yaml", wantField: "attributions[0].on"},
		{name: "official from an industry source", old: "sources: [gov]}", new: "sources: [firm]}", file: "test-2024.yaml", wantField: "attributions[0].tier"},
		{name: "no attribution", old: "attributions:\n  - {actor: dprk, group: lazarus, tier: official, on: 2024-12-23, sources: [gov]}\n", new: "", file: "test-2024.yaml", wantField: "attributions"},
		{name: "unknown vector", old: "[private-key-compromise]", new: "[wizardry]", file: "test-2024.yaml", wantField: "vectors[0]"},
		{name: "unknown victim type", old: "type: exchange", new: "type: bank", file: "test-2024.yaml", wantField: "victim.type"},
		{name: "bad country", old: "country: JP", new: "country: Japan", file: "test-2024.yaml", wantField: "victim.country"},
		{name: "unknown source", old: "{source: gov, usd:", new: "{source: nobody, usd:", file: "test-2024.yaml", wantField: "figures[0].source"},
		{name: "float amount", old: `amount: "100000000"`, new: `amount: "4502.9"`, file: "test-2024.yaml", wantField: "thefts[0].amount"},
		{name: "zero amount", old: `amount: "100000000"`, new: `amount: "0"`, file: "test-2024.yaml", wantField: "thefts[0].amount"},
		{name: "decimals not a number", old: "decimals: 8,", new: "decimals: eight,", file: "test-2024.yaml", wantField: "thefts[0].decimals"},
		{name: "missing decimals", old: "decimals: 8, ", new: "", file: "test-2024.yaml", wantField: "thefts[0].decimals"},
		{name: "sub-cent usd", old: `usd: "1000000"`, new: `usd: "1000000.123"`, file: "test-2024.yaml", wantField: "figures[0].usd"},
		{name: "no figures", old: "figures:\n  - {source: gov, usd: \"1000000\"}\n", new: "", file: "test-2024.yaml", wantField: "figures"},
		{name: "bad chain", old: "{chain: eth, address:", new: "{chain: Ether!, address:", file: "test-2024.yaml", wantField: "addresses[0].chain"},
		{name: "bad evm address", old: "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", new: "0x098B716B", file: "test-2024.yaml", wantField: "addresses[0].address"},
		{name: "bad txid", old: "975ec405ac9dc9fa5ab8009d94d6a1fe31dff8a8127ea90d023104e52754e4d7", new: "975ec405", file: "test-2024.yaml", wantField: "txs[0].txid"},
		{name: "bad address role", old: "role: attacker", new: "role: villain", file: "test-2024.yaml", wantField: "addresses[0].role"},
		{name: "bad tlp", old: "tlp: clear", new: "tlp: white", file: "test-2024.yaml", wantField: "tlp"},
		{name: "id does not match file", old: "id: test-2024", new: "id: zeta-2024", file: "test-2024.yaml", wantField: "id"},
		{name: "bad id", old: "id: test-2024", new: "id: Test_2024", file: "test-2024.yaml", wantField: "id"},
		{name: "sequence for a string", old: "name: Test", new: "name: [a, b]", file: "test-2024.yaml", wantField: "name"},
		{name: "evm address failing EIP-55", old: "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", new: "0x098b716B8Aaf21512996dC57EB0615e2383E2f96", file: "test-2024.yaml", wantField: "addresses[0].address"},
		{name: "bitcoin address failing its checksum", old: "{chain: eth, address: \"0x098B716B8Aaf21512996dC57EB0615e2383E2f96\"", new: "{chain: btc, address: 1B6rJRfjTXwEy36SCs5zofGMmdv2kdZw7Q", file: "test-2024.yaml", wantField: "addresses[0].address"},
		{name: "bech32 address failing its checksum", old: "{chain: eth, address: \"0x098B716B8Aaf21512996dC57EB0615e2383E2f96\"", new: "{chain: btc, address: bc1qfesn3jj65fhmf00hh45ueql8je8jae6ep3qk85", file: "test-2024.yaml", wantField: "addresses[0].address"},
		{name: "testnet address on btc", old: "{chain: eth, address: \"0x098B716B8Aaf21512996dC57EB0615e2383E2f96\"", new: "{chain: btc, address: tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", file: "test-2024.yaml", wantField: "addresses[0].address"},
		{name: "tron address failing its checksum", old: "{chain: eth, address: \"0x098B716B8Aaf21512996dC57EB0615e2383E2f96\"", new: "{chain: tron, address: TLAD2m71VqtEEz7uH7gwTSRqknK83JgdV7", file: "test-2024.yaml", wantField: "addresses[0].address"},
		{name: "unknown status", old: "tlp: clear\n", new: "tlp: clear\nstatus: confirmed\n", file: "test-2024.yaml", wantField: "status"},
		{name: "attributed on a victim's word", old: "tier: official, on: 2024-12-23, sources: [gov]}\ntlp: clear\n", new: "tier: suspected, sources: [gov]}\ntlp: clear\nstatus: attributed\n", file: "test-2024.yaml", wantField: "status"},
		{name: "source bad tier", src: strings.Replace(testSources, "tier: official", "tier: gov", 1), file: SourcesFile, wantField: "sources[0].tier"},
		{name: "source unknown key", src: strings.Replace(testSources, "tier: official", "tier: official, colour: red", 1), file: SourcesFile, wantField: "sources[0].colour"},
		{name: "source without date", src: strings.Replace(testSources, "date: 2024-12-23, ", "", 1), file: SourcesFile, wantField: "sources[0].date"},
		{name: "aggregate names unknown incident", src: strings.Replace(testSources, "incidents: [test-2024]", "incidents: [nope-2024]", 1), file: SourcesFile, wantField: "sources[1].aggregates[0].incidents[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inc := testIncident
			if tc.old != "" {
				if !strings.Contains(inc, tc.old) {
					t.Fatalf("test case: %q not in the base file", tc.old)
				}
				inc = strings.Replace(inc, tc.old, tc.new, 1)
			}
			src := testSources
			if tc.src != "" {
				src = tc.src
			}
			_, err := Load(testFS(src, inc))
			if err == nil {
				t.Fatal("Load accepted a malformed file")
			}
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error is not a ValidationError: %v", err)
			}
			if ve.File != tc.file || ve.Field != tc.wantField {
				t.Errorf("first error names %s field %q, want %s field %q (all: %v)", ve.File, ve.Field, tc.file, tc.wantField, err)
			}
			if !strings.Contains(err.Error(), tc.file) {
				t.Errorf("message %q does not name the file", err)
			}
		})
	}
}

func TestLoadMissingSources(t *testing.T) {
	t.Parallel()
	_, err := Load(fstest.MapFS{"test-2024.yaml": {Data: []byte(testIncident)}})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.File != SourcesFile || !errors.Is(err, heistgraph.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
}

func TestNewChecksDomainValues(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	incs := append([]heistgraph.Incident(nil), reg.Incidents()...)
	again, err := New(reg.Sources(), incs)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Incidents()) != len(incs) {
		t.Fatal("New lost incidents")
	}
	bad := incs[0]
	bad.Attributions = nil
	_, err = New(reg.Sources(), []heistgraph.Incident{bad})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.File != bad.ID || ve.Field != "attributions" {
		t.Fatalf("err = %v", err)
	}
}

// TestStatus: an omitted status follows the attributions; suspected may be
// written over any tier (a contested attribution); attributed needs an
// industry or official one.
func TestStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, old, new, want string
	}{
		{"official, omitted", "", "", StatusAttributed},
		{"official, written suspected", "tlp: clear\n", "tlp: clear\nstatus: suspected\n", StatusSuspected},
		{"suspected tier, omitted", "tier: official, on: 2024-12-23,", "tier: suspected,", StatusSuspected},
		{"industry tier, attributed", "tier: official, on: 2024-12-23, sources: [gov]}\ntlp: clear\n", "tier: industry, sources: [firm]}\ntlp: clear\nstatus: attributed\n", StatusAttributed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inc := testIncident
			if tc.old != "" {
				if !strings.Contains(inc, tc.old) {
					t.Fatalf("test case: %q not in the base file", tc.old)
				}
				inc = strings.Replace(inc, tc.old, tc.new, 1)
			}
			reg, err := Load(testFS(testSources, inc))
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := reg.Incident("test-2024"); got.Status != tc.want {
				t.Errorf("status %q, want %q", got.Status, tc.want)
			}
		})
	}
}

// TestSharedTheftTx: one transaction is the theft of one incident; a
// second incident naming it as its theft is rejected, naming the file, the
// field and the first incident.
func TestSharedTheftTx(t *testing.T) {
	t.Parallel()
	other := strings.ReplaceAll(testIncident, "test-2024", "zeta-2024")
	fsys := testFS(testSources, testIncident)
	fsys["zeta-2024.yaml"] = &fstest.MapFile{Data: []byte(other)}
	_, err := Load(fsys)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.File != "zeta-2024.yaml" || ve.Field != "txs[0].txid" || !strings.Contains(err.Error(), "test-2024") {
		t.Fatalf("err = %v", err)
	}
	// As a laundering transaction of the second incident it is fine.
	fsys["zeta-2024.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(other, "role: theft", "role: laundering", 1))}
	if _, err := Load(fsys); err != nil {
		t.Fatalf("a laundering tx shared with another incident's theft was rejected: %v", err)
	}
}
