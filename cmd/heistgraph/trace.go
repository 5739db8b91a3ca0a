package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/pattern"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// traceFlags are the options of `trace` (and, in part, `eval trace`).
type traceFlags struct {
	chain     string
	seeds     []string
	policy    string
	maxHops   int
	minAmount int64
	minShare  float64
	until     string
	from      string
	budget    int
	through   string
	stop      []string
	pass      []string
	graphml   string
	dot       string
	compare   bool
	top       int
	// EVM chains (traceaccounts.go).
	asset        string
	minAmountSet bool
	// Tornado links (traceaccounts.go, addLinkFlags).
	followLinks, followHypotheses bool
	// noGraph reads the store even when the transaction graph is current.
	noGraph bool
}

// addTraceOptions registers the flags shared by trace and eval trace.
func (f *traceFlags) addTraceOptions(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.policy, "policy", string(trace.DefaultPolicy), "taint policy: poison, haircut, fifo, lifo or tiho")
	fl.IntVar(&f.maxHops, "max-hops", trace.DefaultMaxHops, "stop value this many transactions from a seed (hop_limit sinks)")
	fl.Int64Var(&f.minAmount, "min-amount", trace.DefaultMinAmount, "stop taint below this many satoshis in one output (threshold sinks); 0 for none. EVM chains: base units of every asset (default 10^(decimals-6) per asset). With --follow-links a value given here holds on the far side of each link, converted by the links' ratios; unset, each chain keeps its own default")
	fl.Float64Var(&f.minShare, "min-share", trace.DefaultMinShare, "haircut only: stop an output whose tainted share is below this; 0 for none")
	fl.StringVar(&f.until, "until", "", "time bound: outputs spent after it count as unspent (RFC 3339 date or datetime, or Unix seconds)")
	fl.IntVar(&f.budget, "budget", trace.DefaultBudget, "transactions a trace may visit; what is left becomes hop_limit sinks (reason budget)")
	fl.StringVar(&f.through, "through-coinjoin", "", "apply this policy to CoinJoins instead of stopping at them (entity sinks coinjoin/<kind>)")
	fl.StringSliceVar(&f.stop, "stop", nil, "label categories that stop the trace (default: "+strings.Join(trace.DefaultStopCategories, ",")+")")
	fl.StringSliceVar(&f.pass, "pass", nil, "label categories the trace passes through (default: "+strings.Join(trace.DefaultPassCategories[:len(trace.DefaultPassCategories)-1], ",")+")")
}

func (a *app) traceCmd() *cobra.Command {
	var f traceFlags
	c := &cobra.Command{
		Use:   "trace --seed ID... [--policy P]",
		Short: "Follow stolen value forward from seeds and say where it is now",
		Long: `trace follows the value of its seeds forward through the chain, hop by hop,
under a taint policy (docs/methods.md §1), and reports where it stopped (sinks by
kind and entity), how it moved (edges), what fees took, and the laundering
patterns it went through (peel chains, CoinJoins, consolidations, splits,
mixer and bridge entries).

A seed is TXID:VOUT (an output; TXID:VOUT/SAT for part of it), TXID (every
output of a transaction) or an address (every output it received, within
--from and --until). All seeds of one command line are one source.

A seed may name its chain with a prefix, CHAIN:ID (eth:0xTXHASH,
btc:TXID:VOUT); --chain is the chain of the seeds without one. Seeds on
several chains are traced together, each chain by its engine: --json prints
one run per chain and where the money sits per chain (by_chain).

With --follow-links, value that reaches a bridge or THORChain deposit (an
entity sink of category bridge) continues as the linked transfer on the
other chain (links build finds the links), its taint converted by the
link's ratio (a haircut across the link, docs/methods.md §6), and is traced
there with the same policy: the part beyond the links is "across" (sinks
with chain, via and origin: the amount converted back to the asset that
entered the first link), exact links as confirmed flow, strong ones as
inferred, probable ones only with --follow-hypotheses. The bridge sink says
how much of it continued; by_chain counts it once, where it arrived.

On an EVM chain (--chain eth, dev, ...) a seed is 0xTXHASH (what the
transaction moved, per address and asset) or 0xADDRESS with --asset (every
credit of the asset within --from and --until); the policies work on
balances per address and asset (docs/methods.md §2), amounts are base units
per asset, and WETH wraps and unwraps convert the taint (swap sinks).

For every policy but poison, the sinks plus fees equal the seed amount
exactly. The human output lists the largest sinks (--top N, with address,
entity, amount and hops), then the totals per sink kind and entity, in BTC;
--json lists every sink in satoshis. --compare runs every policy and prints
their sinks side by side.
--graphml FILE and --dot FILE write the graph (- for stdout).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.minAmountSet = cmd.Flags().Changed("min-amount")
			chains, byChain := hgapp.SeedsByChain(f.seeds, f.chain)
			if len(chains) > 1 {
				return a.runChainsTrace(cmd.Context(), &f, chains, byChain)
			}
			if len(chains) == 1 {
				f.chain, f.seeds = chains[0], byChain[chains[0]]
			}
			if hgapp.IsAccountChain(f.chain) {
				return a.runAccountTrace(cmd.Context(), &f)
			}
			if f.asset != "" {
				return usageError{fmt.Errorf("--asset: only for EVM chains (--chain eth, ...): %w", heistgraph.ErrInvalid)}
			}
			for _, s := range f.seeds {
				if f.chain == "" && (strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X")) {
					return usageError{fmt.Errorf("--seed %s: an EVM seed needs its chain (--chain eth, ...): %w", s, heistgraph.ErrInvalid)}
				}
			}
			return a.runTrace(cmd.Context(), &f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.chain, "chain", "", "chain to trace (btc, btc-regtest, ..., or an EVM chain: eth, dev, ...); default: the one Bitcoin chain the store holds")
	fl.StringVar(&f.asset, "asset", "", "EVM chains: the asset of an address seed (native, the default, or a token contract); restricts a transaction seed to one asset")
	fl.StringSliceVar(&f.seeds, "seed", nil, "seed: TXID:VOUT, TXID or ADDRESS (repeat or separate with commas)")
	fl.StringVar(&f.from, "from", "", "address seeds: only outputs received at or after this time (RFC 3339 or Unix seconds)")
	fl.StringVar(&f.graphml, "graphml", "", "write the trace graph as GraphML to FILE (- for stdout)")
	fl.StringVar(&f.dot, "dot", "", "write the trace graph as Graphviz DOT to FILE (- for stdout)")
	fl.BoolVar(&f.compare, "compare", false, "run every policy on the seeds and print their sinks side by side")
	fl.IntVar(&f.top, "top", defaultTopSinks, "human output: list this many of the largest sinks (0: none; --json lists all)")
	fl.BoolVar(&f.noGraph, "no-graph", false, "read the store even when the transaction graph (graph build) is current; the result is the same")
	f.addTraceOptions(c)
	f.addLinkFlags(c)
	return c
}

// options turns the flags (but the chain and the seeds) into trace
// options. Bad values are usage errors.
func (f *traceFlags) options() (trace.Options, error) {
	opts := trace.DefaultOptions()
	p, err := trace.ParsePolicy(f.policy)
	if err != nil {
		return opts, usageError{fmt.Errorf("--policy: %w", err)}
	}
	opts.Policy = p
	if f.through != "" {
		tp, err := trace.ParsePolicy(f.through)
		if err != nil {
			return opts, usageError{fmt.Errorf("--through-coinjoin: %w", err)}
		}
		opts.ThroughCoinJoin = tp
	}
	switch {
	case f.maxHops < 1:
		return opts, usageError{fmt.Errorf("--max-hops %d: want 1 or more: %w", f.maxHops, heistgraph.ErrInvalid)}
	case f.minAmount < 0:
		return opts, usageError{fmt.Errorf("--min-amount %d: want 0 or more satoshis: %w", f.minAmount, heistgraph.ErrInvalid)}
	case f.minShare < 0 || f.minShare >= 1:
		return opts, usageError{fmt.Errorf("--min-share %g: want a share in [0, 1): %w", f.minShare, heistgraph.ErrInvalid)}
	case f.budget < 1:
		return opts, usageError{fmt.Errorf("--budget %d: want 1 or more transactions: %w", f.budget, heistgraph.ErrInvalid)}
	}
	opts.MaxHops, opts.Budget = f.maxHops, f.budget
	opts.MinAmount, opts.MinShare = f.minAmount, f.minShare
	if f.minAmount == 0 {
		opts.MinAmount = -1
	}
	if f.minShare == 0 {
		opts.MinShare = -1
	}
	if f.until != "" {
		t, err := hgapp.ParseTime(f.until, true)
		if err != nil {
			return opts, usageError{fmt.Errorf("--until: %w", err)}
		}
		opts.Until = t
	}
	if f.stop != nil {
		opts.StopCategories = lower(f.stop)
	}
	opts.FollowLinks, opts.FollowHypotheses = f.followLinks, f.followHypotheses
	if f.pass != nil {
		opts.PassCategories = lower(f.pass)
	}
	return opts, nil
}

// request turns the flags into a Bitcoin trace request (options and
// seeds; the chain is checked when it runs). Bad values are usage errors.
func (f *traceFlags) request() (hgapp.TraceRequest, error) {
	opts, err := f.options()
	if err != nil {
		return hgapp.TraceRequest{}, err
	}
	var from int64
	if f.from != "" {
		if from, err = hgapp.ParseTime(f.from, false); err != nil {
			return hgapp.TraceRequest{}, usageError{fmt.Errorf("--from: %w", err)}
		}
	}
	for _, s := range f.seeds {
		sd, err := trace.ParseSeed(s)
		if err != nil {
			return hgapp.TraceRequest{}, usageError{err}
		}
		if sd.Kind == trace.SeedAddress {
			sd.From = from
		}
		opts.Seeds = append(opts.Seeds, sd)
	}
	return hgapp.TraceRequest{Chain: f.chain, Options: opts}, nil
}

func lower(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (a *app) runTrace(ctx context.Context, f *traceFlags) error {
	if len(f.seeds) == 0 {
		return usageError{fmt.Errorf("trace: at least one --seed is needed: %w", heistgraph.ErrInvalid)}
	}
	if f.top < 0 {
		return usageError{fmt.Errorf("--top %d: want 0 or more sinks: %w", f.top, heistgraph.ErrInvalid)}
	}
	req, err := f.request()
	if err != nil {
		return err
	}
	if f.graphml == "-" && f.dot == "-" {
		return usageError{fmt.Errorf("--graphml and --dot cannot both write to stdout: %w", heistgraph.ErrInvalid)}
	}
	if a.json && (f.graphml == "-" || f.dot == "-") {
		return usageError{fmt.Errorf("--json prints the trace on stdout; write the graph to a file: %w", heistgraph.ErrInvalid)}
	}
	if !f.noGraph {
		req.GraphDir = a.graphDir()
	}
	return a.withView(ctx, func(st store.Store) error {
		var res *trace.Result
		var out any
		var fresh hgapp.ClustersView
		var text func(io.Writer)
		var results []*trace.Result // in out, whose keys are at depth
		depth := 1
		if f.compare {
			v, err := hgapp.Compare(ctx, st, req)
			if err != nil {
				return err
			}
			res, out, fresh = v.Result, v, v.ClustersView
			text = func(w io.Writer) { printComparison(w, v.Comparison) }
			results, depth = v.Comparison.Results, 3
		} else {
			v, err := hgapp.Trace(ctx, st, req)
			if err != nil {
				return err
			}
			res, out, fresh = v.Result, v, v.ClustersView
			results = []*trace.Result{v.Result}
			text = func(w io.Writer) {
				printTrace(w, v.Result, f.top)
				printAcross(w, v.Across)
				printHoldings(w, v.ByChain)
			}
		}
		// Said once the answer is there (an error needs no warning).
		a.warnClusters(fresh)
		if err := writeGraph(a.stdout, f.graphml, res.WriteGraphML); err != nil {
			return err
		}
		if err := writeGraph(a.stdout, f.dot, res.WriteDOT); err != nil {
			return err
		}
		if (f.graphml == "-" || f.dot == "-") && !a.json {
			return nil // stdout holds the graph
		}
		return a.emitResults(out, results, depth, func(w io.Writer) error { text(w); return nil })
	})
}

// entityResolver is the Resolver traces use (app.EntityResolver): run
// "cluster update" (or ingest with --cluster) first; unclustered addresses
// resolve by their own labels.
func entityResolver(st store.Store) trace.Resolver { return hgapp.EntityResolver(st) }

// writeGraph writes a graph to path ("-": stdout; "": nothing).
func writeGraph(stdout io.Writer, path string, write func(io.Writer) error) error {
	switch path {
	case "":
		return nil
	case "-":
		return write(stdout)
	}
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write graph: %w", err)
	}
	if err := write(fh); err != nil {
		fh.Close()
		return fmt.Errorf("write graph %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("write graph %s: %w", path, err)
	}
	return nil
}

// largestSinks returns the n largest sinks, largest first; ties keep the
// result's (chain) order.
func largestSinks(res *trace.Result, n int) []trace.Sink {
	amt := make([]int64, res.Sinks.Len())
	idx := make([]int, len(amt))
	for i, s := range res.Sinks.All() {
		amt[i], idx[i] = s.AmountSat, i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(amt[b], amt[a]) })
	out := make([]trace.Sink, min(n, len(idx)))
	for k := range out {
		out[k] = res.Sinks.At(idx[k])
	}
	return out
}

// share formats part/whole as a percentage.
func share(part, whole int64) string {
	if whole <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(part)/float64(whole))
}

// entityName is "Entity (category)", escaped for the terminal, or def
// when there is no entity.
func entityName(entity, category, def string) string {
	if entity == "" {
		return def
	}
	return esc(entity) + " (" + esc(category) + ")"
}

// sinkKindText is a sink's kind with its reason, if any (hop_limit/budget).
func sinkKindText(s trace.Sink) string {
	if s.Reason != "" {
		return string(s.Kind) + "/" + esc(s.Reason)
	}
	return string(s.Kind)
}

// printTrace writes a trace for people: the largest sinks (top of them,
// with address, entity, amount and hops), the totals per sink kind (and
// per entity within a kind), fees, and the events.
func printTrace(w io.Writer, res *trace.Result, top int) {
	printf(w, "trace %s on %s: %d seed(s), %s\n", res.Policy, res.Chain, len(res.Seeds), btc(res.SeedAmountSat))
	printf(w, "  %d transactions visited, max hop %d", res.Stats.TxsVisited, res.Stats.MaxHop)
	if res.Stats.Budget {
		printf(w, ", budget exhausted")
	}
	printf(w, "\n")
	if top > 0 && res.Sinks.Len() > 0 {
		shown := largestSinks(res, top)
		printf(w, "\n  largest sinks (%d of %d", len(shown), res.Sinks.Len())
		if len(shown) < res.Sinks.Len() {
			printf(w, "; more with --top, all with --json")
		}
		printf(w, "):\n  %-16s %20s %4s  %-44s %s\n", "kind", "BTC", "hops", "address", "entity")
		for _, s := range shown {
			addr := esc(s.Address)
			if addr == "" {
				addr = "-"
			}
			printf(w, "  %-16s %20s %4d  %-44s %s\n", sinkKindText(s), btcCell(s.AmountSat), s.Hops, addr, entityName(s.Entity, s.Category, "-"))
		}
	}
	printf(w, "\n  %-44s %20s %8s %6s\n", "totals by kind", "BTC", "share", "sinks")
	groups := hgapp.GroupSinks(res.Sinks)
	for i := 0; i < len(groups); {
		j := i
		var amount int64
		var sinks int
		for ; j < len(groups) && groups[j].Kind == groups[i].Kind; j++ {
			amount += groups[j].AmountSat
			sinks += groups[j].Sinks
		}
		printf(w, "  %-44s %20s %8s %6d\n", groups[i].Kind, btcCell(amount), share(amount, res.SeedAmountSat), sinks)
		if j-i > 1 || groups[i].Entity != "" {
			for _, g := range groups[i:j] {
				printf(w, "    %-42s %20s %8s %6d\n", entityName(g.Entity, g.Category, "unlabelled"), btcCell(g.AmountSat), share(g.AmountSat, res.SeedAmountSat), g.Sinks)
			}
		}
		i = j
	}
	printf(w, "  %-44s %20s %8s\n", "fees", btcCell(res.FeesSat), share(res.FeesSat, res.SeedAmountSat))
	if res.Conserved {
		printf(w, "  %-44s %20s   (sinks + fees = seeds, exactly)\n", "total", btcCell(res.SinksSat()+res.FeesSat))
	} else {
		printf(w, "  %s does not conserve value: sinks total %s\n", res.Policy, btc(res.SinksSat()))
	}
	if len(res.Events) == 0 {
		return
	}
	var kinds []string
	count := map[string]int{}
	for _, e := range res.Events {
		if count[e.Kind] == 0 {
			kinds = append(kinds, e.Kind)
		}
		count[e.Kind]++
	}
	printf(w, "\n  events:")
	for _, k := range kinds {
		printf(w, " %s ×%d", esc(k), count[k])
	}
	printf(w, "\n")
	// Peel chains, CoinJoins and entries first: they say where the money
	// went; consolidations and splits are the many small steps.
	shown := 0
	for _, pass := range []bool{true, false} {
		for _, e := range res.Events {
			major := e.Kind != "consolidation" && e.Kind != "split"
			if major != pass {
				continue
			}
			if shown == maxEventsShown {
				printf(w, "    ... %d more (all of them with --json)\n", len(res.Events)-shown)
				return
			}
			printf(w, "    %-14s %s  %s\n", esc(e.Kind), e.TxID, eventSummary(e))
			shown++
		}
	}
}

// defaultTopSinks is how many of the largest sinks trace lists by default.
const defaultTopSinks = 20

// maxEventsShown bounds the events of the human output.
const maxEventsShown = 25

func eventSummary(e trace.Event) string {
	switch d := e.Detail.(type) {
	case *pattern.PeelChain:
		var peels []string
		for _, p := range d.PeelsByEntity {
			name := esc(p.Entity)
			if name == "" {
				name = "unlabelled"
			}
			peels = append(peels, fmt.Sprintf("%s %s ×%d", name, btc(p.Amount), p.Count))
		}
		return fmt.Sprintf("length %d, %s in, peeled %s (%s), remainder %s %s, confidence %s",
			d.Length, btc(d.StartAmount), btc(d.TotalPeeled), strings.Join(peels, "; "), btc(d.EndRemainder), esc(d.End), esc(d.Confidence))
	case *trace.CoinJoinEvent:
		how := "stopped"
		if d.Through {
			how = "traced through"
		}
		return fmt.Sprintf("%s CoinJoin (%s), %s tainted entered, %s", esc(d.Subtype), esc(d.Confidence), btc(d.TaintedSat), how)
	case *trace.Entry:
		return fmt.Sprintf("%s into %s at %s", btc(d.AmountSat), esc(d.Entity), esc(d.Address))
	case *trace.ConsolidationEvent:
		return fmt.Sprintf("%d inputs (%d tainted, %s) into one output of %s", d.Inputs, d.TaintedInputs, btc(d.TaintedSat), btc(d.AmountSat))
	case *trace.SplitEvent:
		return fmt.Sprintf("%d outputs of about %s (%s tainted entered)", d.EqualOutputs, btc(d.AmountSat), btc(d.TaintedSat))
	case *trace.Tx0Event:
		return fmt.Sprintf("Whirlpool Tx0 into %d premixes of %s", d.Premixes, btc(d.Premix))
	}
	return ""
}

func printComparison(w io.Writer, c *trace.Comparison) {
	if len(c.Results) > 0 {
		r := c.Results[0]
		printf(w, "trace --compare on %s: %d seed(s), %s (table in BTC)\n\n", r.Chain, len(r.Seeds), btc(r.SeedAmountSat))
	}
	printf(w, "  %-10s %-40s", "sink", "entity")
	for _, p := range c.Policies {
		printf(w, " %20s", p)
	}
	printf(w, "\n")
	for _, row := range c.Rows {
		printf(w, "  %-10s %-40s", row.Kind, entityName(row.Entity, row.Category, "-"))
		for _, v := range row.AmountSat {
			printf(w, " %20s", btcCell(v))
		}
		printf(w, "\n")
	}
	printf(w, "  %-10s %-40s", "fees", "")
	for _, v := range c.FeesSat {
		printf(w, " %20s", btcCell(v))
	}
	printf(w, "\n  %-10s %-40s", "visited", "")
	for _, r := range c.Results {
		printf(w, " %20d", r.Stats.TxsVisited)
	}
	printf(w, "\n")
}
