package ingest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// AccountStore is what SyncAccounts and FollowAccounts need of a store:
// they read the stored chain to find where to resume and where a reorg
// forks, and write blocks, tokens and rewinds.
type AccountStore interface {
	store.AccountReader
	store.AccountWriter
}

// AccountOptions configures SyncAccounts and FollowAccounts: SyncOptions
// (confirmations, fetch-ahead, polling, reorg depth, logger) and what is
// particular to account chains.
type AccountOptions struct {
	SyncOptions
	// Chain is the EVM chain of the registry the source must serve: its
	// chain id (eth_chainId) must be the registry's. Required.
	Chain heistgraph.Chain
	// From is the first height ingested into a store that holds nothing of
	// the chain yet, and the least height ingested at all. Default 0. A
	// store resumed above From ignores it.
	From int64
	// To, when Bounded, is the last height ingested: SyncAccounts stops
	// there even when the source has more.
	To      int64
	Bounded bool
	// BlockApplied is called after each block is applied, with the block.
	BlockApplied func(b *heistgraph.AccountBlock)
	// TokenStored is called after a token's metadata is stored.
	TokenStored func(t heistgraph.TokenInfo)
}

// Validate checks o and fills in defaults. A chain that is not an EVM
// chain of the registry, a negative From, or a To below From wraps
// heistgraph.ErrInvalid.
func (o *AccountOptions) Validate() error {
	if err := o.SyncOptions.Validate(); err != nil {
		return err
	}
	if !o.Chain.IsEVM() {
		return fmt.Errorf("ingest: chain %q is not an EVM chain of the registry: %w", o.Chain, heistgraph.ErrInvalid)
	}
	if o.From < 0 || o.Bounded && o.To < o.From {
		return fmt.Errorf("ingest %s: heights %d..%d (want 0 <= from <= to): %w", o.Chain, o.From, o.To, heistgraph.ErrInvalid)
	}
	return nil
}

// SyncAccounts brings the store's copy of an account chain up to the
// source's tip minus opts.Confirmations (or up to opts.To) and returns.
//
// It first checks the source's chain id against the registry's id of
// opts.Chain (a mismatch wraps heistgraph.ErrInvalid). It resumes after the
// stored tip (at opts.From when nothing is stored) and applies each block
// with ApplyAccountBlock, one atomic batch per block, in height order, while
// up to opts.FetchAhead blocks are fetched concurrently. The metadata of
// each token a block moves is read from the source once (Token) and stored
// with PutToken before the block. Before resuming it checks that the
// stored tip is still the source's block at that height, and each fetched
// block's parent must be the block applied before it; when either check
// fails the source has reorganised: SyncAccounts finds the highest stored
// height where the store and the source agree, rewinds the store to it
// (RewindTo, exact and atomic per block), calls opts.Events.Reorg and
// applies the source's branch. A fork deeper than opts.MaxReorgDepth, or
// below the lowest stored block, wraps heistgraph.ErrConflict.
//
// After an error or cancellation the store holds whole blocks only, so a
// rerun resumes exactly where this one stopped.
func SyncAccounts(ctx context.Context, w AccountStore, src heistgraph.AccountSource, opts AccountOptions) (Stats, error) {
	if err := opts.Validate(); err != nil {
		return Stats{}, err
	}
	s := newAccountSyncer(w, src, opts)
	err := s.pass(ctx)
	s.stats.Elapsed = time.Since(s.start)
	return s.stats, err
}

// FollowAccounts syncs like SyncAccounts, then keeps polling the source
// every opts.PollInterval until ctx is cancelled, as Follow does for
// Bitcoin: while the source fails it retries with a doubling wait, and it
// stops only for failures retrying cannot fix (heistgraph.ErrInvalid,
// heistgraph.ErrConflict, store errors). opts.Bounded is not allowed.
func FollowAccounts(ctx context.Context, w AccountStore, src heistgraph.AccountSource, opts AccountOptions) (Stats, error) {
	if err := opts.Validate(); err != nil {
		return Stats{}, err
	}
	if opts.Bounded {
		return Stats{}, fmt.Errorf("ingest %s: following has no last height: %w", opts.Chain, heistgraph.ErrInvalid)
	}
	s := newAccountSyncer(w, src, opts)
	return follow(ctx, opts.SyncOptions, func() heistgraph.Chain { return s.chain }, s.pass, func() Stats {
		s.stats.Elapsed = time.Since(s.start)
		return s.stats
	})
}

// follow runs pass until ctx is cancelled: every opts.PollInterval while it
// succeeds, with a doubling wait of at most opts.MaxBackoff while the
// source fails, and returns at once on any other error.
func follow(ctx context.Context, opts SyncOptions, chain func() heistgraph.Chain, pass func(context.Context) error, stats func() Stats) (Stats, error) {
	wait := time.Duration(0)
	for {
		err := pass(ctx)
		if ctx.Err() != nil {
			return stats(), ctx.Err()
		}
		var se *sourceError
		switch {
		case err == nil:
			wait = opts.PollInterval
		case errors.As(err, &se) && !errors.Is(err, heistgraph.ErrInvalid) && !errors.Is(err, heistgraph.ErrConflict):
			wait = min(max(2*wait, opts.PollInterval), opts.MaxBackoff)
			opts.Logger.Warn("ingest: source failing, retrying", "wait", wait, "err", err)
			if opts.Events.SourceFailed != nil {
				opts.Events.SourceFailed(chain(), err, wait)
			}
		default:
			return stats(), err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return stats(), ctx.Err()
		case <-t.C:
		case <-opts.Wake:
			t.Stop()
		}
	}
}

// accountSyncer is the state of one SyncAccounts or FollowAccounts.
type accountSyncer struct {
	w       AccountStore
	src     heistgraph.AccountSource
	opts    AccountOptions
	chain   heistgraph.Chain
	checked bool
	tokens  map[heistgraph.EVMAddress]bool // stored already
	start   time.Time
	stats   Stats
	synced  heistgraph.AccountBlockRef
}

func newAccountSyncer(w AccountStore, src heistgraph.AccountSource, opts AccountOptions) *accountSyncer {
	return &accountSyncer{w: w, src: src, opts: opts, chain: opts.Chain, tokens: map[heistgraph.EVMAddress]bool{}, start: time.Now()}
}

// checkChain compares the source's chain id with the registry's, once.
func (s *accountSyncer) checkChain(ctx context.Context) error {
	if s.checked {
		return nil
	}
	info, _ := heistgraph.LookupChain(s.chain)
	id, err := s.src.ChainID(ctx)
	if err != nil {
		return &sourceError{fmt.Errorf("ingest %s: source chain id: %w", s.chain, err)}
	}
	if id != info.ChainID {
		other := "a chain the registry does not know"
		if oi, ok := heistgraph.ChainByID(id); ok {
			other = string(oi.Chain)
		}
		return fmt.Errorf("ingest %s: the source serves chain id %d (%s), not %s's %d: %w", s.chain, id, other, s.chain, info.ChainID, heistgraph.ErrInvalid)
	}
	s.checked = true
	return nil
}

// pass brings the store up to its target once, starting over when the
// source reorganises during the fetch.
func (s *accountSyncer) pass(ctx context.Context) error {
	if err := s.checkChain(ctx); err != nil {
		return err
	}
	target := func(nodeTip int64) int64 {
		if s.opts.Bounded {
			return min(nodeTip-s.opts.Confirmations, s.opts.To)
		}
		return nodeTip - s.opts.Confirmations
	}
	return runPass(ctx, s.chain, s.src.TipHeight, target, s.resume, s.fetchApply, s.caughtUp)
}

func (s *accountSyncer) caughtUp(ctx context.Context, nodeTip int64) {
	tip, err := s.w.AccountTip(ctx, s.chain)
	if err != nil || tip == s.synced {
		return
	}
	s.synced = tip
	s.opts.Logger.Info("ingest: caught up", "chain", s.chain, "height", tip.Height, "hash", tip.Hash,
		"source_tip", nodeTip, "confirmations", s.opts.Confirmations)
}

// resume returns the next height to fetch and the hash its block's parent
// must have (zero when the height follows no stored block), rewinding the
// store first when its tip is no longer on the source's chain.
func (s *accountSyncer) resume(ctx context.Context, nodeTip int64) (int64, heistgraph.EVMHash, error) {
	tip, err := s.w.AccountTip(ctx, s.chain)
	if errors.Is(err, heistgraph.ErrNotFound) {
		return s.opts.From, heistgraph.EVMHash{}, nil
	}
	if err != nil {
		return 0, heistgraph.EVMHash{}, fmt.Errorf("ingest %s: stored tip: %w", s.chain, err)
	}
	if s.opts.From > tip.Height+1 {
		// A range above the stored one: nothing links them.
		return s.opts.From, heistgraph.EVMHash{}, nil
	}
	h := min(tip.Height, nodeTip)
	fork, forkHash, err := s.fork(ctx, h, tip)
	if err != nil {
		return 0, heistgraph.EVMHash{}, err
	}
	if fork == h && h < tip.Height {
		return tip.Height + 1, tip.Hash, nil // the source is behind: wait for it
	}
	if fork < tip.Height {
		if err := reorg(ctx, s.w, s.chain, &s.opts.SyncOptions, &s.stats, tip.Height, tip.Hash, fork); err != nil {
			return 0, heistgraph.EVMHash{}, err
		}
	}
	return fork + 1, forkHash, nil
}

// fork walks down from height h to the highest stored height where the
// stored block is the source's (forkPoint).
func (s *accountSyncer) fork(ctx context.Context, h int64, tip heistgraph.AccountBlockRef) (int64, heistgraph.EVMHash, error) {
	return forkPoint(s.chain, h, s.opts.MaxReorgDepth, fmt.Sprintf("tip %d %s", tip.Height, tip.Hash),
		func(h int64) (heistgraph.EVMHash, error) {
			b, err := s.w.AccountBlockByHeight(ctx, s.chain, h)
			return b.Hash, err
		},
		func(h int64) (heistgraph.EVMHash, error) { return s.src.BlockHash(ctx, h) })
}

// fetchApply fetches blocks from..to with up to FetchAhead in flight and
// applies them in order, storing new tokens first. It returns false (and
// no error) when a block's parent is not the block before it, or the source
// no longer has a height: the source reorganised, and the caller starts
// over.
func (s *accountSyncer) fetchApply(ctx context.Context, from, to int64, prev heistgraph.EVMHash) (bool, error) {
	linked := !prev.IsZero()
	for b, err := range FetchAhead(ctx, from, to, s.opts.FetchAhead, s.src.Block) {
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			if errors.Is(err, heistgraph.ErrNotFound) {
				s.opts.Logger.Info("ingest: source chain changed during fetch, starting over", "chain", s.chain, "err", err)
				return false, nil
			}
			return false, &sourceError{fmt.Errorf("ingest %s: %w", s.chain, err)}
		}
		if b.Chain != s.chain {
			return false, &sourceError{fmt.Errorf("ingest %s: block %d %s is on chain %s: %w", s.chain, b.Height, b.Hash, b.Chain, heistgraph.ErrInvalid)}
		}
		if linked && b.ParentHash != prev {
			s.opts.Logger.Info("ingest: parent mismatch, the source reorganised", "chain", s.chain,
				"height", b.Height, "hash", b.Hash, "parent", b.ParentHash, "stored_parent", prev)
			return false, nil
		}
		if err := s.storeTokens(ctx, b); err != nil {
			return false, err
		}
		if err := s.w.ApplyAccountBlock(ctx, b); err != nil {
			return false, fmt.Errorf("ingest %s: apply block %d %s: %w", s.chain, b.Height, b.Hash, err)
		}
		prev, linked = b.Hash, true
		s.stats.Blocks++
		s.stats.Txs += int64(len(b.Txs))
		s.stats.Transfers += int64(len(b.Transfers))
		if s.opts.BlockApplied != nil {
			s.opts.BlockApplied(b)
		}
	}
	return ctx.Err() == nil, ctx.Err()
}

// storeTokens reads and stores the metadata of each token b moves that the
// store does not hold yet.
func (s *accountSyncer) storeTokens(ctx context.Context, b *heistgraph.AccountBlock) error {
	for i := range b.Transfers {
		asset := b.Transfers[i].Asset
		if asset.IsNative() || s.tokens[heistgraph.EVMAddress(asset)] {
			continue
		}
		addr := heistgraph.EVMAddress(asset)
		_, err := s.w.Token(ctx, s.chain, addr)
		if err == nil {
			s.tokens[addr] = true
			continue
		}
		if !errors.Is(err, heistgraph.ErrNotFound) {
			return fmt.Errorf("ingest %s: stored token %s: %w", s.chain, addr, err)
		}
		t, err := s.src.Token(ctx, addr)
		if err != nil {
			return &sourceError{fmt.Errorf("ingest %s: token %s (block %d): %w", s.chain, addr, b.Height, err)}
		}
		t.Chain, t.Address = s.chain, addr
		if err := s.w.PutToken(ctx, t); err != nil {
			return fmt.Errorf("ingest %s: store token %s: %w", s.chain, addr, err)
		}
		s.tokens[addr] = true
		s.stats.Tokens++
		if s.opts.TokenStored != nil {
			s.opts.TokenStored(t)
		}
	}
	return nil
}

// FetchAhead yields fetch(h) for h = from..to in height order while up to
// ahead fetches run concurrently: each one in flight is a queued channel,
// and the queue's capacity bounds how far fetching runs ahead of the
// consumer. The first error ends the sequence; stopping early cancels the
// fetches, and no fetch outlives the sequence. ahead below 1 means 1.
func FetchAhead[T any](ctx context.Context, from, to int64, ahead int, fetch func(context.Context, int64) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		type result struct {
			v   T
			err error
		}
		var wg sync.WaitGroup
		defer wg.Wait()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		queue := make(chan chan result, max(ahead, 1)-1)
		wg.Go(func() {
			defer close(queue)
			for h := from; h <= to; h++ {
				ch := make(chan result, 1)
				select {
				case queue <- ch:
				case <-ctx.Done():
					return
				}
				wg.Go(func() {
					v, err := fetch(ctx, h)
					if err != nil {
						err = fmt.Errorf("block %d: %w", h, err)
					}
					ch <- result{v, err}
				})
			}
		})
		for ch := range queue {
			var r result
			select {
			case r = <-ch:
			case <-ctx.Done():
				var zero T
				yield(zero, ctx.Err())
				return
			}
			if !yield(r.v, r.err) || r.err != nil {
				return
			}
		}
	}
}
