package cluster

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// clusterDump is every membership and evidence record of ethChain, as text.
func clusterDump(t *testing.T, st store.Clusters) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for m, err := range st.Memberships(ctx, ethChain) {
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "member %s %d %d\n", m.Address, m.AddrID, m.ClusterID)
	}
	for ev, err := range st.Evidence(ctx, ethChain, store.EvidenceQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "evidence %d/%d/%d %s %s %s %v\n", ev.Height, ev.TxIndex, ev.N, ev.Heuristic, ev.Status, ev.Reason, ev.AddrIDs)
	}
	return b.String()
}

// TestAccountIncremental checks that clustering an account chain block by
// block, from the saved state or by replaying the clustered blocks (no
// state saved), gives what one run over every block gives.
func TestAccountIncremental(t *testing.T) {
	ctx := context.Background()
	for _, script := range []string{"testdata/accounts/guards.txt", "testdata/accounts/shared_selfauth.txt", "testdata/accounts/eth_clustering.txt"} {
		input, err := os.ReadFile(script)
		if err != nil {
			t.Fatal(err)
		}
		// The first world of the script, and its labels.
		text := string(input)
		world := text[strings.Index(text, "world\n")+len("world\n"):]
		world = world[:strings.Index(world, "----")]
		w := testutil.NewAccounts()
		if err := w.Parse(ethChain, world); err != nil {
			t.Fatal(err)
		}
		labels := []heistgraph.Label{
			{Chain: ethChain, Address: w.Addr("X").Lower(), Category: "exchange", Entity: "Exchange X", Source: "test", Confidence: 1},
			{Chain: ethChain, Address: w.Addr("Svc").Lower(), Category: "payment_processor", Entity: "PayCo", Source: "test", Confidence: 1},
		}
		opts := DefaultOptions()
		opts.Account.MaxDepositSenders = 2
		run := func(perBlock, replay bool) string {
			st := openMem(t)
			if _, err := st.PutLabels(ctx, labels); err != nil {
				t.Fatal(err)
			}
			for i, b := range w.Blocks {
				if err := st.ApplyAccountBlock(ctx, b); err != nil {
					t.Fatal(err)
				}
				if !perBlock && i < len(w.Blocks)-1 {
					continue
				}
				if replay {
					// A snapshot of another layout: the state is replayed.
					if err := st.WriteClusters(ctx, ethChain, &store.ClusterBatch{Pending: []byte{0}}); err != nil && i > 0 {
						t.Fatal(err)
					}
				}
				if _, err := Update(ctx, st, ethChain, opts); err != nil {
					t.Fatal(err)
				}
			}
			return clusterDump(t, st)
		}
		want := run(false, false)
		if !strings.Contains(want, "evidence") {
			t.Fatalf("%s: no evidence at all:\n%s", script, want)
		}
		for _, mode := range []struct {
			name             string
			perBlock, replay bool
		}{{"per block", true, false}, {"per block, replayed", true, true}} {
			if got := run(mode.perBlock, mode.replay); got != want {
				t.Errorf("%s, %s:\n%s\nwant (one run):\n%s", script, mode.name, got, want)
			}
		}
	}
}

// TestAccountRewind checks that a reorg under the clustering rewinds it:
// evidence of the removed blocks goes, and the memberships follow.
func TestAccountRewind(t *testing.T) {
	ctx := context.Background()
	w := testutil.NewAccounts()
	if err := w.Parse(ethChain, "block 1\ntx S1 D 1\ntx S2 D 1\nblock 2\ntx D X 0.9999\ntx D X 0.9999\n"); err != nil {
		t.Fatal(err)
	}
	st := openMem(t)
	if _, err := st.PutLabels(ctx, []heistgraph.Label{{Chain: ethChain, Address: w.Addr("X").Lower(), Category: "exchange",
		Entity: "Exchange X", Source: "test", Confidence: 1}}); err != nil {
		t.Fatal(err)
	}
	for _, b := range w.Blocks {
		if err := st.ApplyAccountBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Update(ctx, st, ethChain, DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	same := func() bool {
		a, err := st.AddressCluster(ctx, ethChain, w.Addr("S1").Lower())
		if err != nil {
			t.Fatal(err)
		}
		b, err := st.AddressCluster(ctx, ethChain, w.Addr("S2").Lower())
		if err != nil {
			t.Fatal(err)
		}
		return a.ClusterID == b.ClusterID
	}
	if !same() {
		t.Fatal("S1 and S2 not merged through D")
	}
	// Block 2 is replaced by one without the sweeps.
	if err := st.RewindTo(ctx, ethChain, 1); err != nil {
		t.Fatal(err)
	}
	alt := testutil.NewAccounts()
	if err := alt.Parse(ethChain, "block 2\ntx D Y 0.5\n"); err != nil {
		t.Fatal(err)
	}
	alt.Blocks[0].Hash[0] ^= 1
	alt.Blocks[0].ParentHash = w.Blocks[0].Hash
	if err := st.ApplyAccountBlock(ctx, alt.Blocks[0]); err != nil {
		t.Fatal(err)
	}
	s, err := Update(ctx, st, ethChain, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if s.Rewound != 1 || same() {
		t.Errorf("after the reorg: rewound %d, S1 and S2 still one: %v", s.Rewound, same())
	}
	for ev, err := range st.Evidence(ctx, ethChain, store.EvidenceQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains([]string{heistgraph.HeuristicDepositReuse, heistgraph.HeuristicExchangeDeposit}, ev.Heuristic) {
			t.Errorf("evidence of the removed block left: %+v", ev)
		}
	}
}

var _ store.AccountReader = (*pebble.DB)(nil)
