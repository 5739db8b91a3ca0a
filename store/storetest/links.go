package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// linksOf returns st's Links role, skipping the test for a backend
// without one.
func linksOf(t *testing.T, st store.Store) store.Links {
	t.Helper()
	ls, ok := st.(store.Links)
	if !ok {
		t.Skip("the backend does not implement store.Links")
	}
	return ls
}

// linkChains is a Bitcoin chain and an EVM chain whose blocks a test
// rewinds and replaces at will; branch[h] names the branch of the block
// stored at height h.
type linkChains struct {
	t      *testing.T
	st     store.Store
	evm    *AccountGen
	btc    []int64 // branch of each stored Bitcoin height
	eth    []int64
	btcTip heistgraph.Hash
	ethTip heistgraph.EVMHash
}

func newLinkChains(t *testing.T, st store.Store, n int) *linkChains {
	lc := &linkChains{t: t, st: st, evm: NewAccountGen(evmChain, 9, 5)}
	lc.growBTC(0, n)
	lc.growETH(0, n)
	return lc
}

func (lc *linkChains) btcBlock(variant, h int64, prev heistgraph.Hash) *heistgraph.Block {
	label := fmt.Sprintf("links/%d/%d", variant, h)
	return mkBlock(chain, h, label, prev, coinbase(label, pay(addrA, 50)))
}

// growBTC applies n blocks of branch variant on the stored tip.
func (lc *linkChains) growBTC(variant int64, n int) {
	for range n {
		b := lc.btcBlock(variant, int64(len(lc.btc)), lc.btcTip)
		apply(lc.t, lc.st, b)
		lc.btc, lc.btcTip = append(lc.btc, variant), b.Hash
	}
}

func (lc *linkChains) growETH(variant int64, n int) {
	for range n {
		b := lc.evm.Block(variant, int64(len(lc.eth)), lc.ethTip)
		applyAccounts(lc.t, lc.st, b)
		lc.eth, lc.ethTip = append(lc.eth, variant), b.Hash
	}
}

// rewind rewinds c to height h; the tip hash is recomputed from the
// branches (blocks are deterministic).
func (lc *linkChains) rewind(c heistgraph.Chain, h int64) {
	rewind(lc.t, lc.st, c, h)
	if c == chain {
		lc.btc = lc.btc[:h+1]
		lc.btcTip = heistgraph.Hash{}
		for i, v := range lc.btc {
			lc.btcTip = lc.btcBlock(v, int64(i), lc.btcTip).Hash
		}
		return
	}
	lc.eth = lc.eth[:h+1]
	lc.ethTip = heistgraph.EVMHash{}
	for i, v := range lc.eth {
		lc.ethTip = lc.evm.Block(v, int64(i), lc.ethTip).Hash
	}
}

// txAt names a transaction of the block at height h of c (links do not
// require the transaction to be stored, only its block).
func (lc *linkChains) txAt(c heistgraph.Chain, h int64, n int) string {
	if c == chain {
		return fakeHash(fmt.Sprintf("links-tx/%d/%d/%d", lc.btc[h], h, n)).String()
	}
	return fmt.Sprintf("0x%x", [32]byte(fakeHash(fmt.Sprintf("links-evm-tx/%d/%d/%d", lc.eth[h], h, n))))
}

func (lc *linkChains) height(c heistgraph.Chain) int64 {
	if c == chain {
		return int64(len(lc.btc))
	}
	return int64(len(lc.eth))
}

func mkLink(method string, src, dst heistgraph.LinkEnd, sh, dh int64, amounts ...uint64) store.StoredLink {
	l := store.StoredLink{Link: heistgraph.Link{Method: method, Src: src, Dst: dst, Confidence: heistgraph.ConfidenceExact}, SrcHeight: sh, DstHeight: dh}
	l.Src.Amount.SetUint64(amounts[0])
	l.Dst.Amount.SetUint64(amounts[1])
	return l
}

// wantLinks is the links of txid on c in the order LinksOfTx promises:
// links whose source end it is first, then by method, source, destination.
func wantLinks(all []store.StoredLink, c heistgraph.Chain, txid string) []store.StoredLink {
	txid = strings.ToLower(txid)
	type side struct {
		s int
		l store.StoredLink
	}
	var got []side
	for _, l := range all {
		for s, e := range []heistgraph.LinkEnd{l.Src, l.Dst} {
			if e.Chain == c && strings.ToLower(e.TxID) == txid {
				l.Src.TxID, l.Dst.TxID = strings.ToLower(l.Src.TxID), strings.ToLower(l.Dst.TxID)
				got = append(got, side{s, l})
				break
			}
		}
	}
	end := func(a, b heistgraph.LinkEnd) int {
		return cmp.Or(cmp.Compare(a.Chain, b.Chain), cmp.Compare(a.TxID, b.TxID), cmp.Compare(a.Index, b.Index))
	}
	slices.SortFunc(got, func(a, b side) int {
		return cmp.Or(cmp.Compare(a.s, b.s), cmp.Compare(a.l.Method, b.l.Method), end(a.l.Src, b.l.Src), end(a.l.Dst, b.l.Dst))
	})
	out := []store.StoredLink{}
	for _, g := range got {
		out = append(out, g.l)
	}
	return out
}

func linksOfTx(t *testing.T, ls store.Links, c heistgraph.Chain, txid string) []store.StoredLink {
	t.Helper()
	got, err := ls.LinksOfTx(context.Background(), c, txid)
	if err != nil {
		t.Fatalf("links of %s %s: %v", c, txid, err)
	}
	if got == nil {
		got = []store.StoredLink{}
	}
	return got
}

func testLinks(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	ls := linksOf(t, st)
	lc := newLinkChains(t, st, 4)
	in, out := lc.txAt(chain, 2, 0), lc.txAt(evmChain, 3, 0)
	l := mkLink("thorchain", heistgraph.LinkEnd{Chain: chain, TxID: strings.ToUpper(in), Index: 0, Asset: "BTC"},
		heistgraph.LinkEnd{Chain: evmChain, TxID: out, Index: 4, Asset: "native"}, 2, 3, 100_000_000, 15_210_000_000_000_000_000)
	if err := ls.PutLinks(ctx, []store.StoredLink{l, l}); err != nil {
		t.Fatal(err)
	}
	want := wantLinks([]store.StoredLink{l}, chain, in)
	equal(t, "links of the inbound (asked upper-case)", linksOfTx(t, ls, chain, strings.ToUpper(in)), want)
	equal(t, "links of the outbound", linksOfTx(t, ls, evmChain, strings.ToUpper(out)), want)
	equal(t, "links of the inbound on the wrong chain", linksOfTx(t, ls, evmChain, in), []store.StoredLink{})
	equal(t, "links of an unknown chain", linksOfTx(t, ls, heistgraph.ChainBTC, in), []store.StoredLink{})

	// Writing it again with other amounts replaces it; a refund of the same
	// inbound is a second link.
	l2 := l
	l2.Dst.Amount.SetUint64(7)
	refund := mkLink("thorchain", l.Src, heistgraph.LinkEnd{Chain: chain, TxID: lc.txAt(chain, 3, 1), Index: 1, Asset: "BTC"}, 2, 3, 100_000_000, 99_000_000)
	if err := ls.PutLinks(ctx, []store.StoredLink{l2, refund}); err != nil {
		t.Fatal(err)
	}
	all := []store.StoredLink{l2, refund}
	for _, e := range []heistgraph.LinkEnd{l.Src, l.Dst, refund.Dst} {
		equal(t, "links of "+e.TxID, linksOfTx(t, ls, e.Chain, e.TxID), wantLinks(all, e.Chain, e.TxID))
	}
	t.Run("invalid", func(t *testing.T) {
		bad := func(mut func(l *store.StoredLink)) store.StoredLink {
			b := mkLink("m", heistgraph.LinkEnd{Chain: chain, TxID: lc.txAt(chain, 1, 9)}, heistgraph.LinkEnd{Chain: evmChain, TxID: lc.txAt(evmChain, 1, 9)}, 1, 1, 1, 1)
			mut(&b)
			return b
		}
		good := bad(func(*store.StoredLink) {})
		for _, tc := range []struct {
			name string
			l    store.StoredLink
			want error
		}{
			{"no method", bad(func(l *store.StoredLink) { l.Method = "" }), heistgraph.ErrInvalid},
			{"unknown confidence", bad(func(l *store.StoredLink) { l.Confidence = "sure" }), heistgraph.ErrInvalid},
			{"no txid", bad(func(l *store.StoredLink) { l.Dst.TxID = "" }), heistgraph.ErrInvalid},
			{"no chain", bad(func(l *store.StoredLink) { l.Src.Chain = "" }), heistgraph.ErrInvalid},
			{"negative index", bad(func(l *store.StoredLink) { l.Src.Index = -1 }), heistgraph.ErrInvalid},
			{"negative height", bad(func(l *store.StoredLink) { l.DstHeight = -1 }), heistgraph.ErrInvalid},
			{"height not stored", bad(func(l *store.StoredLink) { l.SrcHeight = 4 }), heistgraph.ErrNotFound},
			{"chain not stored", bad(func(l *store.StoredLink) { l.Dst.Chain = heistgraph.ChainBTC }), heistgraph.ErrNotFound},
		} {
			if err := ls.PutLinks(ctx, []store.StoredLink{good, tc.l}); !errors.Is(err, tc.want) {
				t.Errorf("%s: error %v, want one wrapping %v", tc.name, err, tc.want)
			}
		}
		equal(t, "links after refused writes", linksOfTx(t, ls, chain, good.Src.TxID), []store.StoredLink{})
	})
}

// testLinksRewind checks that a rewind of either chain below an end's
// height removes exactly the links with an end in a removed block, through
// random reorgs of both chains and links written between them (also to
// blocks of the new branches), against a model.
func testLinksRewind(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	ls := linksOf(t, st)
	lc := newLinkChains(t, st, 6)
	rng := rand.New(rand.NewPCG(19, 6))
	chains := []heistgraph.Chain{chain, evmChain}
	var model []store.StoredLink
	type txRef struct {
		c    heistgraph.Chain
		txid string
	}
	asked := map[txRef]bool{}
	variant := int64(1)
	for round := range 60 {
		if rng.IntN(3) > 0 {
			var batch []store.StoredLink
			for range 1 + rng.IntN(3) {
				sc, dc := chains[rng.IntN(2)], chains[rng.IntN(2)]
				sh, dh := rng.Int64N(lc.height(sc)), rng.Int64N(lc.height(dc))
				src := heistgraph.LinkEnd{Chain: sc, TxID: lc.txAt(sc, sh, rng.IntN(2)), Index: rng.Int64N(3), Asset: "a"}
				dst := heistgraph.LinkEnd{Chain: dc, TxID: lc.txAt(dc, dh, rng.IntN(2)), Index: rng.Int64N(3), Asset: "b"}
				l := mkLink([]string{"thorchain", "wormhole"}[rng.IntN(2)], src, dst, sh, dh, rng.Uint64N(1e9)+1, rng.Uint64N(1e9))
				if rng.IntN(2) == 0 {
					l.Src.TxID = strings.ToUpper(l.Src.TxID)
				}
				batch = append(batch, l)
				for _, e := range []heistgraph.LinkEnd{l.Src, l.Dst} {
					asked[txRef{e.Chain, strings.ToLower(e.TxID)}] = true
				}
				id := func(l store.StoredLink) string {
					return strings.ToLower(fmt.Sprint(l.Method, l.Src.Chain, l.Src.TxID, l.Src.Index, l.Dst.Chain, l.Dst.TxID, l.Dst.Index))
				}
				model = slices.DeleteFunc(model, func(m store.StoredLink) bool { return id(m) == id(l) })
				model = append(model, l)
			}
			if err := ls.PutLinks(ctx, batch); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		} else {
			c := chains[rng.IntN(2)]
			h := lc.height(c) - 1 - rng.Int64N(4) // may be -1: everything
			h = max(h, -1)
			lc.rewind(c, h)
			model = slices.DeleteFunc(model, func(l store.StoredLink) bool {
				return l.Src.Chain == c && l.SrcHeight > h || l.Dst.Chain == c && l.DstHeight > h
			})
			if c == chain {
				lc.growBTC(variant, 1+rng.IntN(5))
			} else {
				lc.growETH(variant, 1+rng.IntN(5))
			}
			variant++
		}
		for ref := range asked {
			if got, want := linksOfTx(t, ls, ref.c, ref.txid), wantLinks(model, ref.c, ref.txid); len(got) != len(want) || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("round %d: links of %s %s:\n got %+v\nwant %+v", round, ref.c, ref.txid, got, want)
			}
		}
	}
	if len(model) == 0 {
		t.Fatal("the random rounds left no link: the test checks nothing at its end")
	}
}

// testLinksOpen checks open links (no destination transaction: a THORChain
// inbound whose outbound is not held): stored with their address and memo
// on the source block alone, whatever the destination chain; written
// again without a duplicate; replaced by the closed link of their source
// end, never stored beside it; removed with their source block only.
func testLinksOpen(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	ls := linksOf(t, st)
	lc := newLinkChains(t, st, 4)
	const addr, memo = "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", "=:BTC.BTC:bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
	openFrom := func(h int64, n int) store.StoredLink {
		l := mkLink("thorchain", heistgraph.LinkEnd{Chain: evmChain, TxID: lc.txAt(evmChain, h, n), Index: 2, Asset: "native"},
			heistgraph.LinkEnd{Chain: heistgraph.ChainBTC, Address: addr, Asset: "BTC"}, h, -1, 5_000_000_000_000_000_000, 0)
		l.Memo = memo
		return l
	}
	o := openFrom(3, 0)
	if err := ls.PutLinks(ctx, []store.StoredLink{o, o}); err != nil {
		t.Fatalf("an open link to a chain not held: %v", err)
	}
	if err := ls.PutLinks(ctx, []store.StoredLink{o}); err != nil {
		t.Fatal(err)
	}
	equal(t, "links of the open link's source", linksOfTx(t, ls, evmChain, o.Src.TxID), []store.StoredLink{o})

	for _, tc := range []struct {
		name string
		mut  func(l *store.StoredLink)
	}{
		{"no address", func(l *store.StoredLink) { l.Dst.Address = "" }},
		{"dst height 0", func(l *store.StoredLink) { l.DstHeight = 0 }},
		{"dst index", func(l *store.StoredLink) { l.Dst.Index = 1 }},
		{"no dst chain", func(l *store.StoredLink) { l.Dst.Chain = "" }},
	} {
		b := openFrom(2, 5)
		tc.mut(&b)
		if err := ls.PutLinks(ctx, []store.StoredLink{b}); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("open link with %s: error %v, want one wrapping %v", tc.name, err, heistgraph.ErrInvalid)
		}
	}
	unstored := openFrom(3, 7)
	unstored.SrcHeight = 4
	if err := ls.PutLinks(ctx, []store.StoredLink{unstored}); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("open link from a block not stored: error %v, want one wrapping %v", err, heistgraph.ErrNotFound)
	}

	// The outbound arrives: the closed link replaces the open one, and
	// writing the open one again (a pass that missed the outbound) leaves
	// the closed one alone.
	closed := o
	closed.Dst = heistgraph.LinkEnd{Chain: chain, TxID: lc.txAt(chain, 3, 0), Index: 0, Asset: "BTC"}
	closed.Dst.Amount.SetUint64(15_000_000)
	closed.DstHeight, closed.Memo = 3, ""
	if err := ls.PutLinks(ctx, []store.StoredLink{closed}); err != nil {
		t.Fatal(err)
	}
	if err := ls.PutLinks(ctx, []store.StoredLink{o}); err != nil {
		t.Fatal(err)
	}
	equal(t, "links of the source once closed", linksOfTx(t, ls, evmChain, o.Src.TxID), wantLinks([]store.StoredLink{closed}, evmChain, o.Src.TxID))

	// Another open link, from a block one below: a rewind of the other
	// chain, and of its source chain above its block, keep it; the rewind
	// of its block removes it.
	o2 := openFrom(2, 1)
	if err := ls.PutLinks(ctx, []store.StoredLink{o2}); err != nil {
		t.Fatal(err)
	}
	lc.rewind(chain, 0)
	equal(t, "closed link after its destination's rewind", linksOfTx(t, ls, evmChain, o.Src.TxID), []store.StoredLink{})
	lc.rewind(evmChain, 2)
	equal(t, "open link after rewinds above its block", linksOfTx(t, ls, evmChain, o2.Src.TxID), []store.StoredLink{o2})
	lc.rewind(evmChain, 1)
	equal(t, "open link after its block's rewind", linksOfTx(t, ls, evmChain, o2.Src.TxID), []store.StoredLink{})
}
