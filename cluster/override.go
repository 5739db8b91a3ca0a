package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// OverrideResult is what an analyst's merge or split did.
type OverrideResult struct {
	// Override is the override recorded or, when Duplicate is set, the
	// earlier override that already says the same (nothing was written).
	Override  heistgraph.ClusterOverride
	Duplicate bool
	// Members are the addresses named, each with its cluster after the
	// override, and Sizes the sizes of those clusters, in the same order.
	Members []store.ClusterMember
	Sizes   []int64
	// RestID and RestSize are, for a split, the cluster the address left
	// and its size after the split (0 and 0 when the address was alone).
	RestID   uint64
	RestSize int64
	// Stats are the statistics of the rebuild the override caused (zero
	// when Duplicate).
	Stats Stats
}

// Merge records an analyst's decision that addrs (two or more clustered
// addresses of chain) are one entity, with who decided it and why, and
// applies it: the memberships are rebuilt from the evidence with the
// override, which wins over the guards and over automatic evidence, and
// survives re-runs and reorgs. now is the time recorded.
//
// A merge that an earlier merge already makes (one naming all of addrs,
// none of which an analyst split off since) records nothing: the result
// has Duplicate set and names that override. An address not clustered
// wraps heistgraph.ErrNotFound; fewer than two distinct addresses, or an
// empty by or why, wrap heistgraph.ErrInvalid.
func Merge(ctx context.Context, st Store, chain heistgraph.Chain, addrs []string, by, why string, now time.Time, opts Options) (OverrideResult, error) {
	var uniq []string
	for _, a := range addrs {
		if a = strings.TrimSpace(a); !slices.Contains(uniq, a) {
			uniq = append(uniq, a)
		}
	}
	if len(uniq) < 2 {
		return OverrideResult{}, fmt.Errorf("cluster merge: want two different addresses or more, got %d: %w", len(uniq), heistgraph.ErrInvalid)
	}
	return override(ctx, st, chain, heistgraph.OverrideMerge, uniq, by, why, now, opts)
}

// Split records an analyst's decision that addr does not belong to its
// cluster, with who decided it and why, and applies it: the memberships
// are rebuilt from the evidence without any automatic evidence that names
// addr (so the rest of the cluster stays together only where other
// evidence joins it), and later automatic evidence never joins addr again
// (it is logged as refused). An analyst's later merge can put it back. A
// split of an address already split off (and not merged back since)
// records nothing and has Duplicate set. Errors as for Merge.
func Split(ctx context.Context, st Store, chain heistgraph.Chain, addr, by, why string, now time.Time, opts Options) (OverrideResult, error) {
	return override(ctx, st, chain, heistgraph.OverrideSplit, []string{strings.TrimSpace(addr)}, by, why, now, opts)
}

// standing returns the override that already has the effect of a new
// override of kind on addrs: for a merge, the latest merge naming every
// address of addrs with none of them split off after it; for a split, the
// address's latest split with no merge naming it after it.
func standing(ctx context.Context, st store.Clusters, chain heistgraph.Chain, kind string, addrs []string) (heistgraph.ClusterOverride, bool, error) {
	var all []heistgraph.ClusterOverride
	for o, err := range st.Overrides(ctx, chain) {
		if err != nil {
			return heistgraph.ClusterOverride{}, false, err
		}
		all = append(all, o)
	}
	var found heistgraph.ClusterOverride
	ok := false
	for i, o := range all {
		if o.Kind != kind {
			continue
		}
		covers := true
		for _, a := range addrs {
			covers = covers && slices.Contains(o.Addresses, a)
		}
		if !covers {
			continue
		}
		undone := false
		for _, later := range all[i+1:] {
			if later.Kind == kind {
				continue
			}
			for _, a := range addrs {
				undone = undone || slices.Contains(later.Addresses, a)
			}
		}
		if !undone {
			found, ok = o, true
		}
	}
	return found, ok, nil
}

func override(ctx context.Context, st Store, chain heistgraph.Chain, kind string, addrs []string, by, why string, now time.Time, opts Options) (OverrideResult, error) {
	start := time.Now()
	by, why = strings.TrimSpace(by), strings.TrimSpace(why)
	if by == "" || why == "" {
		return OverrideResult{}, fmt.Errorf("cluster %s: say who decides (--by) and why (--why): %w", kind, heistgraph.ErrInvalid)
	}
	var before store.ClusterMember
	for i, a := range addrs {
		m, err := st.AddressCluster(ctx, chain, a)
		if err != nil {
			return OverrideResult{}, fmt.Errorf("cluster %s: %w", kind, err)
		}
		if i == 0 {
			before = m
		}
	}
	var res OverrideResult
	prev, dup, err := standing(ctx, st, chain, kind, addrs)
	if err != nil {
		return OverrideResult{}, fmt.Errorf("cluster %s: %w", kind, err)
	}
	// For a split, a mate of the address before it, to find the rest of
	// the cluster after it.
	var mate string
	if kind == heistgraph.OverrideSplit && !dup {
		p, err := ListMembers(ctx, st, chain, addrs[0], 0, 2)
		if err != nil {
			return OverrideResult{}, fmt.Errorf("cluster %s: %w", kind, err)
		}
		for _, m := range p.Members {
			if m.AddrID != before.AddrID {
				mate = m.Address
			}
		}
	}
	if dup {
		res.Override, res.Duplicate = prev, true
	} else {
		tip, err := st.ClusterTip(ctx, chain)
		if err != nil {
			return OverrideResult{}, fmt.Errorf("cluster %s: %w", kind, err)
		}
		o := heistgraph.ClusterOverride{Seq: tip.NextOverride, Kind: kind, Addresses: addrs, By: by, Why: why,
			Time: now.Unix(), Height: tip.Block.Height}
		if err := st.WriteClusters(ctx, chain, &store.ClusterBatch{Overrides: []heistgraph.ClusterOverride{o}, NeedsRebuild: true}); err != nil {
			return OverrideResult{}, fmt.Errorf("cluster %s: %w", kind, err)
		}
		e, err := open(ctx, st, chain, opts)
		if err != nil {
			return OverrideResult{}, err
		}
		res.Override, res.Stats = o, e.finish(start)
	}
	size := func(a string) (store.ClusterMember, int64, error) {
		m, err := st.AddressCluster(ctx, chain, a)
		if err != nil {
			return m, 0, fmt.Errorf("cluster %s: %w", kind, err)
		}
		n, err := st.ClusterSize(ctx, chain, m.ClusterID)
		if err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
			return m, 0, fmt.Errorf("cluster %s: %w", kind, err)
		}
		return m, n, nil
	}
	for _, a := range addrs {
		m, n, err := size(a)
		if err != nil {
			return OverrideResult{}, err
		}
		res.Members, res.Sizes = append(res.Members, m), append(res.Sizes, n)
	}
	if mate != "" {
		m, n, err := size(mate)
		if err != nil {
			return OverrideResult{}, err
		}
		res.RestID, res.RestSize = m.ClusterID, n
	}
	return res, nil
}
