package app

import (
	"context"
	"fmt"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/mixer"
	"github.com/heistgraph/heistgraph/store"
)

// MethodTornado is the method of a Tornado Cash deposit→withdrawal link in
// `show tx` (methods.md §4.9).
const MethodTornado = "tornado"

// LinkEndView is one end of a link as `show tx` prints it: the transfer's
// chain, transaction, output (UTXO) or log (EVM) index, asset, amount in
// the asset's base units (decimal; "" when the link does not say) and the
// height of its block. An open link's destination (no transaction known:
// heistgraph.Link.Open) has the address the memo names, no txid, no
// amount and height -1.
type LinkEndView struct {
	Chain   heistgraph.Chain `json:"chain"`
	TxID    string           `json:"txid"`
	Index   int64            `json:"index"`
	Asset   string           `json:"asset,omitempty"`
	Amount  string           `json:"amount,omitempty"`
	Height  int64            `json:"block_height"`
	Address string           `json:"address,omitempty"`
}

// TxLinkView is a link of a transaction (methods.md §6, §4.9) in one shape
// for every kind: bridges and THORChain from the store's links, Tornado
// links with their mixer detail beside (pool, deposit_tx, withdrawal_tx,
// heuristics, anonymity_set …, as show tx listed them before; the
// confidence is the link's).
type TxLinkView struct {
	Method     string                `json:"method"`
	Src        LinkEndView           `json:"src"`
	Dst        LinkEndView           `json:"dst"`
	Confidence heistgraph.Confidence `json:"confidence"`
	Inferred   bool                  `json:"inferred"`
	// Open is set for an open link (its destination transfer not held),
	// Memo for a link whose source carried one.
	Open bool   `json:"open,omitempty"`
	Memo string `json:"memo,omitempty"`
	*mixer.Link
}

func endView(e *heistgraph.LinkEnd, h int64) LinkEndView {
	v := LinkEndView{Chain: e.Chain, TxID: e.TxID, Index: e.Index, Asset: e.Asset, Amount: e.Amount.Dec(), Height: h, Address: e.Address}
	if e.TxID == "" {
		v.Amount = "" // an open link's destination: not known
	}
	return v
}

// storedTxLinks returns the links the store holds for txid on chain, none
// when r keeps no links.
func storedTxLinks(ctx context.Context, r any, chain heistgraph.Chain, txid string) ([]TxLinkView, error) {
	ls, ok := r.(store.Links)
	if !ok {
		return nil, nil
	}
	stored, err := ls.LinksOfTx(ctx, chain, txid)
	if err != nil {
		return nil, fmt.Errorf("links of %s: %w", txid, err)
	}
	var out []TxLinkView
	for i := range stored {
		l := &stored[i]
		out = append(out, TxLinkView{Method: l.Method, Src: endView(&l.Src, l.SrcHeight), Dst: endView(&l.Dst, l.DstHeight),
			Confidence: l.Confidence, Inferred: l.Inferred || l.Confidence != heistgraph.ConfidenceExact, Open: l.Open(), Memo: l.Memo})
	}
	return out, nil
}

// mixerTxLink is the view of a Tornado link.
func mixerTxLink(chain heistgraph.Chain, l mixer.Link) TxLinkView {
	return TxLinkView{Method: MethodTornado,
		Src:        LinkEndView{Chain: chain, TxID: l.DepositTx.String(), Index: int64(l.Deposit.LogIndex), Height: l.Deposit.Height},
		Dst:        LinkEndView{Chain: chain, TxID: l.WithdrawalTx.String(), Index: int64(l.Withdrawal.LogIndex), Height: l.Withdrawal.Height},
		Confidence: l.Confidence, Inferred: l.Confidence != heistgraph.ConfidenceExact, Link: &l}
}
