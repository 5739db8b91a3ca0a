package label

import (
	"encoding/csv"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

func TestBuiltin(t *testing.T) {
	t.Parallel()
	ls, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := BuiltinSources()
	if err != nil {
		t.Fatal(err)
	}
	curated, err := builtinDPRKLabels()
	if err != nil {
		t.Fatal(err)
	}
	// builtin/dprk.yaml: 58 addresses as the file gives them (SIM Hyon Sop's
	// one EVM address three times), 56 once EVM addresses count once.
	cur := slices.Collect(maps.Values(byFullKey(curated)))
	if len(cur) != 106 || len(addresses(cur)) != 56 {
		t.Errorf("dprk.yaml: %d labels on %d addresses, want 106 on 56", len(cur), len(addresses(cur)))
	}
	if cats := countBy(cur, func(l heistgraph.Label) string { return l.Category }); cats[CategoryDPRK] != 56 || cats[CategorySanctioned] != 50 {
		t.Errorf("dprk.yaml: categories %v, want 56 dprk and 50 sanctioned", cats)
	}
	allowed := []string{CategorySanctioned, CategoryDPRK, CategoryMixer, CategoryDarknet, CategoryHighRiskExchange}
	seen := map[string]bool{}
	for _, l := range ls {
		if err := Validate(l); err != nil { // includes base58check and bech32 checksums
			t.Errorf("%+v: %v", l, err)
		}
		if s, ok := srcs[l.Source]; ok {
			if !strings.Contains(l.Note, s.URL) || !strings.Contains(l.Note, s.Date) {
				t.Errorf("%s %s: note %q lacks the source's URL and date", l.Chain, l.Address, l.Note)
			}
		} else if l.Source != SourceOFACSDN && !strings.HasPrefix(l.Source, SourceOFACSDN+":") {
			t.Errorf("%s %s: source %q is neither a curated publication nor the SDN list", l.Chain, l.Address, l.Source)
		}
		if l.Confidence != 1 || !slices.Contains(allowed, l.Category) {
			t.Errorf("%s %s: confidence %v, category %q", l.Chain, l.Address, l.Confidence, l.Category)
		}
		if l.Category == CategorySanctioned && !strings.HasPrefix(l.Source, SourceOFACSDN) {
			t.Errorf("%s %s: sanctioned, but the source %s is not OFAC", l.Chain, l.Address, l.Source)
		}
		k := labelKey(l)
		if seen[k] {
			t.Errorf("duplicate %q", k)
		}
		seen[k] = true
	}
	// `labels show 0x098B716B8Aaf21512996dC57EB0615e2383E2f96` in a fresh
	// store, on eth and on bsc alike: one label on the shared EVM key.
	k := byFullKey(ls)
	for _, chain := range []string{"evm"} {
		for _, c := range []string{CategoryDPRK, CategorySanctioned} {
			l, ok := k[chain+"\x000x098b716b8aaf21512996dc57eb0615e2383e2f96\x00LAZARUS GROUP\x00"+c+"\x00ofac-sdn:27307"]
			if !ok || !strings.Contains(l.Note, "listed: 2022-04-14") || !strings.Contains(l.Note, "programs: DPRK3") {
				t.Errorf("the Ronin bridge exploiter on %s lacks %s with its listing date and program: %+v", chain, c, l)
			}
		}
	}
}

// TestBuiltinAgainstSources re-derives the entries of builtin/dprk.yaml
// from the copies of their sources in testdata.
func TestBuiltinAgainstSources(t *testing.T) {
	t.Parallel()
	ls, err := builtinDPRKLabels() // the curated part
	if err != nil {
		t.Fatal(err)
	}
	sdn := readTestdata(t, sdnRows, FormatOFACCSV, Options{Comments: openTestdata(t, sdnComments)})
	sdnBySource := map[string]map[string]heistgraph.Label{}
	for _, l := range sdn {
		if sdnBySource[l.Source] == nil {
			sdnBySource[l.Source] = map[string]heistgraph.Label{}
		}
		sdnBySource[l.Source][string(l.Chain)+" "+l.Address+" "+l.Category] = l
	}
	builtinBySource := map[string]map[string]bool{}
	for _, l := range ls {
		if builtinBySource[l.Source] == nil {
			builtinBySource[l.Source] = map[string]bool{}
		}
		builtinBySource[l.Source][string(l.Chain)+" "+l.Address] = true
		if !strings.HasPrefix(l.Source, SourceOFACSDN+":") {
			continue
		}
		s, ok := sdnBySource[l.Source][string(l.Chain)+" "+l.Address+" "+CategorySanctioned]
		if !ok || s.Entity != l.Entity {
			t.Errorf("%s %s (%s): not in sdn.csv under that entry (%+v)", l.Chain, l.Address, l.Source, s)
		}
		// SIM Hyon Sop is listed under NPWMD, so the importer gives no dprk;
		// his entry (nationality Korea, North) makes him North Korean.
		if _, ok := sdnBySource[l.Source][string(l.Chain)+" "+l.Address+" "+CategoryDPRK]; !ok && l.Source != "ofac-sdn:42498" {
			t.Errorf("%s %s (%s): the sdn.csv import gives no dprk", l.Chain, l.Address, l.Source)
		}
	}
	// Every address of each cited SDN entry is built in.
	for src, addrs := range builtinBySource {
		if !strings.HasPrefix(src, SourceOFACSDN+":") {
			continue
		}
		for k, l := range sdnBySource[src] {
			if l.Category == CategorySanctioned && !addrs[string(l.Chain)+" "+l.Address] {
				t.Errorf("%s: %s is on the entry but not built in", src, k)
			}
		}
	}
	// The FBI's addresses are those of GraphSense's transcription, none on the SDN list.
	fbi := addresses(readTestdata(t, "tagpacks/lazarus2.yaml", FormatTagPack, Options{}))
	if len(builtinBySource["fbi:2023-08-22"]) != 6 || len(fbi) != 6 {
		t.Errorf("%d FBI addresses built in, lazarus2.yaml has %d; want 6", len(builtinBySource["fbi:2023-08-22"]), len(fbi))
	}
	for a := range builtinBySource["fbi:2023-08-22"] {
		if !fbi[a] {
			t.Errorf("FBI address %s is not in lazarus2.yaml", a)
		}
	}
	sdnAddrs := addresses(sdn)
	for a := range fbi {
		if sdnAddrs[a] {
			t.Errorf("FBI address %s is on the SDN list; it should be sanctioned too", a)
		}
	}
}

// TestBuiltinLazarusDates checks the listed dates and notes of the LAZARUS
// GROUP addresses against the history of the sdn.csv row and tayvano's
// Ronin roles.
func TestBuiltinLazarusDates(t *testing.T) {
	t.Parallel()
	ls, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{} // address -> note
	for _, l := range ls {
		if l.Source == "ofac-sdn:27307" && l.Category == CategorySanctioned {
			listed[l.Address] = l.Note
		}
	}
	// The history rows and the scrape dates of the index file.
	rows, err := os.ReadFile(filepath.Join("testdata", "ofac-sdn-csv/lazarus-row-27307-history.csv"))
	if err != nil {
		t.Fatal(err)
	}
	index, err := csv.NewReader(openTestdata(t, "ofac-sdn-csv/lazarus-row-27307-history.index.csv")).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	prev := map[string]bool{}
	for i, row := range strings.SplitAfter(strings.TrimSuffix(string(rows), "\r\n"), "\r\n") {
		day := index[i+1][2][:10]
		vs, err := ReadAll(strings.NewReader(row), FormatOFACCSV, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for a := range addresses(vs) {
			addr := strings.TrimPrefix(a, "evm ")
			if !prev[a] && !strings.Contains(listed[addr], "listed: "+day) {
				t.Errorf("%s first appears on %s; built-in note %q", addr, day, listed[addr])
			}
			prev[a] = true
		}
	}
	if len(prev) != 8 || len(listed) != 8 {
		t.Errorf("%d addresses in the history, %d built in; want 8", len(prev), len(listed))
	}
	// tayvano: the Ronin "Primary" address and seven "Intermediary to TC".
	recs, err := csv.NewReader(openTestdata(t, "dprk-heists/tayvano-ronin-rows.csv")).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]string{}
	for _, r := range recs[1:] {
		roles[strings.ToLower(r[3])] = r[5]
	}
	for addr, note := range listed {
		role := roles[addr]
		switch {
		case strings.Contains(note, "Ronin bridge exploiter") && role != "Primary",
			strings.Contains(note, "to Tornado Cash") && role != "Intermediary to TC":
			t.Errorf("%s: note %q, tayvano's role %q", addr, note, role)
		}
	}
}
