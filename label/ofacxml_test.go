package label

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

const sdnXMLFixture = "sdn_advanced-excerpt.xml"

// TestOFACXMLFixture checks the hand-built sdn_advanced.xml excerpt (real
// entries of the SDN list of 2024-05-03, see testdata/README.md).
func TestOFACXMLFixture(t *testing.T) {
	t.Parallel()
	all := readTestdata(t, sdnXMLFixture, FormatOFACXML, Options{})
	k := byKey(all)
	ls := all // an EVM address counts once

	ronin := "evm 0x098b716b8aaf21512996dc57eb0615e2383e2f96 "
	for _, c := range []string{CategorySanctioned, CategoryDPRK} {
		l, ok := k[ronin+c]
		if !ok || l.Entity != "LAZARUS GROUP" || l.Source != "ofac-sdn:27307" || l.Confidence != 1 {
			t.Errorf("Ronin exploiter, %s: got %+v", c, l)
		}
	}
	type entry struct {
		chains map[heistgraph.Chain]int // addresses per chain
		cats   []string
	}
	want := map[string]entry{ // by entity
		"LAZARUS GROUP":      {map[heistgraph.Chain]int{"evm": 8}, []string{"dprk", "sanctioned"}},
		"TIAN, Yinyin":       {map[heistgraph.Chain]int{"btc": 8}, []string{"dprk", "sanctioned"}},
		"SIM, Hyon Sop":      {map[heistgraph.Chain]int{"evm": 1}, []string{"sanctioned"}}, // ETH, ARB, BSC: one EVM address
		"KIM, Sang Man":      {map[heistgraph.Chain]int{"btc": 2, "evm": 2}, []string{"dprk", "sanctioned"}},
		"TORNADO CASH":       {map[heistgraph.Chain]int{"evm": 90}, []string{"mixer", "sanctioned"}},
		"SINBAD":             {map[heistgraph.Chain]int{"btc": 2}, []string{"mixer", "sanctioned"}},
		"GARANTEX EUROPE OU": {map[heistgraph.Chain]int{"btc": 2, "evm": 1}, []string{"high_risk_exchange", "sanctioned"}}, // XBT, Omni USDT, ETH
		"WANG, Mingming":     {map[heistgraph.Chain]int{"btc": 2, "tron": 1, "evm": 1}, []string{"sanctioned"}},            // 3 XBT, one a Tron address; USDT
	}
	got := map[string]entry{}
	for _, l := range ls {
		e, ok := got[l.Entity]
		if !ok {
			e = entry{chains: map[heistgraph.Chain]int{}}
		}
		if !slices.Contains(e.cats, l.Category) {
			e.cats = append(e.cats, l.Category)
		}
		if l.Category == CategorySanctioned {
			e.chains[l.Chain]++
		}
		got[l.Entity] = e
	}
	for name, w := range want {
		g := got[name]
		slices.Sort(g.cats)
		if !slices.Equal(g.cats, w.cats) || fmt.Sprint(g.chains) != fmt.Sprint(w.chains) {
			t.Errorf("%s: categories %v, addresses per chain %v; want %v, %v", name, g.cats, g.chains, w.cats, w.chains)
		}
	}
	if len(got) != len(want) { // KIMSUKY has no addresses, so no labels
		t.Errorf("entities %v, want %d", slices.Collect(maps.Keys(got)), len(want))
	}
	if len(ls) != 235 {
		t.Errorf("%d labels (an EVM address once), want 235", len(ls))
	}
	tian := k["btc 134r8iHv69xdT6p5qVKTsHrcUEuBVZAYak dprk"]
	if !strings.Contains(tian.Note, "programs: DPRK3, CYBER2") || !strings.Contains(tian.Note, "designated: 2020-03-02") {
		t.Errorf("TIAN note %q lacks programs or designation date", tian.Note)
	}
	for _, l := range ls {
		if strings.Contains(l.Address, "@") {
			t.Errorf("a non-currency feature became a label: %+v", l)
		}
	}
	if l, ok := k["tron TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq sanctioned"]; !ok || l.Entity != "WANG, Mingming" {
		t.Errorf("the Tron address listed as XBT: got %+v", l)
	}
}

// TestOFACXMLMatchesCSV: the XML excerpt and the real sdn.csv rows of the
// same entries give the same labels.
func TestOFACXMLMatchesCSV(t *testing.T) {
	t.Parallel()
	xmlLabels := readTestdata(t, sdnXMLFixture, FormatOFACXML, Options{})
	csvLabels := readTestdata(t, "ofac-sdn-csv/sdn-digital-currency-rows-2024-05-03.csv", FormatOFACCSV,
		Options{Comments: openTestdata(t, "ofac-sdn-csv/sdn_comments-2023-12-22.csv")})
	key := func(l heistgraph.Label) string {
		return strings.Join([]string{string(l.Chain), l.Address, l.Category, l.Entity, l.Source}, " ")
	}
	inXML := map[string]bool{}
	sources := map[string]bool{}
	for _, l := range xmlLabels {
		inXML[key(l)] = true
		sources[l.Source] = true
	}
	n := 0
	for _, l := range csvLabels {
		if !sources[l.Source] {
			continue
		}
		n++
		if !inXML[key(l)] {
			t.Errorf("CSV label %s is not in the XML import", key(l))
		}
	}
	if n != len(xmlLabels) {
		t.Errorf("CSV has %d labels for the XML's entries, XML %d", n, len(xmlLabels))
	}
}

// sdnXMLDoc wraps DistinctParty and SanctionsEntry elements in a minimal
// document, one element a line.
func sdnXMLDoc(parties, entries string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<Sanctions xmlns="https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML">
<ReferenceValueSets>
<FeatureTypeValues>
<FeatureType ID="344" FeatureTypeGroupID="1">Digital Currency Address - XBT</FeatureType>
</FeatureTypeValues>
</ReferenceValueSets>
<DistinctParties>
` + parties + `</DistinctParties>
<SanctionsEntries>
` + entries + `</SanctionsEntries>
</Sanctions>
`
}

// sdnXMLParty is a DistinctParty (lines 9..) with the given name and XBT address.
func sdnXMLParty(fixedRef, name, addr string) string {
	return `<DistinctParty FixedRef="` + fixedRef + `">
<Profile ID="` + fixedRef + `" PartySubTypeID="3">
<Identity ID="1" FixedRef="` + fixedRef + `" Primary="true" False="false">
<Alias FixedRef="` + fixedRef + `" AliasTypeID="1403" Primary="true" LowQuality="false">
<DocumentedName ID="2" FixedRef="` + fixedRef + `" DocNameStatusID="1">
<DocumentedNamePart><NamePartValue NamePartGroupID="3">` + name + `</NamePartValue></DocumentedNamePart>
</DocumentedName>
</Alias>
</Identity>
<Feature ID="4" FeatureTypeID="344">
<FeatureVersion ID="5" ReliabilityID="1">
<VersionDetail DetailTypeID="1432">` + addr + `</VersionDetail>
</FeatureVersion>
</Feature>
</Profile>
</DistinctParty>
`
}

func TestOFACXMLErrors(t *testing.T) {
	t.Parallel()
	const file = "sdn_advanced.xml"
	good := sdnXMLParty("28263", "TIAN, Yinyin", "134r8iHv69xdT6p5qVKTsHrcUEuBVZAYak")
	if ls, err := ReadAll(strings.NewReader(sdnXMLDoc(good, "")), FormatOFACXML, Options{Name: file}); err != nil || len(ls) != 1 {
		t.Fatalf("minimal document: %d labels, %v; want 1 sanctioned label", len(ls), err)
	}
	fixture, err := os.ReadFile(filepath.Join("testdata", sdnXMLFixture))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in string
		line     int
		field    string
	}{
		{"empty input", "", 1, "Sanctions"},
		{"wrong root", "<sdnList>\n</sdnList>\n", 1, "sdnList"},
		{"truncated", string(fixture[:len(fixture)/2]), -1, ""},
		{"mismatched tag", "<Sanctions>\n<ReferenceValueSets>\n</Sanctions>\n", 3, ""},
		{"no FeatureTypeValues", "<Sanctions>\n<DistinctParties>\n</DistinctParties>\n</Sanctions>", 2, "ReferenceValueSets/FeatureTypeValues"},
		{"no DistinctParties", "<Sanctions>\n<ReferenceValueSets><FeatureTypeValues/></ReferenceValueSets>\n</Sanctions>\n", 4, "DistinctParties"},
		{"DistinctParty without FixedRef", sdnXMLDoc(strings.Replace(good, ` FixedRef="28263"`, "", 1), ""), 9, "DistinctParty/@FixedRef"},
		{"currency feature without address", sdnXMLDoc(strings.Replace(good, "134r8iHv69xdT6p5qVKTsHrcUEuBVZAYak", " ", 1), ""), 18, "Feature/FeatureVersion/VersionDetail"},
		{"party without a primary name", sdnXMLDoc(strings.Replace(good, `Primary="true" LowQuality`, `Primary="false" LowQuality`, 1), ""), 9, "Profile/Identity/Alias"},
		{"invalid address", sdnXMLDoc(good+sdnXMLParty("28264", "LI, Jiadong", "1EfMVkxQQuZfBdocpJu6RUsCJvenQWbQyF"), ""), 36, "VersionDetail"},
		{"element after the root", sdnXMLDoc(good, "") + "<Sanctions/>\n", 29, "Sanctions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadAll(strings.NewReader(tc.in), FormatOFACXML, Options{Name: file})
			checkParseError(t, err, file, tc.line, tc.field)
		})
	}
}

func TestOFACXMLPrograms(t *testing.T) {
	t.Parallel()
	entry := func(profile string, programs ...string) string {
		s := `<SanctionsEntry ID="9" ProfileID="` + profile + `" ListID="1550">` + "\n"
		for _, p := range programs {
			s += `<SanctionsMeasure ID="10" SanctionsTypeID="1"><Comment>` + p + `</Comment></SanctionsMeasure>` + "\n"
		}
		return s + "</SanctionsEntry>\n"
	}
	tests := []struct {
		name, uid, entity string
		programs          []string
		want              []string
	}{
		{"DPRK3", "1", "SOME ENTITY", []string{"DPRK3"}, []string{"sanctioned", "dprk"}},
		{"DPRK-NKSPEA", "1", "SOME ENTITY", []string{"CYBER2", "DPRK-NKSPEA"}, []string{"sanctioned", "dprk"}},
		{"not DPRK", "1", "SOME ENTITY", []string{"CYBER2"}, []string{"sanctioned"}},
		{"DPRK actor under another program", "1", "Lazarus Group", []string{"CYBER2"}, []string{"sanctioned", "dprk"}},
		{"no sanctions entry", "1", "SOME ENTITY", nil, []string{"sanctioned"}},
		{"mixer under DPRK3", "39796", "TORNADO CASH", []string{"DPRK3", "CYBER2"}, []string{"sanctioned", "mixer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			entries := ""
			if tc.programs != nil {
				entries = entry(tc.uid, tc.programs...)
			}
			doc := sdnXMLDoc(sdnXMLParty(tc.uid, tc.entity, "1EfMVkxQQuZfBdocpJu6RUsCJvenQWbQyE"), entries)
			ls, err := ReadAll(strings.NewReader(doc), FormatOFACXML, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var cats []string
			for _, l := range ls {
				cats = append(cats, l.Category)
			}
			if !slices.Equal(cats, tc.want) {
				t.Errorf("categories %v, want %v", cats, tc.want)
			}
		})
	}
}

func FuzzOFACXML(f *testing.F) {
	addSeeds(f, sdnXMLFixture)
	f.Add([]byte(sdnXMLDoc(sdnXMLParty("28263", "TIAN, Yinyin", "134r8iHv69xdT6p5qVKTsHrcUEuBVZAYak"),
		`<SanctionsEntry ID="9" ProfileID="28263" ListID="1550"><SanctionsMeasure ID="10" SanctionsTypeID="1"><Comment>DPRK3</Comment></SanctionsMeasure></SanctionsEntry>`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, data, FormatOFACXML, Options{Name: "sdn_advanced.xml"})
	})
}
