package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/holiman/uint256"
	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) screenCmd() *cobra.Command {
	var chainFlag, dirFlag string
	var noCluster bool
	c := &cobra.Command{
		Use:   "screen ADDRESS|TXID:VOUT...",
		Short: "Exposure and risk of addresses or transfers (deposits): sanctioned, stolen, mixer, ... funds",
		Long: `screen answers, for each address or transfer (TXID:VOUT, a deposit just received),
whether it carries sanctioned, stolen or otherwise risky funds (docs/methods.md §8):
ownership (the labels of the address's cluster, or of a transfer's payer),
direct exposure (value received from labelled clusters in one transfer),
indirect exposure by category and hop (up to 3 hops through unlabelled
clusters), the risk level none|low|medium|high|severe with one reason per
category, and sanctioned: true when the owner is on a sanctions list.

An address is screened with its whole cluster's receipts (--no-cluster: the
address alone); a transfer by that output's own value. --direction sent
screens where the value went instead (withdrawals, payroll). One item prints
one object; several print {"results": [...]} in order, with {"index",
"error"} in place of an item that cannot be screened.

On EVM chains (--chain eth, ...) exposure comes from the account ledger: each
address's balance of each asset carries the haircut state with label
categories as sources; shares are per asset, over what the cluster received of
it, and entries carry amount, asset and decimals. A transfer is a transaction
hash (0x and 64 hex digits): what its first recipient received in it.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runScreen(cmd.Context(), chainFlag, dirFlag, noCluster, args)
		},
	}
	fl := c.Flags()
	fl.StringVar(&chainFlag, "chain", "btc", "chain of the addresses and transfers (btc, btc-testnet, btc-regtest, ...)")
	fl.StringVar(&dirFlag, "direction", "received", "received (source of funds) or sent (destination of funds)")
	fl.BoolVar(&noCluster, "no-cluster", false, "screen each address alone, not its cluster")
	c.AddCommand(a.screenPayrollCmd())
	return c
}

// screenItems parses the command line's items: TXID:VOUT for a transfer
// (on an EVM chain: a transaction hash), anything else an address of chain (normalised and validated). Malformed
// items are usage errors (exit 2).
func screenItems(chain heistgraph.Chain, dir risk.Direction, noCluster bool, args []string) ([]risk.Item, error) {
	items := make([]risk.Item, 0, len(args))
	for _, arg := range args {
		s := strings.TrimSpace(arg)
		it := risk.Item{Chain: chain, Direction: dir, NoCluster: noCluster}
		if !chain.IsUTXO() && len(s) == 66 && hgapp.IsEVMID(s) {
			h, err := heistgraph.ParseEVMHash(s)
			if err != nil {
				return nil, usageError{fmt.Errorf("screen: %w", err)}
			}
			it.Tx = &h
		} else if i := strings.LastIndexByte(s, ':'); i == 64 {
			op, err := heistgraph.ParseOutpoint(s)
			if err != nil {
				return nil, usageError{fmt.Errorf("screen: %w", err)}
			}
			it.Outpoint = &op
		} else {
			if err := risk.CheckAddress(s); err != nil {
				return nil, usageError{fmt.Errorf("screen: %w", err)}
			}
			addr, err := heistgraph.NormalizeAddress(chain, s)
			if err != nil {
				return nil, usageError{fmt.Errorf("screen: %w", err)}
			}
			it.Address = addr
		}
		items = append(items, it)
	}
	return items, nil
}

func (a *app) runScreen(ctx context.Context, chainFlag, dirFlag string, noCluster bool, args []string) error {
	chain, err := heistgraph.ParseChain(chainFlag)
	if err != nil {
		return usageError{fmt.Errorf("--chain: %w", err)}
	}
	dir, err := risk.ParseDirection(dirFlag)
	if err != nil {
		return usageError{fmt.Errorf("--direction: %w", err)}
	}
	items, err := screenItems(chain, dir, noCluster, args)
	if err != nil {
		return err
	}
	return a.withStore(ctx, func(st store.Store) error {
		sc, err := newScreener(ctx, st)
		if err != nil {
			return err
		}
		if len(items) == 1 {
			ans, err := sc.Screen(ctx, items[0])
			if err != nil {
				return err
			}
			return a.emit(ans, func(w io.Writer) error { printScreen(w, ans); return nil })
		}
		b, err := sc.ScreenBatch(ctx, items, nil)
		if err != nil {
			return err
		}
		return a.emit(b, func(w io.Writer) error {
			for i, r := range b.Results {
				if i > 0 {
					printf(w, "\n")
				}
				if r.Answer == nil {
					printf(w, "%s: cannot screen: %v\n", items[i], r.Err)
					continue
				}
				printScreen(w, r.Answer)
			}
			return nil
		})
	})
}

// screenTop is how many exposures of each kind the text output lists.
const screenTop = 10

// printScreen renders an answer for a person: the verdict, the reasons,
// then ownership and the top exposures.
func printScreen(w io.Writer, ans *risk.Answer) {
	what := ans.Address
	if ans.TxHash != nil {
		what = fmt.Sprintf("transfer %s (to %s)", ans.TxHash, ans.Address)
	}
	if ans.TxID != nil {
		what = fmt.Sprintf("transfer %s:%d (%s to %s)", ans.TxID, *ans.Vout, btc(*ans.AmountSat), ans.Address)
	}
	verdict := strings.ToUpper(string(ans.Risk))
	if ans.Sanctioned {
		verdict += ", SANCTIONED"
	}
	printf(w, "%s (%s): risk %s, score %d\n", what, ans.Chain, verdict, ans.Score)
	if ans.ClusterID != nil {
		printf(w, "  cluster   %d (%d addresses)\n", *ans.ClusterID, ans.ClusterSize)
	}
	if ans.AsOf != nil {
		printf(w, "  as of     block %d (%s)\n", ans.AsOf.BlockHeight, unixUTC(ans.AsOf.Time))
	}
	if ans.ReceivedSat != nil {
		printf(w, "  received  %s\n", btc(*ans.ReceivedSat))
	}
	if ans.SentSat != nil {
		printf(w, "  sent      %s\n", btc(*ans.SentSat))
	}
	for _, r := range ans.Received {
		printf(w, "  received  %s\n", evmAmount(r.Amount, r.Decimals, r.Asset))
	}
	if len(ans.Reasons) > 0 {
		printf(w, "  reasons:\n")
		for _, r := range ans.Reasons {
			printf(w, "    - %s\n", r)
		}
	}
	var own, direct []risk.Direct
	for _, d := range ans.Direct {
		if d.Kind == risk.KindOwnership {
			own = append(own, d)
		} else {
			direct = append(direct, d)
		}
	}
	if len(own) > 0 {
		printf(w, "  ownership:\n")
		for _, d := range own {
			printf(w, "    %-12s %s (%s, confidence %g)\n", d.Category, d.Entity, d.Source, d.Confidence)
		}
	}
	if len(direct) > 0 {
		printf(w, "  direct exposure (hop 1):\n")
		for i, d := range direct {
			if i == screenTop {
				printf(w, "    ... %d more\n", len(direct)-screenTop)
				break
			}
			extra := ""
			if d.Dusting {
				extra = "  possible dusting"
			}
			amount := btc(d.AmountSat)
			if d.Asset != "" {
				amount = evmAmount(d.Amount, deref8(d.Decimals), d.Asset)
			}
			printf(w, "    %8s  %s  %-12s %s (%s)%s\n", risk.Percent(d.Share), amount, d.Category, d.Entity, d.Source, extra)
		}
	}
	if len(ans.Indirect) > 0 {
		printf(w, "  indirect exposure:\n")
		for i, d := range ans.Indirect {
			if i == screenTop {
				printf(w, "    ... %d more\n", len(ans.Indirect)-screenTop)
				break
			}
			amount := btc(d.AmountSat)
			if d.Asset != "" {
				amount = evmAmount(d.Amount, deref8(d.Decimals), d.Asset)
			}
			printf(w, "    %8s  %s  %-12s hop %d\n", risk.Percent(d.Share), amount, d.Category, d.Hops)
		}
	}
	for _, n := range ans.Notes {
		printf(w, "  note: %s\n", n)
	}
}

// evmAmount shows an EVM amount (decimal base units) in whole units of its
// asset: "1.5 native" or "100 0xToken...".
func evmAmount(amount string, decimals uint8, asset string) string {
	var v uint256.Int
	if err := v.SetFromDecimal(amount); err != nil {
		return amount + " " + asset
	}
	return hgapp.FormatUnits(&v, decimals) + " " + asset
}

func deref8(p *uint8) uint8 {
	if p == nil {
		return 0
	}
	return *p
}
