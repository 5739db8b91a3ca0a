package risk_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store"
)

// TestTableMatchesOnDemand screens many random addresses (received and
// sent) and outputs of a mixing world, with some addresses clustered and
// labelled, on demand and with the precomputed Table: the answers must be
// identical, with a table built at once and with one built halfway and
// extended (the scripts check this for their hand-derived worlds; this
// covers lookups of the table on a larger one), and with a new Screener
// for each item (nothing remembered from the items before).
func TestTableMatchesOnDemand(t *testing.T) {
	st, _, ops, g := benchWorld(t, 30, 20, 300)
	ctx := context.Background()
	// Clusters of 2–5 addresses (half of them around the labelled
	// addresses, two of which stay unclustered), joined by common-input
	// evidence.
	rng := rand.New(rand.NewPCG(3, 5))
	var b store.ClusterBatch
	id := uint64(1)
	for c := 0; c < 40; c++ {
		n := 2 + rng.IntN(4)
		first := id
		var ids []uint64
		for k := 0; k < n; k++ {
			a := fmt.Sprintf("a%d", (c*7+k)%300)
			if c%2 == 1 {
				a = fmt.Sprintf("a%d", 100+((c*7+k)%50)*37%300)
			}
			dup := a == "a100" || a == "a137" // labelled, left unclustered
			for _, m := range b.Members {
				dup = dup || m.Address == a
			}
			if dup {
				continue
			}
			b.NewAddresses = append(b.NewAddresses, a)
			b.Members = append(b.Members, store.ClusterMember{AddrID: id, ClusterID: first, Address: a})
			ids = append(ids, id)
			id++
		}
		if len(ids) == 0 {
			continue
		}
		b.Sizes = append(b.Sizes, store.ClusterSize{ClusterID: first, Size: int64(len(ids))})
		b.Evidence = append(b.Evidence, heistgraph.ClusterEvidence{Height: 1, TxIndex: uint32(first), Heuristic: heistgraph.HeuristicCommonInput, AddrIDs: ids})
	}
	// Clusters whose evidence is not one piece, as after an analyst's
	// split: one common-input record spans clusters X and Y (a walk from
	// X's addresses must not cross into Y's, and both count it), Y has a
	// change record of its own, and Z's third address is in no record (a
	// walk finds 2 of its 3 addresses, or 1).
	var odd []string
	for i := 299; len(odd) < 7; i-- {
		a := fmt.Sprintf("a%d", i)
		if !slices.ContainsFunc(b.Members, func(m store.ClusterMember) bool { return m.Address == a }) && a != "a100" && a != "a137" {
			odd = append(odd, a)
		}
	}
	oid := func(i int) uint64 { return id + uint64(i) }
	for i, a := range odd {
		cl := oid(0) // X: odd[0:2]
		switch {
		case i >= 4:
			cl = oid(4) // Z: odd[4:7]
		case i >= 2:
			cl = oid(2) // Y: odd[2:4]
		}
		b.NewAddresses = append(b.NewAddresses, a)
		b.Members = append(b.Members, store.ClusterMember{AddrID: oid(i), ClusterID: cl, Address: a})
	}
	b.Sizes = append(b.Sizes, store.ClusterSize{ClusterID: oid(0), Size: 2}, store.ClusterSize{ClusterID: oid(2), Size: 2}, store.ClusterSize{ClusterID: oid(4), Size: 3})
	b.Evidence = append(b.Evidence,
		heistgraph.ClusterEvidence{Height: 2, TxIndex: 1, Heuristic: heistgraph.HeuristicCommonInput, AddrIDs: []uint64{oid(0), oid(2), oid(1), oid(3)}},
		heistgraph.ClusterEvidence{Height: 2, TxIndex: 2, Heuristic: heistgraph.HeuristicChange, AddrIDs: []uint64{oid(2), oid(3)}},
		heistgraph.ClusterEvidence{Height: 2, TxIndex: 3, Heuristic: heistgraph.HeuristicCommonInput, AddrIDs: []uint64{oid(4), oid(5)}})
	if err := st.WriteClusters(ctx, heistgraph.ChainBTCRegtest, &b); err != nil {
		t.Fatal(err)
	}
	opts := risk.Options{Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}
	sc, err := risk.NewScreener(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := risk.NewScreener(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := pre.Precompute(ctx, heistgraph.ChainBTCRegtest); err != nil {
		t.Fatal(err)
	} else if s.Clustered != len(b.Members) || s.Components == 0 || s.Components >= s.Clustered || s.MemberBytes <= 0 {
		t.Fatalf("precompute: %+v: want the %d clustered addresses in fewer components", s, len(b.Members))
	}
	// inc's table is built halfway, then extended after the rest of the
	// blocks come back.
	inc, err := risk.NewScreener(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	half := g.Blocks[len(g.Blocks)/2].Height
	if err := st.RewindTo(ctx, heistgraph.ChainBTCRegtest, half); err != nil {
		t.Fatal(err)
	}
	if s, err := inc.Precompute(ctx, heistgraph.ChainBTCRegtest); err != nil || s.Height != half {
		t.Fatalf("precompute at half: %+v, %v", s, err)
	}
	for _, b := range g.Blocks {
		if b.Height > half {
			if err := st.ApplyBlock(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	if s, err := inc.Precompute(ctx, heistgraph.ChainBTCRegtest); err != nil || s.Height != g.Blocks[len(g.Blocks)-1].Height {
		t.Fatalf("extended precompute: %+v, %v", s, err)
	}
	var items []risk.Item
	for range 150 {
		a := fmt.Sprintf("a%d", rng.IntN(300))
		items = append(items, risk.Item{Address: a, Direction: risk.Received}, risk.Item{Address: a, Direction: risk.Sent})
	}
	for range 300 {
		op := ops[rng.IntN(len(ops))]
		items = append(items, risk.Item{Outpoint: &op, Direction: risk.Received})
	}
	for i := 100; i < 300; i += 37 {
		items = append(items, risk.Item{Address: fmt.Sprintf("a%d", i), Direction: risk.Received})
	}
	for _, a := range odd {
		items = append(items, risk.Item{Address: a, Direction: risk.Received}, risk.Item{Address: a, Direction: risk.Sent})
	}
	for _, it := range items {
		it.Chain = heistgraph.ChainBTCRegtest
		want, err := sc.Screen(ctx, it)
		if err != nil {
			t.Fatal(err)
		}
		if want.Partial && !slices.ContainsFunc(want.Notes, func(n string) bool { return strings.Contains(n, "addresses of cluster") }) {
			continue // a budget ran out: the table reads less
		}
		for name, sc := range map[string]*risk.Screener{"table": pre, "extended table": inc} {
			got, err := sc.Screen(ctx, it)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
				t.Fatalf("%+v: with the %s\n%s\non demand\n%s", it, name, g, w)
			}
		}
		// sc remembers the cluster walks of the items before (a walk
		// that found a whole cluster serves all its addresses): a new
		// Screener, which walks from this item's address, must agree.
		fresh, err := risk.NewScreener(st, opts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fresh.Screen(ctx, it)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
			t.Fatalf("%+v: a new Screener answers\n%s\none that screened other addresses first\n%s", it, g, w)
		}
	}
}
