// Package ingest drives blocks from a source into the store: one atomic
// batch per block, in chain order, with progress reported through callbacks.
// Stream applies a finite heistgraph.BlockStream (block files). Sync brings
// the store level with a heistgraph.BlockSource (a node), fetching blocks
// ahead in parallel and carrying out reorgs (rewind to the fork, apply the
// new branch); Follow keeps doing so as the source grows, retrying while
// it is down. SyncAccounts and FollowAccounts do the same for account-model
// (EVM) chains from a heistgraph.AccountSource, checking the source's chain
// id against the registry and storing each token's metadata once. It knows
// nothing of file formats or RPC (those are adapters that implement
// heistgraph.BlockStream, heistgraph.BlockSource or heistgraph.AccountSource)
// and nothing of a particular backend (it writes through store.ChainWriter
// and store.AccountWriter).
package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Events are callbacks for progress and lifecycle events, after Pebble's
// EventListener. Nil callbacks are skipped. They run on the ingesting
// goroutine, so the ingest waits for them: they should return quickly,
// unless waiting is the point (the CLI's BlockApplied waits while the
// clustering beside the ingest has more fed blocks than its bound, which
// bounds the feed's memory).
type Events struct {
	// BlockApplied is called after a block has been durably applied.
	BlockApplied func(b *heistgraph.Block)
	// Reorg is called after the store was rewound from oldTip to the fork
	// height, before the new branch is applied.
	Reorg func(chain heistgraph.Chain, oldTip, forkHeight int64)
	// Behind is called by Sync and Follow when a pass finds the source
	// ahead of the store: next is the first height to fetch, target the
	// height the pass syncs to (the source's tip minus the
	// confirmations).
	Behind func(chain heistgraph.Chain, next, target int64)
	// CaughtUp is called by Sync and Follow after every pass that left
	// the store level with the source (Follow: on every poll, new blocks
	// or not): the store's tip height and the source's.
	CaughtUp func(chain heistgraph.Chain, height, sourceTip int64)
	// SourceFailed is called by Follow when the source failed and it
	// waits before trying again.
	SourceFailed func(chain heistgraph.Chain, err error, wait time.Duration)
}

// Options configures an ingest run.
type Options struct {
	// Logger receives lifecycle log lines; nil discards them.
	Logger *slog.Logger
	// Events receives progress callbacks.
	Events Events
	// ReadAhead is how many decoded blocks may wait between the source and
	// the store (decoding overlaps writing) when blocks are applied one
	// by one; grouped (GroupBytes), the next group is decoded while the
	// store applies one. Default 8.
	ReadAhead int
	// GroupBytes is, for Stream into a store that can apply several blocks
	// in one batch (store.BlockBatcher), how many bytes of serialized blocks it
	// hands over at once: blocks are applied and reported (BlockApplied)
	// when that much has been read, or the source ended. Default 8 MiB; a
	// negative value applies block by block.
	GroupBytes int
	// GroupBlocks caps the blocks of such a group. Default 256 (early
	// mainnet blocks are a few hundred bytes: a group of them is still
	// committed every few milliseconds).
	GroupBlocks int
}

// Defaults of Options.GroupBytes and Options.GroupBlocks.
const (
	DefaultGroupBytes  = 8 << 20
	DefaultGroupBlocks = 256
)

// DefaultOptions returns the defaults documented on Options.
func DefaultOptions() Options {
	return Options{ReadAhead: 8, GroupBytes: DefaultGroupBytes, GroupBlocks: DefaultGroupBlocks}
}

// Validate checks o and fills defaults.
func (o *Options) Validate() error {
	if o.ReadAhead < 0 {
		return fmt.Errorf("ingest: read-ahead %d < 0: %w", o.ReadAhead, heistgraph.ErrInvalid)
	}
	if o.ReadAhead == 0 {
		o.ReadAhead = 8
	}
	if o.GroupBytes == 0 {
		o.GroupBytes = DefaultGroupBytes
	}
	if o.GroupBlocks <= 0 {
		o.GroupBlocks = DefaultGroupBlocks
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// MinMemory is the smallest budget Options.FitMemory accepts.
const MinMemory = 1 << 20

// decodedPerByte is about how many bytes of Go heap a decoded block takes
// per byte of its serialized form (the transactions, their inputs and
// outputs, the address strings; measured on the synthetic worlds: 2.2 to
// 2.5).
const decodedPerByte = 3

// FitMemory sizes Stream's buffers to a budget of total bytes of decoded
// blocks: half of it for the group handed to the store at once
// (GroupBytes, in serialized bytes, a third of that half as a decoded
// block takes about three times its size), half for the blocks decoded
// ahead (grouped, the next group: the same size; block by block,
// ReadAhead, counted at 1 MiB a block, between 2 and 8). Budgets below
// MinMemory wrap heistgraph.ErrInvalid.
func (o *Options) FitMemory(total int64) error {
	if total < MinMemory {
		return fmt.Errorf("ingest: memory %d bytes < %d: %w", total, MinMemory, heistgraph.ErrInvalid)
	}
	o.GroupBytes = int(min(total/2/decodedPerByte, DefaultGroupBytes))
	o.ReadAhead = int(min(max(total/2/decodedPerByte/(1<<20), 2), 8))
	return nil
}

// Stats counts what an ingest run wrote.
type Stats struct {
	Blocks  int64
	Txs     int64
	Bytes   int64 // serialized block bytes applied
	Reorgs  int64 // reorgs carried out (Sync and Follow)
	Rewound int64 // blocks removed by those reorgs
	Elapsed time.Duration
	// Account chains (SyncAccounts, FollowAccounts).
	Transfers int64 // ledger entries applied
	Tokens    int64 // tokens whose metadata was read and stored
}

type item struct {
	b *heistgraph.Block
	// group is a group of blocks for a store.BlockBatcher (b nil).
	group []*heistgraph.Block
	err   error
}

// Stream applies every block of src to w in the order src yields them, each
// block atomically (several blocks a batch when w is a store.BlockBatcher, see
// Options.GroupBytes). Decoding (in src) overlaps writing: block by block,
// up to ReadAhead blocks ahead, or for a BlockBatcher a group at a time,
// the next group decoded while the store applies one (handing over each
// block would leave the store waiting for the decoder to be scheduled
// again for every block of a group, after the first ReadAhead). On error
// the blocks applied so far stay applied (each is whole), so a rerun
// resumes where this one stopped. Cancelling ctx stops between batches.
func Stream(ctx context.Context, w store.ChainWriter, src heistgraph.BlockStream, opts Options) (Stats, error) {
	if err := opts.Validate(); err != nil {
		return Stats{}, err
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bw, grouped := w.(store.BlockBatcher)
	grouped = grouped && opts.GroupBytes > 0
	ahead := opts.ReadAhead
	if grouped {
		ahead = 0 // the group being made is the one ahead
	}
	ch := make(chan item, ahead)
	go func() {
		defer close(ch)
		send := func(it item) bool {
			select {
			case ch <- it:
				return true
			case <-ctx.Done():
				return false
			}
		}
		var group []*heistgraph.Block
		size := 0
		for b, err := range src.Blocks(ctx) {
			if err != nil {
				if len(group) > 0 && !send(item{group: group}) {
					return
				}
				send(item{err: err})
				return
			}
			if !grouped {
				if !send(item{b: b}) {
					return
				}
				continue
			}
			group = append(group, b)
			if size += b.Size; size >= opts.GroupBytes || len(group) >= opts.GroupBlocks {
				if !send(item{group: group}) {
					return
				}
				group, size = nil, 0
			}
		}
		if len(group) > 0 {
			send(item{group: group})
		}
	}()
	var st Stats
	applied := func(b *heistgraph.Block) {
		st.Blocks++
		st.Txs += int64(len(b.Txs))
		st.Bytes += int64(b.Size)
		if opts.Events.BlockApplied != nil {
			opts.Events.BlockApplied(b)
		}
	}
	err := func() error {
		for it := range ch {
			if it.err != nil {
				return it.err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if it.group != nil {
				n, err := bw.ApplyBlocks(ctx, it.group)
				for _, b := range it.group[:n] {
					applied(b)
				}
				if err != nil {
					b := it.group[n]
					return fmt.Errorf("apply block %d %s: %w", b.Height, b.Hash, err)
				}
				continue
			}
			b := it.b
			if err := w.ApplyBlock(ctx, b); err != nil {
				return fmt.Errorf("apply block %d %s: %w", b.Height, b.Hash, err)
			}
			applied(b)
		}
		return nil
	}()
	st.Elapsed = time.Since(start)
	if err != nil {
		return st, err
	}
	return st, ctx.Err()
}
