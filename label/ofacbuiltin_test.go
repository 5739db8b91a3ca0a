package label

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

var updateOFAC = flag.Bool("update-ofac", false, "rewrite builtin/gen_ofac.tsv and testdata/builtin-version.txt from testdata")

// canonAddr is the form in which a list's address and sdn.csv's are
// compared: EVM hex lower-cased, others as written.
func canonAddr(a string) string {
	a = strings.TrimSpace(a)
	if isHexAddress(a) {
		return strings.ToLower(a)
	}
	return a
}

// listFiles returns the per-asset lists in testdata/ofac-lists by ticker,
// each with its non-empty lines, and the tickers in file-name order.
func listFiles(t testing.TB) (map[string][]string, []string) {
	t.Helper()
	files, err := filepath.Glob("testdata/ofac-lists/sanctioned_addresses_*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no per-asset lists in testdata/ofac-lists: %v", err)
	}
	slices.Sort(files)
	out := map[string][]string{}
	var tickers []string
	for _, f := range files {
		ticker := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "sanctioned_addresses_"), ".txt")
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(data)) {
			if s := strings.TrimSpace(line); s != "" && s[0] != '#' {
				out[ticker] = append(out[ticker], s)
			}
		}
		tickers = append(tickers, ticker)
	}
	return out, tickers
}

// buildOFACRows derives builtin/gen_ofac.tsv from the copied sources: every
// (ticker, address) of the per-asset lists, in file-name and line order,
// with each sdn.csv entry (comments joined) that lists the address under
// that ticker, and the listing date that builtin/dprk.yaml gives the
// address under that entry; then any (ticker, address) of sdn.csv missing
// from the lists.
func buildOFACRows(t testing.TB) []ofacRow {
	t.Helper()
	type entry struct {
		uid, name string
		programs  []string
	}
	byItem := map[string][]entry{} // ticker + " " + canonical address
	var csvOrder []string
	csvAddr := map[string]string{} // as sdn.csv writes it
	for e, err := range sdnCSVEntries(openTestdata(t, sdnRows), Options{Name: filepath.Base(sdnRows), Comments: openTestdata(t, sdnComments)}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range e.items {
			k := strings.ToUpper(it.ticker) + " " + canonAddr(it.addr)
			if _, ok := byItem[k]; !ok {
				csvOrder = append(csvOrder, k)
				csvAddr[k] = it.addr
			}
			if !slices.ContainsFunc(byItem[k], func(x entry) bool { return x.uid == e.d.UID }) {
				byItem[k] = append(byItem[k], entry{e.d.UID, e.d.Name, e.d.Programs})
			}
		}
	}
	f, _, err := parseBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{} // uid + " " + canonical address
	for _, e := range f.Entries {
		if uid, ok := strings.CutPrefix(e.Source, SourceOFACSDN+":"); ok {
			for _, a := range e.Addresses {
				if a.Listed != "" {
					listed[uid+" "+canonAddr(a.Address)] = a.Listed
				}
			}
		}
	}
	lists, tickers := listFiles(t)
	var rows []ofacRow
	used := map[string]bool{}
	add := func(ticker, addr string) {
		k := ticker + " " + canonAddr(addr)
		used[k] = true
		es := byItem[k]
		if len(es) == 0 {
			rows = append(rows, ofacRow{Ticker: ticker, Address: addr})
		}
		for _, e := range es {
			rows = append(rows, ofacRow{Ticker: ticker, Address: addr, UID: e.uid, Entry: e.name, Programs: e.programs,
				Listed: listed[e.uid+" "+canonAddr(addr)]})
		}
	}
	for _, ticker := range tickers {
		for _, a := range lists[ticker] {
			add(ticker, a)
		}
	}
	for _, k := range csvOrder {
		if !used[k] {
			ticker, _, _ := strings.Cut(k, " ")
			add(ticker, csvAddr[k])
		}
	}
	return rows
}

// TestBuiltinOFACTable rebuilds builtin/gen_ofac.tsv from the copies in
// testdata and fails when the embedded file differs; -update-ofac (go
// generate ./label) rewrites it.
func TestBuiltinOFACTable(t *testing.T) {
	got := formatOFACRows(buildOFACRows(t))
	if *updateOFAC {
		if err := os.WriteFile(filepath.Join("builtin", "gen_ofac.tsv"), got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, builtinOFAC) {
		t.Fatal("builtin/gen_ofac.tsv is stale: run go generate ./label")
	}
	rows, err := parseOFACRows(builtinOFAC)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(formatOFACRows(rows), builtinOFAC) {
		t.Error("builtin/gen_ofac.tsv does not survive a parse and format")
	}
}

// TestBuiltinOFAC checks the built-in SDN labels against the copied sources:
// for every ticker, the addresses labelled with that ticker in their note
// are exactly the list's, and every label of sdn.csv (ReadOFACCSV) is built
// in with its entry.
func TestBuiltinOFAC(t *testing.T) {
	t.Parallel()
	ls, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	byTicker := map[string]map[string]bool{} // ticker -> "chain address"
	for _, l := range ls {
		if l.Category != CategorySanctioned {
			continue
		}
		if l.Source != SourceOFACSDN && !strings.HasPrefix(l.Source, SourceOFACSDN+":") {
			t.Errorf("%s %s: sanctioned from %s, not OFAC", l.Chain, l.Address, l.Source)
			continue
		}
		tickers := noteValue(l.Note, "OFAC assets")
		if tickers == "" {
			t.Errorf("%s %s (%s): the note %q names no OFAC asset", l.Chain, l.Address, l.Source, l.Note)
		}
		for _, tk := range strings.Split(tickers, ", ") {
			if byTicker[tk] == nil {
				byTicker[tk] = map[string]bool{}
			}
			byTicker[tk][string(l.Chain)+" "+l.Address] = true
		}
	}
	lists, tickers := listFiles(t)
	total := 0
	for _, tk := range tickers {
		want := map[string]bool{}
		for _, a := range lists[tk] {
			chains, addr, _, err := OFACChains(tk, a)
			if err != nil {
				t.Fatalf("%s %s: %v", tk, a, err)
			}
			want[string(chains[0])+" "+addr] = true
		}
		total += len(lists[tk])
		if len(want) != len(lists[tk]) || len(byTicker[tk]) != len(lists[tk]) {
			t.Errorf("%s: %d addresses built in, the list has %d lines (%d distinct)", tk, len(byTicker[tk]), len(lists[tk]), len(want))
		}
		for k := range want {
			if !byTicker[tk][k] {
				t.Errorf("%s: %s is listed but not built in under that ticker", tk, k)
			}
		}
	}
	if len(byTicker) != len(tickers) {
		t.Errorf("tickers %d built in, %d lists", len(byTicker), len(tickers))
	}
	t.Logf("%d listed (ticker, address) pairs, %d labels built in", total, len(ls))

	// Every label ReadOFACCSV gives for sdn.csv is built in, with its entry and programs.
	builtin := byFullKey(ls)
	for _, l := range readTestdata(t, sdnRows, FormatOFACCSV, Options{Comments: openTestdata(t, sdnComments)}) {
		b, ok := builtin[labelKey(l)]
		if !ok {
			t.Errorf("%s %s %s %s: in sdn.csv, not built in", l.Chain, l.Address, l.Category, l.Source)
			continue
		}
		if p := noteValue(l.Note, "programs"); p != "" && !strings.Contains(b.Note, "programs: "+p) {
			t.Errorf("%s %s (%s): built-in note %q lacks programs %q", l.Chain, l.Address, l.Source, b.Note, p)
		}
	}
}

// byFullKey indexes labels by labelKey.
func byFullKey(ls []heistgraph.Label) map[string]heistgraph.Label {
	m := make(map[string]heistgraph.Label, len(ls))
	for _, l := range ls {
		m[labelKey(l)] = l
	}
	return m
}

// noteValue returns the value of "key: value" in a note, or "".
func noteValue(note, key string) string {
	for part := range strings.SplitSeq(note, "; ") {
		if v, ok := strings.CutPrefix(part, key+": "); ok {
			return v
		}
	}
	return ""
}

// TestBuiltinVersion pins what BuiltinVersion promises: the same version
// means the same labels. testdata/builtin-version.txt records the version
// and a digest of Builtin(); when the labels change but the version does
// not (code changed what the embedded files give), bump builtinRevision;
// when the version changes, record it with go generate ./label.
func TestBuiltinVersion(t *testing.T) {
	ls, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, l := range ls {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%v\x00%s\x00%d\x00%d\x00%s\n",
			l.Chain, l.Address, l.Entity, l.Category, l.Source, l.Confidence, l.TLP, l.ValidFrom, l.ValidUntil, l.Note)
	}
	got := fmt.Sprintf("%s\n%x\n%d labels\n", BuiltinVersion(), h.Sum(nil), len(ls))
	path := filepath.Join("testdata", "builtin-version.txt")
	if *updateOFAC {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gotVersion, _, _ := strings.Cut(got, "\n")
	wantVersion, _, _ := strings.Cut(string(want), "\n")
	switch {
	case got == string(want):
	case gotVersion == wantVersion:
		t.Fatalf("Builtin() changed but BuiltinVersion() did not (%s): bump builtinRevision in builtin.go, then go generate ./label", gotVersion)
	default:
		t.Fatalf("BuiltinVersion() is %s, %s records %s: run go generate ./label", gotVersion, path, wantVersion)
	}
	if v := BuiltinVersion(); v != gotVersion || !strings.HasPrefix(v, "builtin-"+builtinRevision+"+ofac-") {
		t.Errorf("BuiltinVersion() = %q, not stable or not of the documented form", v)
	}
}
