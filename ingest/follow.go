package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// ChainStore is what Sync and Follow need of a store: they read the stored
// chain to find where to resume and where a reorg forks, and write blocks
// and rewinds.
type ChainStore interface {
	store.ChainReader
	store.ChainWriter
}

// SyncOptions configures Sync and Follow. The zero value of a field means
// its default (see DefaultSyncOptions).
type SyncOptions struct {
	// Logger receives lifecycle lines (reorgs, retries, caught up); nil
	// discards them.
	Logger *slog.Logger
	// Events receives progress callbacks.
	Events Events
	// Confirmations is how many of the node's newest blocks are left out:
	// Sync stops at the node's tip height minus Confirmations, so reorgs
	// shallower than that never reach the store. Default 0 (up to the
	// tip).
	Confirmations int64
	// FetchAhead is how many blocks are fetched from the source at once,
	// ahead of the one being applied; they are applied in height order.
	// 1 fetches one block at a time. Default 8.
	FetchAhead int
	// PollInterval is how long Follow waits, once caught up, before asking
	// the source for new blocks. Default 2s.
	PollInterval time.Duration
	// Wake, when set, ends Follow's wait early: a receive on it makes
	// Follow ask the source at once (a node's push of a new block).
	Wake <-chan struct{}
	// MaxBackoff caps Follow's wait between tries while the source fails
	// (the wait starts at PollInterval and doubles). Default 1m.
	MaxBackoff time.Duration
	// MaxReorgDepth is the deepest reorg Sync carries out. A fork deeper
	// than this (or no common block at all) means the store holds another
	// chain than the node's, and Sync fails with an error wrapping
	// heistgraph.ErrConflict rather than rewind it. Default 1000.
	MaxReorgDepth int64
}

// DefaultSyncOptions returns the defaults documented on SyncOptions.
func DefaultSyncOptions() SyncOptions {
	return SyncOptions{FetchAhead: 8, PollInterval: 2 * time.Second, MaxBackoff: time.Minute, MaxReorgDepth: 1000}
}

// Validate checks o and fills in defaults. Negative values wrap
// heistgraph.ErrInvalid.
func (o *SyncOptions) Validate() error {
	if o.Confirmations < 0 || o.FetchAhead < 0 || o.PollInterval < 0 || o.MaxBackoff < 0 || o.MaxReorgDepth < 0 {
		return fmt.Errorf("ingest: negative confirmations, fetch-ahead, poll interval, backoff or reorg depth: %w", heistgraph.ErrInvalid)
	}
	d := DefaultSyncOptions()
	if o.FetchAhead == 0 {
		o.FetchAhead = d.FetchAhead
	}
	if o.PollInterval == 0 {
		o.PollInterval = d.PollInterval
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = max(d.MaxBackoff, o.PollInterval)
	}
	if o.MaxReorgDepth == 0 {
		o.MaxReorgDepth = d.MaxReorgDepth
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// sourceError marks a failure of the block source (as opposed to the
// store), which Follow retries unless it wraps heistgraph.ErrInvalid.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// maxRestarts bounds how often one Sync pass starts over because the
// source's chain changed under it (a reorg during the fetch) before it
// gives up.
const maxRestarts = 20

// Sync brings the store's copy of src's chain up to the source's tip minus
// opts.Confirmations and returns.
//
// It resumes after the store's tip (from the genesis block, height 0, when
// nothing is stored) and applies each block with w.ApplyBlock, one atomic
// batch per block, in height order, while up to opts.FetchAhead blocks are
// fetched concurrently. Before resuming it checks that the stored tip is
// still the source's block at that height; each fetched block's parent must
// be the block applied before it. When either check fails the source has
// reorganised: Sync walks down from the stored tip comparing the stored
// hash at each height with the source's, rewinds the store to the highest
// height where they agree (w.RewindTo, exact and atomic per block), calls
// opts.Events.Reorg, logs the reorg and applies the source's branch. A
// source whose best block is an ancestor of the stored tip (a node still
// syncing, or one behind a store filled from files) is not followed
// backwards: nothing is rewound until the source shows a competing block.
//
// The store is never half-written: every apply and every rewound block is
// one batch, so after an error or cancellation a rerun resumes, and an
// interrupted reorg is finished by the next run. Errors wrap the source's
// or the store's; a fork deeper than opts.MaxReorgDepth, or a store that
// shares no block with the source, wraps heistgraph.ErrConflict.
// The returned stats count what this call applied and rewound.
func Sync(ctx context.Context, w ChainStore, src heistgraph.BlockSource, opts SyncOptions) (Stats, error) {
	if err := opts.Validate(); err != nil {
		return Stats{}, err
	}
	s := &syncer{w: w, src: src, opts: opts, start: time.Now()}
	err := s.pass(ctx)
	s.stats.Elapsed = time.Since(s.start)
	if err != nil {
		return s.stats, err
	}
	return s.stats, nil
}

// Follow syncs like Sync, then keeps polling the source every
// opts.PollInterval and applies new blocks (and reorgs) as they come, until
// ctx is cancelled; it then returns the stats with ctx's error. While the
// source fails (a node down or too slow, after the source's own retries),
// Follow logs a warning and tries again with a doubling wait of at most
// opts.MaxBackoff; it stops with the error only for failures retrying
// cannot fix: errors wrapping heistgraph.ErrInvalid (bad credentials, a
// block that does not decode, a wrong network), heistgraph.ErrConflict, or
// any store error.
func Follow(ctx context.Context, w ChainStore, src heistgraph.BlockSource, opts SyncOptions) (Stats, error) {
	if err := opts.Validate(); err != nil {
		return Stats{}, err
	}
	s := &syncer{w: w, src: src, opts: opts, start: time.Now()}
	return follow(ctx, opts, func() heistgraph.Chain { return s.chain }, s.pass, func() Stats {
		s.stats.Elapsed = time.Since(s.start)
		return s.stats
	})
}

// syncer is the state of one Sync or Follow.
type syncer struct {
	w      ChainStore
	src    heistgraph.BlockSource
	opts   SyncOptions
	chain  heistgraph.Chain
	start  time.Time
	stats  Stats
	synced heistgraph.BlockRef // last tip logged as caught up
}

// pass brings the store up to the source's tip minus the confirmations
// once, starting over when the source reorganises during the fetch.
func (s *syncer) pass(ctx context.Context) error {
	if s.chain == "" {
		net, err := s.src.Network(ctx)
		if err != nil {
			return &sourceError{fmt.Errorf("ingest: source network: %w", err)}
		}
		s.chain = net.Chain
	}
	fetchApply := s.fetchApply
	if s.opts.Events.Behind != nil {
		fetchApply = func(ctx context.Context, next, target int64, prev heistgraph.Hash) (bool, error) {
			s.opts.Events.Behind(s.chain, next, target)
			return s.fetchApply(ctx, next, target, prev)
		}
	}
	return runPass(ctx, s.chain, s.src.TipHeight, func(nodeTip int64) int64 { return nodeTip - s.opts.Confirmations },
		s.resume, fetchApply, s.caughtUp)
}

// runPass brings a store up to its target once: it asks the source's tip
// (tipHeight), the height to reach (target of the tip), where to resume
// (resume: the next height and what its block's parent must be), then
// fetches and applies up to the target (fetchApply), starting over when
// the source reorganised under it (fetchApply returns false), at most
// maxRestarts times; caughtUp is called once the target is reached.
func runPass[H any](ctx context.Context, chain heistgraph.Chain, tipHeight func(context.Context) (int64, error), target func(int64) int64,
	resume func(context.Context, int64) (int64, H, error), fetchApply func(context.Context, int64, int64, H) (bool, error),
	caughtUp func(context.Context, int64)) error {
	for restart := 0; ; restart++ {
		if restart > maxRestarts {
			return &sourceError{fmt.Errorf("ingest %s: the source's chain changed %d times during one sync", chain, restart-1)}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		nodeTip, err := tipHeight(ctx)
		if err != nil {
			return &sourceError{fmt.Errorf("ingest %s: source tip: %w", chain, err)}
		}
		to := target(nodeTip)
		next, prev, err := resume(ctx, nodeTip)
		if err != nil {
			return err
		}
		if next > to {
			caughtUp(ctx, nodeTip)
			return nil
		}
		done, err := fetchApply(ctx, next, to, prev)
		if err != nil {
			return err
		}
		if done {
			caughtUp(ctx, nodeTip)
			return nil
		}
	}
}

// caughtUp reports the store's tip (Events.CaughtUp) and logs it once per
// new tip.
func (s *syncer) caughtUp(ctx context.Context, nodeTip int64) {
	tip, err := s.w.Tip(ctx, s.chain)
	if err != nil {
		return
	}
	if s.opts.Events.CaughtUp != nil {
		s.opts.Events.CaughtUp(s.chain, tip.Height, nodeTip)
	}
	if tip == s.synced {
		return
	}
	s.synced = tip
	s.opts.Logger.Info("ingest: caught up", "chain", s.chain, "height", tip.Height, "hash", tip.Hash,
		"source_tip", nodeTip, "confirmations", s.opts.Confirmations)
}

// resume returns the next height to fetch and the hash its block's parent
// must have (zero for the genesis block), rewinding the store first when
// its tip is no longer on the source's chain.
func (s *syncer) resume(ctx context.Context, nodeTip int64) (int64, heistgraph.Hash, error) {
	tip, err := s.w.Tip(ctx, s.chain)
	if errors.Is(err, heistgraph.ErrNotFound) {
		return 0, heistgraph.Hash{}, nil
	}
	if err != nil {
		return 0, heistgraph.Hash{}, fmt.Errorf("ingest %s: stored tip: %w", s.chain, err)
	}
	h := min(tip.Height, nodeTip)
	fork, forkHash, err := s.fork(ctx, h, tip)
	if err != nil {
		return 0, heistgraph.Hash{}, err
	}
	if fork == h && h < tip.Height {
		// The source is behind the store on the same chain: wait for it.
		return tip.Height + 1, tip.Hash, nil
	}
	if fork < tip.Height {
		if err := s.rewind(ctx, tip, fork); err != nil {
			return 0, heistgraph.Hash{}, err
		}
	}
	return fork + 1, forkHash, nil
}

// fork walks down from height h (at most the stored tip) to the highest
// height where the stored block is the source's, and returns it and its
// hash. Heights with no stored block (a store filled from files with gaps)
// are passed over.
func (s *syncer) fork(ctx context.Context, h int64, tip heistgraph.BlockRef) (int64, heistgraph.Hash, error) {
	return forkPoint(s.chain, h, s.opts.MaxReorgDepth, fmt.Sprintf("tip %d %s", tip.Height, tip.Hash),
		func(h int64) (heistgraph.Hash, error) {
			b, err := s.w.BlockByHeight(ctx, s.chain, h)
			return b.Hash, err
		},
		func(h int64) (heistgraph.Hash, error) { return s.src.BlockHash(ctx, h) })
}

// forkPoint walks down from height h to the highest height where the
// stored block (stored; ErrNotFound for none) is the source's (source;
// ErrNotFound when the source's chain shrank meanwhile), passing over
// heights either lacks. A fork deeper than maxDepth, or none at all, wraps
// heistgraph.ErrConflict; tip describes the stored tip in those errors.
func forkPoint[H comparable](chain heistgraph.Chain, h, maxDepth int64, tip string, stored, source func(int64) (H, error)) (int64, H, error) {
	var zero H
	for top := h; h >= 0; h-- {
		if top-h > maxDepth {
			return 0, zero, fmt.Errorf("ingest %s: the stored chain (%s) and the source's share no block from %d down to %d: not rewinding deeper than %d blocks (another chain stored?): %w",
				chain, tip, top, h+1, maxDepth, heistgraph.ErrConflict)
		}
		local, err := stored(h)
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, zero, fmt.Errorf("ingest %s: stored block %d: %w", chain, h, err)
		}
		remote, err := source(h)
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue // the source's chain shrank meanwhile; look lower
		}
		if err != nil {
			return 0, zero, &sourceError{fmt.Errorf("ingest %s: source block hash %d: %w", chain, h, err)}
		}
		if local == remote {
			return h, local, nil
		}
	}
	return 0, zero, fmt.Errorf("ingest %s: the stored chain (%s) and the source's share no block, not even the genesis block: %w",
		chain, tip, heistgraph.ErrConflict)
}

// rewind removes the stored blocks above fork and reports the reorg.
func (s *syncer) rewind(ctx context.Context, tip heistgraph.BlockRef, fork int64) error {
	return reorg(ctx, s.w, s.chain, &s.opts, &s.stats, tip.Height, tip.Hash, fork)
}

// reorg rewinds w's chain from its tip at height oldTip (hash oldHash) to
// fork, counts it in stats, logs it and calls opts.Events.Reorg.
func reorg(ctx context.Context, w interface {
	RewindTo(context.Context, heistgraph.Chain, int64) error
}, chain heistgraph.Chain, opts *SyncOptions, stats *Stats, oldTip int64, oldHash fmt.Stringer, fork int64) error {
	if err := w.RewindTo(ctx, chain, fork); err != nil {
		return fmt.Errorf("ingest %s: rewind from %d to fork %d: %w", chain, oldTip, fork, err)
	}
	stats.Reorgs++
	stats.Rewound += oldTip - fork
	opts.Logger.Info("ingest: reorg", "chain", chain, "old_tip", oldTip, "old_hash", oldHash,
		"fork", fork, "depth", oldTip-fork)
	if opts.Events.Reorg != nil {
		opts.Events.Reorg(chain, oldTip, fork)
	}
	return nil
}

// fetched is one block fetched ahead, or why it could not be.
type fetched struct {
	b   *heistgraph.Block
	err error
}

// fetchApply fetches blocks from..to with up to FetchAhead in flight and
// applies them in order. It returns false (and no error) when a block's
// parent is not the block before it, or the source no longer has a height:
// the source reorganised, and the caller starts over.
func (s *syncer) fetchApply(ctx context.Context, from, to int64, prev heistgraph.Hash) (bool, error) {
	var wg sync.WaitGroup
	defer wg.Wait() // no fetch outlives the call
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Each queued channel is one block in flight; the queue's capacity
	// bounds how many are fetched ahead of the one being applied.
	queue := make(chan chan fetched, s.opts.FetchAhead-1)
	wg.Go(func() { // in wg too, so its wg.Go calls never race wg.Wait
		defer close(queue)
		for h := from; h <= to; h++ {
			ch := make(chan fetched, 1)
			select {
			case queue <- ch:
			case <-ctx.Done():
				return
			}
			wg.Go(func() { ch <- s.fetch(ctx, h) })
		}
	})
	for ch := range queue {
		var f fetched
		select {
		case f = <-ch:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		if f.err != nil {
			if errors.Is(f.err, heistgraph.ErrNotFound) && ctx.Err() == nil {
				s.opts.Logger.Info("ingest: source chain changed during fetch, starting over", "chain", s.chain, "err", f.err)
				return false, nil
			}
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return false, &sourceError{f.err}
		}
		b := f.b
		if b.Height > 0 && b.PrevHash != prev {
			s.opts.Logger.Info("ingest: parent mismatch, the source reorganised", "chain", s.chain,
				"height", b.Height, "hash", b.Hash, "parent", b.PrevHash, "stored_parent", prev)
			return false, nil
		}
		if err := s.w.ApplyBlock(ctx, b); err != nil {
			return false, fmt.Errorf("ingest %s: apply block %d %s: %w", s.chain, b.Height, b.Hash, err)
		}
		prev = b.Hash
		s.stats.Blocks++
		s.stats.Txs += int64(len(b.Txs))
		s.stats.Bytes += int64(b.Size)
		if s.opts.Events.BlockApplied != nil {
			s.opts.Events.BlockApplied(b)
		}
	}
	return ctx.Err() == nil, ctx.Err()
}

// fetch gets the source's block at height h.
func (s *syncer) fetch(ctx context.Context, h int64) fetched {
	hash, err := s.src.BlockHash(ctx, h)
	if err != nil {
		return fetched{err: fmt.Errorf("ingest %s: block hash %d: %w", s.chain, h, err)}
	}
	b, err := s.src.Block(ctx, hash, h)
	if err != nil {
		return fetched{err: fmt.Errorf("ingest %s: block %d %s: %w", s.chain, h, hash, err)}
	}
	if b.Chain != s.chain {
		return fetched{err: fmt.Errorf("ingest %s: block %d %s is on chain %s: %w", s.chain, h, hash, b.Chain, heistgraph.ErrInvalid)}
	}
	b.Height = h
	return fetched{b: b}
}
