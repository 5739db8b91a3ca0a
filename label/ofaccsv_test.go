package label

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

const (
	sdnRows     = "ofac-sdn-csv/sdn-digital-currency-rows-2024-05-03.csv"
	sdnComments = "ofac-sdn-csv/sdn_comments-2023-12-22.csv"
)

// TestOFACCSVRealRows imports the 55 entries of Treasury's sdn.csv
// (2024-05-03) that carry digital currency addresses, with and without the
// comments file, and checks the facts the ofac-sdn-csv README states.
func TestOFACCSVRealRows(t *testing.T) {
	t.Parallel()
	// An EVM address counts once (it is labelled on every EVM chain).
	with := readTestdata(t, sdnRows, FormatOFACCSV, Options{Comments: openTestdata(t, sdnComments)})
	without := readTestdata(t, sdnRows, FormatOFACCSV, Options{})

	perEntity := func(ls []heistgraph.Label) map[string]int { // sanctioned addresses per entity
		m := map[string]int{}
		for _, l := range ls {
			if l.Category == CategorySanctioned {
				m[l.Entity]++
			}
		}
		return m
	}
	w, wo := perEntity(with), perEntity(without)
	if len(w) != 55 {
		t.Errorf("%d entities with addresses, want 55", len(w))
	}
	tests := []struct {
		entity      string
		with, wo    int
		explanation string
	}{
		{"TORNADO CASH", 90, 12, ""},
		{"HYDRA MARKET", 117, 11, "(the README's 12 counts the address the cut halves)"},
		{"BLENDER.IO", 45, 10, "(46 listed, one twice; the README's 11 counts the cut address)"},
		{"WU, Huihui", 17, 13, ""},
		{"LI, Jiadong", 12, 12, ""},
		{"TIAN, Yinyin", 8, 8, ""},
		{"LAZARUS GROUP", 8, 8, ""},
		{"KIM, Sang Man", 4, 4, "(6 listed: one Ethereum address for ETH, USDT and USDC)"},
		{"SIM, Hyon Sop", 1, 1, "(one EVM address listed as ETH, ARB and BSC)"},
		{"GRIMM, Matthew Simon", 40, 11, "(the cut falls between a ticker and its address)"},
	}
	for _, tc := range tests {
		if w[tc.entity] != tc.with || wo[tc.entity] != tc.wo {
			t.Errorf("%s: %d addresses with comments, %d without; want %d, %d %s", tc.entity, w[tc.entity], wo[tc.entity], tc.with, tc.wo, tc.explanation)
		}
	}

	// The README: every address of the CSV is in the per-asset lists of 2024-09-27.
	lists := map[string]bool{}
	files, _ := filepath.Glob("testdata/ofac-lists/*.txt")
	for _, f := range files {
		for a := range addresses(readTestdata(t, "ofac-lists/"+filepath.Base(f), FormatOFACList, Options{})) {
			lists[a] = true
		}
	}
	csvAddrs := addresses(with)
	for a := range csvAddrs {
		if !lists[a] {
			t.Errorf("%s is in sdn.csv but not in the per-asset lists", a)
		}
	}
	// 599 (ticker, address) pairs; 13 are an address already listed under
	// another ticker of the same chain: ETH, USDT and USDC on EVM, or SIM
	// Hyon Sop's one EVM address as ETH, ARB and BSC, and an address as ETH and ETC.
	if len(csvAddrs) != 586 {
		t.Errorf("%d distinct (chain, address), want 586", len(csvAddrs))
	}

	cats := countBy(with, func(l heistgraph.Label) string { return l.Category })
	wantCats := map[string]int{"sanctioned": 588, "dprk": 49, "mixer": 137, "darknet": 117, "high_risk_exchange": 51}
	for c, n := range wantCats {
		if cats[c] != n {
			t.Errorf("%d %s labels, want %d (all: %v)", cats[c], c, n, cats)
		}
	}
}

// TestOFACCSVLazarusHistory replays four versions of the LAZARUS GROUP row:
// 0, 1, 4 and 8 Ethereum addresses (2021-08-18, 2022-04-14, 2022-04-22,
// 2022-05-06), every one sanctioned and dprk.
func TestOFACCSVLazarusHistory(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "ofac-sdn-csv/lazarus-row-27307-history.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := []int{0, 1, 4, 8}
	prev := map[string]bool{}
	for i, row := range strings.SplitAfter(strings.TrimSuffix(string(data), "\r\n"), "\r\n") {
		ls, err := ReadAll(strings.NewReader(row), FormatOFACCSV, Options{Name: "lazarus-row-27307-history.csv"})
		if err != nil {
			t.Fatal(err)
		}

		cur := addresses(ls)
		if len(cur) != want[i] || len(ls) != 2*want[i] {
			t.Errorf("version %d: %d addresses, %d labels; want %d, %d", i+1, len(cur), len(ls), want[i], 2*want[i])
		}
		for a := range prev {
			if !cur[a] {
				t.Errorf("version %d removed %s", i+1, a)
			}
		}
		prev = cur
	}
	if !prev["evm 0x098b716b8aaf21512996dc57eb0615e2383e2f96"] {
		t.Error("the last version lacks the Ronin exploiter")
	}
}

func TestOFACCSVWindows1252(t *testing.T) {
	t.Parallel()
	// "MUÑOZ" and a Euro sign, as Treasury's Windows-1252 bytes.
	row := "99999,\"MU\xd1OZ, Jos\xe9\",\"individual\",\"CYBER2\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"\x80 1; Digital Currency Address - XBT 1Archive1n2C579dMsAu3iC6tWzuQJz8dN.\"\r\n\x1a\r\n"
	ls, err := ReadAll(strings.NewReader(row), FormatOFACCSV, Options{})
	if err != nil || len(ls) != 1 || ls[0].Entity != "MUÑOZ, José" || ls[0].Address != "1Archive1n2C579dMsAu3iC6tWzuQJz8dN" {
		t.Fatalf("got %+v, %v", ls, err)
	}
	if got := decodeWindows1252("caf\xe9 \x80\x92"); got != "café €’" {
		t.Errorf("decodeWindows1252 = %q", got)
	}
	if got := decodeWindows1252("café"); got != "café" {
		t.Errorf("UTF-8 input changed: %q", got)
	}
}

func TestOFACCSVErrors(t *testing.T) {
	t.Parallel()
	const file = "sdn.csv"
	row := func(uid, remarks string) string {
		return uid + `,"X",-0- ,"CYBER2",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"` + remarks + `"` + "\r\n"
	}
	ok := row("1", "Digital Currency Address - XBT 1Archive1n2C579dMsAu3iC6tWzuQJz8dN;")
	tests := []struct {
		name, in string
		line     int
		field    string
	}{
		{"too few fields", ok + "2,\"Y\",-0- \r\n", 2, ""},
		{"empty ent_num", ok + row("-0- ", "x"), 2, "ent_num"},
		{"bad address", ok + ok + row("3", "Digital Currency Address - XBT 1Archive1n2C579dMsAu3iC6tWzuQJz8dM;"), 3, "Remarks"},
		{"unknown token chain", row("4", "Digital Currency Address - USDT ED53MNSH3LQSScnT9SXzwKZg2weC8yds5X5G97Yvk3M5jFX"), 1, "Remarks"},
		{"broken quote", ok + "5,\"X\"Y,-0- \r\n", 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadAll(strings.NewReader(tc.in), FormatOFACCSV, Options{Name: file})
			checkParseError(t, err, file, tc.line, tc.field)
		})
	}
	t.Run("bad comments file", func(t *testing.T) {
		t.Parallel()
		_, err := ReadAll(strings.NewReader(ok), FormatOFACCSV, Options{Name: file, Comments: strings.NewReader("1\r\n")})
		checkParseError(t, err, sdnCommentsName, 1, "")
	})
}

func FuzzOFACCSV(f *testing.F) {
	// Single rows of the real file, the short ones.
	data, err := os.ReadFile(filepath.Join("testdata", sdnRows))
	if err != nil {
		f.Fatal(err)
	}
	for _, uid := range []string{"27307,", "42498,", "43377,", "44437,", "45404,"} {
		for line := range strings.Lines(string(data)) {
			if strings.HasPrefix(line, uid) {
				f.Add([]byte(line))
			}
		}
	}
	f.Add([]byte("1,\"X\",-0- ,\"DPRK3] [CYBER2\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Digital Currency Address - USDT TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq.\"\r\n\x1a"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, data, FormatOFACCSV, Options{Name: "sdn.csv"})
	})
}
