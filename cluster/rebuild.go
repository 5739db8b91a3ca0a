package cluster

import (
	"context"
	"fmt"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/unionfind"
	"github.com/heistgraph/heistgraph/store"
)

// rebuild recomputes every membership from the stored evidence and the
// analysts' overrides, and writes what changed (methods.md §3.1: "undo =
// rebuild the affected component from evidence minus the removed edge").
// Evidence that joins (applied, released) is replayed without guards: the
// guards were applied when it was recorded. An address an analyst split
// off takes part in no automatic evidence, and in no analyst merge given
// before its split. Cluster ids come out the same as incrementally: the
// smallest address id of each component.
func (e *engine) rebuild(ctx context.Context) error {
	n := e.m.len()
	sets := unionfind.New(n)

	// Overrides: the last split of each address, and the merges in order.
	type merge struct {
		seq uint64
		ids []uint32
	}
	lastSplit := map[uint32]uint64{}
	var merges []merge
	for o, err := range e.st.Overrides(ctx, e.chain) {
		if err != nil {
			return fmt.Errorf("cluster %s: rebuild: %w", e.chain, err)
		}
		var ids []uint32
		for _, a := range o.Addresses {
			if id, ok := e.lookup(a); ok {
				ids = append(ids, id)
			}
		}
		switch o.Kind {
		case heistgraph.OverrideSplit:
			for _, id := range ids {
				lastSplit[id] = o.Seq
			}
		case heistgraph.OverrideMerge:
			merges = append(merges, merge{o.Seq, ids})
		}
	}
	clear(e.split)
	for id := range lastSplit {
		e.split[id] = true
	}

	var ids []uint32
	for ev, err := range e.st.Evidence(ctx, e.chain, store.EvidenceQuery{}) {
		if err != nil {
			return fmt.Errorf("cluster %s: rebuild: %w", e.chain, err)
		}
		if !ev.Status.Joins() {
			continue
		}
		ids = ids[:0]
		for _, id := range ev.AddrIDs {
			if id < uint64(n) && !e.split[uint32(id)] {
				ids = append(ids, uint32(id))
			}
		}
		sets.UnionAll(ids)
	}
	for _, mg := range merges {
		ids = ids[:0]
		for _, id := range mg.ids {
			if lastSplit[id] < mg.seq {
				ids = append(ids, id)
			}
		}
		sets.UnionAll(ids)
	}

	// Write what changed.
	b := &store.ClusterBatch{Rebuilt: true}
	old := make([]uint32, n)
	for id := 1; id < n; id++ {
		old[id] = e.m.sizeOf(uint32(id))
	}
	for id := 1; id < n; id++ {
		c := sets.Find(uint32(id))
		if c != e.m.of(uint32(id)) {
			b.Members = append(b.Members, store.ClusterMember{AddrID: uint64(id), ClusterID: uint64(c)})
		}
		e.m.assign(uint32(id), c)
	}
	e.m.setRings()
	// Every size is written: a rewind removes them all (the removed
	// addresses' clusters' sizes are stale).
	for id := 1; id < n; id++ {
		if was, now := old[id], e.m.sizeOf(uint32(id)); was >= 2 || now >= 2 {
			size := int64(now)
			if size < 2 {
				size = 0
			}
			b.Sizes = append(b.Sizes, store.ClusterSize{ClusterID: uint64(id), Size: size})
		}
	}
	if err := e.st.WriteClusters(ctx, e.chain, b); err != nil {
		return fmt.Errorf("cluster %s: rebuild: %w", e.chain, err)
	}
	e.tip.NeedsRebuild = false
	e.stats.Rebuilt = true
	e.opts.Logger.Info("cluster: rebuilt from evidence", "chain", e.chain, "addresses", n-1, "changed", len(b.Members))
	return nil
}
