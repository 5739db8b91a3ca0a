package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/synth"
)

// isEVMTruth reports whether the truth file at path is an EVM world's
// (its chain is an EVM chain). A file that is not JSON is bad input.
func isEVMTruth(path string) (bool, error) {
	if err := checkInput(path); err != nil {
		return false, fmt.Errorf("--truth: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("--truth: %w", err)
	}
	defer f.Close()
	var head struct {
		Chain heistgraph.Chain `json:"chain"`
	}
	if err := json.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(&head); err != nil {
		return false, fmt.Errorf("--truth %s: %v: %w", path, err, heistgraph.ErrInvalid)
	}
	return head.Chain.IsEVM(), nil
}

// evalAccountTrace is eval trace on an EVM world: each heist traced from
// its seed transactions with trace's flags (those of EVM chains).
func (a *app) evalAccountTrace(cmd *cobra.Command, f traceFlags, truthPath string) error {
	truth, err := synth.LoadEVMTruth(truthPath)
	if err != nil {
		return err
	}
	if len(truth.Heists) == 0 || len(truth.Heists[0].Seeds) == 0 {
		return fmt.Errorf("eval trace: %s has no heist to trace: %w", truthPath, heistgraph.ErrInvalid)
	}
	if f.asset != "" {
		return usageError{fmt.Errorf("eval trace: --asset: each heist is traced in its own seed asset: %w", heistgraph.ErrInvalid)}
	}
	// The policy flags checked as trace checks them, with a heist's seed
	// standing in for --seed.
	f.chain, f.seeds = string(truth.Chain), []string{truth.Heists[0].Seeds[0].String()}
	opts, err := f.accountOptions()
	if err != nil {
		return err
	}
	opts.Seeds = nil
	ctx := cmd.Context()
	return a.withView(ctx, func(st store.Store) error {
		if _, err := st.AccountTip(ctx, truth.Chain); err != nil {
			return fmt.Errorf("eval trace: the store holds no %s chain (ingest the world first: ingest evm --files DIR --chain %s): %w",
				truth.Chain, truth.Chain, err)
		}
		opts.Resolver = hgapp.EntityResolver(st)
		ev, err := synth.EvalAccountTrace(ctx, st, truth, opts)
		if err != nil {
			return err
		}
		out := struct {
			Trace synth.AccountTraceEval `json:"trace"`
		}{ev}
		return a.emit(out, func(w io.Writer) error { printAccountTraceEval(w, &ev); return nil })
	})
}

func printAccountTraceEval(w io.Writer, ev *synth.AccountTraceEval) {
	printf(w, "eval trace on %s, policy %s\n\n  %-9s %-16s %-6s %-5s %-6s %8s %9s %10s %10s\n", ev.Chain, ev.Policy,
		"heist", "kind", "mixer", "swap", "chains", "recall", "exposure", "txs", "transfers")
	for _, h := range ev.Heists {
		chains := "one"
		if h.CrossesChains {
			chains = "two"
		}
		printf(w, "  %-9s %-16s %-6t %-5t %-6s %8.4f %9.4f %10d %10d\n", h.ID, h.Kind, h.UsesMixer, h.UsesSwap, chains, h.ValueRecall, h.FalseExposure,
			h.TxsVisited, h.TransfersVisited)
	}
	printf(w, "\n  %-24s %8s %9s\n", "", "recall", "exposure")
	printf(w, "  %-24s %8.4f %9.4f\n", "all heists", ev.ValueRecall, ev.FalseExposure)
	for _, g := range []struct {
		name string
		g    synth.AccountEvalGroup
	}{{"without mixer", ev.WithoutMixer}, {"with mixer", ev.WithMixer}, {"without mixer or swap", ev.Plain},
		{"across chains, no mixer", ev.CrossChain}} {
		printf(w, "  %-24s %8.4f %9.4f  (%d heists)\n", g.name, g.g.ValueRecall, g.g.FalseExposure, g.g.Heists)
	}
}
