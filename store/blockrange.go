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
	// AddrIDs is set by BlockRangeIDs, and by the feed (ApplyFeeds) of a
	// store that has that role, which keeps the addresses' strings as
	// well (but for spent outputs it may leave out): the store's address ids of the block's spent outputs and
	// outputs, transaction by transaction in block order, for each first
	// one per input (its spent output's) then one per output; 0 for none
	// (no address, a coinbase input, an output not stored).
	AddrIDs []uint64
}

// TxAddrIDs returns the part of ids (BlockRecords.AddrIDs) that belongs to
// tx, then the rest.
func TxAddrIDs(ids []uint64, tx *heistgraph.Tx) (in, out, rest []uint64) {
	n, m := len(tx.Inputs), len(tx.Outputs)
	return ids[:n:n], ids[n : n+m : n+m], ids[n+m:]
}

// BlockRangeIDs is an optional role for stores that name addresses by
// dense ids (an id names one address for good: it is never given to
// another, though an address may get a second id after a rewind removed
// all of its history). A reader that keeps its own state by those ids (the
// clustering) reads the chain without the cost of the addresses' strings,
// and asks for the few it needs.
type BlockRangeIDs interface {
	// BlockRangeIDs yields what BlockRangeTxs yields for the same blocks,
	// except that the addresses of the outputs and of the spent outputs
	// are left empty, and so is the script of an output that has an
	// address, and AddrIDs names them.
	BlockRangeIDs(ctx context.Context, chain heistgraph.Chain, from, to int64) iter.Seq2[BlockRecords, error]
	// AddressesByID appends the addresses of ids (none of them 0) to dst,
	// in order. Errors: an id the store did not give out
	// (heistgraph.ErrNotFound), ctx's.
	AddressesByID(ctx context.Context, chain heistgraph.Chain, ids []uint64, dst []string) ([]string, error)
}

// ApplyFeeds is an optional role for stores that hand the records of the
// blocks they apply to a reader as they commit them, so that a reader
// following the ingest (the clustering beside it) need not read them back
// with BlockRangeTxs.
type ApplyFeeds interface {
	// FeedApplied makes every later commit of chain's blocks call f with
	// each block it committed, in order, its records as BlockRangeTxs
	// yields them right after the commit (with AddrIDs set when the store
	// is a BlockRangeIDs, and then a spent output's address may be left
	// empty: AddrIDs names it, AddressesByID gives its string, as for the
	// records BlockRangeIDs yields). A block whose records could read
	// differently later (an input whose output is not stored, a txid
	// stored already) is not fed: the reader reads it back. Rewinds are not
	// fed: a fed block is the stored one only while its height holds its
	// hash. f runs under the store's write lock: it must return quickly and
	// not call the store. FeedApplied(chain, nil) stops the feed.
	FeedApplied(chain heistgraph.Chain, f func(BlockRecords))
}
