package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/holiman/uint256"
	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// accountOptions turns trace's flags into options for an EVM chain. Bad
// values and flags that only Bitcoin traces have are usage errors.
func (f *traceFlags) accountOptions() (trace.AccountOptions, error) {
	var opts trace.AccountOptions
	if len(f.seeds) == 0 {
		return opts, usageError{fmt.Errorf("trace: at least one --seed is needed: %w", heistgraph.ErrInvalid)}
	}
	switch {
	case f.compare:
		return opts, usageError{fmt.Errorf("--compare: not on EVM chains yet; run trace once per --policy: %w", heistgraph.ErrInvalid)}
	case f.graphml != "" || f.dot != "":
		return opts, usageError{fmt.Errorf("--graphml and --dot: not on EVM chains yet (--json lists the edges): %w", heistgraph.ErrInvalid)}
	case f.through != "":
		return opts, usageError{fmt.Errorf("--through-coinjoin: Bitcoin chains only: %w", heistgraph.ErrInvalid)}
	case f.top < 0:
		return opts, usageError{fmt.Errorf("--top %d: want 0 or more sinks: %w", f.top, heistgraph.ErrInvalid)}
	}
	// The flags shared with Bitcoin traces, checked the same way.
	btc, err := f.options()
	if err != nil {
		return opts, err
	}
	chain, err := heistgraph.ParseChain(f.chain)
	if err != nil {
		return opts, usageError{fmt.Errorf("--chain: %w", err)}
	}
	opts = trace.AccountOptions{Chain: chain, Policy: btc.Policy, MaxHops: btc.MaxHops, MinShare: btc.MinShare,
		Until: btc.Until, Budget: btc.Budget, StopCategories: btc.StopCategories, PassCategories: btc.PassCategories,
		FollowLinks: f.followLinks, FollowHypotheses: f.followHypotheses}
	if f.minAmountSet {
		opts.MinAmount = uint256.NewInt(uint64(f.minAmount))
	}
	var asset *heistgraph.Asset
	if f.asset != "" {
		a, err := heistgraph.ParseAsset(f.asset)
		if err != nil {
			return opts, usageError{fmt.Errorf("--asset: %w", err)}
		}
		asset = &a
	}
	var from int64
	if f.from != "" {
		if from, err = hgapp.ParseTime(f.from, false); err != nil {
			return opts, usageError{fmt.Errorf("--from: %w", err)}
		}
	}
	for _, s := range f.seeds {
		sd, err := trace.ParseAccountSeed(s)
		if err != nil {
			return opts, usageError{err}
		}
		sd.Asset = asset
		if !sd.IsTx() {
			sd.From = from
		}
		opts.Seeds = append(opts.Seeds, sd)
	}
	return opts, nil
}

// addLinkFlags registers the flags that follow mixer links (methods.md
// §4.9; design.md: --follow-links, --follow-hypotheses).
func (f *traceFlags) addLinkFlags(c *cobra.Command) {
	fl := c.Flags()
	fl.BoolVar(&f.followLinks, "follow-links", false, "continue value at bridge and THORChain deposits across the stored links onto the other chain (across); EVM chains: also follow strong Tornado links (T1) from the withdrawal, in the inferred part")
	fl.BoolVar(&f.followHypotheses, "follow-hypotheses", false, "also follow probable links (cross-chain, and Tornado T2-T4), in the hypotheses part")
}

// runAccountTrace is trace on an EVM chain.
func (a *app) runAccountTrace(ctx context.Context, f *traceFlags) error {
	opts, err := f.accountOptions()
	if err != nil {
		return err
	}
	return a.withView(ctx, func(st store.Store) error {
		v, err := hgapp.TraceAccounts(ctx, st, opts)
		if err != nil {
			return err
		}
		return a.emit(v, func(w io.Writer) error {
			printAccountTrace(w, v.AccountResult, f.top)
			printAcross(w, v.Across)
			printHoldings(w, v.ByChain)
			return nil
		})
	})
}

// printAccountTrace writes an EVM trace for people: the largest sinks of
// each asset, the totals per asset and sink kind, and fees.
func printAccountTrace(w io.Writer, res *trace.AccountResult, top int) {
	printf(w, "trace %s on %s: %d seed(s)", res.Policy, res.Chain, len(res.Seeds))
	dec := map[heistgraph.Asset]uint8{}
	for _, t := range res.Assets {
		dec[t.Asset] = t.Decimals
	}
	for _, t := range res.Assets {
		if t.Seed != "0" {
			printf(w, ", %s %s", baseUnits(t.Seed, t.Decimals), esc(t.Asset.String()))
		}
	}
	printf(w, "\n  %d transactions and %d transfers visited, %d addresses held taint, max hop %d",
		res.Stats.TxsVisited, res.Stats.TransfersVisited, res.Stats.Addresses, res.Stats.MaxHop)
	if res.Stats.Budget {
		printf(w, ", budget exhausted")
	}
	printf(w, "\n")
	if top > 0 && len(res.Sinks) > 0 {
		s := slices.Clone(res.Sinks)
		slices.SortStableFunc(s, func(a, b trace.AccountSink) int {
			x, y := a.Value(), b.Value()
			return cmp.Or(slices.Compare(a.Asset[:], b.Asset[:]), y.Cmp(&x))
		})
		// The largest of each asset: per asset, at most top.
		var shown []trace.AccountSink
		for _, sk := range s {
			if countAsset(shown, sk.Asset) < top {
				shown = append(shown, sk)
			}
		}
		printf(w, "\n  largest sinks (%d of %d):\n  %-16s %28s %-8s %4s  %-42s %s\n", len(shown), len(res.Sinks), "kind", "amount", "asset", "hops", "address", "entity")
		for _, sk := range shown {
			kind := string(sk.Kind)
			if sk.Reason != "" {
				kind += "/" + esc(sk.Reason)
			}
			printf(w, "  %-16s %28s %-8s %4d  %-42s %s\n", kind, baseUnits(sk.Amount, sk.Decimals), assetShort(sk.Asset), sk.Hops, sk.Address.Hex(),
				entityName(sk.Entity, sk.Category, "-"))
		}
	}
	printf(w, "\n  %-10s %-8s %28s %6s\n", "totals", "asset", "amount", "sinks")
	type key struct {
		asset heistgraph.Asset
		kind  trace.SinkKind
	}
	sum := map[key]*uint256.Int{}
	count := map[key]int{}
	var keys []key
	for _, sk := range res.Sinks {
		k := key{sk.Asset, sk.Kind}
		if sum[k] == nil {
			sum[k] = new(uint256.Int)
			keys = append(keys, k)
		}
		v := sk.Value()
		sum[k].Add(sum[k], &v)
		count[k]++
	}
	slices.SortStableFunc(keys, func(a, b key) int {
		return cmp.Or(slices.Compare(a.asset[:], b.asset[:]), cmp.Compare(a.kind, b.kind))
	})
	for _, k := range keys {
		printf(w, "  %-10s %-8s %28s %6d\n", k.kind, assetShort(k.asset), trace.FormatUnits(sum[k], dec[k.asset]), count[k])
	}
	printf(w, "  %-10s %-8s %28s\n", "fees", "native", baseUnits(res.Fees, dec[heistgraph.NativeAsset]))
	if res.Conserved {
		printf(w, "  per asset, sinks + fees = seeds + conversions, exactly\n")
	} else {
		printf(w, "  %s does not conserve value\n", res.Policy)
	}
	printMixerLinks(w, res, dec)
}

// printMixerLinks writes the Tornado deposits of the mixer sinks, their
// links, and the totals of the inferred and hypotheses parts.
func printMixerLinks(w io.Writer, res *trace.AccountResult, dec map[heistgraph.Asset]uint8) {
	deps := 0
	for _, s := range res.Sinks {
		deps += len(s.Mixer)
	}
	if deps == 0 {
		return
	}
	printf(w, "\n  %d Tornado deposit(s), %d link(s) found:\n", deps, len(res.Links))
	for _, s := range res.Sinks {
		for _, m := range s.Mixer {
			printf(w, "  deposit  %s  %s %s into %s (anonymity set %d)\n", s.TxID, baseUnits(m.Amount, dec[s.Asset]), assetShort(s.Asset), m.Pool.Hex(), m.AnonymitySet)
		}
	}
	for _, l := range res.Links {
		printf(w, "  link     %s -> %s  %v %s (anonymity set %d)\n", l.DepositTx, l.WithdrawalTx, l.Heuristics, l.Confidence, l.AnonymitySet)
	}
	for _, part := range []struct {
		name string
		lt   *trace.LinkedTrace
	}{{"inferred (--follow-links)", res.Inferred}, {"hypotheses (--follow-hypotheses)", res.Hypotheses}} {
		if part.lt == nil {
			continue
		}
		printf(w, "\n  %s, through %d link(s), not part of the totals above:\n", part.name, len(part.lt.Links))
		for _, s := range part.lt.Sinks {
			printf(w, "  %-16s %28s %-8s %4d  %-42s %s\n", s.Kind, baseUnits(s.Amount, s.Decimals), assetShort(s.Asset), s.Hops, s.Address.Hex(),
				entityName(s.Entity, s.Category, "-"))
		}
	}
}

func countAsset(s []trace.AccountSink, a heistgraph.Asset) int {
	n := 0
	for _, x := range s {
		if x.Asset == a {
			n++
		}
	}
	return n
}

// baseUnits formats a decimal string of base units in whole units.
func baseUnits(dec string, decimals uint8) string {
	v, err := uint256.FromDecimal(dec)
	if err != nil {
		return esc(dec)
	}
	return trace.FormatUnits(v, decimals)
}

// assetShort is "native" or the token contract shortened (0x1234…abcd).
func assetShort(a heistgraph.Asset) string {
	s := a.String()
	if len(s) == 42 {
		return s[:6] + "…" + s[38:]
	}
	return s
}
