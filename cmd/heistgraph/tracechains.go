package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// runChainsTrace is trace with seeds on several chains (chain:ID
// prefixes): one run per chain (app.TraceChains), printed one after the
// other, then where the money sits per chain.
func (a *app) runChainsTrace(ctx context.Context, f *traceFlags, chains []string, seeds map[string][]string) error {
	switch {
	case f.compare:
		return usageError{fmt.Errorf("--compare: seeds on one chain only: %w", heistgraph.ErrInvalid)}
	case f.graphml != "" || f.dot != "":
		return usageError{fmt.Errorf("--graphml and --dot: seeds on one chain only (--json lists every chain's edges): %w", heistgraph.ErrInvalid)}
	case f.asset != "":
		return usageError{fmt.Errorf("--asset: seeds on one chain only: %w", heistgraph.ErrInvalid)}
	case f.top < 0:
		return usageError{fmt.Errorf("--top %d: want 0 or more sinks: %w", f.top, heistgraph.ErrInvalid)}
	}
	var reqs []hgapp.ChainTrace
	for _, c := range chains {
		cf := *f
		cf.chain, cf.seeds = c, seeds[c]
		if hgapp.IsAccountChain(c) {
			opts, err := cf.accountOptions()
			if err != nil {
				return err
			}
			reqs = append(reqs, hgapp.ChainTrace{Account: &opts})
			continue
		}
		for _, s := range cf.seeds {
			if c == "" && (strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X")) {
				return usageError{fmt.Errorf("--seed %s: an EVM seed needs its chain (eth:0x…, or --chain eth): %w", s, heistgraph.ErrInvalid)}
			}
		}
		req, err := cf.request()
		if err != nil {
			return err
		}
		reqs = append(reqs, hgapp.ChainTrace{UTXO: &req})
	}
	return a.withView(ctx, func(st store.Store) error {
		v, err := hgapp.TraceChains(ctx, st, reqs)
		if err != nil {
			return err
		}
		for _, r := range v.Runs {
			if r.UTXO != nil {
				a.warnClusters(r.UTXO.ClustersView)
			}
		}
		return a.emit(v, func(w io.Writer) error {
			printf(w, "trace %s over %d chains: %s\n", v.Policy, len(v.Chains), strings.Join(chainStrings(v.Chains), ", "))
			for _, r := range v.Runs {
				printf(w, "\n")
				if r.UTXO != nil {
					printTrace(w, r.UTXO.Result, f.top)
					printAcross(w, r.UTXO.Across)
				} else {
					printAccountTrace(w, r.Account.AccountResult, f.top)
					printAcross(w, r.Account.Across)
				}
			}
			printHoldings(w, v.ByChain)
			return nil
		})
	})
}

func chainStrings(cs []heistgraph.Chain) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = esc(string(c))
	}
	return out
}

// printAcross writes the part of a trace beyond the links it crossed: the
// links (followed or not) and the largest sinks beyond them per part.
func printAcross(w io.Writer, a *trace.Across) {
	if a == nil {
		return
	}
	followed := 0
	for _, l := range a.Links {
		if l.Part != "" {
			followed++
		}
	}
	printf(w, "\n  across chains: %d link(s) found at bridge sinks, %d followed, %d transactions visited beyond them\n",
		len(a.Links), followed, a.TxsVisited)
	for _, l := range a.Links {
		part := l.Part
		if part == "" {
			part = "not followed"
		}
		dst := l.Dst.TxID
		if l.Open() {
			dst = "address " + l.Dst.Address + " (open link)"
		}
		printf(w, "  link  %-10s %-9s %s:%s -> %s:%s  %s -> %s base units tainted  (%s)\n", esc(l.Method), l.Confidence, esc(string(l.Src.Chain)), esc(l.Src.TxID),
			esc(string(l.Dst.Chain)), esc(dst), baseUnits(l.SrcTainted, 0), baseUnits(l.DstTainted, 0), esc(part))
	}
	for _, s := range a.Sinks {
		addr := esc(s.Address)
		if addr == "" {
			addr = "-"
		}
		kind := string(s.Kind)
		if s.Reason != "" {
			kind += "/" + esc(s.Reason)
		}
		printf(w, "  %-10s %-12s %-22s %24s %-8s %4d  %-42s %s\n", s.Part, esc(string(s.Chain)), kind, baseUnits(s.Amount, s.Decimals), assetText(s.Asset),
			s.Hops, addr, entityName(s.Entity, s.Category, "-"))
	}
}

// assetText shortens an EVM token contract for the terminal.
func assetText(s string) string {
	if a, err := heistgraph.ParseAsset(s); err == nil {
		return assetShort(a)
	}
	return esc(s)
}

// printHoldings writes where the money sits per chain and asset (confirmed
// flow; value that crossed a link counted where it arrived).
func printHoldings(w io.Writer, by []hgapp.ChainHoldings) {
	if len(by) == 0 {
		return
	}
	printf(w, "\n  where the money sits, by chain (confirmed flow; what crossed a link counted where it arrived):\n")
	for _, c := range by {
		for _, a := range c.Assets {
			printf(w, "  %-14s %-8s %28s\n", esc(string(c.Chain)), assetText(a.Asset), baseUnits(a.Amount, a.Decimals))
			for _, h := range a.Sinks {
				printf(w, "    %-10s %-40s %28s %6d\n", h.Kind, entityName(h.Entity, h.Category, "-"), baseUnits(h.Amount, a.Decimals), h.Count)
			}
		}
	}
}
