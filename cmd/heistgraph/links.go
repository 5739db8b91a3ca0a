package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/linkfind"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) linksCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "links",
		Short: "Cross-chain links (THORChain) between stored transactions",
	}
	c.AddCommand(a.linksBuildCmd())
	return c
}

func (a *app) linksBuildCmd() *cobra.Command {
	var chains []string
	c := &cobra.Command{
		Use:   "build --chain C [--chain C2 ...]",
		Short: "Find THORChain inbounds and outbounds in the stored chains and store their links",
		Long: `Scan the stored chains for THORChain transfers and store the exact links between them
(methods.md §6.1): on EVM chains the router's Deposit (inbound) and TransferOut (outbound)
logs, routers from the built-in table and labels of category bridge, entity THORChain; on
Bitcoin payments to vault addresses (labels of category bridge, entity THORChain) with an
OP_RETURN memo (inbound) and vault payments with an OUT:/REFUND: memo (outbound). An
outbound is linked to the inbound its memo names. Give every chain of a swap: links are
found whichever chain was ingested first, and rerunning stores nothing twice. Memos that
do not parse are listed, never guessed. A swap inbound whose outbound is not found (its
destination chain not held, or not ingested that far) is stored as an open link to the
chain and address its memo names; a later run that finds the outbound replaces it, and
trace --follow-links ends it in an untraced sink naming the link. "show tx" lists a
transaction's links.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(chains) == 0 {
				return usageError{fmt.Errorf("links build: give --chain at least once: %w", heistgraph.ErrInvalid)}
			}
			var cs []heistgraph.Chain
			for _, s := range chains {
				c, err := heistgraph.ParseChain(s)
				if err != nil {
					return usageError{err}
				}
				cs = append(cs, c)
			}
			var rep linkfind.Report
			err := a.withStore(cmd.Context(), func(st store.Store) error {
				lst, ok := st.(linkfind.Store)
				if !ok {
					return fmt.Errorf("links build: the store keeps no links")
				}
				var err error
				rep, err = linkfind.Run(cmd.Context(), lst, cs)
				return err
			})
			if err != nil {
				return err
			}
			return a.emit(rep, func(w io.Writer) error {
				printf(w, "%d inbound(s), %d outbound(s), %d link(s) stored; %d vault payment(s) without a memo\n",
					rep.Inbounds, rep.Outbounds, rep.Links, rep.NoMemo)
				if rep.Open > 0 {
					printf(w, "%d open link(s) stored: swap inbound(s) whose outbound is not held\n", rep.Open)
				}
				for _, m := range rep.Malformed {
					printf(w, "  malformed memo %q in %s tx %s (index %d): %s\n", m.Memo, m.Chain, m.TxID, m.Index, m.Error)
				}
				return nil
			})
		},
	}
	c.Flags().StringArrayVar(&chains, "chain", nil, "a chain to scan (repeat for each chain of the swaps)")
	return c
}

// printLink writes one link of show tx.
func printLink(w io.Writer, l *hgapp.TxLinkView) {
	if l.Open {
		printf(w, "  link %s %s (open: outbound not held): %s %s:%d %s %s -> %s %s %s, memo %q\n", l.Method, l.Confidence,
			l.Src.Chain, l.Src.TxID, l.Src.Index, l.Src.Amount, l.Src.Asset,
			esc(string(l.Dst.Chain)), esc(l.Dst.Address), esc(l.Dst.Asset), l.Memo)
		return
	}
	printf(w, "  link %s %s: %s %s:%d %s %s -> %s %s:%d %s %s\n", l.Method, l.Confidence,
		l.Src.Chain, l.Src.TxID, l.Src.Index, l.Src.Amount, l.Src.Asset,
		l.Dst.Chain, l.Dst.TxID, l.Dst.Index, l.Dst.Amount, l.Dst.Asset)
}
