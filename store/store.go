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
	// its best chain, which is the highest stored height (a block stored
	// without its parents counts: with blocks 1-255 and 574200 stored, the
	// tip is 574200). It wraps ErrNotFound when nothing is stored.
	Tip(ctx context.Context, chain heistgraph.Chain) (heistgraph.BlockRef, error)
	// BlockByHeight returns the best-chain block at height.
	BlockByHeight(ctx context.Context, chain heistgraph.Chain, height int64) (heistgraph.BlockInfo, error)
	// BlockByHash returns a stored block by hash.
	BlockByHash(ctx context.Context, chain heistgraph.Chain, hash heistgraph.Hash) (heistgraph.BlockInfo, error)
	// Tx returns a stored transaction with its spent outputs resolved as far
	// as the store knows them, and the spender of each of its outputs.
	// Prevouts[i] is the whole stored output input i spends (also when that
	// output's block was applied after the tx's), nil for a coinbase input
	// or an output not stored; the fee is known when every input resolves.
	Tx(ctx context.Context, chain heistgraph.Chain, txid heistgraph.Hash) (heistgraph.TxRecord, error)
	// Output returns one output and its spender (nil while unspent).
	Output(ctx context.Context, chain heistgraph.Chain, op heistgraph.Outpoint) (heistgraph.Output, error)
	// Address returns the totals of addr. An address never seen wraps
	// ErrNotFound.
	Address(ctx context.Context, chain heistgraph.Chain, addr string) (heistgraph.AddressSummary, error)
	// AddressHistory yields addr's events in chain order (height, then
	// position of the transaction in its block, then received before spent,
	// then output or input index), restricted by opts. It streams: nothing
	// is loaded whole. An address never seen yields nothing; negative heights
	// in opts yield one error wrapping ErrInvalid; when ctx is cancelled the
	// sequence ends with an error wrapping ctx.Err().
	AddressHistory(ctx context.Context, chain heistgraph.Chain, addr string, opts HistoryOptions) iter.Seq2[heistgraph.AddressEvent, error]
	// Digest returns a SHA-256 over the logical content the store holds for
	// chain (blocks, transactions, outputs, spends, addresses, checkpoint),
	// independent of undo records and of the order the blocks were applied
	// in, so that two stores holding the same chain have the same digest. A
	// chain with nothing stored has the digest of empty content. Digests are
	// comparable between stores of one backend, not across backends.
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
	// stored are kept unresolved; when such an output is applied later, the
	// spend is resolved then (address totals and histories count a spend
	// whenever both the input and the spent output are stored), so the stored
	// content depends on the set of blocks, not on the order they came in.
	// Applying a block already stored at the same height is a no-op; a
	// different block at a stored height, or a stored block at another
	// height, wraps ErrConflict (rewind first). A nil block, an empty chain or
	// a negative height wraps ErrInvalid.
	ApplyBlock(ctx context.Context, b *heistgraph.Block) error
	// RewindTo removes the best-chain blocks of chain above height, newest
	// first, each in one atomic batch, restoring exactly the state before
	// they were applied (outputs unspent again, address totals restored).
	// Height -1 removes every block; a height below -1 wraps ErrInvalid.
	// Rewinding a chain with nothing stored, or to a height at or above its
	// tip, does nothing.
	RewindTo(ctx context.Context, chain heistgraph.Chain, height int64) error
}

// Store is every role together, as a backend provides it.
type Store interface {
	ChainReader
	ChainWriter
	AccountReader
	AccountWriter
	Prices
	Incidents
	Labels
	Clusters
	Keys
	Audit
	Alerts
	Webhooks
	Watches
	Sharing
	// Sync makes every write that has returned durable: after Sync returns
	// nil, a crash or a SIGKILL of the process loses none of them. Writes
	// may be durable sooner; a caller that tells a user (or a client) that
	// something was written calls Sync first. Sync is cheap when nothing
	// was written since the last call.
	Sync() error
	// Close makes every write durable and releases the store. It is not
	// safe to call concurrently with other methods.
	Close() error
}
