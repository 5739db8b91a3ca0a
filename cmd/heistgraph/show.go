package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) showCmd() *cobra.Command {
	var chainFlag string
	c := &cobra.Command{
		Use:   "show",
		Short: "Show one block, transaction or address",
	}
	c.PersistentFlags().StringVar(&chainFlag, "chain", "", "chain of the id (btc, btc-testnet, btc-regtest, ...); default: the chain in the store that has it")
	block := &cobra.Command{
		Use:   "block HEIGHT|HASH",
		Short: "Show a block by height or hash",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
			txid, err := heistgraph.ParseHash(args[0])
			if err != nil {
				return fmt.Errorf("show tx: %w", err)
			}
			return a.withReader(cmd.Context(), func(r store.ChainReader) error {
				return a.showTx(cmd.Context(), r, chainFlag, txid)
			})
		},
	}
	addr := &cobra.Command{
		Use:   "address ADDRESS",
		Short: "Show an address's balance, totals and first and last activity",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(args[0]) == "" {
				return fmt.Errorf("show address: empty address: %w", heistgraph.ErrInvalid)
			}
			return a.withReader(cmd.Context(), func(r store.ChainReader) error {
				addr, err := checkStoreAddress(cmd.Context(), r, chainFlag, args[0])
				if err != nil {
					return fmt.Errorf("show address: %w", err)
				}
				return a.showAddress(cmd.Context(), r, chainFlag, addr)
			})
		},
	}
	c.AddCommand(block, tx, addr)
	return c
}

// candidateChains returns the chains to look an id up in: the --chain flag,
// or every Bitcoin chain the store holds data for.
func candidateChains(ctx context.Context, r store.ChainReader, flag string) ([]heistgraph.Chain, error) {
	if flag != "" {
		c, err := heistgraph.ParseChain(flag)
		if err != nil {
			return nil, err
		}
		return []heistgraph.Chain{c}, nil
	}
	var out []heistgraph.Chain
	for _, n := range heistgraph.Networks() {
		if _, err := r.Tip(ctx, n.Chain); err == nil {
			out = append(out, n.Chain)
		} else if !errors.Is(err, heistgraph.ErrNotFound) {
			return nil, err
		}
	}
	return out, nil
}

// lookup tries fn on each candidate chain and returns the first hit, or a
// not-found error naming what was looked for.
func lookup[T any](ctx context.Context, r store.ChainReader, flag, what string, fn func(heistgraph.Chain) (T, error)) (T, error) {
	var zero T
	chains, err := candidateChains(ctx, r, flag)
	if err != nil {
		return zero, err
	}
	for _, c := range chains {
		v, err := fn(c)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, heistgraph.ErrNotFound) {
			return zero, err
		}
	}
	return zero, fmt.Errorf("%s: %w", what, heistgraph.ErrNotFound)
}

type blockJSON struct {
	Chain      heistgraph.Chain  `json:"chain"`
	Hash       heistgraph.Hash   `json:"hash"`
	Height     int64             `json:"height"`
	PrevHash   heistgraph.Hash   `json:"prev_hash"`
	MerkleRoot heistgraph.Hash   `json:"merkle_root"`
	Time       int64             `json:"time"`
	Version    int32             `json:"version"`
	Bits       string            `json:"bits"`
	Nonce      uint32            `json:"nonce"`
	Size       int               `json:"size"`
	TxCount    int               `json:"tx_count"`
	TxIDs      []heistgraph.Hash `json:"txids"`
}

func (a *app) showBlock(ctx context.Context, r store.ChainReader, chainFlag, id string) error {
	var get func(heistgraph.Chain) (heistgraph.BlockInfo, error)
	if h, err := strconv.ParseInt(id, 10, 64); err == nil && len(id) < 64 {
		if h < 0 {
			return fmt.Errorf("show block: negative height %d: %w", h, heistgraph.ErrInvalid)
		}
		get = func(c heistgraph.Chain) (heistgraph.BlockInfo, error) { return r.BlockByHeight(ctx, c, h) }
	} else {
		hash, err := heistgraph.ParseHash(id)
		if err != nil {
			return fmt.Errorf("show block: want a height or a block hash: %w", err)
		}
		get = func(c heistgraph.Chain) (heistgraph.BlockInfo, error) { return r.BlockByHash(ctx, c, hash) }
	}
	b, err := lookup(ctx, r, chainFlag, "block "+id, get)
	if err != nil {
		return err
	}
	v := blockJSON{Chain: b.Chain, Hash: b.Hash, Height: b.Height, PrevHash: b.PrevHash, MerkleRoot: b.MerkleRoot,
		Time: b.Time, Version: b.Version, Bits: fmt.Sprintf("%08x", b.Bits), Nonce: b.Nonce, Size: b.Size,
		TxCount: len(b.TxIDs), TxIDs: b.TxIDs}
	if v.TxIDs == nil {
		v.TxIDs = []heistgraph.Hash{}
	}
	return a.emit(v, func(w io.Writer) error {
		printf(w, "block %d %s (%s)\n", b.Height, b.Hash, b.Chain)
		printf(w, "  prev    %s\n  merkle  %s\n  time    %s (%d)\n  size    %d bytes, %d txs\n",
			b.PrevHash, b.MerkleRoot, unixUTC(b.Time), b.Time, b.Size, len(b.TxIDs))
		for i, id := range b.TxIDs {
			printf(w, "  %5d %s\n", i, id)
		}
		return nil
	})
}

type inputJSON struct {
	TxID       heistgraph.Hash        `json:"txid"`
	Vout       uint32                 `json:"vout"`
	Address    *string                `json:"address"`
	AmountSat  *int64                 `json:"amount_sat"`
	ScriptType *heistgraph.ScriptType `json:"script_type"`
	Sequence   uint32                 `json:"sequence"`
	Coinbase   bool                   `json:"coinbase,omitempty"`
}

type spenderJSON struct {
	TxID heistgraph.Hash `json:"txid"`
	Vin  uint32          `json:"vin"`
}

type outputJSON struct {
	N          uint32                `json:"n"`
	Address    *string               `json:"address"`
	Keys       []string              `json:"keys,omitempty"`
	ScriptType heistgraph.ScriptType `json:"script_type"`
	AmountSat  int64                 `json:"amount_sat"`
	Script     string                `json:"script_hex"`
	SpentBy    *spenderJSON          `json:"spent_by"`
}

type txJSON struct {
	Chain       heistgraph.Chain `json:"chain"`
	TxID        heistgraph.Hash  `json:"txid"`
	WTxID       heistgraph.Hash  `json:"wtxid"`
	BlockHeight int64            `json:"block_height"`
	BlockHash   heistgraph.Hash  `json:"block_hash"`
	Index       int              `json:"index"`
	Time        int64            `json:"time"`
	Version     int32            `json:"version"`
	LockTime    uint32           `json:"locktime"`
	Size        int              `json:"size"`
	VSize       int              `json:"vsize"`
	Weight      int              `json:"weight"`
	FeeSat      *int64           `json:"fee_sat"`
	InputSat    *int64           `json:"input_sat"`
	OutputSat   int64            `json:"output_sat"`
	Inputs      []inputJSON      `json:"inputs"`
	Outputs     []outputJSON     `json:"outputs"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func txView(rec heistgraph.TxRecord) txJSON {
	tx := &rec.Tx
	v := txJSON{Chain: rec.Chain, TxID: tx.TxID, WTxID: tx.WTxID, BlockHeight: rec.Block.Height, BlockHash: rec.Block.Hash,
		Index: rec.Index, Time: rec.Block.Time, Version: tx.Version, LockTime: tx.LockTime, Size: tx.Size,
		VSize: tx.VSize(), Weight: tx.Weight, OutputSat: tx.OutputSum(),
		Inputs: make([]inputJSON, len(tx.Inputs)), Outputs: make([]outputJSON, len(tx.Outputs))}
	var in int64
	for i, txin := range tx.Inputs {
		j := inputJSON{TxID: txin.PrevOut.TxID, Vout: txin.PrevOut.Vout, Sequence: txin.Sequence, Coinbase: txin.Coinbase}
		if i < len(rec.Prevouts) && rec.Prevouts[i] != nil {
			p := rec.Prevouts[i]
			j.Address = strPtr(p.Address)
			amt := p.Value
			j.AmountSat = &amt
			st := p.Type
			j.ScriptType = &st
			in += p.Value
		}
		v.Inputs[i] = j
	}
	if rec.FeeKnown {
		fee := rec.Fee
		v.FeeSat = &fee
		if !tx.IsCoinbase() {
			v.InputSat = &in
		}
	}
	for n, o := range tx.Outputs {
		j := outputJSON{N: uint32(n), Address: strPtr(o.Address), Keys: o.Keys, ScriptType: o.Type, AmountSat: o.Value,
			Script: fmt.Sprintf("%x", o.Script)}
		if n < len(rec.SpentBy) && rec.SpentBy[n] != nil {
			j.SpentBy = &spenderJSON{TxID: rec.SpentBy[n].TxID, Vin: rec.SpentBy[n].Vin}
		}
		v.Outputs[n] = j
	}
	return v
}

func (a *app) showTx(ctx context.Context, r store.ChainReader, chainFlag string, txid heistgraph.Hash) error {
	rec, err := lookup(ctx, r, chainFlag, "tx "+txid.String(), func(c heistgraph.Chain) (heistgraph.TxRecord, error) {
		return r.Tx(ctx, c, txid)
	})
	if err != nil {
		return err
	}
	v := txView(rec)
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
		return nil
	})
}

type addressJSON struct {
	Address     string           `json:"address"`
	Chain       heistgraph.Chain `json:"chain"`
	BalanceSat  int64            `json:"balance_sat"`
	ReceivedSat int64            `json:"received_sat"`
	SentSat     int64            `json:"sent_sat"`
	TxCount     int64            `json:"tx_count"`
	OutputCount int64            `json:"output_count"`
	SpendCount  int64            `json:"spend_count"`
	FirstSeen   int64            `json:"first_seen"`
	LastSeen    int64            `json:"last_seen"`
	FirstHeight int64            `json:"first_height"`
	LastHeight  int64            `json:"last_height"`
	ClusterID   *uint64          `json:"cluster_id"`
	Labels      []labelJSON      `json:"labels"`
}

type labelJSON struct {
	Entity     string  `json:"entity"`
	Category   string  `json:"category"`
	Source     string  `json:"source"`
	Confidence float64 `json:"confidence"`
	TLP        string  `json:"tlp,omitempty"`
}

func (a *app) showAddress(ctx context.Context, r store.ChainReader, chainFlag, addr string) error {
	s, err := lookup(ctx, r, chainFlag, "address "+addr, func(c heistgraph.Chain) (heistgraph.AddressSummary, error) {
		return r.Address(ctx, c, addr)
	})
	if err != nil {
		return err
	}
	v := addressJSON{Address: s.Address, Chain: s.Chain, BalanceSat: s.Balance(), ReceivedSat: s.Received, SentSat: s.Sent,
		TxCount: s.TxCount, OutputCount: s.OutputCount, SpendCount: s.SpendCount, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen,
		FirstHeight: s.FirstHeight, LastHeight: s.LastHeight, Labels: []labelJSON{}}
	// The labels on the address and those that reach it through its
	// cluster (a label on one address reaches its whole cluster).
	if ls, ok := r.(cluster.LabelStore); ok {
		cv, err := cluster.NewResolver(ls).View(ctx, s.Chain, s.Address)
		if err != nil {
			return err
		}
		if cv.ClusterID != 0 {
			id := cv.ClusterID
			v.ClusterID = &id
		}
		seen := map[labelJSON]bool{}
		for _, l := range append(cv.Own, cv.Reached...) {
			if j := (labelJSON{Entity: l.Entity, Category: l.Category, Source: l.Source, Confidence: l.Confidence, TLP: l.TLP}); !seen[j] {
				seen[j] = true
				v.Labels = append(v.Labels, j)
			}
		}
	}
	return a.emit(v, func(w io.Writer) error {
		printf(w, "address %s (%s)\n  balance   %s\n  received  %s in %d outputs\n  sent      %s in %d inputs\n  txs       %d\n  first     %s (block %d)\n  last      %s (block %d)\n",
			v.Address, v.Chain, btc(v.BalanceSat), btc(v.ReceivedSat), v.OutputCount, btc(v.SentSat), v.SpendCount, v.TxCount,
			unixUTC(v.FirstSeen), v.FirstHeight, unixUTC(v.LastSeen), v.LastHeight)
		return nil
	})
}

func deref(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}
