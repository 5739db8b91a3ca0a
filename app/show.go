package app

import (
	"context"
	"fmt"
	"strconv"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/store"
)

// BlockRequest asks for one block by height or hash (ID) on Chain, or on
// the chain in the store that has it when Chain is empty.
type BlockRequest struct {
	Chain string
	ID    string
}

// BlockView is a block as `show block --json` prints it.
type BlockView struct {
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

// Block returns the block req names. A negative height or a malformed hash
// wraps heistgraph.ErrInvalid; a block on no candidate chain wraps
// heistgraph.ErrNotFound.
func Block(ctx context.Context, r store.ChainReader, req BlockRequest) (BlockView, error) {
	id := req.ID
	var get func(heistgraph.Chain) (heistgraph.BlockInfo, error)
	if h, err := strconv.ParseInt(id, 10, 64); err == nil && len(id) < 64 {
		if h < 0 {
			return BlockView{}, fmt.Errorf("show block: negative height %d: %w", h, heistgraph.ErrInvalid)
		}
		get = func(c heistgraph.Chain) (heistgraph.BlockInfo, error) { return r.BlockByHeight(ctx, c, h) }
	} else {
		hash, err := heistgraph.ParseHash(id)
		if err != nil {
			return BlockView{}, fmt.Errorf("show block: want a height or a block hash: %w", err)
		}
		get = func(c heistgraph.Chain) (heistgraph.BlockInfo, error) { return r.BlockByHash(ctx, c, hash) }
	}
	b, err := Lookup(ctx, r, req.Chain, "block "+id, get)
	if err != nil {
		return BlockView{}, err
	}
	v := BlockView{Chain: b.Chain, Hash: b.Hash, Height: b.Height, PrevHash: b.PrevHash, MerkleRoot: b.MerkleRoot,
		Time: b.Time, Version: b.Version, Bits: fmt.Sprintf("%08x", b.Bits), Nonce: b.Nonce, Size: b.Size,
		TxCount: len(b.TxIDs), TxIDs: b.TxIDs}
	if v.TxIDs == nil {
		v.TxIDs = []heistgraph.Hash{}
	}
	return v, nil
}

// InputView is one input of a TxView: the output it spends and, when the
// store holds that output, its address, amount and script type (else
// null).
type InputView struct {
	TxID       heistgraph.Hash        `json:"txid"`
	Vout       uint32                 `json:"vout"`
	Address    *string                `json:"address"`
	AmountSat  *int64                 `json:"amount_sat"`
	ScriptType *heistgraph.ScriptType `json:"script_type"`
	Sequence   uint32                 `json:"sequence"`
	Coinbase   bool                   `json:"coinbase,omitempty"`
}

// SpenderView is the input that spent an output.
type SpenderView struct {
	TxID heistgraph.Hash `json:"txid"`
	Vin  uint32          `json:"vin"`
}

// OutputView is one output of a TxView, with its spender (null while
// unspent).
type OutputView struct {
	N          uint32                `json:"n"`
	Address    *string               `json:"address"`
	Keys       []string              `json:"keys,omitempty"`
	ScriptType heistgraph.ScriptType `json:"script_type"`
	AmountSat  int64                 `json:"amount_sat"`
	Script     string                `json:"script_hex"`
	SpentBy    *SpenderView          `json:"spent_by"`
}

// TxView is a Bitcoin transaction as `show tx --json` prints it. FeeSat and
// InputSat are null when a spent output is not in the store.
type TxView struct {
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
	Inputs      []InputView      `json:"inputs"`
	Outputs     []OutputView     `json:"outputs"`
	// Links are the transaction's cross-chain links (links.go), when it
	// has any.
	Links []TxLinkView `json:"links,omitempty"`
}

// TxRequest asks for one transaction on Chain, or on the chain in the store
// that has it when Chain is empty.
type TxRequest struct {
	Chain string
	TxID  heistgraph.Hash
}

// Tx returns the transaction req names with its inputs resolved and its
// outputs' spenders; one on no candidate chain wraps heistgraph.ErrNotFound.
func Tx(ctx context.Context, r store.ChainReader, req TxRequest) (TxView, error) {
	rec, err := Lookup(ctx, r, req.Chain, "tx "+req.TxID.String(), func(c heistgraph.Chain) (heistgraph.TxRecord, error) {
		return r.Tx(ctx, c, req.TxID)
	})
	if err != nil {
		return TxView{}, err
	}
	v := TxOf(rec)
	if v.Links, err = storedTxLinks(ctx, r, rec.Chain, rec.Tx.TxID.String()); err != nil {
		return TxView{}, err
	}
	return v, nil
}

// TxOf is the view of a transaction record the store returned.
func TxOf(rec heistgraph.TxRecord) TxView {
	tx := &rec.Tx
	v := TxView{Chain: rec.Chain, TxID: tx.TxID, WTxID: tx.WTxID, BlockHeight: rec.Block.Height, BlockHash: rec.Block.Hash,
		Index: rec.Index, Time: rec.Block.Time, Version: tx.Version, LockTime: tx.LockTime, Size: tx.Size,
		VSize: tx.VSize(), Weight: tx.Weight, OutputSat: tx.OutputSum(),
		Inputs: make([]InputView, len(tx.Inputs)), Outputs: make([]OutputView, len(tx.Outputs))}
	var in int64
	for i, txin := range tx.Inputs {
		j := InputView{TxID: txin.PrevOut.TxID, Vout: txin.PrevOut.Vout, Sequence: txin.Sequence, Coinbase: txin.Coinbase}
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
		j := OutputView{N: uint32(n), Address: strPtr(o.Address), Keys: o.Keys, ScriptType: o.Type, AmountSat: o.Value,
			Script: fmt.Sprintf("%x", o.Script)}
		if n < len(rec.SpentBy) && rec.SpentBy[n] != nil {
			j.SpentBy = &SpenderView{TxID: rec.SpentBy[n].TxID, Vin: rec.SpentBy[n].Vin}
		}
		v.Outputs[n] = j
	}
	return v
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// LabelView is a label on an address (the address is the one asked about).
type LabelView struct {
	Entity     string  `json:"entity"`
	Category   string  `json:"category"`
	Source     string  `json:"source"`
	Confidence float64 `json:"confidence"`
	TLP        string  `json:"tlp,omitempty"`
}

// LabelOf is the view of a label without its address.
func LabelOf(l heistgraph.Label) LabelView {
	return LabelView{Entity: l.Entity, Category: l.Category, Source: l.Source, Confidence: l.Confidence, TLP: l.TLP}
}

// ClusterLabelView is a label that reaches an address through its
// cluster: it sits on Address, another address of the cluster (or the
// address itself, in cluster show's labels).
type ClusterLabelView struct {
	Address    string  `json:"address"`
	Entity     string  `json:"entity"`
	Category   string  `json:"category"`
	Source     string  `json:"source"`
	Confidence float64 `json:"confidence"`
	TLP        string  `json:"tlp,omitempty"`
}

func clusterLabelOf(l heistgraph.Label, addr string) ClusterLabelView {
	return ClusterLabelView{Address: addr, Entity: l.Entity, Category: l.Category, Source: l.Source, Confidence: l.Confidence, TLP: l.TLP}
}

// AddressEventView is one entry of an address's history: an output it
// received (txid:vout created it) or an input that spent one (txid is the
// spender, index its input, outpoint the output spent).
type AddressEventView struct {
	Kind      string          `json:"kind"`
	TxID      heistgraph.Hash `json:"txid"`
	Index     uint32          `json:"index"`
	Outpoint  string          `json:"outpoint"`
	Height    int64           `json:"height"`
	BlockHash heistgraph.Hash `json:"block_hash"`
	Time      int64           `json:"time"`
	AmountSat int64           `json:"amount_sat"`
}

// AddressView is an address as `show address --json` prints it.
type AddressView struct {
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
	Labels      []LabelView      `json:"labels"`
	// ClusterLabels are the labels on other addresses of the cluster,
	// which reach this one (also in Labels, without the address).
	ClusterLabels []ClusterLabelView `json:"cluster_labels"`
	Conflicts     []string           `json:"conflicts"`
	ClustersView
	// History and NextOffset are set with AddressRequest.History (History
	// is [] on a page past the end).
	History    *[]AddressEventView `json:"history,omitempty"`
	NextOffset *int                `json:"next_offset,omitempty"`
}

// AddressRequest asks for an address (already checked: CheckAddress) on
// Chain, or on the chain in the store that has it; with History, also a
// page of its history (Limit events from Offset).
type AddressRequest struct {
	Chain         string
	Address       string
	History       bool
	Limit, Offset int
}

// Address returns the address req names: its totals, the labels on it and
// those that reach it through its cluster, its cluster, and the freshness
// of the clusters. One on no candidate chain wraps heistgraph.ErrNotFound.
func Address(ctx context.Context, r store.ChainReader, req AddressRequest) (AddressView, error) {
	if err := checkPage(req.Limit, req.Offset); err != nil {
		return AddressView{}, err
	}
	addr := req.Address
	s, err := Lookup(ctx, r, req.Chain, "address "+addr, func(c heistgraph.Chain) (heistgraph.AddressSummary, error) {
		return r.Address(ctx, c, addr)
	})
	if err != nil {
		return AddressView{}, err
	}
	v := AddressView{Address: s.Address, Chain: s.Chain, BalanceSat: s.Balance(), ReceivedSat: s.Received, SentSat: s.Sent,
		TxCount: s.TxCount, OutputCount: s.OutputCount, SpendCount: s.SpendCount, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen,
		FirstHeight: s.FirstHeight, LastHeight: s.LastHeight, Labels: []LabelView{}, ClusterLabels: []ClusterLabelView{}, Conflicts: []string{}}
	// The labels on the address and those that reach it through its
	// cluster (a label on one address reaches its whole cluster).
	if ls, ok := r.(cluster.LabelStore); ok {
		if v.ClustersView, err = Freshness(ctx, r, s.Chain); err != nil {
			return AddressView{}, err
		}
		res := cluster.NewResolver(ls)
		if k, ok := r.(ResolverKeeper); ok {
			res = k.Resolver()
		}
		cv, err := res.View(ctx, s.Chain, s.Address)
		if err != nil {
			return AddressView{}, err
		}
		if cv.ClusterID != 0 {
			id := cv.ClusterID
			v.ClusterID, v.ClusterSize = &id, cv.Size
		}
		seen := map[LabelView]bool{}
		for _, l := range append(cv.Own, cv.Reached...) {
			if j := LabelOf(l); !seen[j] {
				seen[j] = true
				v.Labels = append(v.Labels, j)
			}
		}
		for _, l := range cv.Reached {
			v.ClusterLabels = append(v.ClusterLabels, clusterLabelOf(l, l.Address))
		}
		v.Conflicts = append(v.Conflicts, cv.Conflicts...)
	}
	if req.History {
		h, next, err := addressHistory(ctx, r, s.Chain, s.Address, req.Offset, req.Limit)
		if err != nil {
			return AddressView{}, err
		}
		v.History, v.NextOffset = &h, next
	}
	return v, nil
}

// ResolverKeeper is a store that keeps one cluster.Resolver across
// questions, its labels read once until they change (the API backend's
// cache). Address asks it rather than making a Resolver, which would read
// every label of the chain for one address.
type ResolverKeeper interface {
	Resolver() *cluster.Resolver
}

// checkPage checks a page's limit and offset.
func checkPage(limit, offset int) error {
	if limit < 0 || offset < 0 {
		return fmt.Errorf("--limit and --offset must be >= 0: %w", heistgraph.ErrInvalid)
	}
	return nil
}

// addressHistory returns a page of addr's history and the offset of the
// next page (nil when there is none). It reads offset+limit+1 events.
func addressHistory(ctx context.Context, r store.ChainReader, chain heistgraph.Chain, addr string, offset, limit int) ([]AddressEventView, *int, error) {
	out := []AddressEventView{}
	i := 0
	for e, err := range r.AddressHistory(ctx, chain, addr, store.HistoryOptions{}) {
		if err != nil {
			return nil, nil, fmt.Errorf("history of %s: %w", addr, err)
		}
		if i >= offset+limit {
			next := i
			return out, &next, nil
		}
		if i >= offset {
			out = append(out, AddressEventView{Kind: e.Kind.String(), TxID: e.TxID, Index: e.Index, Outpoint: e.Outpoint.String(),
				Height: e.Block.Height, BlockHash: e.Block.Hash, Time: e.Block.Time, AmountSat: e.Amount})
		}
		i++
	}
	return out, nil, nil
}
