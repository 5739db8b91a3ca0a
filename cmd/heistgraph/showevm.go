package main

import (
	"context"
	"fmt"
	"io"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/store"
)

// show block|tx|address on EVM chains: the account-model views of package
// app, printed for people.

// evmShow reports whether show should take the EVM views: --chain names an
// EVM chain, or (no --chain) the id reads as an EVM one (0x...).
func evmShow(chainFlag, id string) bool {
	if chainFlag != "" {
		c, err := heistgraph.ParseChain(chainFlag)
		return err == nil && c.IsEVM()
	}
	return hgapp.IsEVMID(id)
}

// units writes an amount for people: with its decimals and symbol when
// known, in base units otherwise.
func units(amount string, symbol string, decimals uint8) string {
	v, err := uint256.FromDecimal(amount)
	if err != nil {
		return amount
	}
	if symbol == "" {
		return amount + " (base units)"
	}
	return hgapp.FormatUnits(v, decimals) + " " + esc(symbol)
}

func (a *app) showEVMBlock(ctx context.Context, st store.AccountReader, chainFlag, id string) error {
	b, err := hgapp.EVMBlock(ctx, st, hgapp.BlockRequest{Chain: chainFlag, ID: id})
	if err != nil {
		return err
	}
	return a.emit(b, func(w io.Writer) error {
		printf(w, "block %d %s (%s)\n", b.Height, b.Hash, b.Chain)
		printf(w, "  parent  %s\n  time    %s (%d)\n  fee recipient %s, base fee %s wei, gas used %d\n  %d txs, %d transfers",
			b.PrevHash, unixUTC(b.Time), b.Time, b.FeeRecipient, b.BaseFee, b.GasUsed, b.TxCount, b.TransferCount)
		if !b.InternalKnown {
			printf(w, " (internal transfers unknown: no call traces)")
		}
		printf(w, "\n")
		for i, id := range b.TxIDs {
			printf(w, "  %5d %s\n", i, id)
		}
		return nil
	})
}

func (a *app) showEVMTx(ctx context.Context, st store.AccountReader, chainFlag, id string) error {
	txid, err := heistgraph.ParseEVMHash(id)
	if err != nil {
		return fmt.Errorf("show tx: %w", err)
	}
	v, err := hgapp.EVMTx(ctx, st, hgapp.EVMTxRequest{Chain: chainFlag, TxID: txid})
	if err != nil {
		return err
	}
	info, _ := heistgraph.LookupChain(v.Chain)
	return a.emit(v, func(w io.Writer) error {
		printf(w, "tx %s (%s)\n  block %d %s, %s, index %d\n", v.TxID, v.Chain, v.BlockHeight, v.BlockHash, unixUTC(v.Time), v.Index)
		to := deref(v.To, "-")
		if v.Create {
			to += " (created)"
		}
		status := "success"
		if v.Status == 0 {
			status = "failed (no value moved; the fee is paid)"
		}
		printf(w, "  from  %s\n  to    %s\n  value %s\n  status %s, gas used %d at %s wei, fee %s\n", v.From, to,
			units(v.Value, info.Native, info.Decimals), status, v.GasUsed, v.EffectiveGasPrice, units(v.Fee, info.Native, info.Decimals))
		if !v.InternalKnown {
			printf(w, "  internal transfers unknown: the node had no debug API\n")
		}
		printf(w, "  transfers:\n")
		for _, t := range v.Transfers {
			where := ""
			switch {
			case t.TracePath != nil:
				where = "frame " + *t.TracePath
			case t.LogIndex != nil:
				where = fmt.Sprintf("log %d", *t.LogIndex)
			}
			printf(w, "    %-15s %-9s %-42s -> %-42s %s\n", t.Kind, where, deref(t.From, "-"), deref(t.To, "-"), units(t.Amount, t.Symbol, t.Decimals))
		}
		if len(v.Swaps) > 0 {
			printf(w, "  swaps:\n")
		}
		for _, sw := range v.Swaps {
			ex := sw.Exchange
			if ex == "" {
				ex = "swap " + sw.Version
			}
			printf(w, "    log %-5d %s pool %s: %s in, %s out to %s\n", sw.LogIndex, esc(ex), sw.Pool,
				units(sw.In.Amount, sw.In.Symbol, sw.In.Decimals), units(sw.Out.Amount, sw.Out.Symbol, sw.Out.Decimals), sw.Recipient)
		}
		printTxMixer(w, &v)
		return nil
	})
}

// printTxMixer writes a transaction's Tornado events and links.
func printTxMixer(w io.Writer, v *hgapp.EVMTxView) {
	for _, d := range v.MixerDeposits {
		printf(w, "  Tornado deposit into %s: leaf %d, commitment %s, depositor %s\n", d.Pool, d.LeafIndex, d.Commitment, d.Depositor)
	}
	for _, x := range v.MixerWithdrawals {
		printf(w, "  Tornado withdrawal from %s to %s, relayer %s, fee %s\n", x.Pool, x.To, x.Relayer, x.Fee)
	}
	for _, l := range v.Links {
		if m := l.Link; m != nil {
			printf(w, "  link %s -> %s %v %s (anonymity set %d)\n", m.DepositTx, m.WithdrawalTx, m.Heuristics, m.Confidence, m.AnonymitySet)
			continue
		}
		printLink(w, &l)
	}
}

func (a *app) showEVMAddress(ctx context.Context, st hgapp.EVMAddressStore, chainFlag, addr string, page addressPage) error {
	v, err := hgapp.EVMAddress(ctx, st, hgapp.AddressRequest{Chain: chainFlag, Address: addr, History: page.history, Limit: page.limit, Offset: page.offset})
	if err != nil {
		return err
	}
	return a.emit(v, func(w io.Writer) error {
		printf(w, "address %s (%s)\n", v.Address, v.Chain)
		if v.BalancesComplete {
			printf(w, "  balances (every block from 0 is stored):\n")
		} else {
			printf(w, "  balances: net change since block %d (the store lacks the blocks before it)\n", v.StoredFrom)
		}
		if len(v.Balances) == 0 {
			printf(w, "    none\n")
		}
		for _, b := range v.Balances {
			asset := ""
			if b.Asset != "native" {
				asset = "  " + b.Asset
			}
			if b.Incomplete {
				printf(w, "    %s%s  INCOMPLETE: it sent %s more than the stored blocks credit it\n", units("0", b.Symbol, b.Decimals), asset, units(b.Deficit, b.Symbol, b.Decimals))
				continue
			}
			printf(w, "    %s%s  (received %s, sent %s)\n", units(b.Amount, b.Symbol, b.Decimals), asset, units(b.Received, b.Symbol, b.Decimals), units(b.Sent, b.Symbol, b.Decimals))
		}
		printf(w, "  txs       %d (%s)\n  first     %s (block %d)\n  last      %s (block %d)\n  cluster   none (EVM addresses are not clustered)\n",
			v.TxCount, plural(v.TransferCount, "transfer", "transfers"), unixUTC(v.FirstSeen), v.FirstHeight, unixUTC(v.LastSeen), v.LastHeight)
		if len(v.Labels) == 0 {
			printf(w, "  labels    none\n")
		}
		for _, l := range v.Labels {
			printf(w, "  label     %s\n", labelText(l.Category, l.Entity, l.Source, l.Confidence, l.TLP, ""))
		}
		if v.History == nil {
			return nil
		}
		if len(*v.History) == 0 {
			printf(w, "  history: none\n")
			return nil
		}
		printf(w, "  history, transfers %d-%d in ledger order:\n", page.offset+1, page.offset+len(*v.History))
		for _, e := range *v.History {
			tx := "(block-level)"
			if e.TxID != nil {
				tx = e.TxID.String()
			}
			printf(w, "    %8d  %-20s  %-4s %-15s %s  %s\n", e.Height, unixUTC(e.Time), e.Direction, e.Kind, units(e.Amount, e.Symbol, e.Decimals), tx)
		}
		if v.NextOffset != nil {
			printf(w, "  (more: --offset %d)\n", *v.NextOffset)
		}
		return nil
	})
}
