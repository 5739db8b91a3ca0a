// Package store is the storage contract of heistgraph: role interfaces that
// analysis code consumes (ChainReader, ChainWriter, ...) and that every
// backend implements. It holds no implementation; store/pebble is the
// embedded backend and store/storetest the conformance suite every backend
// runs unchanged.
//
// Errors: a missing object is reported with an error wrapping
// heistgraph.ErrNotFound; malformed arguments wrap heistgraph.ErrInvalid; a
// block that contradicts stored data (another block at a stored height when
// not rewound first) wraps heistgraph.ErrConflict.
package store

import (
	"context"
	"iter"

	"github.com/heistgraph/heistgraph"
)

// ChainReader answers questions about stored chain data. All methods are
// safe for concurrent use. Returned values are owned by the caller.
type ChainReader interface {
	// Tip returns the checkpoint of chain: the last block fully written on
	// its best chain. It wraps ErrNotFound when nothing is stored.
	Tip(ctx context.Context, chain heistgraph.Chain) (heistgraph.BlockRef, error)
	// BlockByHeight returns the best-chain block at height.
	BlockByHeight(ctx context.Context, chain heistgraph.Chain, height int64) (heistgraph.BlockInfo, error)
	// BlockByHash returns a stored block by hash.
	BlockByHash(ctx context.Context, chain heistgraph.Chain, hash heistgraph.Hash) (heistgraph.BlockInfo, error)
	// Tx returns a stored transaction with its spent outputs resolved as far
	// as the store knows them, and the spender of each of its outputs.
	Tx(ctx context.Context, chain heistgraph.Chain, txid heistgraph.Hash) (heistgraph.TxRecord, error)
	// Output returns one output and its spender (nil while unspent).
	Output(ctx context.Context, chain heistgraph.Chain, op heistgraph.Outpoint) (heistgraph.Output, error)
	// Address returns the totals of addr. An address never seen wraps
	// ErrNotFound.
	Address(ctx context.Context, chain heistgraph.Chain, addr string) (heistgraph.AddressSummary, error)
	// AddressHistory yields addr's events in chain order (height, then
	// position of the transaction in its block, then received before spent,
	// then output or input index), restricted by opts.
	AddressHistory(ctx context.Context, chain heistgraph.Chain, addr string, opts HistoryOptions) iter.Seq2[heistgraph.AddressEvent, error]
	// Digest returns a SHA-256 over the logical content the store holds for
	// chain (blocks, transactions, outputs, spends, addresses, checkpoint),
	// independent of undo records and of the order the blocks were applied
	// in, so that two stores holding the same chain have the same digest.
	Digest(ctx context.Context, chain heistgraph.Chain) (heistgraph.Hash, error)
}

// HistoryOptions restricts AddressHistory. The zero value means everything.
type HistoryOptions struct {
	FromHeight int64 // inclusive; 0 means from the start
	ToHeight   int64 // inclusive; 0 means to the tip
}

// ChainWriter writes chain data. Each method is one atomic batch: after a
// crash the store holds either all of its effect or none of it.
type ChainWriter interface {
	// ApplyBlock writes b and everything derived from it (outputs, spends,
	// address histories and totals, the height index, undo data and the
	// checkpoint) in one atomic batch. Inputs whose spent outputs are not
	// stored are kept unresolved. Applying a block already stored at the same
	// height is a no-op; a different block at a stored height wraps
	// ErrConflict (rewind first).
	ApplyBlock(ctx context.Context, b *heistgraph.Block) error
	// RewindTo removes the best-chain blocks of chain above height, newest
	// first, each in one atomic batch, restoring exactly the state before
	// they were applied (outputs unspent again, address totals restored).
	RewindTo(ctx context.Context, chain heistgraph.Chain, height int64) error
}

// Store is every role together, as a backend provides it.
type Store interface {
	ChainReader
	ChainWriter
	// Close releases the store. It is not safe to call concurrently with
	// other methods.
	Close() error
}
