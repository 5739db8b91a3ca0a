package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

func mkLabel(chain heistgraph.Chain, addr, entity, cat, src string, conf float64) heistgraph.Label {
	return heistgraph.Label{Chain: chain, Address: addr, Entity: entity, Category: cat, Source: src, Confidence: conf}
}

func allLabels(t testing.TB, st store.Labels, q store.LabelQuery) []heistgraph.Label {
	t.Helper()
	var out []heistgraph.Label
	for l, err := range st.Labels(context.Background(), q) {
		if err != nil {
			t.Fatalf("labels %+v: %v", q, err)
		}
		out = append(out, l)
	}
	return out
}

func labelKeys(ls []heistgraph.Label) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = string(l.Chain) + "|" + l.Address + "|" + l.Entity + "|" + l.Category + "|" + l.Source
	}
	slices.Sort(out)
	return out
}

// testLabels covers PutLabels, AddressLabels, Labels and LabelStats:
// idempotence by key, replacement of the other fields, filters.
func testLabels(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	const eth = heistgraph.Chain("eth")
	ronin := "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
	in := []heistgraph.Label{
		mkLabel(eth, ronin, "Lazarus Group", "dprk", "ofac-sdn:27307", 1),
		mkLabel(eth, ronin, "Lazarus Group", "sanctioned", "ofac-sdn:27307", 1),
		mkLabel(chain, "bcrt1qexchange", "Exchange X", "exchange", "analyst", 0.9),
		mkLabel(chain, "bcrt1qexchange", "Exchange X", "exchange", "analyst", 0.9), // same key twice
		mkLabel(chain, "2Nmixer", "Mixer M", "mixer", "synth", 0.5),
		mkLabel(eth, "0x0000000000000000000000000000000000000001", "", "sanctioned", "ofac-sdn", 1),
	}
	in[3].TLP, in[3].Note, in[3].ValidFrom, in[3].ValidUntil = "green", "seen at a deposit", 100, 200 // the last one given wins
	added, err := st.PutLabels(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "added", added, 5)
	added, err = st.PutLabels(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "added again", added, 0)

	got, err := st.AddressLabels(ctx, eth, ronin)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "ronin labels", labelKeys(got), labelKeys(in[:2]))
	got, err = st.AddressLabels(ctx, chain, "bcrt1qexchange")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "exchange label", got, in[3:4])
	got, err = st.AddressLabels(ctx, chain, "bcrt1qexchang") // a prefix of a labelled address
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || len(got) != 0 {
		t.Errorf("labels of an unlabelled address: %v, want an empty slice", got)
	}
	got, err = st.AddressLabels(ctx, eth, "bcrt1qexchange") // other chain
	if err != nil || len(got) != 0 {
		t.Errorf("labels on another chain: %v %v", got, err)
	}

	// Storing a key again replaces the other fields.
	upd := in[4]
	upd.Confidence, upd.TLP, upd.Note = 0.75, "amber", "revised"
	if added, err = st.PutLabels(ctx, []heistgraph.Label{upd}); err != nil || added != 0 {
		t.Fatalf("update: added %d, %v", added, err)
	}
	got, _ = st.AddressLabels(ctx, chain, "2Nmixer")
	equal(t, "updated label", got, []heistgraph.Label{upd})

	equal(t, "all labels", labelKeys(allLabels(t, st, store.LabelQuery{})), labelKeys([]heistgraph.Label{in[0], in[1], in[2], in[4], in[5]}))
	equal(t, "eth labels", labelKeys(allLabels(t, st, store.LabelQuery{Chain: eth})), labelKeys([]heistgraph.Label{in[0], in[1], in[5]}))
	equal(t, "sanctioned", labelKeys(allLabels(t, st, store.LabelQuery{Category: "sanctioned"})), labelKeys([]heistgraph.Label{in[1], in[5]}))
	equal(t, "by source", labelKeys(allLabels(t, st, store.LabelQuery{Source: "synth"})), labelKeys([]heistgraph.Label{in[4]}))
	equal(t, "by entity", labelKeys(allLabels(t, st, store.LabelQuery{Entity: "Lazarus Group", Category: "dprk"})), labelKeys(in[:1]))
	if n := len(allLabels(t, st, store.LabelQuery{Chain: "bsc"})); n != 0 {
		t.Errorf("labels on a chain without any: %d", n)
	}

	stats, err := st.LabelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "stats", stats, store.LabelStats{Total: 5,
		ByCategory: map[string]int64{"dprk": 1, "sanctioned": 2, "exchange": 1, "mixer": 1},
		ByChain:    map[heistgraph.Chain]int64{eth: 3, chain: 2}})

	// A scan stops when the consumer stops.
	n := 0
	for _, err := range st.Labels(ctx, store.LabelQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 2 {
			break
		}
	}
	// Order is stable.
	equal(t, "order", allLabels(t, st, store.LabelQuery{}), allLabels(t, st, store.LabelQuery{}))

	// Labels of one address and category that name other entities or come
	// from other sources are distinct: each is kept beside the others
	// (conflicting TagPack tags, issue 14), and storing them again adds
	// nothing.
	other := []heistgraph.Label{upd, upd, upd}
	other[1].Entity = "Mixer N"
	other[2].Source = "analyst"
	if added, err = st.PutLabels(ctx, other); err != nil || added != 2 {
		t.Fatalf("other entity and source: added %d, %v; want 2", added, err)
	}
	if added, err = st.PutLabels(ctx, other); err != nil || added != 0 {
		t.Fatalf("again: added %d, %v; want 0", added, err)
	}
	got, _ = st.AddressLabels(ctx, chain, "2Nmixer")
	equal(t, "kept side by side", labelKeys(got), labelKeys(other))
}

// testLabelsInvalid checks that a bad label stores nothing.
func testLabelsInvalid(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	good := mkLabel(chain, "bcrt1qgood", "E", "exchange", "s", 1)
	tests := []struct {
		name string
		l    heistgraph.Label
	}{
		{"no chain", mkLabel("", "a", "E", "exchange", "s", 1)},
		{"no address", mkLabel(chain, "", "E", "exchange", "s", 1)},
		{"no category", mkLabel(chain, "a", "E", "", "s", 1)},
		{"no source", mkLabel(chain, "a", "E", "exchange", "", 1)},
		{"confidence above 1", mkLabel(chain, "a", "E", "exchange", "s", 1.5)},
		{"negative confidence", mkLabel(chain, "a", "E", "exchange", "s", -0.1)},
		{"NUL in entity", mkLabel(chain, "a", "E\x00F", "exchange", "s", 1)},
		{"bad UTF-8 in address", mkLabel(chain, "a\xff", "E", "exchange", "s", 1)},
	}
	st := open(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := st.PutLabels(ctx, []heistgraph.Label{good, tc.l})
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Errorf("error %v, want one wrapping ErrInvalid", err)
			}
		})
	}
	if _, _, err := st.ReplaceLabelSet(ctx, "", "1", []heistgraph.Label{good}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("empty set name: %v, want ErrInvalid", err)
	}
	if n := len(allLabels(t, st, store.LabelQuery{})); n != 0 {
		t.Errorf("%d labels stored after failed puts", n)
	}
	_, err := st.LabelSetVersion(ctx, "builtin")
	wantNotFound(t, "version of a set never stored", err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.PutLabels(cctx, []heistgraph.Label{good}); !errors.Is(err, context.Canceled) {
		t.Errorf("put with a cancelled context: %v", err)
	}
}

// testLabelSets covers ReplaceLabelSet: versions, removal of stale members,
// and that labels stored directly survive their set.
func testLabelSets(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	a := mkLabel(chain, "bcrt1qa", "Lazarus", "dprk", "fbi:1", 1)
	b := mkLabel(chain, "bcrt1qb", "Lazarus", "dprk", "fbi:1", 1)
	c := mkLabel(chain, "bcrt1qc", "Lazarus", "dprk", "fbi:2", 1)
	user := mkLabel(chain, "bcrt1qu", "X", "exchange", "analyst", 0.8)
	if _, err := st.PutLabels(ctx, []heistgraph.Label{user, b}); err != nil {
		t.Fatal(err)
	}
	added, removed, err := st.ReplaceLabelSet(ctx, "builtin", "v1", []heistgraph.Label{a, b})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "v1 added, removed", [2]int{added, removed}, [2]int{1, 0})
	v, err := st.LabelSetVersion(ctx, "builtin")
	if err != nil || v != "v1" {
		t.Fatalf("version %q, %v", v, err)
	}
	// v2 drops a and b, adds c: a goes, b stays (stored directly too).
	added, removed, err = st.ReplaceLabelSet(ctx, "builtin", "v2", []heistgraph.Label{c})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "v2 added, removed", [2]int{added, removed}, [2]int{1, 1})
	equal(t, "after v2", labelKeys(allLabels(t, st, store.LabelQuery{})), labelKeys([]heistgraph.Label{b, c, user}))
	v, _ = st.LabelSetVersion(ctx, "builtin")
	equal(t, "version", v, "v2")
	// Replacing with the same content changes nothing.
	added, removed, err = st.ReplaceLabelSet(ctx, "builtin", "v2", []heistgraph.Label{c})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "same again", [2]int{added, removed}, [2]int{0, 0})
	// Another set is independent.
	if _, _, err := st.ReplaceLabelSet(ctx, "other", "1", nil); err != nil {
		t.Fatal(err)
	}
	equal(t, "after empty other set", labelKeys(allLabels(t, st, store.LabelQuery{})), labelKeys([]heistgraph.Label{b, c, user}))
	// An empty content empties the set.
	if _, removed, err = st.ReplaceLabelSet(ctx, "builtin", "v3", nil); err != nil || removed != 1 {
		t.Fatalf("empty builtin: removed %d, %v", removed, err)
	}
	equal(t, "after empty builtin", labelKeys(allLabels(t, st, store.LabelQuery{})), labelKeys([]heistgraph.Label{b, user}))
}

// testLabelsSharedEVMKey checks the shared EVM key: a label on
// heistgraph.ChainEVM comes back, once stored, from a lookup on every EVM
// chain of the registry, after the chain's own labels, and from no other
// chain.
func testLabelsSharedEVMKey(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	ronin := "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
	shared := mkLabel(heistgraph.ChainEVM, ronin, "LAZARUS GROUP", "sanctioned", "ofac-sdn:27307", 1)
	shared.Note = "OFAC assets: ETH"
	own := mkLabel("bsc", ronin, "Ronin exploiter", "stolen", "analyst", 0.9)
	other := mkLabel("eth", "0x0000000000000000000000000000000000000001", "X", "exchange", "analyst", 1)
	if _, err := st.PutLabels(ctx, []heistgraph.Label{shared, own, other}); err != nil {
		t.Fatal(err)
	}
	for _, info := range heistgraph.EVMChains() {
		want := []heistgraph.Label{shared}
		if info.Chain == "bsc" {
			want = []heistgraph.Label{own, shared} // the chain's own first
		}
		got, err := st.AddressLabels(ctx, info.Chain, ronin)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "AddressLabels on "+string(info.Chain), got, want)
		q := allLabels(t, st, store.LabelQuery{Chain: info.Chain, Category: "sanctioned"})
		equal(t, "Labels on "+string(info.Chain), q, []heistgraph.Label{shared})
	}
	equal(t, "Labels on eth", labelKeys(allLabels(t, st, store.LabelQuery{Chain: "eth"})), labelKeys([]heistgraph.Label{other, shared}))
	for _, c := range []heistgraph.Chain{chain, "tron", "sol"} { // not EVM chains
		got, err := st.AddressLabels(ctx, c, ronin)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "AddressLabels on "+string(c), len(got), 0)
		equal(t, "Labels on "+string(c), len(allLabels(t, st, store.LabelQuery{Chain: c})), 0)
	}
	// On the key itself: only its own labels, stored once.
	got, err := st.AddressLabels(ctx, heistgraph.ChainEVM, ronin)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "AddressLabels on evm", got, []heistgraph.Label{shared})
	stats, err := st.LabelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "stats", stats.ByChain, map[heistgraph.Chain]int64{heistgraph.ChainEVM: 1, "bsc": 1, "eth": 1})
}
