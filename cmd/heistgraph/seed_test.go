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
