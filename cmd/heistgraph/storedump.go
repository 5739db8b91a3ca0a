package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/dump"
)

func (a *app) storeDumpCmd() *cobra.Command {
	var chainFlag string
	c := &cobra.Command{
		Use:   "dump",
		Short: "Print the store's content as sorted JSON lines, byte-identical for the same content on any backend",
		Long: `Print the backend-neutral content of the store as sorted JSON lines: blocks,
transactions, outputs with their spenders, address totals, EVM transfers,
balances and tokens, cluster memberships, evidence and overrides, and labels
(package store/dump documents every kind of line and the order). Two stores
holding the same content print the same bytes, whatever their backend and
whatever order the content came in, so comparing dumps compares stores.
Without --chain every chain of the registry is dumped, then every label.
The output is JSON lines already; --json changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ch heistgraph.Chain
			if chainFlag != "" {
				var err error
				if ch, err = dumpChain(chainFlag); err != nil {
					return err
				}
			}
			return a.withView(cmd.Context(), func(st store.Store) error {
				src, err := dump.For(st)
				if err != nil {
					return err
				}
				return dump.Write(cmd.Context(), a.stdout, src, dump.Options{Chain: ch})
			})
		},
	}
	c.Flags().StringVar(&chainFlag, "chain", "", "dump only this chain (and its labels)")
	return c
}

// dumpChain parses --chain: a chain of the registry, or a chain that only
// labels name (evm, the shared EVM key; tron).
func dumpChain(s string) (heistgraph.Chain, error) {
	ch, err := heistgraph.ParseChain(s)
	if err != nil {
		return "", err
	}
	if _, ok := heistgraph.LookupChain(ch); !ok && ch != heistgraph.ChainEVM && ch != heistgraph.ChainTron {
		return "", fmt.Errorf("--chain %q: not a chain heistgraph knows: %w", s, heistgraph.ErrInvalid)
	}
	return ch, nil
}
