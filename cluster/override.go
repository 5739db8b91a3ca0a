package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Merge records an analyst's decision that addrs (two or more clustered
// addresses of chain) are one entity, with who decided it and why, and
// applies it: the memberships are rebuilt from the evidence with the
// override, which wins over the guards and over automatic evidence, and
// survives re-runs and reorgs. now is the time recorded. An address not
// clustered wraps heistgraph.ErrNotFound; fewer than two addresses, or an
// empty by or why, wrap heistgraph.ErrInvalid.
func Merge(ctx context.Context, st Store, chain heistgraph.Chain, addrs []string, by, why string, now time.Time, opts Options) (Stats, error) {
	if len(addrs) < 2 {
		return Stats{}, fmt.Errorf("cluster merge: want two addresses or more, got %d: %w", len(addrs), heistgraph.ErrInvalid)
	}
	return override(ctx, st, chain, heistgraph.OverrideMerge, addrs, by, why, now, opts)
}

// Split records an analyst's decision that addr does not belong to its
// cluster, with who decided it and why, and applies it: the memberships
// are rebuilt from the evidence without any automatic evidence that names
// addr (so the rest of the cluster stays together only where other
// evidence joins it), and later automatic evidence never joins addr again
// (it is logged as refused). An analyst's later merge can put it back.
// Errors as for Merge.
func Split(ctx context.Context, st Store, chain heistgraph.Chain, addr, by, why string, now time.Time, opts Options) (Stats, error) {
	return override(ctx, st, chain, heistgraph.OverrideSplit, []string{addr}, by, why, now, opts)
}

func override(ctx context.Context, st Store, chain heistgraph.Chain, kind string, addrs []string, by, why string, now time.Time, opts Options) (Stats, error) {
	start := time.Now()
	by, why = strings.TrimSpace(by), strings.TrimSpace(why)
	if by == "" || why == "" {
		return Stats{}, fmt.Errorf("cluster %s: say who decides (--by) and why (--why): %w", kind, heistgraph.ErrInvalid)
	}
	for _, a := range addrs {
		if _, err := st.AddressCluster(ctx, chain, a); err != nil {
			return Stats{}, fmt.Errorf("cluster %s: %w", kind, err)
		}
	}
	tip, err := st.ClusterTip(ctx, chain)
	if err != nil {
		return Stats{}, fmt.Errorf("cluster %s: %w", kind, err)
	}
	o := heistgraph.ClusterOverride{Seq: tip.NextOverride, Kind: kind, Addresses: addrs, By: by, Why: why,
		Time: now.Unix(), Height: tip.Block.Height}
	if err := st.WriteClusters(ctx, chain, &store.ClusterBatch{Overrides: []heistgraph.ClusterOverride{o}, NeedsRebuild: true}); err != nil {
		return Stats{}, fmt.Errorf("cluster %s: %w", kind, err)
	}
	e, err := open(ctx, st, chain, opts)
	if err != nil {
		return Stats{}, err
	}
	return e.finish(start), nil
}
