package trace

import (
	"context"
	"fmt"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// ReasonInternalUnknown is the Reason of an untraced account sink: native
// value that entered a contract call in a block stored without its
// internal transfers (ingested from a node without a debug API), so
// whatever the call passed on is not in the store.
const ReasonInternalUnknown = "internal_transfers_unknown"

// unseenCall reports whether the native value ev credits to to enters a
// contract call whose internal transfers the store lacks: ev is its
// transaction's top-level value, to is the callee of a call with input
// data or the contract the transaction creates, and the block was stored
// without internal transfers. Followed on, such value would rest at the
// contract as unspent while the call may have passed it on unseen.
//
// A plain value transfer (no input data) is followed as before: it is
// what a payment to an externally owned account looks like, and the store
// cannot tell a contract's receive function from an account without code.
func (e *acctEngine) unseenCall(ctx context.Context, ev *store.AccountEvent, to heistgraph.EVMAddress, asset heistgraph.Asset) (bool, error) {
	t := &ev.Transfer
	if !asset.IsNative() || t.Kind != heistgraph.TransferNative || t.TxIndex < 0 {
		return false, nil
	}
	h := ev.Block.Height
	known, ok := e.internalKnown[h]
	if !ok {
		var err error
		if ik, isIK := e.r.(store.AccountInternals); isIK {
			known, err = ik.InternalKnown(ctx, e.o.Chain, ev.Block.Hash)
		} else {
			var bi store.AccountBlockInfo
			bi, err = e.r.AccountBlockByHash(ctx, e.o.Chain, ev.Block.Hash)
			known = bi.InternalKnown
		}
		if err != nil {
			return false, fmt.Errorf("trace: block %d: %w", h, err)
		}
		if e.internalKnown == nil {
			e.internalKnown = map[int64]bool{}
		}
		e.internalKnown[h] = known
	}
	if known {
		return false, nil
	}
	rec, err := e.r.AccountTx(ctx, e.o.Chain, t.TxHash)
	if err != nil {
		return false, fmt.Errorf("trace: tx %s: %w", t.TxHash, err)
	}
	return rec.Tx.To == to && rec.Tx.InputLen > 0 || rec.Tx.Create, nil
}
