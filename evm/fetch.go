package evm

import (
	"context"
	"fmt"
	"iter"
	"sync"

	"github.com/heistgraph/heistgraph"
)

// MaxFetchAhead is the most blocks Range fetches at once.
const MaxFetchAhead = 16

// Range yields the source's blocks from..to (inclusive) in height order
// while up to ahead blocks (1..MaxFetchAhead) are fetched concurrently, the
// shape of the Bitcoin ingester's fetch-ahead: each block in flight is a
// queued channel, and the queue's capacity bounds how far fetching runs
// ahead of the consumer. The first error ends the sequence (after it, no
// fetch is left running); stopping the loop early cancels the fetches.
// An ahead outside 1..MaxFetchAhead, or from > to, yields one error
// wrapping heistgraph.ErrInvalid.
func Range(ctx context.Context, src heistgraph.AccountSource, from, to int64, ahead int) iter.Seq2[*heistgraph.AccountBlock, error] {
	return func(yield func(*heistgraph.AccountBlock, error) bool) {
		if ahead < 1 || ahead > MaxFetchAhead || from > to || from < 0 {
			yield(nil, fmt.Errorf("evm: range %d..%d with fetch-ahead %d (want 0 <= from <= to, 1..%d): %w", from, to, ahead, MaxFetchAhead, heistgraph.ErrInvalid))
			return
		}
		type fetched struct {
			b   *heistgraph.AccountBlock
			err error
		}
		var wg sync.WaitGroup
		defer wg.Wait() // no fetch outlives the sequence
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		queue := make(chan chan fetched, ahead-1)
		wg.Go(func() {
			defer close(queue)
			for h := from; h <= to; h++ {
				ch := make(chan fetched, 1)
				select {
				case queue <- ch:
				case <-ctx.Done():
					return
				}
				wg.Go(func() {
					b, err := src.Block(ctx, h)
					if err != nil {
						err = fmt.Errorf("evm: block %d: %w", h, err)
					}
					ch <- fetched{b, err}
				})
			}
		})
		for ch := range queue {
			var f fetched
			select {
			case f = <-ch:
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			}
			if !yield(f.b, f.err) || f.err != nil {
				return
			}
		}
		if ctx.Err() != nil {
			yield(nil, ctx.Err())
		}
	}
}

// CheckChain checks that src serves chain: its chain id (eth_chainId) must
// be the registry's id for chain. A mismatch, or a chain that is not an
// EVM chain of the registry, wraps heistgraph.ErrInvalid.
func CheckChain(ctx context.Context, src heistgraph.AccountSource, chain heistgraph.Chain) error {
	info, ok := heistgraph.LookupChain(chain)
	if !ok || !info.EVM {
		return fmt.Errorf("evm: chain %q is not an EVM chain of the registry: %w", chain, heistgraph.ErrInvalid)
	}
	id, err := src.ChainID(ctx)
	if err != nil {
		return err
	}
	if id != info.ChainID {
		name := "a chain heistgraph does not know"
		if other, ok := heistgraph.ChainByID(id); ok {
			name = string(other.Chain)
		}
		return fmt.Errorf("evm: the source serves chain id %d (%s), not %s's %d: %w", id, name, chain, info.ChainID, heistgraph.ErrInvalid)
	}
	return nil
}
