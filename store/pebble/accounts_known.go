package pebble

import (
	"context"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.AccountInternals = (*DB)(nil)

// acctKnownKey names a block for the InternalKnown cache.
type acctKnownKey struct {
	c    chainCode
	hash heistgraph.EVMHash
}

type acctKnownEntry struct {
	known bool
	gen   uint64
}

// InternalKnown implements store.AccountInternals: the block record is read
// once and the answer kept in the block cache (accounts_refs.go), under
// the same generation rule as the blocks' hashes and times, so that a
// rewind (after which the same block may be applied again, with or without
// its internal transfers) drops it.
func (d *DB) InternalKnown(ctx context.Context, chain heistgraph.Chain, hash heistgraph.EVMHash) (bool, error) {
	c, ok, err := d.code(chain)
	if err == nil && !ok {
		_, err = d.readCode(chain, "block "+hash.String())
	}
	if err != nil {
		return false, err
	}
	rc := &d.refs
	gen := rc.gen.Load()
	k := acctKnownKey{c, hash}
	if gen&1 == 0 {
		rc.mu.RLock()
		e, ok := rc.known[k]
		rc.mu.RUnlock()
		if ok && e.gen == gen {
			return e.known, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	bi, err := acctBlockByHash(d.db, chain, c, hash)
	if err != nil {
		return false, err
	}
	if gen&1 == 0 && rc.gen.Load() == gen {
		rc.mu.Lock()
		if rc.known == nil || len(rc.known) >= acctRefCacheMax {
			rc.known = make(map[acctKnownKey]acctKnownEntry)
		}
		rc.known[k] = acctKnownEntry{known: bi.InternalKnown, gen: gen}
		rc.mu.Unlock()
	}
	return bi.InternalKnown, nil
}
