package store

import (
	"context"
	"iter"

	"github.com/heistgraph/heistgraph"
)

// BlockRangeTxs is an optional role for readers that walk a long run of
// blocks in order (clustering a chain from scratch): the transactions of
// many blocks read together, in the store's key order, rather than one
// point lookup per transaction as BlockTxs does. Consumers check for it
// with a type assertion and fall back to BlockTxs, then to
// ChainReader.BlockByHeight and Tx.
type BlockRangeTxs interface {
	// BlockRangeTxs yields the best-chain blocks stored at heights from
	// to to (inclusive), in height order, skipping heights without a
	// block, each with its transactions in block order exactly as
	// BlockTxs yields them. When ctx is cancelled the sequence ends with
	// an error wrapping ctx.Err().
	BlockRangeTxs(ctx context.Context, chain heistgraph.Chain, from, to int64) iter.Seq2[BlockRecords, error]
}

// BlockRecords is a block with its transactions, as BlockRangeTxs yields
// it.
type BlockRecords struct {
	Block heistgraph.BlockInfo
	Txs   []heistgraph.TxRecord
}
