package payroll

import (
	"bytes"
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/heistgraph/heistgraph/label"
)

var updateSDN = flag.Bool("update-sdn", false, "regenerate gen_sdn_dprk.tsv from testdata")

// sdnFromTestdata reads the DPRK-program rows of sdn.csv in testdata with
// label.ReadSDNEntries and keeps the entries of a DPRK program.
func sdnFromTestdata(t *testing.T) []SDNEntry {
	t.Helper()
	f, err := os.Open("testdata/sdn-dprk-program-rows-2024-05-03.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := os.Open("testdata/sdn_comments-2023-12-22.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []SDNEntry
	for e, err := range label.ReadSDNEntries(f, label.Options{Name: "sdn-dprk-program-rows-2024-05-03.csv", Comments: c}) {
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(e.Programs, func(p string) bool { return slices.Contains(DPRKPrograms, p) }) {
			continue
		}
		out = append(out, SDNEntry{UID: e.UID, Type: e.Type, Name: e.Name, Programs: e.Programs, Aliases: e.Aliases, Emails: e.Emails, Addresses: e.Addresses})
	}
	return out
}

// TestSDNTable checks that gen_sdn_dprk.tsv is what testdata gives, and
// facts of the list a reader can check in the CSV by hand.
func TestSDNTable(t *testing.T) {
	want := formatSDN(sdnFromTestdata(t))
	if *updateSDN {
		if err := os.WriteFile("gen_sdn_dprk.tsv", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(want, sdnTSV) {
		t.Fatal("gen_sdn_dprk.tsv is stale: run go test ./payroll -run TestSDNTable -update-sdn")
	}
	es, err := BuiltinSDN()
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 484 {
		t.Errorf("%d entries, want the 484 rows of the DPRK programs", len(es))
	}
	byUID := map[string]SDNEntry{}
	for _, e := range es {
		byUID[e.UID] = e
	}
	tests := []struct {
		uid, name string
		alias     string
		addr      string
	}{
		{uid: "43377", name: "KIM, Sang Man", addr: "XBT 1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ"},
		{uid: "27307", name: "LAZARUS GROUP", alias: "HIDDEN COBRA", addr: "ETH 0x098B716B8Aaf21512996dC57EB0615e2383E2f96"},
		{uid: "9345", name: "KOREA MINING DEVELOPMENT TRADING CORPORATION", alias: "KOMID"},
		{uid: "12209", name: "OFFICE 39", alias: "THIRD FLOOR"},
	}
	for _, tc := range tests {
		e, ok := byUID[tc.uid]
		if !ok {
			t.Errorf("entry %s missing", tc.uid)
			continue
		}
		if e.Name != tc.name {
			t.Errorf("entry %s: name %q, want %q", tc.uid, e.Name, tc.name)
		}
		if tc.alias != "" && !slices.Contains(e.Aliases, tc.alias) {
			t.Errorf("entry %s: aliases %q lack %q", tc.uid, e.Aliases, tc.alias)
		}
		if tc.addr != "" && !slices.Contains(e.Addresses, tc.addr) {
			t.Errorf("entry %s: addresses %q lack %q", tc.uid, e.Addresses, tc.addr)
		}
	}
}
