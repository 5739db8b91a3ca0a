package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The real OFAC files the label package checks in (see its testdata README).
var (
	ofacListXBT = filepath.Join("..", "..", "label", "testdata", "ofac-lists", "sanctioned_addresses_XBT.txt")
	ofacXML     = filepath.Join("..", "..", "label", "testdata", "sdn_advanced-excerpt.xml")
)

type labelsShowOut struct {
	Address string             `json:"address"`
	Chain   string             `json:"chain"`
	Labels  []labelJSON        `json:"labels"`
	Cluster *uint64            `json:"cluster_id"`
	Reach   []clusterLabelJSON `json:"cluster_labels"`
}

func TestLabelsBuiltinInFreshStore(t *testing.T) {
	data := filepath.Join(t.TempDir(), "fresh") // does not exist yet
	r := cli(t, "--data", data, "--json", "labels", "show", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96")
	mustOK(t, r, "labels show")
	v := decode[labelsShowOut](t, r.stdout)
	cats := map[string]bool{}
	for _, l := range v.Labels {
		cats[l.Category] = true
	}
	if !cats["dprk"] || !cats["sanctioned"] || v.Chain != "eth" || v.Address != "0x098B716B8Aaf21512996dC57EB0615e2383E2f96" {
		t.Errorf("Ronin exploiter in a fresh store: %+v, want dprk and sanctioned on eth", v)
	}
	// Any case is accepted; a second open does not reseed or duplicate.
	r = cli(t, "--data", data, "--json", "labels", "show", "0x098b716b8aaf21512996dc57eb0615e2383e2f96", "--chain", "eth")
	mustOK(t, r, "labels show lower case")
	if w := decode[labelsShowOut](t, r.stdout); len(w.Labels) != len(v.Labels) {
		t.Errorf("lower case: %d labels, want %d", len(w.Labels), len(v.Labels))
	}
}

func TestLabelsImportShowList(t *testing.T) {
	data := t.TempDir()
	csv := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(csv, []byte("chain,address,entity,category,source,confidence,tlp\n"+
		"btc,bc1qa5wkgaew2dkv56kfvj49j0av5nml45x9ek9hz6,Exchange X,exchange,analyst,0.9,green\n"+
		"btc,1BoatSLRHtKNngkdXEeobR76b53LETtpyT,Mixer M,mixer,analyst,0.8,\n"+
		"btc,not-an-address,Broken,exchange,analyst,0.8,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	type importOut struct {
		Imported   int            `json:"imported"`
		Added      int            `json:"added"`
		Skipped    int            `json:"skipped"`
		ByCategory map[string]int `json:"by_category"`
	}
	r := cli(t, "--data", data, "--json", "--quiet", "labels", "import", csv, "--format", "csv")
	mustOK(t, r, "import csv")
	got := decode[importOut](t, r.stdout)
	if got.Imported != 2 || got.Added != 2 || got.Skipped != 1 || got.ByCategory["exchange"] != 1 || got.ByCategory["mixer"] != 1 {
		t.Errorf("import csv: %+v", got)
	}
	r = cli(t, "--data", data, "--json", "--quiet", "labels", "import", csv, "--format", "csv")
	mustOK(t, r, "import csv again")
	if again := decode[importOut](t, r.stdout); again.Imported != 2 || again.Added != 0 {
		t.Errorf("import again: %+v, want 2 imported, 0 added", again)
	}

	r = cli(t, "--data", data, "--json", "--quiet", "labels", "import", ofacListXBT, "--format", "ofac-list")
	mustOK(t, r, "import ofac-list")
	ofac := decode[importOut](t, r.stdout)
	if ofac.Imported == 0 || ofac.ByCategory["sanctioned"] != ofac.Imported {
		t.Errorf("ofac list: %+v, want every label sanctioned", ofac)
	}
	r = cli(t, "--data", data, "--json", "--quiet", "labels", "import", ofacXML, "--format", "ofac-xml", "--source", "my-ofac-copy")
	mustOK(t, r, "import ofac-xml")
	if x := decode[importOut](t, r.stdout); x.Imported == 0 || x.ByCategory["dprk"] == 0 {
		t.Errorf("ofac xml: %+v, want dprk labels", x)
	}

	r = cli(t, "--data", data, "--json", "labels", "show", "BC1QA5WKGAEW2DKV56KFVJ49J0AV5NML45X9EK9HZ6")
	mustOK(t, r, "labels show bech32 upper case")
	v := decode[labelsShowOut](t, r.stdout)
	if len(v.Labels) != 1 || v.Labels[0].Entity != "Exchange X" || v.Labels[0].TLP != "green" || v.Chain != "btc" {
		t.Errorf("labels show: %+v", v)
	}

	type listOut struct {
		Count  int            `json:"count"`
		Labels []labelRowJSON `json:"labels"`
	}
	r = cli(t, "--data", data, "--json", "labels", "list", "--category", "mixer", "--source", "analyst")
	mustOK(t, r, "labels list mixer")
	if l := decode[listOut](t, r.stdout); l.Count != 1 || l.Labels[0].Address != "1BoatSLRHtKNngkdXEeobR76b53LETtpyT" {
		t.Errorf("list mixer: %d labels, want the one of 1BoatSLRHtKNngkdXEeobR76b53LETtpyT", l.Count)
	}
	r = cli(t, "--data", data, "--json", "labels", "list", "--source", "my-ofac-copy", "--chain", "eth", "--limit", "1")
	mustOK(t, r, "labels list source")
	if l := decode[listOut](t, r.stdout); l.Count != 1 || l.Labels[0].Source != "my-ofac-copy" || l.Labels[0].Chain != "eth" {
		t.Errorf("list by source: %+v", l)
	}
}

func TestLabelsBadUsage(t *testing.T) {
	data := t.TempDir()
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("chain,address\n\"unterminated\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no format", []string{"labels", "import", ofacListXBT}, exitUsage},
		{"unknown format", []string{"labels", "import", ofacListXBT, "--format", "xls"}, exitUsage},
		{"missing file", []string{"labels", "import", filepath.Join(data, "nope.csv"), "--format", "csv"}, exitUsage},
		{"broken csv", []string{"labels", "import", bad, "--format", "csv"}, exitUsage},
		{"comments without ofac-csv", []string{"labels", "import", ofacListXBT, "--format", "ofac-list", "--comments", bad}, exitUsage},
		{"bad chain", []string{"labels", "show", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "--chain", "btc-nope"}, exitUsage},
		{"show without address", []string{"labels", "show"}, exitUsage},
		{"list negative limit", []string{"labels", "list", "--limit", "-1"}, exitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, append([]string{"--data", data, "--json"}, tc.args...)...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr %s", r.code, tc.code, r.stderr)
			}
			if !strings.Contains(r.stderr, `"error"`) {
				t.Errorf("stderr %q has no JSON error line", r.stderr)
			}
		})
	}
}
