package label

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heistgraph/heistgraph"
)

// sdnAddresses returns the (chain, address) pairs of the real sdn.csv rows.
func sdnAddresses(t *testing.T) map[string]bool {
	t.Helper()
	return addresses(readTestdata(t, sdnRows, FormatOFACCSV, Options{Comments: openTestdata(t, sdnComments)}))
}

// onSDN counts the addresses of ls that are on the SDN list, on their chain
// or, for an EVM chain, on the shared EVM key.
func onSDN(sdn map[string]bool, ls []heistgraph.Label) (on, all int) {
	for a := range addresses(ls) {
		all++
		chain, addr, _ := strings.Cut(a, " ")
		if slices.ContainsFunc(heistgraph.Chain(chain).LabelChains(), func(c heistgraph.Chain) bool { return sdn[string(c)+" "+addr] }) {
			on++
		}
	}
	return on, all
}

// TestTagPackRealPacks imports the GraphSense packs in testdata and checks
// them against the facts in the graphsense-tagpacks README, the SDN list
// among them.
func TestTagPackRealPacks(t *testing.T) {
	t.Parallel()
	sdn := sdnAddresses(t)
	tests := []struct {
		file        string
		labels      int
		cats        map[string]int
		conf        float64
		onSDN, addr int
	}{
		// OFAC 2020-03-02 + the Ronin address: all on the SDN list, sanctioned and dprk.
		{"lazarus.yaml", 42, map[string]int{"sanctioned": 21, "dprk": 21}, 0.6, 21, 21},
		// The FBI's 2023-08-22 addresses: DPRK, but not on the SDN list, so not sanctioned.
		{"lazarus2.yaml", 6, map[string]int{"dprk": 6}, 0.6, 0, 6},
		{"ronin_bridge.yaml", 6, map[string]int{"stolen": 6}, 0.5, 1, 6},
		{"blender_io.yaml", 45, map[string]int{"mixer": 45}, 0.6, 45, 45},
		{"sinbad_io.yaml", 2, map[string]int{"mixer": 2}, 0.6, 2, 2},
		// 39 tags, one repeated with a trailing space (the README, not trimming it, counts 37 of 39):
		// a label per tag, the store keeps one of the two identical ones.
		{"tornado_cash.yaml", 39, map[string]int{"mixer": 39}, 0.6, 37, 38},
		{"demo.yaml", 5, map[string]int{"organization": 5}, 0.5, 0, 5},
		{"wasabi_collector.yaml", 2, map[string]int{"mixer": 2}, 0.5, 0, 2},
		{"exchange-wallets-bybit.yaml", 8, map[string]int{"exchange": 8}, 0.5, 0, 8},
		// INTERPOL's scrape of the SDN list (2024-02-26): no abuse, no confidence.
		{"ofac.yaml", 572, map[string]int{"user": 572}, 0.05, 570, 572},
		{"ransomwhere.yaml.gz", 7457, map[string]int{"ransomware": 7457}, 0.5, 0, 7457},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			ls := readTestdata(t, "tagpacks/"+tc.file, FormatTagPack, Options{})
			if len(ls) != tc.labels {
				t.Errorf("%d labels, want %d", len(ls), tc.labels)
			}
			cats := countBy(ls, func(l heistgraph.Label) string { return l.Category })
			if len(cats) != len(tc.cats) {
				t.Errorf("categories %v, want %v", cats, tc.cats)
			}
			for c, n := range tc.cats {
				if cats[c] != n {
					t.Errorf("%d %s labels, want %d (all %v)", cats[c], c, n, cats)
				}
			}
			for _, l := range ls {
				if l.Confidence != tc.conf || !strings.HasPrefix(l.Source, SourceTagPackPrefix) {
					t.Fatalf("label %+v: want confidence %v and a tagpack: source", l, tc.conf)
				}
			}
			if on, all := onSDN(sdn, ls); on != tc.onSDN || all != tc.addr {
				t.Errorf("%d of %d addresses on the SDN list, want %d of %d", on, all, tc.onSDN, tc.addr)
			}
		})
	}
}

func TestTagPackFields(t *testing.T) {
	t.Parallel()
	laz := byKey(readTestdata(t, "tagpacks/lazarus.yaml", FormatTagPack, Options{}))
	l := laz["eth 0x098b716b8aaf21512996dc57eb0615e2383e2f96 sanctioned"]
	if l.Entity != "Lazarus group" || l.Source != "tagpack:OFAC Tagpack" ||
		!strings.Contains(l.Note, "source: https://www.treasury.gov/resource-center/sanctions/OFAC-Enforcement/Pages/20200302.aspx") ||
		!strings.Contains(l.Note, "actor: lazarusgroup") || !strings.Contains(l.Note, "confidence: authority_data") {
		t.Errorf("Ronin address in lazarus.yaml: %+v", l)
	}

	// Header fields are inherited, tag fields override them.
	ronin := readTestdata(t, "tagpacks/ronin_bridge.yaml", FormatTagPack, Options{})
	if ronin[0].Entity != "Ronin bridge exploiter" || ronin[1].Entity != "Ronin bridge exploiter 4" || ronin[0].Chain != "eth" ||
		!strings.Contains(ronin[0].Note, "is_cluster_definer: true") || !strings.Contains(ronin[0].Note, "abuse: service_hack") {
		t.Errorf("ronin_bridge.yaml: %+v, %+v", ronin[0], ronin[1])
	}
	wasabi := readTestdata(t, "tagpacks/wasabi_collector.yaml", FormatTagPack, Options{})
	if !strings.Contains(wasabi[0].Note, "is_cluster_definer: true") || strings.Contains(wasabi[1].Note, "is_cluster_definer") {
		t.Errorf("is_cluster_definer set per tag: %q, %q", wasabi[0].Note, wasabi[1].Note)
	}
	bybit := readTestdata(t, "tagpacks/exchange-wallets-bybit.yaml", FormatTagPack, Options{})
	chains := countBy(bybit, func(l heistgraph.Label) string { return string(l.Chain) })
	if chains["btc"] != 4 || chains["eth"] != 4 {
		t.Errorf("bybit chains %v, want 4 btc and 4 eth", chains)
	}
	demo := readTestdata(t, "tagpacks/demo.yaml", FormatTagPack, Options{})
	var demoChains []string
	for _, l := range demo {
		demoChains = append(demoChains, string(l.Chain))
		if l.Entity != "Internet Archive" {
			t.Errorf("demo entity %q", l.Entity)
		}
	}
	if !slices.Equal(demoChains, []string{"btc", "bch", "eth", "xrp", "zec"}) {
		t.Errorf("demo chains %v", demoChains)
	}

	rw := readTestdata(t, "tagpacks/ransomwhere.yaml.gz", FormatTagPack, Options{})
	fam := countBy(rw, func(l heistgraph.Label) string { return l.Entity })
	if fam["Locky"] != 7037 || fam["Netwalker (Mailto)"] != 66 || fam["SamSam"] != 48 || fam["Ryuk"] != 40 || fam["Conti"] != 27 {
		t.Errorf("ransomware families %v", fam)
	}
	rwk := byKey(rw)
	for _, a := range []string{"115p7UMMngoj1pMvkpHijcRdfJNXj6LrLn", "13AM4VW2dhxYgXeQepoHkHSQuy6NgaEb94"} {
		if l := rwk["btc "+a+" ransomware"]; l.Entity != "WannaCry" {
			t.Errorf("WannaCry address %s: %+v", a, l)
		}
	}

	// The Tron address OFAC lists as XBT, scraped into ofac.yaml as BTC.
	ofac := byKey(readTestdata(t, "tagpacks/ofac.yaml", FormatTagPack, Options{}))
	if l, ok := ofac["tron TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq user"]; !ok || !strings.Contains(l.Note, "listed as BTC") {
		t.Errorf("ofac.yaml Tron address: %+v", l)
	}

	// Unusable rows: kucoin lists USDT on chains an address cannot tell.
	var skipped []*ParseError
	ku := readTestdata(t, "tagpacks/exchange-wallets-kucoin.yaml", FormatTagPack,
		Options{OnSkip: func(e *ParseError) { skipped = append(skipped, e) }})
	if len(ku) != 48 || len(skipped) != 11 || skipped[0].Line != 53 || skipped[0].Field != "address" {
		t.Errorf("kucoin: %d labels, %d skipped (first %v); want 48 and 11 from line 53", len(ku), len(skipped), skipped)
	}
	_, err := ReadAll(openTestdata(t, "tagpacks/exchange-wallets-kucoin.yaml"), FormatTagPack, Options{Name: "kucoin.yaml"})
	checkParseError(t, err, "kucoin.yaml", 53, "address")
}

// TestTagPackConflictsKept imports the shipped GraphSense packs whose tags
// give one address several entities in one category (issue 14: the importer
// used to keep the first and drop the rest without a word). Every tag now
// gives its labels; only labels identical in every field are one label.
func TestTagPackConflictsKept(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file                       string
		labels, distinct, conflict int
	}{
		{"exchange-wallets-binance.yaml", 86, 86, 12},
		{"exchange-wallets-huobi.yaml", 58, 58, 5},
		{"etherscan-wordcloud-mixing_service.yaml", 61, 61, 2},
		// Tags for USDT and ETH on one address are one label on eth: 14 repeats.
		{"exchange-wallets-kucoin.yaml", 48, 34, 5},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			ls := readTestdata(t, "tagpacks/"+tc.file, FormatTagPack, Options{OnSkip: func(*ParseError) {}})
			distinct := map[heistgraph.Label]bool{}
			entities := map[string]map[string]bool{}
			for _, l := range ls {
				distinct[l] = true
				k := string(l.Chain) + " " + l.Address + " " + l.Category
				if entities[k] == nil {
					entities[k] = map[string]bool{}
				}
				entities[k][l.Entity] = true
			}
			conflict := 0
			for _, es := range entities {
				if len(es) > 1 {
					conflict++
				}
			}
			if len(ls) != tc.labels || len(distinct) != tc.distinct || conflict != tc.conflict {
				t.Errorf("%d labels, %d distinct, %d addresses with several entities; want %d, %d, %d",
					len(ls), len(distinct), conflict, tc.labels, tc.distinct, tc.conflict)
			}
		})
	}
}

func TestTagPackCategories(t *testing.T) {
	t.Parallel()
	const ofacURL, fbiURL = "https://home.treasury.gov/policy-issues/financial-sanctions/recent-actions/20220808",
		"https://www.fbi.gov/news/press-releases/fbi-identifies-cryptocurrency-funds-stolen-by-dprk"
	tests := []struct {
		name, category, abuse string
		concepts              []string
		actor, src            string
		want                  []string
	}{
		{"exchange", "exchange", "", nil, "", "", []string{"exchange"}},
		{"mixing service", "mixing_service", "", nil, "", "", []string{"mixer"}},
		{"coinjoin", "coinjoin", "", nil, "", "", []string{"mixer"}},
		{"bridge concept", "", "", []string{"defi_bridge"}, "", "", []string{"bridge"}},
		{"dex", "defi_dex", "", nil, "", "", []string{"dex"}},
		{"miner", "miner", "", nil, "", "", []string{"mining"}},
		{"hack", "", "service_hack", nil, "", "", []string{"stolen"}},
		{"ransomware", "", "ransomware", nil, "", "", []string{"ransomware"}},
		{"phishing", "", "phishing", nil, "", "", []string{"scam"}},
		{"perpetrator", "perpetrator", "", nil, "", "", []string{"illicit_actor"}},
		{"terrorism", "", "terrorism", nil, "", "", []string{"terrorist_financing"}},
		{"sanction from OFAC", "user", "sanction", nil, "", ofacURL, []string{"sanctioned"}},
		{"sanction from the FBI", "user", "sanction", nil, "lazarusgroup", fbiURL, []string{"dprk"}},
		{"sanction elsewhere, nothing else", "", "sanction", nil, "", "https://example.org/list", []string{"unknown"}},
		{"sanction on a look-alike host", "", "sanction", nil, "", "https://treasury.gov.example.com/x", []string{"unknown"}},
		{"Lazarus actor", "user", "sanction", nil, "lazarusgroup", ofacURL, []string{"sanctioned", "dprk"}},
		{"mixer sanctioned", "mixing_service", "sanction", nil, "tornado", ofacURL, []string{"mixer", "sanctioned"}},
		{"unmapped category kept", "organization", "", nil, "", "", []string{"organization"}},
		{"unmapped abuse kept", "", "black_list", nil, "", "", []string{"black_list"}},
		{"nothing", "", "", nil, "", "", []string{"unknown"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tagpackCats(tc.category, tc.abuse, tc.concepts, tc.actor, tc.src); !slices.Equal(got, tc.want) {
				t.Errorf("tagpackCats = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTagPackConfidence(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]float64{"ownership": 1, "ledger_immanent": 1, "manual_transaction": 0.9,
		"authority_data": 0.6, "service_data": 0.5, "forensic": 0.5, "web_crawl": 0.2, "heuristic": 0.1,
		"unknown": 0.05, "": 0.05, "Authority_Data": 0.6, "75": 0.75} {
		if got, err := tagpackLevel(id); err != nil || got != want {
			t.Errorf("tagpackLevel(%q) = %v, %v; want %v", id, got, err, want)
		}
	}
}

func TestTagPackHeader(t *testing.T) {
	t.Parallel()
	pack := `title: Test pack
creator: heistgraph
is_public: false
currency: BTC
category: exchange
confidence: service_data
label: Exchange X
tags:
- address: 1Archive1n2C579dMsAu3iC6tWzuQJz8dN
- address: '0x098B716B8Aaf21512996dC57EB0615e2383E2f96'
  currency: ETH
  category: defi_dex
  label: Some DEX
  confidence: web_crawl
- tx_hash: 975ec4059f0f8e3f8e2e0b0b0f4c1c8f4e1e9a1c0d8a6b2c4e7f3a9b1d2c4e7f
- address: 3N6WeZ6i34taX8Ditser6LKWBcXmt2XXL4
  concepts: [mixing_service]
`
	ls, err := ReadAll(strings.NewReader(pack), FormatTagPack, Options{Name: "packs/test.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	want := []heistgraph.Label{
		{Chain: "btc", Address: "1Archive1n2C579dMsAu3iC6tWzuQJz8dN", Entity: "Exchange X", Category: "exchange", Confidence: 0.5},
		{Chain: "eth", Address: "0x098b716b8aaf21512996dc57eb0615e2383e2f96", Entity: "Some DEX", Category: "dex", Confidence: 0.2},
		{Chain: "btc", Address: "3N6WeZ6i34taX8Ditser6LKWBcXmt2XXL4", Entity: "Exchange X", Category: "exchange", Confidence: 0.5},
		{Chain: "btc", Address: "3N6WeZ6i34taX8Ditser6LKWBcXmt2XXL4", Entity: "Exchange X", Category: "mixer", Confidence: 0.5},
	}
	if len(ls) != len(want) {
		t.Fatalf("got %d labels %+v, want %d", len(ls), ls, len(want))
	}
	for i, w := range want {
		g := ls[i]
		if g.Chain != w.Chain || g.Address != w.Address || g.Entity != w.Entity || g.Category != w.Category ||
			g.Confidence != w.Confidence || g.Source != "tagpack:Test pack" || g.TLP != TLPAmber {
			t.Errorf("label %d = %+v, want %+v (source tagpack:Test pack, tlp amber)", i, g, w)
		}
	}
	// Without a title the file name names the source.
	ls, err = ReadAll(strings.NewReader("tags:\n- address: 1Archive1n2C579dMsAu3iC6tWzuQJz8dN\n  currency: BTC\n"), FormatTagPack, Options{Name: "dir/my-pack.yaml.gz"})
	if err != nil || len(ls) != 1 || ls[0].Source != "tagpack:my-pack" || ls[0].Entity != "my-pack" {
		t.Errorf("untitled pack: %+v, %v", ls, err)
	}
	// An empty tags list is no error.
	if ls, err := ReadAll(strings.NewReader("title: x\ntags:\n"), FormatTagPack, Options{}); err != nil || len(ls) != 0 {
		t.Errorf("empty tags: %+v, %v", ls, err)
	}
}

func TestTagPackErrors(t *testing.T) {
	t.Parallel()
	const file = "pack.yaml"
	const addr = "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"
	tests := []struct {
		name, in string
		line     int
		field    string
	}{
		{"empty", "", 0, ""},
		{"broken YAML", "title: x\ntags:\n- address: [\n  currency: BTC\n", -1, ""},
		{"bad indentation", "title: x\ntags:\n- address: " + addr + "\n currency: BTC\n", 3, ""},
		{"not a mapping", "- a\n- b\n", 1, ""},
		{"no tags", "title: x\ncreator: y\n", 1, "tags"},
		{"tags not a list", "title: x\ntags: 5\n", 2, "tags"},
		{"tag not a mapping", "title: x\ncurrency: BTC\ntags:\n- " + addr + "\n", 4, "tags[0]"},
		{"no address", "title: x\ncurrency: BTC\ntags:\n- label: y\n", 4, "address"},
		{"no currency", "title: x\ntags:\n- address: " + addr + "\n", 3, "currency"},
		{"unknown currency", "title: x\ntags:\n- address: " + addr + "\n  currency: 'B T C'\n", 3, "address"},
		{"bad address", "title: x\ncurrency: BTC\ntags:\n- address: " + addr + "\n- address: 1Archive1n2C579dMsAu3iC6tWzuQJz8dM\n", 5, "address"},
		{"unknown confidence in header", "title: x\ncurrency: BTC\nconfidence: very_high\ntags:\n- address: " + addr + "\n", 3, "confidence"},
		{"unknown confidence in tag", "title: x\ncurrency: BTC\ntags:\n- address: " + addr + "\n  confidence: 101\n", 5, "confidence"},
		{"label is a list", "title: x\ncurrency: BTC\ntags:\n- address: " + addr + "\n  label: [a, b]\n", 5, "label"},
		{"concepts is a mapping", "title: x\ncurrency: BTC\ntags:\n- address: " + addr + "\n  concepts: {a: b}\n", 5, "concepts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadAll(strings.NewReader(tc.in), FormatTagPack, Options{Name: file})
			checkParseError(t, err, file, tc.line, tc.field)
		})
	}
}

func FuzzTagPack(f *testing.F) {
	addSeeds(f, "tagpacks/lazarus.yaml", "tagpacks/lazarus2.yaml", "tagpacks/ronin_bridge.yaml",
		"tagpacks/tornado_cash.yaml", "tagpacks/demo.yaml", "tagpacks/wasabi_collector.yaml",
		"tagpacks/exchange-wallets-bybit.yaml")
	f.Add([]byte("title: x\ncurrency: BTC\ntags:\n- address: &a 1Archive1n2C579dMsAu3iC6tWzuQJz8dN\n- address: *a\n  concepts: [coinjoin, sanction]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, data, FormatTagPack, Options{Name: "pack.yaml"})
		// The streaming reader of packs over 1 MiB, on the same input.
		for l, err := range readTagPack(bytes.NewReader(data), Options{Name: "pack.yaml"}, 0) {
			if err != nil {
				var pe *ParseError
				if !errors.Is(err, heistgraph.ErrInvalid) || !errors.As(err, &pe) {
					t.Fatalf("streamed: error %v (%T) is not a ParseError wrapping ErrInvalid", err, err)
				}
				break
			}
			if err := Validate(l); err != nil {
				t.Fatalf("streamed: invalid label %+v: %v", l, err)
			}
		}
	})
}

// readStreamed imports data with the streaming TagPack reader, whatever
// its size.
func readStreamed(data []byte, opts Options) ([]heistgraph.Label, error) {
	var out []heistgraph.Label
	for l, err := range readTagPack(bytes.NewReader(data), opts, 0) {
		if err != nil {
			return out, err
		}
		out = append(out, l)
	}
	return out, nil
}

// TestTagPackStreamed reads every shipped pack both ways, as one document
// and streamed tag by tag (as packs over 1 MiB are), and wants the same
// labels and the same skipped rows.
func TestTagPackStreamed(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "tagpacks", "*.yaml*"))
	if err != nil || len(files) < 10 {
		t.Fatalf("packs %v, %v", files, err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var skipWhole, skipStream []string
			whole, err := ReadAll(bytes.NewReader(data), FormatTagPack, Options{Name: "p.yaml", OnSkip: func(e *ParseError) { skipWhole = append(skipWhole, e.Error()) }})
			if err != nil {
				t.Fatal(err)
			}
			streamed, err := readStreamed(data, Options{Name: "p.yaml", OnSkip: func(e *ParseError) { skipStream = append(skipStream, e.Error()) }})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(whole, streamed) || !slices.Equal(skipWhole, skipStream) {
				t.Errorf("streamed: %d labels, skipped %v; whole: %d labels, skipped %v", len(streamed), skipStream, len(whole), skipWhole)
			}
		})
	}
	// The same for the errors that end an import and the edge cases of the
	// layout.
	const addr = "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"
	for _, in := range []string{
		"title: x\ncurrency: BTC\ntags:\n- address: " + addr + "\n- address: 1Archive1n2C579dMsAu3iC6tWzuQJz8dM\n",
		"---\ntitle: x # comment\n\ncurrency: BTC\ntags: # the tags\n  # first\n  - address: " + addr + "\n\n    label: |\n      two\n      lines\n  - address: " + addr + "\n...\nignored: [\n",
		"title: x\ntags:\n- address: " + addr + "\n  currency: BTC\n  concepts:\n  - coinjoin\n  - sanction\ncreator: y\n",
		"title: x\ncurrency: BTC\ntags:\n- address: " + addr + "\n  label: [a, b]\n",
		"title: x\ncurrency: BTC\ntags:\n- address: [\n",
		"title: x\ncurrency: BTC\ntags:\n- " + addr + "\n",
		"title: x\ntags: []\n",
		"title: x\ntags:\n",
		"title: x\n",
		"title: x\ncurrency: BTC\ntags:\n- address: " + addr + "\n  label: " + strings.Repeat("L", MaxField+1) + "\n",
	} {
		whole, werr := ReadAll(strings.NewReader(in), FormatTagPack, Options{Name: "p.yaml"})
		streamed, serr := readStreamed([]byte(in), Options{Name: "p.yaml"})
		if !slices.Equal(whole, streamed) || fmt.Sprint(werr) != fmt.Sprint(serr) {
			t.Errorf("%q:\nstreamed %+v, %v\nwhole    %+v, %v", in, streamed, serr, whole, werr)
		}
	}
}

// TestTagPackStreamedLayout pins what only a pack over 1 MiB is held to:
// header first, a block list of tags, lines and tags within their limits.
func TestTagPackStreamedLayout(t *testing.T) {
	t.Parallel()
	const addr = "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"
	tests := []struct {
		name, in string
		line     int
		field    string
	}{
		{"header after the tags", "title: x\ntags:\n- address: " + addr + "\n  currency: BTC\nlabel: y\n", 5, "label"},
		{"flow list", "title: x\ntags: [{address: " + addr + "}]\n", 2, "tags"},
		{"indented root", "  title: x\n  tags:\n", 1, ""},
		{"not a mapping", "- a\n- b\n", 1, ""},
		{"tags not a list", "title: x\ntags:\n  address: " + addr + "\n", 3, "tags"},
		{"line too long", "title: x\ncurrency: BTC\ntags:\n- address: " + addr + "\n  label: " + strings.Repeat("L", MaxRecord) + "\n", 5, ""},
		{"tag too long", "title: x\ncurrency: BTC\ntags:\n- address: " + addr + "\n" + strings.Repeat("  context: "+strings.Repeat("c", 1000)+"\n", MaxTag/1000), 4, "tags[0]"},
		{"header too long", "title: x\ndescription: |\n" + strings.Repeat("  "+strings.Repeat("d", 1000)+"\n", MaxTagPackHeader/1000) + "tags:\n", 2, "description"},
		{"second tags list", "title: x\ntags:\ntags:\n", 3, "tags"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := readStreamed([]byte(tc.in), Options{Name: "p.yaml"})
			checkParseError(t, err, "p.yaml", tc.line, tc.field)
			if err != nil && len(err.Error()) > 400 {
				t.Errorf("error message of %d bytes", len(err.Error()))
			}
		})
	}
}

// TestTagPackLongTitle: a title over MaxField bytes is cut at a rune
// boundary to name the source.
func TestTagPackLongTitle(t *testing.T) {
	t.Parallel()
	in := "title: " + strings.Repeat("é", MaxField) + "\ncurrency: BTC\ntags:\n- address: 1Archive1n2C579dMsAu3iC6tWzuQJz8dN\n"
	ls, err := ReadAll(strings.NewReader(in), FormatTagPack, Options{})
	if err != nil || len(ls) != 1 {
		t.Fatalf("%+v, %v", ls, err)
	}
	if src := strings.TrimPrefix(ls[0].Source, SourceTagPackPrefix); len(src) > MaxField || !utf8.ValidString(src) {
		t.Errorf("source title of %d bytes, valid UTF-8 %v", len(src), utf8.ValidString(src))
	}
}
