package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// A Feed carries the records of the blocks a store applies
// (store.ApplyFeeds) to an Engine following the ingest (Engine.Follow),
// which clusters them as they come instead of reading them back from the
// store. The records are the ones BlockRangeTxs reads, so the clustering
// is the same; a block the feed does not hold (not fed, or dropped after
// Close) is read back. It holds up to a bound of blocks' serialized bytes:
// the ingest waits (Wait) while it holds more. Push, Wait and Close may be
// called from other goroutines than the engine's.
type Feed struct {
	mu     sync.Mutex
	cond   sync.Cond
	q      []store.BlockRecords // in the order pushed
	bytes  int64                // the serialized bytes of q's blocks
	max    int64
	closed bool
	// taken counts the blocks the engine took (for tests).
	taken int
}

// NewFeed returns a feed that makes Wait wait while it holds more than
// maxBytes of serialized blocks.
func NewFeed(maxBytes int64) *Feed {
	f := &Feed{max: maxBytes}
	f.cond.L = &f.mu
	return f
}

// Push adds a block applied (store.ApplyFeeds calls it under the store's
// write lock: it never waits). After Close it drops b.
func (f *Feed) Push(b store.BlockRecords) {
	f.mu.Lock()
	if !f.closed {
		f.q = append(f.q, b)
		f.bytes += int64(b.Block.Size)
	}
	f.mu.Unlock()
}

// Wait waits while the feed holds more than its bound, until the engine
// takes blocks or the feed is closed. The ingest calls it after each
// block applied, outside the store's locks, after asking the engine for an
// update: the engine takes the blocks, so Wait ends.
func (f *Feed) Wait() {
	f.mu.Lock()
	for !f.closed && f.bytes > f.max {
		f.cond.Wait()
	}
	f.mu.Unlock()
}

// Close drops the blocks held and those pushed later, and ends Wait.
func (f *Feed) Close() {
	f.mu.Lock()
	f.closed = true
	f.drop(len(f.q))
	f.mu.Unlock()
}

// drop removes q's first n blocks. The caller holds mu.
func (f *Feed) drop(n int) {
	for _, b := range f.q[:n] {
		f.bytes -= int64(b.Block.Size)
	}
	clear(f.q[:n])
	f.q = f.q[n:]
	if len(f.q) == 0 {
		f.q = nil // lets the array go
	}
	f.cond.Broadcast()
}

// take returns the records of the block at height h with hash, the first
// pushed; the blocks pushed before it are dropped (clustered already, or
// rewound). ok is false when the feed holds none.
func (f *Feed) take(h int64, hash heistgraph.Hash) (b store.BlockRecords, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.q {
		if f.q[i].Block.Height == h && f.q[i].Block.Hash == hash {
			b = f.q[i]
			f.drop(i + 1)
			f.taken++
			return b, true
		}
	}
	return b, false
}

// next returns the lowest height above h of a block the feed holds; false
// when it holds none.
func (f *Feed) next(h int64) (int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := int64(0), false
	for i := range f.q {
		if bh := f.q[i].Block.Height; bh > h && (!ok || bh < n) {
			n, ok = bh, true
		}
	}
	return n, ok
}

// dropTo drops the blocks at heights up to h: the engine clustered the
// chain up to h, so they are clustered or were rewound.
func (f *Feed) dropTo(h int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	keep := f.q[:0]
	for _, b := range f.q {
		if b.Block.Height > h {
			keep = append(keep, b)
		} else {
			f.bytes -= int64(b.Block.Size)
		}
	}
	clear(f.q[len(keep):])
	f.q = keep
	f.cond.Broadcast()
}

// Follow makes the engine's updates take the blocks f holds instead of
// reading them from the store (catchUpFed). nil stops.
func (x *Engine) Follow(f *Feed) {
	x.feed = f
	x.e.feed = f
}

// catchUpFed is catchUp on a UTXO chain followed with a feed: each block
// of from..hi the feed holds, checked to be the one stored at its height,
// is clustered from its fed records; runs of blocks it does not hold are
// read back in bulk (catchUpRange).
func (e *engine) catchUpFed(ctx context.Context, br store.BlockRangeTxs, from, hi int64) error {
	defer e.feed.dropTo(hi)
	last := time.Now()
	for h := from; h <= hi; {
		if err := ctx.Err(); err != nil {
			return err
		}
		hash, err := e.blockHash(ctx, h)
		if errors.Is(err, heistgraph.ErrNotFound) {
			h++
			continue // a gap: blocks stored without their parents
		}
		if err != nil {
			return fmt.Errorf("cluster %s: block %d: %w", e.chain, h, err)
		}
		if b, ok := e.feed.take(h, hash); ok {
			if err := e.blockRecords(ctx, &b, hi, &last); err != nil {
				return err
			}
			h++
			continue
		}
		to := hi
		if n, ok := e.feed.next(h); ok {
			to = min(to, n-1)
		}
		if err := e.catchUpRange(ctx, br, h, to); err != nil {
			return err
		}
		h = to + 1
	}
	return nil
}
