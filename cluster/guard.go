package cluster

import (
	"context"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// sweep applies the extension of G5 described at GuardOptions.SweepRoots
// to a common-input union of the clusters roots over the input addresses
// ids, and returns the roots after dropping change unions.
func (e *engine) sweep(ctx context.Context, ids, roots []uint32) []uint32 {
	g := &e.opts.Guards
	if g.SweepRoots < 0 {
		return roots
	}
	// Only a cluster of two addresses or more can be dropped from: most
	// unions join addresses alone, and are left as they are. And only an
	// input address that may have been a change union's output (softOnly)
	// can be dropped: most unions name none.
	several, soft := false, false
	for _, c := range roots {
		if e.m.sizeOf(c) >= 2 {
			several = true
			break
		}
	}
	for _, a := range ids {
		if a < e.softFrom || e.soft.has(a) {
			soft = true
			break
		}
	}
	if !several || !soft {
		return roots
	}
	// The input addresses of each cluster: c<<32 | i for input address
	// ids[i] in cluster c, taken before any drop; sorted when there are
	// many (a few are searched in turn).
	byCluster := e.sweepBuf[:0]
	for i, id := range ids {
		if !e.isSplit(id) {
			byCluster = append(byCluster, uint64(e.m.of(id))<<32|uint64(i))
		}
	}
	sorted := len(byCluster) > sweepScan
	if sorted {
		slices.Sort(byCluster)
	}
	e.sweepBuf = byCluster
	out := e.sweepOut[:0]
	for _, c := range roots {
		if e.m.sizeOf(c) < 2 {
			out = append(out, c)
			continue
		}
		// The cluster's only input address, when it has one.
		i, only := onlyIn(byCluster, c, sorted)
		if !only {
			out = append(out, c)
			continue
		}
		a := ids[uint32(byCluster[i])]
		if a >= e.softFrom && !e.soft.has(a) || !e.sweepFires(c, roots) { // softOnly's first test, first
			out = append(out, c)
			continue
		}
		pos, ok := e.softOnly(ctx, a)
		if !ok {
			out = append(out, c)
			continue
		}
		e.drop(ctx, a, pos)
		out = append(out, a)
	}
	e.sweepOut = out
	return out
}

// sweepScan is the most input addresses sweep searches in turn for each
// cluster rather than sorting them.
const sweepScan = 16

// onlyIn returns the index in byCluster (c<<32 | i entries, sorted when
// sorted is set) of cluster c's entry when it has exactly one.
func onlyIn(byCluster []uint64, c uint32, sorted bool) (int, bool) {
	if sorted {
		i, _ := slices.BinarySearch(byCluster, uint64(c)<<32)
		return i, i < len(byCluster) && byCluster[i]>>32 == uint64(c) &&
			(i+1 == len(byCluster) || byCluster[i+1]>>32 != uint64(c))
	}
	i, n := -1, 0
	for k, v := range byCluster {
		if v>>32 == uint64(c) {
			i, n = k, n+1
		}
	}
	return i, n == 1
}

// sweepFires reports whether the other clusters of a common-input union
// look like a payee spending: many of them, or a service label that c
// does not carry.
func (e *engine) sweepFires(c uint32, roots []uint32) bool {
	g := &e.opts.Guards
	if len(roots)-1 >= g.SweepRoots {
		return true
	}
	own := e.m.sizeOf(c)
	for _, r := range roots {
		if r == c {
			continue
		}
		// A service the soft address's cluster does not carry: G2 would
		// fire (methods.md §3.6 example 3), or the payee is a service.
		for _, s := range e.svcOf(r) {
			if _, found := slices.BinarySearch(e.svcOf(c), s); !found {
				return true
			}
		}
		n := e.m.sizeOf(r)
		if n >= sweepBig && n >= sweepRatio*own {
			return true
		}
		// G4 would fire.
		if int(min(n, own)) >= g.HoldBoth {
			return true
		}
	}
	return false
}

// A cluster of at least sweepBig addresses and sweepRatio times the
// addresses of the change address's cluster looks like a service
// consolidating deposits (see GuardOptions.SweepRoots).
const (
	sweepBig   = 50
	sweepRatio = 10
)

// evidencePos is the key of an evidence record.
type evidencePos struct {
	height      int64
	txIndex, n  uint32
	inThisBlock int // index in the block's evidence, or -1
}

// softOnly reports whether address a is in its cluster only as the change
// output of exactly one change union, and where that evidence is.
func (e *engine) softOnly(ctx context.Context, a uint32) (evidencePos, bool) {
	var pos evidencePos
	if a >= e.softFrom && !e.soft.has(a) {
		return pos, false // no change union names a as its change
	}
	found := 0
	check := func(ev *heistgraph.ClusterEvidence, i int) bool {
		if !ev.Status.Joins() {
			return true
		}
		if ev.Heuristic != heistgraph.HeuristicChange || len(ev.AddrIDs) != 2 || ev.AddrIDs[1] != uint64(a) {
			return false
		}
		found++
		pos = evidencePos{ev.Height, ev.TxIndex, ev.N, i}
		return found == 1
	}
	for i := range e.bs.evidence {
		ev := &e.bs.evidence[i]
		if !names(ev, a) {
			continue
		}
		if !check(ev, i) {
			return pos, false
		}
	}
	// The earlier blocks' evidence: the store's, with what the run holds
	// and has not written over it.
	prev := map[evidencePos]heistgraph.ClusterEvidence{}
	for ev, err := range e.st.Evidence(ctx, e.chain, store.EvidenceQuery{Addr: uint64(a)}) {
		if err != nil {
			return pos, false
		}
		prev[evidencePos{ev.Height, ev.TxIndex, ev.N, -1}] = ev
	}
	for _, i := range e.runIndex()[a] {
		ev := e.runEv[i]
		prev[evidencePos{ev.Height, ev.TxIndex, ev.N, -1}] = ev
	}
	for _, ev := range prev {
		if !check(&ev, -1) {
			return pos, false
		}
	}
	return pos, found == 1
}

func names(ev *heistgraph.ClusterEvidence, a uint32) bool {
	for _, id := range ev.AddrIDs {
		if id == uint64(a) {
			return true
		}
	}
	return false
}

// drop undoes the change union at pos that put address a in its cluster:
// a leaves the cluster and the evidence is recorded as dropped.
func (e *engine) drop(ctx context.Context, a uint32, pos evidencePos) {
	bs := &e.bs
	c := e.m.of(a)
	nc := e.m.detach(a, bs.move)
	bs.sized.add(c)
	bs.sized.add(a)
	bs.sized.add(nc)
	if c == a && e.mayBeLabelled(a) {
		// a was the cluster's id: its entity sets go to the new id.
		if s, ok := e.svc[a]; ok {
			e.svc[nc] = s
			delete(e.svc, a)
		}
		if s, ok := e.ents[a]; ok {
			e.markLabelled(nc)
			e.ents[nc] = s
			delete(e.ents, a)
		}
	}
	reason := "G5: the change address was spent with another owner's coins"
	if pos.inThisBlock >= 0 {
		ev := &bs.evidence[pos.inThisBlock]
		ev.Status, ev.Reason = heistgraph.EvidenceDropped, reason
	} else if ev, ok := e.runEvidence(a, pos); ok {
		ev.Status, ev.Reason = heistgraph.EvidenceDropped, reason
		bs.evidence = append(bs.evidence, ev)
	} else {
		for ev, err := range e.st.Evidence(ctx, e.chain, store.EvidenceQuery{Addr: uint64(a), FromHeight: pos.height}) {
			if err != nil {
				break
			}
			if ev.Height == pos.height && ev.TxIndex == pos.txIndex && ev.N == pos.n {
				ev.Status, ev.Reason = heistgraph.EvidenceDropped, reason
				bs.evidence = append(bs.evidence, ev)
				break
			}
		}
	}
	e.stats.Dropped++
}

// runEvidence returns the latest evidence record at pos naming a among
// those the run holds and has not written.
func (e *engine) runEvidence(a uint32, pos evidencePos) (heistgraph.ClusterEvidence, bool) {
	ids := e.runIndex()[a]
	for k := len(ids) - 1; k >= 0; k-- {
		if ev := e.runEv[ids[k]]; ev.Height == pos.height && ev.TxIndex == pos.txIndex && ev.N == pos.n {
			return ev, true
		}
	}
	return heistgraph.ClusterEvidence{}, false
}
