package heistgraph

import (
	"context"
	"iter"
)

// BlockSource is a node-like source of blocks on one network, addressed by
// height and hash (a Bitcoin Core or btcd node over JSON-RPC).
type BlockSource interface {
	// Network returns the network the source serves.
	Network(ctx context.Context) (Network, error)
	// TipHeight returns the height of the source's best block.
	TipHeight(ctx context.Context) (int64, error)
	// BlockHash returns the hash of the best-chain block at height, or an
	// error wrapping ErrNotFound.
	BlockHash(ctx context.Context, height int64) (Hash, error)
	// Block returns the block with the given hash at the given height (the
	// height is the caller's, since a raw block does not state it).
	Block(ctx context.Context, hash Hash, height int64) (*Block, error)
}

// BlockStream is a finite source of blocks already put in chain order (blk
// files, files of raw block hex). Each block's parent either precedes it in
// the stream or was stored before; a block whose parent is unknown carries
// the height its BIP34 coinbase states.
type BlockStream interface {
	Network() Network
	// Blocks yields the blocks in an order where parents come first. An error
	// ends the sequence.
	Blocks(ctx context.Context) iter.Seq2[*Block, error]
}
