package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Freshness says how far a chain's clustering lags the blocks stored for
// it: an interrupted "cluster update", an ingest with clustering off, or a
// rewind not yet rebuilt leave clusters that answers must not use without
// a word.
type Freshness struct {
	Chain heistgraph.Chain
	// ChainHeight is the stored chain's tip height (-1: no block stored).
	ChainHeight int64
	// Height is the last block clustered (-1: never clustered).
	Height int64
	// Behind counts the block heights stored above Height (0 when the
	// clusters are up to date).
	Behind int64
	// NeedsRebuild is set when a rewind or an override left memberships to
	// be recomputed from the evidence.
	NeedsRebuild bool
}

// Stale reports whether answers that use the clusters are behind the
// chain.
func (f Freshness) Stale() bool { return f.Behind > 0 || f.NeedsRebuild }

// Clustered reports whether the chain was ever clustered.
func (f Freshness) Clustered() bool { return f.Height >= 0 }

// String says in one sentence how far behind the clusters are, for a
// warning ("" when they are up to date).
func (f Freshness) String() string {
	switch {
	case !f.Stale():
		return ""
	case !f.Clustered():
		return fmt.Sprintf("the %s chain was never clustered: labels reach only the addresses they name; run \"heistgraph cluster update\"", f.Chain)
	case f.Behind > 0:
		return fmt.Sprintf("clusters of %s are %d block(s) behind the chain (clustered to height %d of %d): entities reached through clusters may be missing; run \"heistgraph cluster update\"",
			f.Chain, f.Behind, f.Height, f.ChainHeight)
	}
	return fmt.Sprintf("clusters of %s must be rebuilt after a rewind: memberships may be stale; run \"heistgraph cluster update\"", f.Chain)
}

// CheckFreshness compares chain's clustering with its stored blocks. A
// chain with no block stored is up to date. On an account chain r must be
// a store.AccountReader too. It reads two records.
func CheckFreshness(ctx context.Context, r store.ChainReader, c store.Clusters, chain heistgraph.Chain) (Freshness, error) {
	f := Freshness{Chain: chain, ChainHeight: -1, Height: -1}
	tip, err := r.Tip(ctx, chain)
	if ar, ok := r.(store.AccountReader); ok && !chain.IsUTXO() {
		var at heistgraph.AccountBlockRef
		at, err = ar.AccountTip(ctx, chain)
		tip.Height = at.Height
	}
	switch {
	case errors.Is(err, heistgraph.ErrNotFound):
	case err != nil:
		return f, fmt.Errorf("cluster freshness of %s: %w", chain, err)
	default:
		f.ChainHeight = tip.Height
	}
	ct, err := c.ClusterTip(ctx, chain)
	switch {
	case errors.Is(err, heistgraph.ErrNotFound):
	case err != nil:
		return f, fmt.Errorf("cluster freshness of %s: %w", chain, err)
	default:
		f.Height, f.NeedsRebuild = ct.Block.Height, ct.NeedsRebuild
	}
	if f.ChainHeight > f.Height {
		f.Behind = f.ChainHeight - f.Height
	}
	return f, nil
}
