package label

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// TestOFACListRealFiles imports every per-asset list of 2024-09-27: one
// label per non-empty line, all sanctioned, on the asset's chain.
func TestOFACListRealFiles(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/ofac-lists/sanctioned_addresses_*.txt")
	if err != nil || len(files) != 17 {
		t.Fatalf("want the 17 per-asset lists in testdata/ofac-lists, got %d (%v)", len(files), err)
	}
	wantChains := map[string]map[heistgraph.Chain]int{
		"XBT":  {"btc": 434, "tron": 1}, // OFAC lists one Tron address as XBT
		"ETH":  {"evm": 152},
		"USDT": {"evm": 8, "tron": 11, "btc": 7}, // EVM, Tron and Omni Layer USDT
		"USDC": {"evm": 2},
		"TRX":  {"tron": 6},
		"ARB":  {"evm": 1}, // the shared EVM key: one label holds on every EVM chain
		"BSC":  {"evm": 1},
		"LTC":  {"ltc": 10},
		"BCH":  {"bch": 7},
		"ETC":  {"evm": 1},
		"XMR":  {"xmr": 3},
	}
	total := 0
	for _, path := range files {
		asset := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "sanctioned_addresses_"), ".txt")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := 0
		for l := range strings.Lines(string(data)) {
			if strings.TrimSpace(l) != "" {
				lines++
			}
		}
		all := readTestdata(t, "ofac-lists/"+filepath.Base(path), FormatOFACList, Options{})
		ls := all
		if len(ls) != lines {
			t.Errorf("%s: %d labels, want %d (one per non-empty line)", asset, len(ls), lines)
		}
		for _, l := range ls {
			if l.Category != CategorySanctioned || l.Source != SourceOFACSDN || l.Confidence != 1 || l.Entity != "" ||
				!strings.Contains(l.Note, "OFAC assets: "+asset) {
				t.Errorf("%s: label %+v, want category sanctioned, source ofac-sdn, confidence 1, no entity, the ticker in the note", asset, l)
			}
		}
		if want, ok := wantChains[asset]; ok {
			got := map[heistgraph.Chain]int{}
			for _, l := range ls {
				got[l.Chain]++
			}
			if len(got) != len(want) {
				t.Errorf("%s: chains %v, want %v", asset, got, want)
			}
			for c, n := range want {
				if got[c] != n {
					t.Errorf("%s: %d labels on %s, want %d (all: %v)", asset, got[c], c, n, got)
				}
			}
		}
		total += len(ls)
	}
	if total != 654 { // the ofac-lists README: 654 addresses on 2024-09-27
		t.Errorf("%d labels in all lists, want 654", total)
	}

	xbt := byKey(readTestdata(t, "ofac-lists/sanctioned_addresses_XBT.txt", FormatOFACList, Options{}))
	if l, ok := xbt["tron TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq sanctioned"]; !ok || !strings.Contains(l.Note, "listed as XBT") {
		t.Errorf("the Tron address OFAC lists as XBT: got %+v, want it on tron with a note", l)
	}
	eth := byKey(readTestdata(t, "ofac-lists/sanctioned_addresses_ETH.txt", FormatOFACList, Options{}))
	if _, ok := eth["evm 0x098b716b8aaf21512996dc57eb0615e2383e2f96 sanctioned"]; !ok {
		t.Error("the Ronin bridge exploiter is not in the ETH list (lower-cased)")
	}
}

func TestOFACListAsset(t *testing.T) {
	t.Parallel()
	in := "0x098B716B8Aaf21512996dC57EB0615e2383E2f96\n"
	tests := []struct {
		name, file, asset string
		want              string // the ticker the note names
	}{
		{"from the file name", "lists/sanctioned_addresses_BSC.txt", "", "BSC"},
		{"from a Windows path", `C:\lists\sanctioned_addresses_ARB.txt`, "", "ARB"},
		{"option overrides the name", "sanctioned_addresses_BSC.txt", "ETC", "ETC"},
		{"option without a name", "", "ETH", "ETH"},
		{"gzip-compressed list", "sanctioned_addresses_ETH.txt.gz", "", "ETH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(in)
			if strings.HasSuffix(tc.file, ".gz") {
				var b bytes.Buffer
				zw := gzip.NewWriter(&b)
				zw.Write(data)
				zw.Close()
				data = b.Bytes()
			}
			ls, err := ReadAll(bytes.NewReader(data), FormatOFACList, Options{Name: tc.file, Asset: tc.asset})
			// One label on the shared EVM key, the note naming the ticker.
			if err != nil || len(ls) != 1 || ls[0].Chain != heistgraph.ChainEVM || !strings.Contains(ls[0].Note, "OFAC assets: "+tc.want) {
				t.Fatalf("got %+v, %v; want one label on evm, listed as %s", ls, err, tc.want)
			}
		})
	}
}

func TestOFACListErrors(t *testing.T) {
	t.Parallel()
	const name = "sanctioned_addresses_XBT.txt"
	tests := []struct {
		name, file, asset, in string
		line                  int
		field                 string
	}{
		{"no asset in name or option", "addresses.txt", "", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN\n", 0, "asset"},
		{"bad checksum", name, "", "# comment\n\n1Archive1n2C579dMsAu3iC6tWzuQJz8dM\n", 3, "address"},
		{"two addresses on a line", name, "", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN 1Archive1n2C579dMsAu3iC6tWzuQJz8dN\n", 1, "address"},
		{"Monero address in the XBT list", name, "", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN\n49HqitRzdnhYjgTEAhgGpCfsjdTeMbUTU6cyR4JV1R7k2Eej9rGT8JpFiYDa4tZM6RZiFrHmMzgSrhHEqpDYKBe5B2ufNsL\n", 2, "address"},
		{"line too long", name, "", strings.Repeat("1", 70000) + "\n", 1, "address"},
		{"corrupt gzip", name, "", "\x1f\x8b\x08\x00garbage", 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadAll(strings.NewReader(tc.in), FormatOFACList, Options{Name: tc.file, Asset: tc.asset})
			checkParseError(t, err, tc.file, tc.line, tc.field)
		})
	}
	// An EVM address in the XBT list is moved to the shared EVM key, like OFAC's Tron
	// address: dropping a sanctioned address is worse.
	ls, err := ReadAll(strings.NewReader("0x098B716B8Aaf21512996dC57EB0615e2383E2f96\n"), FormatOFACList, Options{Name: name})
	if err != nil || len(ls) != 1 || ls[0].Chain != heistgraph.ChainEVM || !strings.Contains(ls[0].Note, "listed as XBT, but the address is one of chain evm") {
		t.Errorf("EVM address in the XBT list: got %+v, %v", ls, err)
	}
	if _, err := ReadAll(strings.NewReader(""), FormatOFACList, Options{Asset: "X B"}); err == nil {
		t.Error("an asset that is not a ticker was accepted")
	}
}

func TestOFACListOnSkip(t *testing.T) {
	t.Parallel()
	in := "1Archive1n2C579dMsAu3iC6tWzuQJz8dN\nnot-an-address\n3N6WeZ6i34taX8Ditser6LKWBcXmt2XXL4\n"
	var skipped []*ParseError
	ls, err := ReadAll(strings.NewReader(in), FormatOFACList,
		Options{Name: "sanctioned_addresses_XBT.txt", OnSkip: func(e *ParseError) { skipped = append(skipped, e) }})
	if err != nil || len(ls) != 2 || len(skipped) != 1 || skipped[0].Line != 2 {
		t.Fatalf("got %d labels, %v, skipped %v; want 2 labels and line 2 skipped", len(ls), err, skipped)
	}
}

func FuzzOFACList(f *testing.F) {
	addSeeds(f, "ofac-lists/sanctioned_addresses_XBT.txt", "ofac-lists/sanctioned_addresses_USDT.txt",
		"ofac-lists/sanctioned_addresses_BCH.txt")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, data, FormatOFACList, Options{Name: "sanctioned_addresses_XBT.txt"})
		fuzzCheck(t, data, FormatOFACList, Options{Name: "sanctioned_addresses_USDT.txt"})
		fuzzCheck(t, data, FormatOFACList, Options{Asset: "BCH"})
	})
}
