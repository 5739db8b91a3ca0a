package storetest

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// testEnumerate checks the optional roles store.Enumerator and
// store.AccountLedger against what was written: after reorgs on a UTXO
// chain and an account chain (and a UTXO block stored without its
// parents), the block heights, addresses, accounts and tokens listed are
// exactly those stored, each once, and each block's ledger is the
// surviving block's.
func testEnumerate(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	en, ok := st.(store.Enumerator)
	if !ok {
		t.Skip("the backend has no store.Enumerator")
	}

	// UTXO: a branch of 8 blocks replaced from height 5 by one of 4, and a
	// block at height 30 alone.
	g := NewGenerator(chain, 5, 6)
	var main []*heistgraph.Block
	for range 5 {
		main = append(main, g.Next())
	}
	f := g.Fork(77)
	for range 3 {
		main = append(main, g.Next())
	}
	apply(t, st, main...)
	rewind(t, st, chain, 4)
	best := main[:5:5]
	for range 4 {
		best = append(best, f.Next())
	}
	lone := mkBlock(chain, 30, "lone", fakeHash("lone parent"), coinbase("lone", pay("1LoneLoneLoneLoneLoneLoneLoneLone", 50)))
	best = append(best, lone)
	apply(t, st, best[5:]...)

	var wantHeights []int64
	wantAddrs := map[string]bool{}
	for _, b := range best {
		wantHeights = append(wantHeights, b.Height)
		for _, tx := range b.Txs {
			for _, o := range tx.Outputs {
				if o.Address != "" {
					wantAddrs[o.Address] = true
				}
			}
		}
	}
	if got := collectSeq(t, "block heights", en.BlockHeights(ctx, chain)); !slices.Equal(got, wantHeights) {
		t.Errorf("block heights %v, want %v", got, wantHeights)
	}
	gotAddrs := collectSeq(t, "addresses", en.Addresses(ctx, chain))
	checkSet(t, "addresses", gotAddrs, wantAddrs)
	for _, a := range gotAddrs {
		if _, err := st.Address(ctx, chain, a); err != nil {
			t.Errorf("address %s listed: %v", a, err)
		}
	}

	// Account chain: 6 blocks, the last 3 replaced by 4 of another branch.
	ag := NewAccountGen(evmChain, 9, 8)
	blocks := ag.Blocks(0, 0, 6, heistgraph.EVMHash{})
	applyAccounts(t, st, blocks...)
	rewind(t, st, evmChain, 2)
	eb := append(blocks[:3:3], ag.Blocks(1, 3, 4, blocks[2].Hash)...)
	applyAccounts(t, st, eb[3:]...)
	wantAccts := map[heistgraph.EVMAddress]bool{}
	wantHeights = nil
	for _, b := range eb {
		wantHeights = append(wantHeights, b.Height)
		for _, tr := range b.Transfers {
			if tr.Credits() {
				wantAccts[tr.To] = true
			}
			if tr.Debits() {
				wantAccts[tr.From] = true
			}
		}
	}
	if got := collectSeq(t, "account block heights", en.BlockHeights(ctx, evmChain)); !slices.Equal(got, wantHeights) {
		t.Errorf("account block heights %v, want %v", got, wantHeights)
	}
	checkSet(t, "accounts", collectSeq(t, "accounts", en.Accounts(ctx, evmChain)), wantAccts)
	if l, ok := st.(store.AccountLedger); ok {
		for _, b := range eb {
			bi, ledger, err := l.AccountLedger(ctx, evmChain, b.Height)
			if err != nil {
				t.Fatalf("ledger of block %d: %v", b.Height, err)
			}
			if bi.Hash != b.Hash || len(ledger) != len(b.Transfers) || bi.Transfers != len(b.Transfers) {
				t.Fatalf("ledger of block %d: block %s with %d transfers, want %s with %d", b.Height, bi.Hash, len(ledger), b.Hash, len(b.Transfers))
			}
			for i := range ledger {
				if !reflect.DeepEqual(ledger[i], b.Transfers[i]) {
					t.Errorf("block %d transfer %d: %+v, want %+v", b.Height, i, ledger[i], b.Transfers[i])
				}
			}
		}
		_, _, err := l.AccountLedger(ctx, evmChain, 99)
		wantNotFound(t, "ledger of a block not stored", err)
	}

	// Tokens: those of the chain only, whatever its blocks.
	tokens := []heistgraph.TokenInfo{
		{Chain: evmChain, Address: ag.Tokens[0], Symbol: "AAA", Decimals: 6, Known: true},
		{Chain: evmChain, Address: ag.Tokens[1], Symbol: "BBB", Decimals: 18},
		{Chain: "bsc", Address: ag.Tokens[0], Symbol: "CCC", Decimals: 8},
	}
	for _, tk := range tokens {
		if err := st.PutToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	got := collectSeq(t, "tokens", en.Tokens(ctx, evmChain))
	slices.SortFunc(got, func(a, b heistgraph.TokenInfo) int { return slices.Compare(a.Address[:], b.Address[:]) })
	want := tokens[:2:2]
	slices.SortFunc(want, func(a, b heistgraph.TokenInfo) int { return slices.Compare(a.Address[:], b.Address[:]) })
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tokens %+v, want %+v", got, want)
	}

	// A chain with nothing stored lists nothing.
	for _, c := range []heistgraph.Chain{heistgraph.ChainBTCSignet, "polygon"} {
		if n := len(collectSeq(t, "heights", en.BlockHeights(ctx, c))) + len(collectSeq(t, "addresses", en.Addresses(ctx, c))) +
			len(collectSeq(t, "accounts", en.Accounts(ctx, c))) + len(collectSeq(t, "tokens", en.Tokens(ctx, c))); n != 0 {
			t.Errorf("chain %s with nothing stored: %d keys listed", c, n)
		}
	}
	// A cancelled context ends a listing with its error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	var err error
	for _, e := range en.Addresses(cctx, chain) {
		if e != nil {
			err = e
		}
	}
	if err == nil {
		t.Error("addresses with a cancelled context: no error")
	}
}

// collectSeq reads a listing whole, failing t on an error.
func collectSeq[T any](t *testing.T, what string, seq func(func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		out = append(out, v)
	}
	return out
}

// checkSet fails t unless got holds each key of want once and nothing
// else.
func checkSet[K comparable](t *testing.T, what string, got []K, want map[K]bool) {
	t.Helper()
	seen := map[K]bool{}
	for _, k := range got {
		if seen[k] {
			t.Errorf("%s: %v listed twice", what, k)
		}
		seen[k] = true
		if !want[k] {
			t.Errorf("%s: %v listed, not stored", what, k)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%s: %d listed, want %d", what, len(seen), len(want))
	}
}
