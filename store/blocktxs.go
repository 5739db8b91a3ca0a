package store

import (
	"context"
	"iter"

	"github.com/heistgraph/heistgraph"
)

// BlockTxs is an optional role for bulk readers that walk a chain block by
// block (clustering): every transaction of a block in one pass, cheaper
// than ChainReader.Tx per transaction. Consumers check for it with a type
// assertion and fall back to ChainReader.BlockByHeight and Tx.
type BlockTxs interface {
	// BlockTxs yields the transactions of the best-chain block at height,
	// in block order, as ChainReader.Tx returns them except that SpentBy is
	// nil and a prevout known when the block was applied carries only its
	// Value, Type and Address (no Script, no Keys). A height without a
	// stored block yields one error wrapping heistgraph.ErrNotFound; when
	// ctx is cancelled the sequence ends with an error wrapping ctx.Err().
	BlockTxs(ctx context.Context, chain heistgraph.Chain, height int64) iter.Seq2[heistgraph.TxRecord, error]
}
