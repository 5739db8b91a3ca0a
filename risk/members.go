package risk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"unsafe"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/unionfind"
	"github.com/heistgraph/heistgraph/store"
)

// memberIndex is run.walkMembers done once for every clustered address of
// a chain, as Precompute builds it beside the Table: the walk from an
// address reaches, through the joining evidence, the addresses of its
// cluster that share an evidence record with one it reached (its
// component), and counts the joining records it met and how many of them
// are common-input. A first screen of an address then finds its cluster's
// members by a lookup instead of three store reads a member. The index
// holds no pointers but its slices.
type memberIndex struct {
	tip   store.ClusterTip // the clustering it was built from
	ids   []uint64         // address ids, ascending
	off   []uint32         // the address of ids[i] is names[off[i]:off[i+1]]
	names []byte
	comp  []uint32 // the component of ids[i]: an index into comps
	comps []component
	order []uint32 // positions (indices into ids) by component
}

// component is one component's run of memberIndex.order and the joining
// evidence records its addresses are in.
type component struct {
	start, n  uint32
	joins, h1 int
}

// buildMemberIndex reads chain's memberships and joining evidence from st.
// It returns nil when nothing was clustered.
func buildMemberIndex(ctx context.Context, st store.Clusters, chain heistgraph.Chain) (*memberIndex, error) {
	tip, err := st.ClusterTip(ctx, chain)
	if errors.Is(err, heistgraph.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("risk: cluster tip of %s: %w", chain, err)
	}
	ix := &memberIndex{tip: tip}
	var clusters []uint64
	for m, err := range st.Memberships(ctx, chain) {
		if err != nil {
			return nil, fmt.Errorf("risk: members index: %w", err)
		}
		if len(ix.ids) > 0 && m.AddrID <= ix.ids[len(ix.ids)-1] {
			return nil, fmt.Errorf("risk: members index: address ids out of order (%d after %d)", m.AddrID, ix.ids[len(ix.ids)-1])
		}
		ix.ids = append(ix.ids, m.AddrID)
		clusters = append(clusters, m.ClusterID)
		ix.off = append(ix.off, uint32(len(ix.names)))
		ix.names = append(ix.names, m.Address...)
	}
	ix.off = append(ix.off, uint32(len(ix.names)))
	n := len(ix.ids)
	sets := unionfind.New(n)
	// One record per (evidence record, cluster among its addresses): a
	// position of that cluster in it, and whether it is common-input.
	type met struct {
		pos uint32
		h1  bool
	}
	var mets []met
	var group []uint32 // the record's positions, by cluster
	for ev, err := range st.Evidence(ctx, chain, store.EvidenceQuery{}) {
		if err != nil {
			return nil, fmt.Errorf("risk: members index: %w", err)
		}
		if !ev.Status.Joins() {
			continue
		}
		group = group[:0]
		for _, aid := range ev.AddrIDs {
			if p, ok := ix.pos(aid); ok {
				group = append(group, uint32(p))
			}
		}
		slices.SortFunc(group, func(a, b uint32) int { return cmp.Compare(clusters[a], clusters[b]) })
		for i := 0; i < len(group); {
			j := i + 1
			for j < len(group) && clusters[group[j]] == clusters[group[i]] {
				sets.Union(group[i], group[j])
				j++
			}
			mets = append(mets, met{group[i], ev.Heuristic == heistgraph.HeuristicCommonInput})
			i = j
		}
	}
	// A root is its set's smallest position, so its component is numbered
	// before any other member reads it.
	ix.comp = make([]uint32, n)
	for i := range n {
		r := sets.Find(uint32(i))
		if r == uint32(i) {
			ix.comp[i] = uint32(len(ix.comps))
			ix.comps = append(ix.comps, component{})
		}
		ix.comp[i] = ix.comp[r]
		ix.comps[ix.comp[i]].n++
	}
	for _, m := range mets {
		c := &ix.comps[ix.comp[m.pos]]
		c.joins++
		if m.h1 {
			c.h1++
		}
	}
	ix.order = make([]uint32, n)
	for i := range ix.order {
		ix.order[i] = uint32(i)
	}
	slices.SortStableFunc(ix.order, func(a, b uint32) int { return cmp.Compare(ix.comp[a], ix.comp[b]) })
	var start uint32
	for c := range ix.comps {
		ix.comps[c].start = start
		start += ix.comps[c].n
	}
	return ix, nil
}

// bytes is the size of ix's arrays.
func (ix *memberIndex) bytes() int64 {
	return int64(8*len(ix.ids) + 4*len(ix.off) + len(ix.names) + 4*len(ix.comp) + int(unsafe.Sizeof(component{}))*len(ix.comps) + 4*len(ix.order))
}

// pos returns the position of address id in ix.
func (ix *memberIndex) pos(id uint64) (int, bool) {
	i := sort.Search(len(ix.ids), func(i int) bool { return ix.ids[i] >= id })
	return i, i < len(ix.ids) && ix.ids[i] == id
}

func (ix *memberIndex) nameBytes(p uint32) []byte { return ix.names[ix.off[p]:ix.off[p+1]] }

// memberIndex returns t's members index (nil for a nil Table).
func (t *Table) memberIndex() *memberIndex {
	if t == nil {
		return nil
	}
	return t.members
}

// component returns what the members walk from address id finds: the
// addresses of its component (in no particular order), the joining evidence records they
// are in and how many of those are common-input. ok is false when ix (nil: none) does
// not hold id.
func (ix *memberIndex) component(id uint64) (addrs []string, joins, h1 int, ok bool) {
	if ix == nil {
		return nil, 0, 0, false
	}
	p, ok := ix.pos(id)
	if !ok {
		return nil, 0, 0, false
	}
	c := ix.comps[ix.comp[p]]
	addrs = make([]string, 0, c.n)
	for _, q := range ix.order[c.start : c.start+c.n] {
		addrs = append(addrs, string(ix.nameBytes(q)))
	}
	return addrs, c.joins, c.h1, true
}
