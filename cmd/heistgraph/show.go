package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) showCmd() *cobra.Command {
	var chainFlag string
	c := &cobra.Command{
		Use:   "show",
		Short: "Show one block, transaction or address",
	}
	c.PersistentFlags().StringVar(&chainFlag, "chain", "", "chain of the id (btc, btc-testnet, btc-regtest, ..., or an EVM chain: eth, bsc, dev, ...); default: the chain in the store that has it (0x ids: the EVM chains)")
	block := &cobra.Command{
		Use:   "block HEIGHT|HASH",
		Short: "Show a block by height or hash",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if evmShow(chainFlag, args[0]) {
				return a.withView(cmd.Context(), func(st store.Store) error {
					return a.showEVMBlock(cmd.Context(), st, chainFlag, args[0])
				})
			}
			return a.withReader(cmd.Context(), func(r store.ChainReader) error {
				return a.showBlock(cmd.Context(), r, chainFlag, args[0])
			})
		},
	}
	tx := &cobra.Command{
		Use:   "tx TXID",
		Short: "Show a transaction with its inputs resolved and its outputs' spenders",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if evmShow(chainFlag, args[0]) {
				return a.withView(cmd.Context(), func(st store.Store) error {
					return a.showEVMTx(cmd.Context(), st, chainFlag, args[0])
				})
			}
			txid, err := heistgraph.ParseHash(args[0])
			if err != nil {
				return fmt.Errorf("show tx: %w", err)
			}
			return a.withReader(cmd.Context(), func(r store.ChainReader) error {
				return a.showTx(cmd.Context(), r, chainFlag, txid)
			})
		},
	}
	var page addressPage
	addr := &cobra.Command{
		Use:   "address ADDRESS [--history [--limit N] [--offset N]]",
		Short: "Show an address's balance, totals, activity, labels and cluster (and its history with --history)",
		Long: `Show an address: its balance, what it received and spent, its first and last
activity, the labels on it, and its cluster (id, size, and the labels that reach
the address from other addresses of the cluster).

--history lists what the address received and spent (txid, height, time,
amount) in chain order, a page at a time (--limit, --offset; the next page's
offset is printed, and is next_offset in --json).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if page.limit < 0 || page.offset < 0 {
				return usageError{fmt.Errorf("--limit and --offset must be >= 0: %w", heistgraph.ErrInvalid)}
			}
			if strings.TrimSpace(args[0]) == "" {
				return fmt.Errorf("show address: empty address: %w", heistgraph.ErrInvalid)
			}
			if evmShow(chainFlag, strings.TrimSpace(args[0])) {
				return a.withView(cmd.Context(), func(st store.Store) error {
					return a.showEVMAddress(cmd.Context(), st, chainFlag, args[0], page)
				})
			}
			return noStoreAddress("show address", chainFlag, args[0], a.withReader(cmd.Context(), func(r store.ChainReader) error {
				addr, err := hgapp.CheckAddress(cmd.Context(), r, chainFlag, args[0])
				if err != nil {
					return fmt.Errorf("show address: %w", err)
				}
				return a.showAddress(cmd.Context(), r, chainFlag, addr, page)
			}))
		},
	}
	addr.Flags().BoolVar(&page.history, "history", false, "list the address's history: received and spent outputs, in chain order")
	addr.Flags().IntVar(&page.limit, "limit", 20, "--history: events per page")
	addr.Flags().IntVar(&page.offset, "offset", 0, "--history: events to skip (the next_offset of the previous page)")
	c.AddCommand(block, tx, addr)
	return c
}

// The views of show (blocks, transactions, addresses) are package app's;
// these names keep the command's tests readable.
type (
	addressJSON      = hgapp.AddressView
	addressEventJSON = hgapp.AddressEventView
	labelJSON        = hgapp.LabelView
)

// addressPage is the --history paging of show address.
type addressPage struct {
	history       bool
	limit, offset int
}

func (a *app) showBlock(ctx context.Context, r store.ChainReader, chainFlag, id string) error {
	b, err := hgapp.Block(ctx, r, hgapp.BlockRequest{Chain: chainFlag, ID: id})
	if err != nil {
		return err
	}
	return a.emit(b, func(w io.Writer) error {
		printf(w, "block %d %s (%s)\n", b.Height, b.Hash, b.Chain)
		printf(w, "  prev    %s\n  merkle  %s\n  time    %s (%d)\n  size    %d bytes, %d txs\n",
			b.PrevHash, b.MerkleRoot, unixUTC(b.Time), b.Time, b.Size, len(b.TxIDs))
		for i, id := range b.TxIDs {
			printf(w, "  %5d %s\n", i, id)
		}
		return nil
	})
}

func (a *app) showTx(ctx context.Context, r store.ChainReader, chainFlag string, txid heistgraph.Hash) error {
	v, err := hgapp.Tx(ctx, r, hgapp.TxRequest{Chain: chainFlag, TxID: txid})
	if err != nil {
		return err
	}
	return a.emit(v, func(w io.Writer) error {
		printf(w, "tx %s (%s)\n  block %d %s, %s\n", v.TxID, v.Chain, v.BlockHeight, v.BlockHash, unixUTC(v.Time))
		if v.FeeSat != nil {
			printf(w, "  fee   %s\n", btc(*v.FeeSat))
		} else {
			printf(w, "  fee   unknown (some spent outputs are not in the store)\n")
		}
		printf(w, "  inputs:\n")
		for i, in := range v.Inputs {
			switch {
			case in.Coinbase:
				printf(w, "    %3d coinbase\n", i)
			case in.AmountSat == nil:
				printf(w, "    %3d %s:%d  (spent output not in the store)\n", i, in.TxID, in.Vout)
			default:
				printf(w, "    %3d %s:%d  %s  %s\n", i, in.TxID, in.Vout, deref(in.Address, "-"), btc(*in.AmountSat))
			}
		}
		printf(w, "  outputs:\n")
		for _, o := range v.Outputs {
			spent := "unspent"
			if o.SpentBy != nil {
				spent = fmt.Sprintf("spent by %s:%d", o.SpentBy.TxID, o.SpentBy.Vin)
			}
			printf(w, "    %3d %-42s %-22s %s  %s\n", o.N, deref(o.Address, "-"), o.ScriptType, btc(o.AmountSat), spent)
		}
		for _, l := range v.Links {
			printLink(w, &l)
		}
		return nil
	})
}

func (a *app) showAddress(ctx context.Context, r store.ChainReader, chainFlag, addr string, page addressPage) error {
	v, err := hgapp.Address(ctx, r, hgapp.AddressRequest{Chain: chainFlag, Address: addr, History: page.history, Limit: page.limit, Offset: page.offset})
	if err != nil {
		return err
	}
	a.warnClusters(v.ClustersView)
	return a.emit(v, func(w io.Writer) error {
		printAddress(w, &v, page)
		return nil
	})
}

// printAddress writes show address for people.
func printAddress(w io.Writer, v *addressJSON, page addressPage) {
	printf(w, "address %s (%s)\n  balance   %s\n  received  %s in %s\n  sent      %s in %s\n  txs       %d\n  first     %s (block %d)\n  last      %s (block %d)\n",
		esc(v.Address), v.Chain, btc(v.BalanceSat), btc(v.ReceivedSat), plural(v.OutputCount, "output", "outputs"),
		btc(v.SentSat), plural(v.SpendCount, "input", "inputs"), v.TxCount,
		unixUTC(v.FirstSeen), v.FirstHeight, unixUTC(v.LastSeen), v.LastHeight)
	switch {
	case v.ClusterID != nil:
		printf(w, "  cluster   %d, %s (its evidence: cluster show %s; its members: add --members)\n", *v.ClusterID, plural(v.ClusterSize, "address", "addresses"), esc(v.Address))
	case v.ClustersHeight == nil:
		printf(w, "  cluster   none (the chain was never clustered)\n")
	default:
		printf(w, "  cluster   none (not clustered yet)\n")
	}
	var own []labelJSON
	for _, l := range v.Labels {
		reached := false
		for _, c := range v.ClusterLabels {
			if l == (labelJSON{Entity: c.Entity, Category: c.Category, Source: c.Source, Confidence: c.Confidence, TLP: c.TLP}) {
				reached = true
				break
			}
		}
		if !reached {
			own = append(own, l)
		}
	}
	if len(own) == 0 && len(v.ClusterLabels) == 0 {
		printf(w, "  labels    none\n")
	}
	for _, l := range own {
		printf(w, "  label     %s\n", labelText(l.Category, l.Entity, l.Source, l.Confidence, l.TLP, ""))
	}
	for _, l := range v.ClusterLabels {
		printf(w, "  cluster label %s\n", labelText(l.Category, l.Entity, l.Source, l.Confidence, l.TLP, l.Address))
	}
	if len(v.Conflicts) > 0 {
		printf(w, "  CONFLICT: the cluster carries several entities: %s\n", escJoin(v.Conflicts, ", "))
	}
	if !page.history {
		return
	}
	history := *v.History
	switch {
	case len(history) == 0 && page.offset > 0:
		printf(w, "  history: nothing at offset %d\n", page.offset)
		return
	case len(history) == 0:
		printf(w, "  history: none\n")
		return
	}
	printf(w, "  history, events %d-%d in chain order:\n", page.offset+1, page.offset+len(history))
	printf(w, "    %8s  %-20s  %-8s %20s  %s\n", "height", "time", "kind", "BTC", "transaction")
	for _, e := range history {
		tx := fmt.Sprintf("%s:%d", e.TxID, e.Index)
		if e.Kind == heistgraph.Spent.String() {
			tx = fmt.Sprintf("%s input %d, spends %s", e.TxID, e.Index, e.Outpoint)
		}
		printf(w, "    %8d  %-20s  %-8s %20s  %s\n", e.Height, unixUTC(e.Time), e.Kind, btcCell(e.AmountSat), tx)
	}
	if v.NextOffset != nil {
		printf(w, "  (more: --offset %d)\n", *v.NextOffset)
	}
}

// labelText is one label for people: category, entity, source and
// confidence (and TLP), and the address it is on when via is set.
func labelText(category, entity, source string, confidence float64, tlp, via string) string {
	s := fmt.Sprintf("%-12s %-30s source %s, confidence %.2f", esc(category), esc(entity), esc(source), confidence)
	if tlp != "" {
		s += ", TLP:" + strings.ToUpper(esc(tlp))
	}
	if via != "" {
		s += " via " + esc(via)
	}
	return s
}

// escJoin escapes each string for the terminal and joins them.
func escJoin(ss []string, sep string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = esc(s)
	}
	return strings.Join(out, sep)
}

// plural writes n and the noun in the right number ("1 address", "2
// addresses").
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func deref(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}
