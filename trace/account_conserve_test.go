package trace_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/storetest"
	"github.com/heistgraph/heistgraph/trace"
)

// TestAccountConservation traces random ledgers (storetest.AccountGen:
// every transfer kind, mints and burns, failed transactions, balances that
// go negative as in a store that starts above block 0) from random seeds
// under every policy and option mix, and checks per asset, from the sinks
// themselves, that Σ sinks + fees (native) equals what the seeds tainted
// exactly for every policy but poison, and that a transaction seed taints
// exactly the positive nets of its transfers.
func TestAccountConservation(t *testing.T) {
	ctx := context.Background()
	for world := uint64(1); world <= 4; world++ {
		st := openMem(t)
		g := storetest.NewAccountGen(evmChain, world, 10)
		blocks := g.Blocks(0, 0, 60, heistgraph.EVMHash{})
		for _, b := range blocks {
			if err := st.ApplyAccountBlock(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		r := rand.New(rand.NewPCG(world, 7))
		var txs []*heistgraph.AccountTx
		for _, b := range blocks {
			for i := range b.Txs {
				txs = append(txs, &b.Txs[i])
			}
		}
		variants := []struct {
			name string
			set  func(*trace.AccountOptions)
		}{
			{"defaults", func(*trace.AccountOptions) {}},
			{"no threshold", func(o *trace.AccountOptions) { o.MinAmount = new(uint256.Int); o.MinShare = -1 }},
			{"two lots", func(o *trace.AccountOptions) { o.MinAmount = new(uint256.Int); o.MaxLots = 2 }},
			{"no tx-local", func(o *trace.AccountOptions) { o.NoTxLocal = true; o.MinAmount = uint256.NewInt(1) }},
			{"hops and budget", func(o *trace.AccountOptions) { o.MaxHops = 2; o.Budget = 15 }},
			{"until", func(o *trace.AccountOptions) { o.Until = blocks[40].Time }},
		}
		for k := 0; k < 6; k++ {
			var seeds []trace.AccountSeed
			if k%3 == 2 {
				a := g.Addrs[r.IntN(len(g.Addrs))]
				seeds = append(seeds, trace.AccountSeed{Address: a, From: blocks[r.IntN(30)].Time})
			} else {
				for range 1 + r.IntN(2) {
					seeds = append(seeds, trace.AccountSeed{Tx: txs[r.IntN(len(txs))].Hash})
				}
			}
			for _, v := range variants {
				for _, p := range trace.Policies() {
					name := fmt.Sprintf("world%d/seed%d/%s/%s", world, k, v.name, p)
					opts := trace.AccountOptions{Chain: evmChain, Seeds: seeds, Policy: p}
					v.set(&opts)
					res, err := trace.RunAccounts(ctx, st, opts)
					if errors.Is(err, heistgraph.ErrInvalid) || errors.Is(err, heistgraph.ErrNotFound) {
						continue // a seed that moved nothing, or an address with no credit
					}
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					checkAccountResult(t, name, res, seeds, blocks)
				}
			}
		}
	}
}

// checkAccountResult recomputes the totals of res from its sinks and fees.
func checkAccountResult(t *testing.T, name string, res *trace.AccountResult, seeds []trace.AccountSeed, blocks []*heistgraph.AccountBlock) {
	t.Helper()
	sinks := map[heistgraph.Asset]*big.Int{}
	for _, s := range res.Sinks {
		v := s.Value()
		if s.Chain != evmChain || s.Amount != v.Dec() {
			t.Fatalf("%s: sink %+v: chain or amount string wrong", name, s)
		}
		if v.IsZero() {
			t.Fatalf("%s: zero sink %+v", name, s)
		}
		if sinks[s.Asset] == nil {
			sinks[s.Asset] = new(big.Int)
		}
		sinks[s.Asset].Add(sinks[s.Asset], v.ToBig())
	}
	fees, ok := new(big.Int).SetString(res.Fees, 10)
	if !ok {
		t.Fatalf("%s: fees %q", name, res.Fees)
	}
	for _, a := range res.Assets {
		seed, _ := new(big.Int).SetString(a.Seed, 10)
		conv, _ := new(big.Int).SetString(a.Converted, 10)
		in := new(big.Int).Add(seed, conv)
		out := new(big.Int)
		if sinks[a.Asset] != nil {
			out.Set(sinks[a.Asset])
		}
		if a.Asset.IsNative() {
			out.Add(out, fees)
		} else if a.Fees != "0" {
			t.Fatalf("%s: fees in token %s", name, a.Asset)
		}
		if res.Conserved && in.Cmp(out) != 0 {
			t.Fatalf("%s: %s: seed %s + converted %s != sinks + fees %s", name, a.Asset, seed, conv, out)
		}
		if !res.Conserved && in.Cmp(out) > 0 {
			t.Fatalf("%s: poison lost value: %s in, %s out", name, in, out)
		}
	}
	if res.Conserved != (res.Policy != trace.Poison) {
		t.Fatalf("%s: conserved %t", name, res.Conserved)
	}
	// A transaction seed taints the positive nets of its transfers.
	if seeds[0].IsTx() && res.Policy != trace.Poison {
		want := map[heistgraph.Asset]*big.Int{}
		done := map[heistgraph.EVMHash]bool{}
		for _, sd := range seeds {
			if done[sd.Tx] {
				continue
			}
			done[sd.Tx] = true
			for a, v := range seedNets(blocks, sd.Tx) {
				if want[a] == nil {
					want[a] = new(big.Int)
				}
				want[a].Add(want[a], v)
			}
		}
		for _, a := range res.Assets {
			seed, _ := new(big.Int).SetString(a.Seed, 10)
			w := want[a.Asset]
			if w == nil {
				w = new(big.Int)
			}
			if seed.Cmp(w) != 0 {
				t.Fatalf("%s: %s seeded %s, the transactions' positive nets are %s", name, a.Asset, seed, w)
			}
		}
	}
}

// seedNets returns, per asset, the sum of the positive nets per address of
// a transaction's value transfers (fees and block-level credits left out).
func seedNets(blocks []*heistgraph.AccountBlock, tx heistgraph.EVMHash) map[heistgraph.Asset]*big.Int {
	type key struct {
		a heistgraph.EVMAddress
		s heistgraph.Asset
	}
	net := map[key]*big.Int{}
	at := func(k key) *big.Int {
		if net[k] == nil {
			net[k] = new(big.Int)
		}
		return net[k]
	}
	for _, b := range blocks {
		for i := range b.Transfers {
			tr := &b.Transfers[i]
			if tr.TxHash != tx || tr.From == tr.To {
				continue
			}
			switch tr.Kind {
			case heistgraph.TransferNative, heistgraph.TransferInternal, heistgraph.TransferERC20:
			default:
				continue
			}
			if tr.Credits() {
				at(key{tr.To, tr.Asset}).Add(at(key{tr.To, tr.Asset}), tr.Amount.ToBig())
			}
			if tr.Debits() {
				at(key{tr.From, tr.Asset}).Sub(at(key{tr.From, tr.Asset}), tr.Amount.ToBig())
			}
		}
	}
	out := map[heistgraph.Asset]*big.Int{}
	for k, v := range net {
		if v.Sign() > 0 {
			if out[k.s] == nil {
				out[k.s] = new(big.Int)
			}
			out[k.s].Add(out[k.s], v)
		}
	}
	return out
}
