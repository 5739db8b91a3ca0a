// Package linkfind discovers cross-chain links (methods.md §6) in what the
// store holds and writes them to its Links role: THORChain inbounds (EVM
// router Deposit logs; Bitcoin payments to a vault with an OP_RETURN memo)
// matched to outbounds (EVM router TransferOut logs; Bitcoin payments from
// a vault with an OUT:/REFUND: memo) by thorchain.Links.
//
// A pass scans every chain it is given whole and writes every link it finds
// (writes are idempotent), so it finds the same links whichever chain was
// ingested first. Malformed memos are reported with their transaction,
// never guessed.
//
// A swap inbound without an outbound (its destination chain not held, or
// its range not yet ingested) is an open link (heistgraph.Link.Open): its
// source is the inbound, its destination the chain and address the memo
// names, with no transaction and no amount. A later pass that finds the
// outbound stores the closed link, which replaces it.
package linkfind

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/thorchain"
)

// Store is what a pass reads and writes.
type Store interface {
	store.ChainReader
	store.AccountReader
	store.Labels
	store.Links
}

// Malformed is a THORChain transfer whose memo does not parse.
type Malformed struct {
	Chain heistgraph.Chain `json:"chain"`
	TxID  string           `json:"txid"`
	Index int64            `json:"index"`
	Memo  string           `json:"memo"`
	Error string           `json:"error"`
}

// Report is what a pass found.
type Report struct {
	Inbounds  int `json:"inbounds"`
	Outbounds int `json:"outbounds"`
	// NoMemo counts payments to a vault without an OP_RETURN memo (not
	// THORChain inbounds: THORChain ignores them).
	NoMemo int `json:"no_memo"`
	Links  int `json:"links"`
	// Open counts the open links stored: swap inbounds whose outbound
	// was not found.
	Open      int         `json:"open"`
	Malformed []Malformed `json:"malformed"`
}

// transfer is an inbound or outbound with the height of its block.
type transfer struct {
	thorchain.Transfer
	height int64
}

// finder accumulates one pass.
type finder struct {
	st        Store
	rep       Report
	inbounds  []transfer
	outbounds []transfer
}

// Run scans chains and writes the links it finds.
func Run(ctx context.Context, st Store, chains []heistgraph.Chain) (Report, error) {
	f := &finder{st: st, rep: Report{Malformed: []Malformed{}}}
	for _, c := range chains {
		var err error
		if c.IsEVM() {
			err = f.scanEVM(ctx, c)
		} else {
			err = f.scanUTXO(ctx, c)
		}
		if err != nil {
			return f.rep, fmt.Errorf("link discovery on %s: %w", c, err)
		}
	}
	byID := map[string][]transfer{}
	for _, o := range f.outbounds {
		byID[o.Memo.InboundID] = append(byID[o.Memo.InboundID], o)
	}
	var ls []store.StoredLink
	open := 0
	for _, in := range f.inbounds {
		outs := byID[in.ID()]
		plain := make([]thorchain.Transfer, len(outs))
		for i := range outs {
			plain[i] = outs[i].Transfer
		}
		closed := thorchain.Links(in.Transfer, plain)
		if len(closed) == 0 {
			if l, ok := openLink(in.Transfer, chains); ok {
				ls = append(ls, store.StoredLink{Link: l, SrcHeight: in.height, DstHeight: -1})
				open++
			}
		}
		for _, l := range closed {
			dh := int64(-1)
			for _, o := range outs {
				if o.End == l.Dst {
					dh = o.height
				}
			}
			ls = append(ls, store.StoredLink{Link: l, SrcHeight: in.height, DstHeight: dh})
		}
	}
	f.rep.Inbounds, f.rep.Outbounds, f.rep.Links, f.rep.Open = len(f.inbounds), len(f.outbounds), len(ls)-open, open
	if len(ls) == 0 {
		return f.rep, nil
	}
	if err := st.PutLinks(ctx, ls); err != nil {
		return f.rep, fmt.Errorf("link discovery: %w", err)
	}
	return f.rep, nil
}

// openLink returns the open link of a swap inbound whose outbound is not
// found: to the chain of the memo's asset (DestChain) and its destination
// address, the memo kept; false for an inbound that is no swap with a
// destination (a malformed memo, an add, a donation …).
func openLink(in thorchain.Transfer, held []heistgraph.Chain) (heistgraph.Link, bool) {
	m := in.Memo
	if m == nil || m.Function != thorchain.FuncSwap || m.Asset == nil || m.Destination == "" {
		return heistgraph.Link{}, false
	}
	dst := heistgraph.LinkEnd{Chain: DestChain(m.Asset.Chain, held), Address: m.Destination, Asset: m.Asset.String()}
	return heistgraph.Link{Method: thorchain.MethodOut, Src: in.End, Dst: dst, Confidence: heistgraph.ConfidenceExact, Memo: m.Raw}, true
}

// DestChain names the chain a THORChain chain code (a memo asset's chain:
// BTC, ETH, AVAX …) is in heistgraph's terms: BTC is the first Bitcoin
// chain of held (btc, btc-testnet … as the store holds it), else btc; any
// other code its lower-case form (eth, avax, bsc, base, doge, ltc …).
func DestChain(code string, held []heistgraph.Chain) heistgraph.Chain {
	if strings.EqualFold(code, "BTC") {
		for _, c := range held {
			if c.IsUTXO() {
				return c
			}
		}
		return heistgraph.ChainBTC
	}
	return heistgraph.Chain(strings.ToLower(code))
}

// labelled returns the addresses labelled THORChain bridge on chain.
func (f *finder) labelled(ctx context.Context, c heistgraph.Chain) ([]string, error) {
	var out []string
	for l, err := range f.st.Labels(ctx, store.LabelQuery{Chain: c, Category: Category, Entity: Entity}) {
		if err != nil {
			return nil, err
		}
		out = append(out, l.Address)
	}
	return out, nil
}

func (f *finder) malformed(c heistgraph.Chain, txid string, index int64, memo string, err error) {
	f.rep.Malformed = append(f.rep.Malformed, Malformed{Chain: c, TxID: txid, Index: index, Memo: memo, Error: err.Error()})
}

// scanEVM reads the Deposit and TransferOut logs of the chain's routers.
func (f *finder) scanEVM(ctx context.Context, c heistgraph.Chain) error {
	var routers []heistgraph.EVMAddress
	for _, r := range Routers {
		if r.Chain == c {
			routers = append(routers, r.Address)
		}
	}
	labelled, err := f.labelled(ctx, c)
	if err != nil {
		return err
	}
	for _, s := range labelled {
		if a, err := heistgraph.ParseEVMAddress(s); err == nil && !slices.Contains(routers, a) {
			routers = append(routers, a)
		}
	}
	for _, r := range routers {
		for al, err := range f.st.AccountLogs(ctx, c, r, store.AccountHistoryOptions{}) {
			if errors.Is(err, heistgraph.ErrNotFound) {
				break
			}
			if err != nil {
				return fmt.Errorf("logs of router %s: %w", r, err)
			}
			f.evmLog(c, &al)
		}
	}
	return nil
}

func evmAsset(a heistgraph.EVMAddress) string {
	if a == (heistgraph.EVMAddress{}) {
		return "native"
	}
	return a.Hex()
}

func (f *finder) evmLog(c heistgraph.Chain, al *store.AccountLog) {
	l := &al.Log
	end := heistgraph.LinkEnd{Chain: c, TxID: l.TxHash.String(), Index: int64(l.LogIndex)}
	switch l.Topic0() {
	case evm.TopicTHORDeposit:
		d, err := thorchain.DecodeDeposit(l)
		if err != nil {
			f.malformed(c, end.TxID, end.Index, "", err)
			return
		}
		end.Asset, end.Amount = evmAsset(d.Asset), d.Amount
		// An inbound whose memo is malformed is still an inbound:
		// THORChain refunds it (REFUND:<id>).
		m, err := thorchain.ParseMemo(d.Memo)
		if err != nil {
			f.malformed(c, end.TxID, end.Index, d.Memo, err)
		}
		f.inbounds = append(f.inbounds, transfer{thorchain.Transfer{End: end, Memo: m}, al.Block.Height})
	case evm.TopicTHORTransferOut:
		o, err := thorchain.DecodeTransferOut(l)
		if err != nil {
			f.malformed(c, end.TxID, end.Index, "", err)
			return
		}
		end.Asset, end.Amount = evmAsset(o.Asset), o.Amount
		f.outbound(end, o.Memo, al.Block.Height)
	}
}

// outbound keeps an outbound whose memo is OUT:<id> or REFUND:<id>; a
// vault's other payments (MIGRATE, CONSOLIDATE, RAGNAROK …) are no links.
func (f *finder) outbound(end heistgraph.LinkEnd, memo string, height int64) {
	m, err := thorchain.ParseMemo(memo)
	if err != nil {
		f.malformed(end.Chain, end.TxID, end.Index, memo, err)
		return
	}
	if m.Function != thorchain.FuncOut && m.Function != thorchain.FuncRefund {
		return
	}
	f.outbounds = append(f.outbounds, transfer{thorchain.Transfer{End: end, Memo: m}, height})
}

// scanUTXO reads the transactions that pay or spend the chain's vaults.
func (f *finder) scanUTXO(ctx context.Context, c heistgraph.Chain) error {
	vaults, err := f.labelled(ctx, c)
	if err != nil || len(vaults) == 0 {
		return err
	}
	isVault := map[string]bool{}
	for _, v := range vaults {
		isVault[v] = true
	}
	seen := map[heistgraph.Hash]bool{}
	for _, v := range vaults {
		for ev, err := range f.st.AddressHistory(ctx, c, v, store.HistoryOptions{}) {
			if err != nil {
				return fmt.Errorf("history of vault %s: %w", v, err)
			}
			if seen[ev.TxID] {
				continue
			}
			seen[ev.TxID] = true
			tr, err := f.st.Tx(ctx, c, ev.TxID)
			if err != nil {
				return fmt.Errorf("tx %s of vault %s: %w", ev.TxID, v, err)
			}
			f.utxoTx(&tr, isVault)
		}
	}
	return nil
}

// utxoTx classifies one transaction touching a vault: one spending a vault
// output is an outbound (paid to its first output that is neither a vault
// nor the memo), any other paying a vault is an inbound (its payment to the
// first vault output).
func (f *finder) utxoTx(tr *heistgraph.TxRecord, isVault map[string]bool) {
	memo, hasMemo := "", false
	for _, o := range tr.Tx.Outputs {
		if m, ok := thorchain.MemoFromScript(o.Script); ok {
			memo, hasMemo = m, true
			break
		}
	}
	fromVault := false
	for _, p := range tr.Prevouts {
		if p != nil && isVault[p.Address] {
			fromVault = true
		}
	}
	txid := tr.Tx.TxID.String()
	for i, o := range tr.Tx.Outputs {
		if _, ok := thorchain.MemoFromScript(o.Script); ok || isVault[o.Address] != !fromVault {
			continue
		}
		end := heistgraph.LinkEnd{Chain: tr.Chain, TxID: txid, Index: int64(i), Asset: "BTC"}
		end.Amount.SetUint64(uint64(o.Value))
		switch {
		case !hasMemo:
			f.rep.NoMemo++
		case fromVault:
			f.outbound(end, memo, tr.Block.Height)
		default:
			m, err := thorchain.ParseMemo(memo)
			if err != nil {
				f.malformed(tr.Chain, txid, end.Index, memo, err)
			}
			f.inbounds = append(f.inbounds, transfer{thorchain.Transfer{End: end, Memo: m}, tr.Block.Height})
		}
		return
	}
}
