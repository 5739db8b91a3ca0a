package app

import (
	"cmp"
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// A trace over several chains: seeds on more than one chain at once (an
// incident whose theft transactions are on eth and btc), each chain traced
// by its engine, and where the money sits summed per chain, counting value
// that crossed a link once, where it arrived.

// SplitSeedChain reads a seed's chain prefix (chain:ID, e.g. eth:0x… or
// btc:TXID:VOUT): ok is false when s has none (its first colon does not
// follow a chain name of the registry), and s is then the seed as given.
func SplitSeedChain(s string) (heistgraph.Chain, string, bool) {
	s = strings.TrimSpace(s)
	name, rest, found := strings.Cut(s, ":")
	if !found || len(name) == 64 { // TXID:VOUT
		return "", s, false
	}
	c, err := heistgraph.ParseChain(name)
	if err != nil {
		return "", s, false
	}
	if _, ok := heistgraph.LookupChain(c); !ok {
		return "", s, false
	}
	return c, rest, true
}

// ChainTrace is one chain's part of a trace over several chains: a
// Bitcoin request (UTXO) or EVM options (Account), not both.
type ChainTrace struct {
	UTXO    *TraceRequest
	Account *trace.AccountOptions
}

// ChainRunView is one chain's trace in a ChainsTraceView.
type ChainRunView struct {
	Chain   heistgraph.Chain  `json:"chain"`
	UTXO    *TraceView        `json:"utxo,omitempty"`
	Account *AccountTraceView `json:"account,omitempty"`
}

// ChainsTraceView is what `trace --json` prints for seeds on several
// chains: one run per chain (each design.md's trace of that chain, with its
// own seeds, conservation and, with --follow-links, its Across) and where
// the money sits per chain (ByChain).
type ChainsTraceView struct {
	Policy  trace.Policy       `json:"policy"`
	Chains  []heistgraph.Chain `json:"chains"`
	Seeds   []string           `json:"seeds"`
	Runs    []ChainRunView     `json:"runs"`
	ByChain []ChainHoldings    `json:"by_chain"`
}

// TraceChains traces each chain's seeds with its engine (Trace on Bitcoin
// chains, TraceAccounts on EVM chains) and sums where the money sits per
// chain. Errors are those of Trace and TraceAccounts, naming the chain.
func TraceChains(ctx context.Context, st store.Store, reqs []ChainTrace) (ChainsTraceView, error) {
	v := ChainsTraceView{Chains: []heistgraph.Chain{}, Seeds: []string{}, Runs: []ChainRunView{}}
	var utxo []*trace.Result
	var acct []*trace.AccountResult
	// run records one chain's trace in the view.
	run := func(policy trace.Policy, chain heistgraph.Chain, seeds []string, rv ChainRunView) {
		v.Policy = policy
		v.Chains = append(v.Chains, chain)
		for _, s := range seeds {
			v.Seeds = append(v.Seeds, string(chain)+":"+s)
		}
		rv.Chain = chain
		v.Runs = append(v.Runs, rv)
	}
	for _, r := range reqs {
		switch {
		case r.UTXO != nil:
			tv, err := Trace(ctx, st, *r.UTXO)
			if err != nil {
				return v, fmt.Errorf("trace on %s: %w", r.UTXO.Chain, err)
			}
			run(tv.Policy, tv.Chain, tv.Seeds, ChainRunView{UTXO: &tv})
			utxo = append(utxo, tv.Result)
		case r.Account != nil:
			av, err := TraceAccounts(ctx, st, *r.Account)
			if err != nil {
				return v, fmt.Errorf("trace on %s: %w", r.Account.Chain, err)
			}
			run(av.Policy, av.Chain, av.Seeds, ChainRunView{Account: &av})
			acct = append(acct, av.AccountResult)
		}
	}
	v.ByChain = Holdings(utxo, acct)
	return v, nil
}

// ChainHoldings is where a trace's money sits on one chain, per asset.
type ChainHoldings struct {
	Chain  heistgraph.Chain `json:"chain"`
	Assets []AssetHoldings  `json:"assets"`
}

// AssetHoldings is the money of one asset on one chain: its total and the
// sinks summed by kind and entity (largest first within a kind).
type AssetHoldings struct {
	Asset    string        `json:"asset"`
	Decimals uint8         `json:"decimals"`
	Amount   string        `json:"amount"`
	Sinks    []HoldingView `json:"sinks"`
}

// HoldingView is the sinks of one kind and entity of an asset, summed.
// Origin sums, for value that crossed links, its amount in the asset that
// entered the first link (CrossSink.Origin), "" when none of it crossed.
type HoldingView struct {
	Kind     trace.SinkKind `json:"kind"`
	Entity   string         `json:"entity"`
	Category string         `json:"category"`
	Amount   string         `json:"amount"`
	Count    int            `json:"count"`
	Origin   string         `json:"origin_amount,omitempty"`

	amt, org big.Int
	crossed  bool
}

// Holdings sums where the money of traces sits, per chain and asset: the
// seed chains' sinks less what continued across links (a swap sink's value
// is on in its output asset; a bridge sink's continued part is where it
// arrived), plus the confirmed sinks beyond the links (Across, part
// confirmed: exact links). Inferred and hypotheses parts are left out, as
// they are left out of the confirmed trace. Chains come in the order they
// are first met (the seed chains first), assets and sinks by kind, then
// largest first.
func Holdings(utxo []*trace.Result, acct []*trace.AccountResult) []ChainHoldings {
	type assetKey struct {
		chain heistgraph.Chain
		asset string
	}
	type rowKey struct {
		assetKey
		kind             trace.SinkKind
		entity, category string
	}
	var chains []heistgraph.Chain
	assets := map[assetKey]*AssetHoldings{}
	var assetOrder []assetKey
	rows := map[rowKey]*HoldingView{}
	var rowOrder []rowKey
	add := func(c heistgraph.Chain, asset string, dec uint8, kind trace.SinkKind, entity, category string, v *big.Int, origin *big.Int) {
		if v.Sign() <= 0 {
			return
		}
		ak := assetKey{c, asset}
		if _, ok := assets[ak]; !ok {
			if !slices.Contains(chains, c) {
				chains = append(chains, c)
			}
			assets[ak] = &AssetHoldings{Asset: asset, Decimals: dec}
			assetOrder = append(assetOrder, ak)
		}
		rk := rowKey{ak, kind, entity, category}
		r, ok := rows[rk]
		if !ok {
			r = &HoldingView{Kind: kind, Entity: entity, Category: category}
			rows[rk] = r
			rowOrder = append(rowOrder, rk)
		}
		r.amt.Add(&r.amt, v)
		r.Count++
		if origin != nil {
			r.org.Add(&r.org, origin)
			r.crossed = true
		}
	}
	dec := func(s string) *big.Int {
		v, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return new(big.Int)
		}
		return v
	}
	var across []*trace.Across
	for _, r := range utxo {
		for _, s := range r.Sinks.All() {
			add(r.Chain, utxoAsset, 8, s.Kind, s.Entity, s.Category, big.NewInt(s.AmountSat-s.ContinuedSat), nil)
		}
		across = append(across, r.Across)
	}
	for _, r := range acct {
		for i := range r.Sinks {
			s := &r.Sinks[i]
			if s.Kind == trace.SinkSwap {
				continue
			}
			v := dec(s.Amount)
			if s.Continued != "" {
				v.Sub(v, dec(s.Continued))
			}
			add(r.Chain, s.Asset.String(), s.Decimals, s.Kind, s.Entity, s.Category, v, nil)
		}
		across = append(across, r.Across)
	}
	for _, a := range across {
		if a == nil {
			continue
		}
		for i := range a.Sinks {
			s := &a.Sinks[i]
			if s.Part != trace.PartConfirmed || s.Kind == trace.SinkSwap {
				continue
			}
			v, org := dec(s.Amount), dec(s.Origin.Amount)
			if s.Continued != "" {
				c := dec(s.Continued)
				// The origin of what stays, in proportion.
				if v.Sign() > 0 {
					org.Mul(org, new(big.Int).Sub(v, c))
					org.Quo(org, v)
				}
				v.Sub(v, c)
			}
			add(s.Chain, s.Asset, s.Decimals, s.Kind, s.Entity, s.Category, v, org)
		}
	}
	out := []ChainHoldings{}
	for _, c := range chains {
		ch := ChainHoldings{Chain: c, Assets: []AssetHoldings{}}
		for _, ak := range assetOrder {
			if ak.chain != c {
				continue
			}
			a := assets[ak]
			var total big.Int
			var keys []rowKey
			for _, rk := range rowOrder {
				if rk.assetKey == ak {
					keys = append(keys, rk)
				}
			}
			slices.SortStableFunc(keys, func(x, y rowKey) int {
				return cmp.Or(cmp.Compare(kindRank(x.kind), kindRank(y.kind)), rows[y].amt.Cmp(&rows[x].amt),
					cmp.Compare(x.entity, y.entity), cmp.Compare(x.category, y.category))
			})
			a.Sinks = []HoldingView{}
			for _, rk := range keys {
				r := rows[rk]
				r.Amount = r.amt.String()
				if r.crossed {
					r.Origin = r.org.String()
				}
				total.Add(&total, &r.amt)
				a.Sinks = append(a.Sinks, *r)
			}
			a.Amount = total.String()
			ch.Assets = append(ch.Assets, *a)
		}
		out = append(out, ch)
	}
	return out
}

// utxoAsset names the coin of a Bitcoin chain in holdings (amounts in
// satoshis), as link discovery names it.
const utxoAsset = "BTC"

// SeedsByChain groups command-line seeds by their chain: a chain:ID prefix
// (SplitSeedChain) names a seed's chain, else def (the --chain flag; ""
// when not given: such seeds are returned under ""). Chains come in the
// order of their first seed.
func SeedsByChain(seeds []string, def string) ([]string, map[string][]string) {
	var order []string
	by := map[string][]string{}
	for _, s := range seeds {
		c, rest := def, s
		if ch, r, ok := SplitSeedChain(s); ok {
			c, rest = string(ch), r
		}
		if _, ok := by[c]; !ok {
			order = append(order, c)
		}
		by[c] = append(by[c], rest)
	}
	return order, by
}
