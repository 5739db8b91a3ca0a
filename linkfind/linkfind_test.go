package linkfind_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/linkfind"
	lft "github.com/heistgraph/heistgraph/linkfind/linkfindtest"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

const (
	btc = lft.BTC
	eth = lft.ETH
)

func openMem(t *testing.T) *pebble.DB {
	t.Helper()
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	opts.CacheSize = 8 << 20
	opts.MemTableSize = 4 << 20
	db, err := pebble.Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.PutLabels(context.Background(), []heistgraph.Label{lft.VaultLabel}); err != nil {
		t.Fatal(err)
	}
	return db
}

func applyBTC(t *testing.T, w *lft.World, st store.Store) {
	for _, b := range w.BTC {
		if err := st.ApplyBlock(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
}

func applyETH(t *testing.T, w *lft.World, st store.Store) {
	for _, b := range w.ETH {
		if err := st.ApplyAccountBlock(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
}

func run(t *testing.T, st *pebble.DB) linkfind.Report {
	t.Helper()
	rep, err := linkfind.Run(context.Background(), st, []heistgraph.Chain{btc, eth})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func links(t *testing.T, st *pebble.DB, c heistgraph.Chain, txid string) []store.StoredLink {
	t.Helper()
	ls, err := st.LinksOfTx(context.Background(), c, txid)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// check asserts the two links of the world and example 1's taint.
func check(t *testing.T, w *lft.World, st *pebble.DB) {
	t.Helper()
	ls := links(t, st, btc, w.In.TxID.String())
	if len(ls) != 1 {
		t.Fatalf("links of the Bitcoin inbound: %+v, want one", ls)
	}
	l := ls[0]
	if l.Method != "thorchain" || l.Confidence != heistgraph.ConfidenceExact || l.Src.Index != 0 || l.Src.Amount.Uint64() != 100_000_000 ||
		l.Dst.Chain != eth || l.Dst.TxID != w.Out.String() || l.Dst.Index != 3 || l.Dst.Asset != "native" || l.SrcHeight != 1 || l.DstHeight != 2 {
		t.Errorf("BTC→ETH link %+v", l)
	}
	tainted, err := l.Convert(uint256.NewInt(60_000_000))
	if err != nil || tainted.Dec() != "9126000000000000000" {
		t.Errorf("0.6 BTC tainted converts to %s wei (%v), want 9.126 ETH", tainted.Dec(), err)
	}
	if got := links(t, st, eth, strings.ToUpper(w.Out.String())); len(got) != 1 || got[0].Src.TxID != l.Src.TxID {
		t.Errorf("links of the Ethereum outbound: %+v", got)
	}
	ls = links(t, st, eth, w.Dep.String())
	if len(ls) != 1 || ls[0].Dst.Chain != btc || ls[0].Dst.TxID != w.Ret.TxID.String() || ls[0].Dst.Index != 0 ||
		ls[0].Dst.Amount.Uint64() != 49_000_000 || ls[0].Src.Amount.Dec() != "10000000000000000000" || ls[0].SrcHeight != 1 || ls[0].DstHeight != 2 {
		t.Errorf("ETH→BTC links %+v", ls)
	}
}

func TestExample1BothOrders(t *testing.T) {
	for _, btcFirst := range []bool{true, false} {
		st := openMem(t)
		w := lft.NewWorld()
		first, second := applyBTC, applyETH
		if !btcFirst {
			first, second = second, first
		}
		first(t, w, st)
		if rep := run(t, st); rep.Links != 0 || rep.Open != 1 {
			t.Fatalf("btc first %v: %d links and %d open with one chain stored, want 0 and the one swap inbound open", btcFirst, rep.Links, rep.Open)
		}
		second(t, w, st)
		rep := run(t, st)
		if rep.Links != 2 || rep.Open != 0 || rep.Inbounds != 3 || rep.Outbounds != 2 {
			t.Errorf("btc first %v: report %+v, want 2 links of 3 inbounds and 2 outbounds", btcFirst, rep)
		}
		if len(rep.Malformed) != 1 || rep.Malformed[0].TxID != w.Bad.TxID.String() || rep.Malformed[0].Memo != "SWAP:" {
			t.Errorf("btc first %v: malformed %+v, want the SWAP: payment", btcFirst, rep.Malformed)
		}
		check(t, w, st)
		if rep2 := run(t, st); rep2.Links != 2 {
			t.Errorf("second pass: %+v", rep2)
		}
		check(t, w, st)
	}
}

func TestRewindRemovesLinks(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	w := lft.NewWorld()
	applyBTC(t, w, st)
	applyETH(t, w, st)
	run(t, st)
	// Rewinding Ethereum below the outbound removes example 1's link; the
	// ETH→BTC link's source is at height 1 and stays.
	if err := st.RewindTo(ctx, eth, 1); err != nil {
		t.Fatal(err)
	}
	if ls := links(t, st, btc, w.In.TxID.String()); len(ls) != 0 {
		t.Errorf("links of the inbound after its outbound's block was rewound: %+v", ls)
	}
	if ls := links(t, st, eth, w.Dep.String()); len(ls) != 1 {
		t.Errorf("links of the deposit after rewinding above it: %+v", ls)
	}
	// Rewinding Bitcoin below the refund's block removes the other.
	if err := st.RewindTo(ctx, btc, 1); err != nil {
		t.Fatal(err)
	}
	if ls := links(t, st, eth, w.Dep.String()); len(ls) != 0 {
		t.Errorf("links of the deposit after its outbound's block was rewound: %+v", ls)
	}
	if err := st.ApplyBlock(ctx, w.BTC[2]); err != nil {
		t.Fatal(err)
	}
	if err := st.ApplyAccountBlock(ctx, w.ETH[2]); err != nil {
		t.Fatal(err)
	}
	run(t, st)
	check(t, w, st)
}

// TestOpenLink checks the open link of the Ethereum deposit while Bitcoin
// is not held (to the memo's chain and address, tied to the deposit's
// block), its replacement by the closed link once Bitcoin is ingested, and
// its return when the outbound's block is rewound and links are built
// again.
func TestOpenLink(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	w := lft.NewWorld()
	applyETH(t, w, st)
	isOpen := func(what string, chain heistgraph.Chain) {
		t.Helper()
		ls := links(t, st, eth, w.Dep.String())
		if len(ls) != 1 {
			t.Fatalf("%s: links of the deposit %+v, want one open link", what, ls)
		}
		l := ls[0]
		if !l.Open() || l.Method != "thorchain" || l.Confidence != heistgraph.ConfidenceExact || l.Dst.Chain != chain ||
			l.Dst.Address != lft.Dest || l.Dst.Asset != "BTC.BTC" || !l.Dst.Amount.IsZero() || l.DstHeight != -1 ||
			l.Memo != "=:BTC.BTC:"+lft.Dest || l.Src.Amount.Dec() != "10000000000000000000" || l.SrcHeight != 1 {
			t.Errorf("%s: open link %+v", what, l)
		}
	}
	// Only Ethereum is scanned: the memo's BTC is named btc; once a
	// Bitcoin chain is scanned, it is named by that chain.
	rep, err := linkfind.Run(ctx, st, []heistgraph.Chain{eth})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Links != 0 || rep.Open != 1 {
		t.Errorf("Ethereum alone: report %+v, want one open link", rep)
	}
	isOpen("Ethereum alone", heistgraph.ChainBTC)
	applyBTC(t, w, st)
	if rep := run(t, st); rep.Links != 2 || rep.Open != 0 {
		t.Errorf("both chains: report %+v, want 2 links and none open", rep)
	}
	check(t, w, st)
	// The outbound's block rewound: the closed link goes with it, and the
	// next pass opens the link again.
	if err := st.RewindTo(ctx, btc, 1); err != nil {
		t.Fatal(err)
	}
	if ls := links(t, st, eth, w.Dep.String()); len(ls) != 0 {
		t.Errorf("links of the deposit after its outbound's rewind: %+v", ls)
	}
	if rep := run(t, st); rep.Open != 1 {
		t.Errorf("after the rewind: report %+v, want the deposit open", rep)
	}
	isOpen("after the rewind", btc)
	// The deposit's own block rewound: the open link goes with it.
	if err := st.RewindTo(ctx, eth, 0); err != nil {
		t.Fatal(err)
	}
	if ls := links(t, st, eth, w.Dep.String()); len(ls) != 0 {
		t.Errorf("links of the deposit after its own rewind: %+v", ls)
	}
}

func TestDestChain(t *testing.T) {
	for _, tc := range []struct {
		code string
		held []heistgraph.Chain
		want heistgraph.Chain
	}{
		{"BTC", nil, heistgraph.ChainBTC},
		{"BTC", []heistgraph.Chain{eth}, heistgraph.ChainBTC},
		{"btc", []heistgraph.Chain{eth, heistgraph.ChainBTCRegtest}, heistgraph.ChainBTCRegtest},
		{"ETH", []heistgraph.Chain{heistgraph.ChainBTCRegtest}, "eth"},
		{"AVAX", nil, "avax"},
		{"DOGE", nil, "doge"},
	} {
		if got := linkfind.DestChain(tc.code, tc.held); got != tc.want {
			t.Errorf("DestChain(%q, %v) = %q, want %q", tc.code, tc.held, got, tc.want)
		}
	}
}
