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
			return noStoreAddress("show address", chainFlag, args[0], a.withReader(cmd.Context(), func(r store.ChainReader) error {
				addr, err := checkStoreAddress(cmd.Context(), r, chainFlag, args[0])
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
	ClusterSize int64            `json:"cluster_size"`
	Labels      []labelJSON      `json:"labels"`
	// ClusterLabels are the labels on other addresses of the cluster,
	// which reach this one (also in Labels, without the address).
	ClusterLabels []clusterLabelJSON `json:"cluster_labels"`
	Conflicts     []string           `json:"conflicts"`
	clustersJSON
	// History and NextOffset are set with --history (History is [] on a
	// page past the end).
	History    *[]addressEventJSON `json:"history,omitempty"`
	NextOffset *int                `json:"next_offset,omitempty"`
}

type labelJSON struct {
	Entity     string  `json:"entity"`
	Category   string  `json:"category"`
	Source     string  `json:"source"`
	Confidence float64 `json:"confidence"`
	TLP        string  `json:"tlp,omitempty"`
}

// addressEventJSON is one entry of an address's history: an output it
// received (txid:vout created it) or an input that spent one (txid is the
// spender, vin its input, outpoint the output spent).
type addressEventJSON struct {
	Kind      string          `json:"kind"`
	TxID      heistgraph.Hash `json:"txid"`
	Index     uint32          `json:"index"`
	Outpoint  string          `json:"outpoint"`
	Height    int64           `json:"height"`
	BlockHash heistgraph.Hash `json:"block_hash"`
	Time      int64           `json:"time"`
	AmountSat int64           `json:"amount_sat"`
}

// addressPage is the --history paging of show address.
type addressPage struct {
	history       bool
	limit, offset int
}

// addressHistory returns page of addr's history and the offset of the
// next page (nil when there is none). It reads offset+limit+1 events.
func addressHistory(ctx context.Context, r store.ChainReader, chain heistgraph.Chain, addr string, page addressPage) ([]addressEventJSON, *int, error) {
	out := []addressEventJSON{}
	i := 0
	for e, err := range r.AddressHistory(ctx, chain, addr, store.HistoryOptions{}) {
		if err != nil {
			return nil, nil, fmt.Errorf("history of %s: %w", addr, err)
		}
		if i >= page.offset+page.limit {
			next := i
			return out, &next, nil
		}
		if i >= page.offset {
			out = append(out, addressEventJSON{Kind: e.Kind.String(), TxID: e.TxID, Index: e.Index, Outpoint: e.Outpoint.String(),
				Height: e.Block.Height, BlockHash: e.Block.Hash, Time: e.Block.Time, AmountSat: e.Amount})
		}
		i++
	}
	return out, nil, nil
}

func (a *app) showAddress(ctx context.Context, r store.ChainReader, chainFlag, addr string, page addressPage) error {
	s, err := lookup(ctx, r, chainFlag, "address "+addr, func(c heistgraph.Chain) (heistgraph.AddressSummary, error) {
		return r.Address(ctx, c, addr)
	})
	if err != nil {
		return err
	}
	v := addressJSON{Address: s.Address, Chain: s.Chain, BalanceSat: s.Balance(), ReceivedSat: s.Received, SentSat: s.Sent,
		TxCount: s.TxCount, OutputCount: s.OutputCount, SpendCount: s.SpendCount, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen,
		FirstHeight: s.FirstHeight, LastHeight: s.LastHeight, Labels: []labelJSON{}, ClusterLabels: []clusterLabelJSON{}, Conflicts: []string{}}
	// The labels on the address and those that reach it through its
	// cluster (a label on one address reaches its whole cluster).
	if ls, ok := r.(cluster.LabelStore); ok {
		if v.clustersJSON, err = a.clusterFreshness(ctx, r, s.Chain); err != nil {
			return err
		}
		cv, err := cluster.NewResolver(ls).View(ctx, s.Chain, s.Address)
		if err != nil {
			return err
		}
		if cv.ClusterID != 0 {
			id := cv.ClusterID
			v.ClusterID, v.ClusterSize = &id, cv.Size
		}
		seen := map[labelJSON]bool{}
		for _, l := range append(cv.Own, cv.Reached...) {
			if j := (labelJSON{Entity: l.Entity, Category: l.Category, Source: l.Source, Confidence: l.Confidence, TLP: l.TLP}); !seen[j] {
				seen[j] = true
				v.Labels = append(v.Labels, j)
			}
		}
		for _, l := range cv.Reached {
			v.ClusterLabels = append(v.ClusterLabels, clusterLabelJSON{Address: l.Address, Entity: l.Entity, Category: l.Category,
				Source: l.Source, Confidence: l.Confidence, TLP: l.TLP})
		}
		v.Conflicts = append(v.Conflicts, cv.Conflicts...)
	}
	if page.history {
		h, next, err := addressHistory(ctx, r, s.Chain, s.Address, page)
		if err != nil {
			return err
		}
		v.History, v.NextOffset = &h, next
	}
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
