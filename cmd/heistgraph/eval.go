package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/synth"
	"github.com/heistgraph/heistgraph/trace"
)

// evalCmd is `eval`: accuracy against a synthetic world's ground truth.
// Its subcommands are `eval cluster` and `eval trace`.
func (a *app) evalCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "eval",
		Short: "Measure clustering and tracing against a synthetic world's ground truth (truth.json)",
	}
	c.AddCommand(a.evalClusterCmd(), a.evalTraceCmd())
	return c
}

func (a *app) evalTraceCmd() *cobra.Command {
	var f traceFlags
	var truthPath string
	c := &cobra.Command{
		Use:   "trace --truth FILE [--policy P]",
		Short: "Trace every heist of a synthetic world from its seeds and score where the value went",
		Long: `eval trace traces each heist of a synthetic world (after the world is ingested
and its labels.csv imported) from its seeds, and compares the sinks with the
truth: for entity e, delivered_e is the truth's amount the thief delivered
to e (its unspent stolen coins count for the thief) and found_e the trace's
sink amounts at addresses the truth gives to e. Per heist and overall:

  value recall   = Σ min(found_e, delivered_e) / Σ delivered_e
  false exposure = Σ max(0, found_e − delivered_e) / Σ found_e

with heists that use CoinJoins (uses_coinjoin in the truth) also pooled
apart. The trace flags are those of trace.

On an EVM world (synth --chain evm, ingested with ingest evm --files DIR
--chain evm-synth) each heist is traced from its seed transactions in its
seed asset, found and delivered are taken per entity and asset in the seed
asset's units (a swapped-into asset at the heist's swaps' rate), swap sinks
and fees count in neither, and heists are pooled by uses_mixer. On a linked world (synth --chain evm writes
one: ingest its Bitcoin side with ingest btc --blocks DIR, then links build
--chain evm-synth --chain btc-regtest), --follow-links traces the cross-chain
heists (crosses_chains) on across THORChain's links: their sinks on Bitcoin are
scored against the linked world's truth (truth-btc.json), in the seed asset's
units at the heist's swaps' rate, and the heists crossing chains without a mixer
are pooled apart.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if truthPath == "" {
				return usageError{fmt.Errorf("eval trace: --truth FILE is needed: %w", heistgraph.ErrInvalid)}
			}
			if isEVM, err := isEVMTruth(truthPath); err != nil || isEVM {
				if err != nil {
					return err
				}
				return a.evalAccountTrace(cmd, f, truthPath)
			}
			opts, err := f.options()
			if err != nil {
				return err
			}
			opts.FollowLinks, opts.FollowHypotheses = f.followLinks, f.followHypotheses
			truth, err := loadTruth(truthPath)
			if err != nil {
				return err
			}
			return a.withView(cmd.Context(), func(st store.Store) error {
				opts.Resolver = entityResolver(st)
				ev, err := evalTrace(cmd.Context(), st, truth, opts)
				if err != nil {
					return err
				}
				out := struct {
					Trace synth.TraceEval `json:"trace"`
				}{ev}
				return a.emit(out, func(w io.Writer) error { printTraceEval(w, &ev); return nil })
			})
		},
	}
	c.Flags().StringVar(&truthPath, "truth", "", "the world's truth.json")
	f.addTraceOptions(c)
	f.addLinkFlags(c)
	return c
}

// evalTrace runs synth.EvalTrace, checking first that the store holds the
// world's chain.
func evalTrace(ctx context.Context, st store.Store, truth *synth.Truth, opts trace.Options) (synth.TraceEval, error) {
	ch, err := heistgraph.ParseChain(truth.Chain)
	if err != nil {
		return synth.TraceEval{}, fmt.Errorf("eval trace: truth chain: %w", err)
	}
	if _, err := st.Tip(ctx, ch); err != nil {
		return synth.TraceEval{}, fmt.Errorf("eval trace: the store holds no %s chain (ingest the world's blocks first): %w", ch, err)
	}
	return synth.EvalTrace(ctx, st, truth, opts)
}

func printTraceEval(w io.Writer, ev *synth.TraceEval) {
	printf(w, "eval trace, policy %s", ev.Policy)
	if ev.ThroughCoinJoin != "" {
		printf(w, " (through CoinJoins: %s)", ev.ThroughCoinJoin)
	}
	printf(w, "\n\n  %-12s %-9s %8s %9s %22s %22s %8s\n", "heist", "coinjoin", "recall", "exposure", "delivered", "found", "visited")
	for _, h := range ev.Heists {
		printf(w, "  %-12s %-9t %8.4f %9.4f %22s %22s %8d\n", h.ID, h.UsesCoinJoin, h.ValueRecall, h.FalseExposure,
			btc(h.DeliveredSat), btc(h.FoundSat), h.TxsVisited)
	}
	printf(w, "\n  %-22s %8s %9s\n", "", "recall", "exposure")
	printf(w, "  %-22s %8.4f %9.4f\n", "all heists", ev.ValueRecall, ev.FalseExposure)
	printf(w, "  %-22s %8.4f %9.4f  (%d heists)\n", "without CoinJoins", ev.WithoutCoinJoin.ValueRecall, ev.WithoutCoinJoin.FalseExposure, ev.WithoutCoinJoin.Heists)
	printf(w, "  %-22s %8.4f %9.4f  (%d heists)\n", "with CoinJoins", ev.WithCoinJoin.ValueRecall, ev.WithCoinJoin.FalseExposure, ev.WithCoinJoin.Heists)
}
