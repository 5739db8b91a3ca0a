package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/risk"
)

// The real OFAC files the label package checks in (see its testdata README).
var (
	ofacListXBT = filepath.Join("..", "..", "label", "testdata", "ofac-lists", "sanctioned_addresses_XBT.txt")
	ofacXML     = filepath.Join("..", "..", "label", "testdata", "sdn_advanced-excerpt.xml")
)

// importOut is what labels import --json prints.
type importOut = labelImportReport

// labelCount counts the labels of source in the store in data.
func labelCount(t *testing.T, data, source string) int {
	t.Helper()
	r := cli(t, "--data", data, "--json", "labels", "list", "--source", source)
	mustOK(t, r, "labels list")
	return decode[struct {
		Count int `json:"count"`
	}](t, r.stdout).Count
}

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
	// Strict by default: the bad row stops the import and nothing of the file is stored.
	r := cli(t, "--data", data, "--json", "--quiet", "labels", "import", csv, "--format", "csv")
	if r.code != exitUsage || !strings.Contains(r.stderr, "labels.csv:4: address:") {
		t.Fatalf("strict import: exit %d, stderr %s; want 2 naming labels.csv:4: address", r.code, r.stderr)
	}
	if n := labelCount(t, data, "analyst"); n != 0 {
		t.Fatalf("%d labels of the rejected file stored, want 0", n)
	}
	r = cli(t, "--data", data, "--json", "--quiet", "labels", "import", csv, "--format", "csv", "--skip-invalid")
	mustOK(t, r, "import csv")
	got := decode[importOut](t, r.stdout)
	if got.Imported != 2 || got.Added != 2 || got.Existing != 0 || got.Skipped != 1 || got.ByCategory["exchange"] != 1 || got.ByCategory["mixer"] != 1 ||
		len(got.Problems) != 1 || got.Problems[0].Line != 4 || got.Problems[0].Field != "address" {
		t.Errorf("import csv: %+v", got)
	}
	r = cli(t, "--data", data, "--json", "--quiet", "labels", "import", csv, "--format", "csv", "--skip-invalid")
	mustOK(t, r, "import csv again")
	if again := decode[importOut](t, r.stdout); again.Imported != 2 || again.Added != 0 || again.Existing != 2 || again.Total != got.Total {
		t.Errorf("import again: %+v, want 2 imported, 0 new, 2 already stored, %d in the store", again, got.Total)
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
	if l := decode[listOut](t, r.stdout); l.Count != 1 || l.Labels[0].Source != "my-ofac-copy" || l.Labels[0].Chain != heistgraph.ChainEVM {
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

// TestLabelsImportRejects runs labels import on files with one bad row
// each: exit 2, the error names file:line: field, and nothing of the file is
// stored; with --skip-invalid the row is skipped and counted (issue 14).
func TestLabelsImportRejects(t *testing.T) {
	const hdr = "chain,address,entity,category,source,confidence\n"
	const good = "btc,1BoatSLRHtKNngkdXEeobR76b53LETtpyT,Exchange X,exchange,rejects,0.9\n"
	big := strings.Repeat("E", 1<<20)
	tests := []struct {
		name, row string
		line      int // 0: the file's error has no line of a row
		field     string
		skippable bool
		want      string // in the message
	}{
		{"unknown chain", "bitcoin,1BoatSLRHtKNngkdXEeobR76b53LETtpyT,X,exchange,rejects,0.9\n", 7, "chain", true, `"bitcoin" is not a known chain`},
		{"address of another chain", "eth,1BoatSLRHtKNngkdXEeobR76b53LETtpyT,X,exchange,rejects,0.9\n", 7, "address", true, "not a valid eth address"},
		{"bad checksum", "btc,1BoatSLRHtKNngkdXEeobR76b53LETtpyU,X,exchange,rejects,0.9\n", 7, "address", true, "not a valid btc address"},
		{"confidence out of range", "btc,1BoatSLRHtKNngkdXEeobR76b53LETtpyT,X,exchange,rejects,1.5\n", 7, "confidence", true, "not a number in [0, 1]"},
		{"empty entity", "btc,1BoatSLRHtKNngkdXEeobR76b53LETtpyT,,exchange,rejects,0.9\n", 7, "entity", true, "entity is empty"},
		{"empty source", "btc,1BoatSLRHtKNngkdXEeobR76b53LETtpyT,X,exchange,,0.9\n", 7, "source", true, "source is empty"},
		{"malformed category", "btc,1BoatSLRHtKNngkdXEeobR76b53LETtpyT,X,high risk,rejects,0.9\n", 7, "category", true, "has character"},
		{"wrong field count", "btc,1BoatSLRHtKNngkdXEeobR76b53LETtpyT,X\n", 7, "", true, "row has 3 fields"},
		{"field too long", "btc,1BoatSLRHtKNngkdXEeobR76b53LETtpyT,X" + strings.Repeat("x", 300) + ",exchange,rejects,0.9\n", 7, "entity", true, "(limit 256)"},
		{"1 MiB field", "btc,1BoatSLRHtKNngkdXEeobR76b53LETtpyT," + big + ",exchange,rejects,0.9\n", 7, "", false, "record longer than 65536 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := t.TempDir()
			file := filepath.Join(t.TempDir(), "labels.csv")
			body := hdr + good + strings.Repeat(strings.Replace(good, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "bc1qa5wkgaew2dkv56kfvj49j0av5nml45x9ek9hz6", 1), 4) + tc.row
			if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			r := cli(t, "--data", data, "labels", "import", file, "--format", "csv")
			where := fmt.Sprintf("labels.csv:%d:", tc.line)
			if tc.field != "" {
				where += " " + tc.field + ":"
			}
			if r.code != exitUsage || !strings.Contains(r.stderr, where) || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %.400q; want 2 naming %q and %q", r.code, r.stderr, where, tc.want)
			}
			if len(r.stderr) > 1000 {
				t.Errorf("stderr of %d bytes quotes too much of the value", len(r.stderr))
			}
			if n := labelCount(t, data, "rejects"); n != 0 {
				t.Fatalf("%d labels of the rejected file stored, want 0", n)
			}
			r = cli(t, "--data", data, "--json", "--quiet", "labels", "import", file, "--format", "csv", "--skip-invalid")
			if !tc.skippable {
				if r.code != exitUsage {
					t.Errorf("--skip-invalid: exit %d, want 2: a syntax error always stops", r.code)
				}
				if n := labelCount(t, data, "rejects"); n != 0 {
					t.Errorf("%d labels stored after a syntax error, want 0", n)
				}
				return
			}
			mustOK(t, r, "import --skip-invalid")
			got := decode[importOut](t, r.stdout)
			if got.Imported != 5 || got.Added != 2 || got.Existing != 3 || got.Skipped != 1 || len(got.Problems) != 1 ||
				got.Problems[0].Line != tc.line || got.Problems[0].Field != tc.field {
				t.Errorf("--skip-invalid: %+v; want 5 imported, 2 new, 3 already stored, line %d skipped", got, tc.line)
			}
			if n := labelCount(t, data, "rejects"); n != got.Added {
				t.Errorf("%d labels stored, the summary says %d new", n, got.Added)
			}
		})
	}
}

// TestLabelsImportUnknownCategories: a category screening does not know is
// kept and named in the summary.
func TestLabelsImportUnknownCategories(t *testing.T) {
	data := t.TempDir()
	file := filepath.Join(t.TempDir(), "labels.csv")
	body := "chain,address,entity,category,source,confidence\n" +
		"btc,1BoatSLRHtKNngkdXEeobR76b53LETtpyT,A,notacategory,cats,0.9\n" +
		"btc,bc1qa5wkgaew2dkv56kfvj49j0av5nml45x9ek9hz6,B,notacategory,cats,0.9\n" +
		"btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,C,exchanges,cats,0.9\n" +
		"btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,C,stolen:ronin-2022,cats,0.9\n" +
		"btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,C,organization,cats,0.9\n" +
		"btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,C,exchange,cats,0.9\n"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := cli(t, "--data", data, "labels", "import", file, "--format", "csv")
	mustOK(t, r, "import")
	if !strings.Contains(r.stdout, "3 rows with categories screening does not know: kept (exchanges 1, notacategory 2)") {
		t.Errorf("summary %q does not name the unknown categories", r.stdout)
	}
	r = cli(t, "--data", data, "--json", "labels", "import", file, "--format", "csv")
	mustOK(t, r, "import --json")
	got := decode[importOut](t, r.stdout)
	if got.UnknownCategoryLabels != 3 || got.UnknownCategories["notacategory"] != 2 || got.UnknownCategories["exchanges"] != 1 || len(got.UnknownCategories) != 2 {
		t.Errorf("--json: %+v", got)
	}
	if n := labelCount(t, data, "cats"); n != 6 {
		t.Errorf("%d labels stored, want all 6 kept", n)
	}
}

// TestLabelsImportConflictingTagPack imports a real GraphSense pack whose
// tags give one address several entities (binance's wallets: 12 such
// addresses): every tag is stored, the summary's counts are what the store
// holds, the conflicts are named, and a second import changes nothing.
func TestLabelsImportConflictingTagPack(t *testing.T) {
	data := t.TempDir()
	pack := filepath.Join("..", "..", "label", "testdata", "tagpacks", "exchange-wallets-binance.yaml")
	before := decode[importOut](t, mustOut(t, cli(t, "--data", data, "--json", "--quiet", "labels", "import", ofacListXBT, "--format", "ofac-list"))).Total
	r := cli(t, "--data", data, "--json", "--quiet", "labels", "import", pack, "--format", "tagpack")
	mustOK(t, r, "import binance")
	got := decode[importOut](t, r.stdout)
	if got.Imported != 86 || got.Added != 86 || got.Existing != 0 || got.Skipped != 0 || got.Total != before+86 {
		t.Errorf("binance: %+v; want 86 imported and new, %d in the store", got, before+86)
	}
	if got.Conflicts != 12 || len(got.ConflictExamples) != maxConflictExamples || len(got.ConflictExamples[0].Entities) < 2 {
		t.Errorf("binance conflicts: %d %+v; want 12", got.Conflicts, got.ConflictExamples)
	}
	// Each conflicting address shows every entity.
	ex := got.ConflictExamples[0]
	r = cli(t, "--data", data, "--json", "labels", "show", ex.Address, "--chain", string(ex.Chain))
	mustOK(t, r, "labels show")
	shown := map[string]bool{}
	for _, l := range decode[labelsShowOut](t, r.stdout).Labels {
		if l.Category == ex.Category {
			shown[l.Entity] = true
		}
	}
	for _, e := range ex.Entities {
		if !shown[e] {
			t.Errorf("labels show %s: entity %q not shown (%v)", ex.Address, e, shown)
		}
	}
	r = cli(t, "--data", data, "--json", "--quiet", "labels", "import", pack, "--format", "tagpack")
	mustOK(t, r, "import binance again")
	if again := decode[importOut](t, r.stdout); again.Added != 0 || again.Existing != 86 || again.Total != got.Total {
		t.Errorf("again: %+v; want 0 new, 86 already stored, %d in the store", again, got.Total)
	}
}

func mustOut(t *testing.T, r result) string {
	t.Helper()
	mustOK(t, r, "command")
	return r.stdout
}

// TestLabelsImportTagPackStrict: a TagPack row that fails validation names
// the pack's file, YAML line and key, and stores nothing unless
// --skip-invalid.
func TestLabelsImportTagPackStrict(t *testing.T) {
	data := t.TempDir()
	pack := filepath.Join("..", "..", "label", "testdata", "tagpacks", "exchange-wallets-kucoin.yaml")
	r := cli(t, "--data", data, "labels", "import", pack, "--format", "tagpack")
	if r.code != exitUsage || !strings.Contains(r.stderr, "exchange-wallets-kucoin.yaml:53: address:") {
		t.Fatalf("exit %d, stderr %s; want 2 naming exchange-wallets-kucoin.yaml:53: address", r.code, r.stderr)
	}
	const source = "tagpack:kucoin reserve wallets"
	if n := labelCount(t, data, source); n != 0 {
		t.Fatalf("%d labels stored from a rejected pack", n)
	}
	r = cli(t, "--data", data, "--json", "--quiet", "labels", "import", pack, "--format", "tagpack", "--skip-invalid")
	mustOK(t, r, "import --skip-invalid")
	got := decode[importOut](t, r.stdout)
	// 48 labels from 48 tags; 14 of them repeat another (a USDT and an ETH
	// tag on one address are one label on eth).
	if got.Imported != 48 || got.Added != 34 || got.Existing != 14 || got.Skipped != 11 {
		t.Errorf("kucoin: %+v; want 48 imported, 34 new, 14 already stored, 11 skipped", got)
	}
	if n := labelCount(t, data, source); n != got.Added {
		t.Errorf("%d labels stored, the summary says %d new", n, got.Added)
	}
}

// TestLabelsSharedEVMKey: an address OFAC lists under ETH only (POTEKHIN,
// Danil, CYBER2) is sanctioned on every EVM chain, its one built-in label
// on the shared EVM key found by labels show and screen on any of them.
func TestLabelsSharedEVMKey(t *testing.T) {
	data := t.TempDir()
	const addr = "0x7F367cC41522cE07553e823bf3be79A889DEbe1B"
	for _, args := range [][]string{{}, {"--chain", "eth"}, {"--chain", "bsc"}, {"--chain", "arbitrum"}, {"--chain", "evm"}} {
		r := cli(t, append([]string{"--data", data, "--json", "labels", "show", strings.ToLower(addr)}, args...)...)
		mustOK(t, r, "labels show")
		v := decode[labelsShowOut](t, r.stdout)
		if len(v.Labels) != 1 || v.Labels[0].Category != "sanctioned" || v.Labels[0].Entity != "POTEKHIN, Danil" || v.Address != addr {
			t.Errorf("labels show %v: %+v, want the OFAC sanction, the address in EIP-55 case", args, v)
		}
	}
	for _, chain := range []string{"bsc", "polygon", "eth"} {
		r := cli(t, "--data", data, "--json", "screen", "--chain", chain, addr)
		mustOK(t, r, "screen")
		s := decode[screenJSON](t, r.stdout)
		if !s.Sanctioned || s.Risk != risk.LevelSevere || s.Address != addr || s.Chain != heistgraph.Chain(chain) {
			t.Errorf("screen --chain %s: %+v, want sanctioned, the address in EIP-55 case", chain, s.Answer)
		}
	}
	// Not on a chain where the 0x key holds nothing: tron has no such address.
	if r := cli(t, "--data", data, "--json", "screen", "--chain", "tron", addr); r.code != exitUsage {
		t.Errorf("screen --chain tron 0x...: exit %d, want 2", r.code)
	}
}

// TestLabelsImportEtherscan imports a real Etherscan label file, strictly
// and with --skip-invalid, on eth and on every EVM chain.
func TestLabelsImportEtherscan(t *testing.T) {
	data := t.TempDir()
	binance := filepath.Join("..", "..", "label", "testdata", "etherscan-labels", "accounts-binance.csv")
	r := cli(t, "--data", data, "--json", "--quiet", "labels", "import", binance, "--format", "etherscan")
	mustOK(t, r, "import etherscan")
	if got := decode[importOut](t, r.stdout); got.Imported != 57 || got.Added != 57 || got.ByCategory["exchange"] != 57 || got.ByChain["eth"] != 57 || got.Skipped != 0 {
		t.Errorf("import accounts-binance.csv: %+v, want 57 exchange labels on eth", got)
	}
	const binance14 = "0x28C6c06298d514Db089934071355E5743bf21d60"
	r = cli(t, "--data", data, "--json", "labels", "show", binance14)
	mustOK(t, r, "labels show")
	if v := decode[labelsShowOut](t, r.stdout); len(v.Labels) != 1 || v.Labels[0].Entity != "Binance" || v.Labels[0].Source != "etherscan:binance" || v.Address != binance14 {
		t.Errorf("labels show Binance 14: %+v", v)
	}
	// On bsc the eth label does not hold; imported with --chain evm, it does.
	r = cli(t, "--data", data, "--json", "labels", "show", binance14, "--chain", "bsc")
	mustOK(t, r, "labels show --chain bsc")
	if v := decode[labelsShowOut](t, r.stdout); len(v.Labels) != 0 {
		t.Errorf("labels show --chain bsc after an eth import: %+v, want none", v)
	}
	mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", binance, "--format", "etherscan", "--chain", "evm"), "import --chain evm")
	r = cli(t, "--data", data, "--json", "labels", "show", binance14, "--chain", "bsc")
	mustOK(t, r, "labels show --chain bsc")
	if v := decode[labelsShowOut](t, r.stdout); len(v.Labels) != 1 || v.Labels[0].Entity != "Binance" {
		t.Errorf("labels show --chain bsc after an evm import: %+v", v)
	}

	// A bad row: exit 2 naming file:line: address, nothing stored; skipped with --skip-invalid.
	bad := filepath.Join(t.TempDir(), "accounts-kraken.csv")
	if err := os.WriteFile(bad, []byte(",Address,Name Tag,Balance,Txn Count\n"+
		"0,0x2910543af39aba0cd09dbb2d50200b3e800a63d2,Kraken,0 ETH,1\n"+
		"1,0x2910543af39aba0cd09dbb2d50200b3e800a63d,Kraken 2,0 ETH,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = cli(t, "--data", data, "--quiet", "labels", "import", bad, "--format", "etherscan")
	if r.code != exitUsage || !strings.Contains(r.stderr, "accounts-kraken.csv:3: address:") {
		t.Errorf("strict import of a bad row: exit %d, stderr %s; want 2 naming accounts-kraken.csv:3: address", r.code, r.stderr)
	}
	if n := labelCount(t, data, "etherscan:kraken"); n != 0 {
		t.Errorf("%d labels of the rejected file stored", n)
	}
	r = cli(t, "--data", data, "--json", "--quiet", "labels", "import", bad, "--format", "etherscan", "--skip-invalid")
	mustOK(t, r, "import --skip-invalid")
	if got := decode[importOut](t, r.stdout); got.Imported != 1 || got.Skipped != 1 || len(got.Problems) != 1 || got.Problems[0].Line != 3 {
		t.Errorf("import --skip-invalid: %+v", got)
	}
	noLabel := filepath.Join(t.TempDir(), "kraken.csv")
	if err := os.WriteFile(noLabel, []byte(",Address,Name Tag\n0,0x2910543af39aba0cd09dbb2d50200b3e800a63d2,Kraken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"labels", "import", binance, "--format", "etherscan", "--chain", "btc"},
		{"labels", "import", binance, "--format", "etherscan", "--tag", "Not A Label"},
		{"labels", "import", binance, "--format", "csv", "--tag", "binance"},
		{"labels", "import", noLabel, "--format", "etherscan"}, // which Etherscan label?
	} {
		if r := cli(t, append([]string{"--data", data}, args...)...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, r.code, r.stderr)
		}
	}
}
