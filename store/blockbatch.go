package store

import (
	"context"

	"github.com/heistgraph/heistgraph"
)

// BlockBatcher is an optional role for backends whose commits are costly
// one at a time (a network round trip and a flush each, as PostgreSQL's):
// several blocks written as one atomic batch. Bulk writers (ingest from
// block files) check for it with a type assertion and fall back to
// ChainWriter.ApplyBlock per block.
type BlockBatcher interface {
	// ApplyBlocks writes the blocks of bs in order with the effect of
	// ChainWriter.ApplyBlock on each, the checkpoint included. Blocks
	// already stored at the same height are skipped (no-ops). On success
	// every block is applied; on error the store holds the blocks of bs
	// before the failing one or none of bs, each whole and never one
	// without the blocks before it in bs, and the error names the block
	// that failed when one did (a conflict wraps ErrConflict, a malformed
	// block ErrInvalid, as ApplyBlock's). The blocks may belong to one
	// chain only; a nil or empty bs does nothing. n is how many blocks of bs
	// the store holds after the call (bs[:n]); a non-nil error concerns
	// bs[n] (or, for a failure of the batch as a whole, such as a lost
	// connection, the batch from bs[n] on).
	ApplyBlocks(ctx context.Context, bs []*heistgraph.Block) (n int, err error)
}
