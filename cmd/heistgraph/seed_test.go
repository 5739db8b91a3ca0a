package main

import (
	"context"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// The per-asset OFAC lists the label package checks in (see its testdata README).
var ofacLists = filepath.Join("..", "..", "label", "testdata", "ofac-lists")

// listLines returns the non-empty lines of the per-asset list of ticker.
func listLines(t *testing.T, ticker string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ofacLists, "sanctioned_addresses_"+ticker+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for l := range strings.Lines(string(data)) {
		if s := strings.TrimSpace(l); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// countingLabels counts the writes that seeding does.
type countingLabels struct {
	inner    store.Labels
	replaces int
}

func (c *countingLabels) PutLabels(ctx context.Context, ls []heistgraph.Label) (int, error) {
	return c.inner.PutLabels(ctx, ls)
}

func (c *countingLabels) AddressLabels(ctx context.Context, chain heistgraph.Chain, addr string) ([]heistgraph.Label, error) {
	return c.inner.AddressLabels(ctx, chain, addr)
}

func (c *countingLabels) Labels(ctx context.Context, q store.LabelQuery) iter.Seq2[heistgraph.Label, error] {
	return c.inner.Labels(ctx, q)
}

func (c *countingLabels) LabelStats(ctx context.Context) (store.LabelStats, error) {
	return c.inner.LabelStats(ctx)
}

func (c *countingLabels) LabelSetVersion(ctx context.Context, set string) (string, error) {
	return c.inner.LabelSetVersion(ctx, set)
}

func (c *countingLabels) ReplaceLabelSet(ctx context.Context, set, version string, ls []heistgraph.Label) (int, int, error) {
	c.replaces++
	return c.inner.ReplaceLabelSet(ctx, set, version, ls)
}

func openPebble(t *testing.T, dir string) *pebble.DB {
	t.Helper()
	db, err := pebble.Open(dir, pebble.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestSeedBuiltinOnce: the first open seeds the built-in set and records
// its version; later opens (also in a new process: the store is reopened)
// read that version and neither parse the built-in files nor write.
func TestSeedBuiltinOnce(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for i := range 3 {
		db := openPebble(t, dir)
		c := &countingLabels{inner: db}
		loads := 0
		load := func() ([]heistgraph.Label, error) { loads++; return label.Builtin() }
		if err := seedLabelSet(ctx, c, builtinSet, builtinVersion(), load); err != nil {
			t.Fatal(err)
		}
		want := 0
		if i == 0 {
			want = 1
		}
		if c.replaces != want || loads != want {
			t.Errorf("open %d: %d loads, %d writes; want %d", i+1, loads, c.replaces, want)
		}
		if v, err := db.LabelSetVersion(ctx, builtinSet); err != nil || v != label.BuiltinVersion() {
			t.Errorf("open %d: recorded version %q, %v; want %s", i+1, v, err, label.BuiltinVersion())
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// The store holds exactly the built-in labels.
	db := openPebble(t, dir)
	defer db.Close()
	stats, err := db.LabelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := label.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Total != int64(len(ls)) {
		t.Errorf("%d labels stored, Builtin has %d", stats.Total, len(ls))
	}
}

// TestSeedChangedSet: a binary with another built-in set re-seeds: labels
// the new set no longer has are removed, unless the user imported them
// too; labels the user imported are never touched; the new version is
// recorded.
func TestSeedChangedSet(t *testing.T) {
	ctx := context.Background()
	db := openPebble(t, t.TempDir())
	defer db.Close()
	lab := func(addr, cat string) heistgraph.Label {
		return heistgraph.Label{Chain: "btc", Address: addr, Entity: "E", Category: cat, Source: "ofac-sdn:1", Confidence: 1}
	}
	const (
		kept    = "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"
		dropped = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
		both    = "3N6WeZ6i34taX8Ditser6LKWBcXmt2XXL4"
		added   = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
		user    = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
	)
	v1 := []heistgraph.Label{lab(kept, "sanctioned"), lab(dropped, "sanctioned"), lab(both, "sanctioned")}
	if err := seedLabelSet(ctx, db, builtinSet, "v1", func() ([]heistgraph.Label, error) { return v1, nil }); err != nil {
		t.Fatal(err)
	}
	// The user imports a label of their own and one the built-in set has.
	userLabel := heistgraph.Label{Chain: "btc", Address: user, Entity: "Exchange X", Category: "exchange", Source: "analyst", Confidence: 0.9}
	if _, err := db.PutLabels(ctx, []heistgraph.Label{userLabel, lab(both, "sanctioned")}); err != nil {
		t.Fatal(err)
	}
	v2 := []heistgraph.Label{lab(kept, "sanctioned"), lab(added, "sanctioned")}
	c := &countingLabels{inner: db}
	if err := seedLabelSet(ctx, c, builtinSet, "v2", func() ([]heistgraph.Label, error) { return v2, nil }); err != nil {
		t.Fatal(err)
	}
	if c.replaces != 1 {
		t.Errorf("a changed set wrote %d times, want 1", c.replaces)
	}
	for _, tc := range []struct {
		addr string
		want bool
	}{{kept, true}, {dropped, false}, {both, true}, {added, true}, {user, true}} {
		ls, err := db.AddressLabels(ctx, "btc", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if (len(ls) == 1) != tc.want {
			t.Errorf("%s: labels %+v after re-seeding, want present=%v", tc.addr, ls, tc.want)
		}
	}
	if v, err := db.LabelSetVersion(ctx, builtinSet); err != nil || v != "v2" {
		t.Errorf("version %q, %v; want v2", v, err)
	}
}

type labelOut struct {
	Entity   string `json:"entity"`
	Category string `json:"category"`
	Source   string `json:"source"`
}

type showOut struct {
	Address string     `json:"address"`
	Chain   string     `json:"chain"`
	Labels  []labelOut `json:"labels"`
}

// TestLabelsOFACBuiltinXBT: every address of OFAC's XBT list screens as
// sanctioned in a fresh store (labels show --json), with its SDN entry
// wherever sdn.csv of 2024-05-03 has the address. The one Tron address OFAC
// lists as XBT is looked up on tron, where the ticker table puts it.
func TestLabelsOFACBuiltinXBT(t *testing.T) {
	data := t.TempDir()
	sdnDir := filepath.Join("..", "..", "label", "testdata", "ofac-sdn-csv")
	rows, err := os.Open(filepath.Join(sdnDir, "sdn-digital-currency-rows-2024-05-03.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	comments, err := os.Open(filepath.Join(sdnDir, "sdn_comments-2023-12-22.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer comments.Close()
	sdn, err := label.ReadAll(rows, label.FormatOFACCSV, label.Options{Comments: comments})
	if err != nil {
		t.Fatal(err)
	}
	entry := map[string]string{} // "chain address" -> source of its sanctioned label in sdn.csv
	for _, l := range sdn {
		if l.Category == label.CategorySanctioned {
			entry[string(l.Chain)+" "+l.Address] = l.Source
		}
	}
	xbt := listLines(t, "XBT")
	named := 0
	for _, addr := range xbt {
		chains, norm, _, err := label.OFACChains("XBT", addr)
		if err != nil {
			t.Fatal(err)
		}
		r := cli(t, "--data", data, "--json", "labels", "show", addr, "--chain", string(chains[0]))
		mustOK(t, r, "labels show "+addr)
		v := decode[showOut](t, r.stdout)
		var srcs []string
		for _, l := range v.Labels {
			if l.Category == "sanctioned" {
				srcs = append(srcs, l.Source)
			}
		}
		if len(srcs) == 0 {
			t.Errorf("%s: not sanctioned in a fresh store: %+v", addr, v)
			continue
		}
		if src, ok := entry[string(chains[0])+" "+norm]; ok {
			named++
			if !slices.Contains(srcs, src) {
				t.Errorf("%s: sanctioned by %v, sdn.csv lists it under %s", addr, srcs, src)
			}
		} else if !slices.Equal(srcs, []string{label.SourceOFACSDN}) {
			t.Errorf("%s: sanctioned by %v, want the anonymous %s (not in sdn.csv of 2024-05-03)", addr, srcs, label.SourceOFACSDN)
		}
	}
	t.Logf("%d XBT addresses sanctioned, %d with their SDN entry", len(xbt), named)
}

// TestLabelsOFACBuiltinChains: an address OFAC lists as ETH is labelled on
// eth and on bsc (one key, every EVM chain), with its entry, program and
// listing date in the note; a TRX address on tron; an Omni Layer USDT
// address on btc.
func TestLabelsOFACBuiltinChains(t *testing.T) {
	data := t.TempDir()
	const ronin = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96" // LAZARUS GROUP, sanctioned_addresses_ETH.txt
	if !slices.Contains(listLines(t, "ETH"), ronin) {
		t.Fatalf("%s is not in the ETH list", ronin)
	}
	for _, chain := range []string{"eth", "bsc", "polygon"} {
		r := cli(t, "--data", data, "--json", "labels", "show", ronin, "--chain", chain)
		mustOK(t, r, "labels show on "+chain)
		v := decode[showOut](t, r.stdout)
		cats := map[string]labelOut{}
		for _, l := range v.Labels {
			cats[l.Category] = l
		}
		if s := cats["sanctioned"]; s.Entity != "LAZARUS GROUP" || s.Source != "ofac-sdn:27307" || cats["dprk"].Entity != "LAZARUS GROUP" || v.Chain != chain {
			t.Errorf("%s on %s: %+v, want sanctioned and dprk, LAZARUS GROUP, ofac-sdn:27307", ronin, chain, v)
		}
	}
	type listOut struct {
		Labels []labelRowJSON `json:"labels"`
	}
	r := cli(t, "--data", data, "--json", "labels", "list", "--source", "ofac-sdn:27307", "--chain", "bsc", "--category", "sanctioned")
	mustOK(t, r, "labels list")
	l := decode[listOut](t, r.stdout)
	if len(l.Labels) != 8 {
		t.Errorf("LAZARUS GROUP on bsc: %d addresses, want 8", len(l.Labels))
	}
	for _, x := range l.Labels {
		if x.Address == ronin && (!strings.Contains(x.Note, "programs: DPRK3") || !strings.Contains(x.Note, "listed: 2022-04-14") ||
			!strings.Contains(x.Note, "OFAC assets: ETH")) {
			t.Errorf("note %q lacks the program, listing date or OFAC's ticker", x.Note)
		}
	}
	for _, tc := range []struct{ ticker, chain string }{{"TRX", "tron"}, {"LTC", "ltc"}, {"XMR", "xmr"}, {"USDT", "btc"}} {
		n := 0
		for _, addr := range listLines(t, tc.ticker) {
			chains, _, _, err := label.OFACChains(tc.ticker, addr)
			if err != nil {
				t.Fatal(err)
			}
			if string(chains[0]) != tc.chain {
				continue
			}
			n++
			r := cli(t, "--data", data, "--json", "labels", "show", addr, "--chain", tc.chain)
			mustOK(t, r, "labels show "+addr)
			v := decode[showOut](t, r.stdout)
			if !slices.ContainsFunc(v.Labels, func(l labelOut) bool { return l.Category == "sanctioned" }) {
				t.Errorf("%s %s: not sanctioned on %s: %+v", tc.ticker, addr, tc.chain, v)
			}
		}
		if n == 0 {
			t.Errorf("no %s address on %s", tc.ticker, tc.chain)
		}
	}
}

// TestLabelsOFACImportUpdates: importing the SDN list updates the built-in
// set in place (same labels, nothing added), and a newer version of an
// entry adds its new addresses.
func TestLabelsOFACImportUpdates(t *testing.T) {
	data := t.TempDir()
	sdnDir := filepath.Join("..", "..", "label", "testdata", "ofac-sdn-csv")
	type importOut struct {
		Imported int `json:"imported"`
		Added    int `json:"added"`
	}
	r := cli(t, "--data", data, "--json", "--quiet", "labels", "import", filepath.Join(sdnDir, "sdn-digital-currency-rows-2024-05-03.csv"),
		"--format", "ofac-csv", "--comments", filepath.Join(sdnDir, "sdn_comments-2023-12-22.csv"))
	mustOK(t, r, "import ofac-csv")
	if got := decode[importOut](t, r.stdout); got.Imported == 0 || got.Added != 0 {
		t.Errorf("import of the SDN rows built in: %+v, want every label already there", got)
	}
	// A newer LAZARUS GROUP row with one more address.
	hist, err := os.ReadFile(filepath.Join(sdnDir, "lazarus-row-27307-history.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.SplitAfter(strings.TrimSuffix(string(hist), "\r\n"), "\r\n")
	newer := strings.Replace(rows[len(rows)-1], "Digital Currency Address - ETH 0x098B716B8Aaf21512996dC57EB0615e2383E2f96;",
		"Digital Currency Address - ETH 0x098B716B8Aaf21512996dC57EB0615e2383E2f96; alt. Digital Currency Address - XBT 1Archive1n2C579dMsAu3iC6tWzuQJz8dN;", 1)
	if newer == rows[len(rows)-1] {
		t.Fatal("the history row does not hold the Ronin address as expected")
	}
	f := filepath.Join(t.TempDir(), "sdn.csv")
	if err := os.WriteFile(f, []byte(newer), 0o644); err != nil {
		t.Fatal(err)
	}
	r = cli(t, "--data", data, "--json", "--quiet", "labels", "import", f, "--format", "ofac-csv")
	mustOK(t, r, "import newer row")
	if got := decode[importOut](t, r.stdout); got.Added != 2 { // sanctioned and dprk on btc
		t.Errorf("newer row: %+v, want 2 labels added", got)
	}
	r = cli(t, "--data", data, "--json", "labels", "show", "1Archive1n2C579dMsAu3iC6tWzuQJz8dN")
	mustOK(t, r, "labels show new listing")
	if v := decode[showOut](t, r.stdout); len(v.Labels) != 2 || v.Labels[0].Entity != "LAZARUS GROUP" {
		t.Errorf("new listing: %+v", v)
	}
}

// BenchmarkSeedBuiltinSeeded is what every open of a seeded store pays for
// the built-in labels: one version read.
func BenchmarkSeedBuiltinSeeded(b *testing.B) {
	ctx := context.Background()
	db, err := pebble.Open(b.TempDir(), pebble.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := seedBuiltin(ctx, db); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := seedBuiltin(ctx, db); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeedBuiltinFresh is the first open's cost: parse the built-in
// files and store every label in one batch.
func BenchmarkSeedBuiltinFresh(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		db, err := pebble.Open(b.TempDir(), pebble.DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := seedBuiltin(ctx, db); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}
