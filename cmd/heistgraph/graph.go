package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/txgraph"
)

// graphDir is where the transaction graphs of a data folder live.
func (a *app) graphDir() string {
	if a.dataDir == "" {
		return ""
	}
	return filepath.Join(a.dataDir, "txgraph")
}

func (a *app) graphCmd() *cobra.Command {
	c := &cobra.Command{Use: "graph", Short: "The transaction graph traces read (a compact copy of a UTXO chain)"}
	var chain string
	build := &cobra.Command{
		Use:   "build [--chain C]",
		Short: "Build the transaction graph of a UTXO chain, or bring it up to the store's tip",
		Long: `graph build writes DATA/txgraph/CHAIN.txg: every transaction of the chain as
numbers and arrays (inputs, outputs, spenders, address ids), memory-mapped by
trace, which then reads a transaction in a few array loads instead of several
store lookups. The result of a trace is the same with and without it.

Run it again after ingesting: it extends the graph with the new blocks, or
rebuilds it when its last block left the chain (a reorg). trace reads the
graph only while its last block is the store's tip, and the store otherwise.
Opening the graph reads only its header, and each read checks the numbers
it reads: a damaged file is met where it is read (trace then answers from
the store; cluster update stops with an error naming it). graph build reads
the whole graph, to extend it or, when it is current, to check it, and
rebuilds a damaged one.

It also writes DATA/txgraph/CHAIN.cid, the clusters' ids of the graph's
addresses, which trace reads to resolve entities while the clustering has
not changed since (cluster update writes it again; an override or a rewind
leaves it stale, and trace asks the store then).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if a.graphDir() == "" {
				return usageError{fmt.Errorf("graph build: needs a data folder (--data): %w", heistgraph.ErrInvalid)}
			}
			return a.withView(ctx, func(st store.Store) error {
				ch, err := hgapp.TraceChain(ctx, st, chain)
				if err != nil {
					return err
				}
				path := txgraph.Path(a.graphDir(), ch)
				s, err := buildGraph(ctx, st, ch, path)
				if err != nil {
					return err
				}
				if err := writeClusterIDs(ctx, st, a.graphDir(), ch); err != nil {
					return err
				}
				v := struct {
					Chain heistgraph.Chain `json:"chain"`
					Path  string           `json:"path"`
					txgraph.Stats
				}{ch, path, s}
				return a.emit(v, func(w io.Writer) error {
					how := "extended"
					switch {
					case s.Rebuilt:
						how = "built"
					case s.Blocks == 0:
						how = "already current"
					}
					printf(w, "graph of %s %s: %d blocks, %d transactions read; tip %d\n%s\n", ch, how, s.Blocks, s.Txs, s.TipHeight, path)
					return nil
				})
			})
		},
	}
	build.Flags().StringVar(&chain, "chain", "", "UTXO chain (btc, btc-regtest, ...); default: the one Bitcoin chain the store holds")
	c.AddCommand(build)
	return c
}

// buildGraph brings ch's graph at path up to st's tip (txgraph.Update),
// and checks a graph already current whole (txgraph.Graph.Verify: Update
// reads nothing of it then), rebuilding it when it is damaged.
func buildGraph(ctx context.Context, st store.Store, ch heistgraph.Chain, path string) (txgraph.Stats, error) {
	s, err := txgraph.Update(ctx, st, ch, path)
	if err != nil || s.Rebuilt || s.Blocks > 0 {
		return s, err
	}
	g, err := txgraph.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil // nothing stored yet: no file
	case err == nil:
		err = g.Verify()
		g.Close()
	}
	if !errors.Is(err, txgraph.ErrFormat) {
		return s, err
	}
	if err := os.Remove(path); err != nil {
		return s, fmt.Errorf("graph build: %w", err)
	}
	return txgraph.Update(ctx, st, ch, path)
}

// writeClusterIDs writes the cluster ids beside ch's graph under dir
// (txgraph.WriteClusterIDs), when there is a graph; a trace reads them
// while the store's clustering stamp is the one they were written under.
func writeClusterIDs(ctx context.Context, st store.Store, dir string, ch heistgraph.Chain) error {
	g, err := txgraph.Open(txgraph.Path(dir, ch))
	if err != nil {
		return nil // no graph (or one Update will rebuild): nothing to keep beside it
	}
	defer g.Close()
	if _, err := txgraph.WriteClusterIDs(ctx, st, g, txgraph.ClusterIDsPath(dir, ch)); err != nil {
		return err
	}
	return nil
}
