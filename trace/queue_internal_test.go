package trace

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestWorkQueueOrder pushes and pops random positions, interleaved: the
// queue gives the lowest position each time, as a sorted list does. In
// some rounds every position pushed is after the last popped (as the
// trace queues works: a chain's heights and indexes), in others any
// position is (below the last popped, or clamped keys that tie).
func TestWorkQueueOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var q workQueue // reused across rounds, as the scratch reuses it
	for round := range 400 {
		q.reset()
		var works chunks[work]
		pop := func() pos { return works.at(int(q.pop(&works))).pos }
		var want []pos
		seen := map[pos]bool{}
		last := pos{height: r.Int64N(1000), index: r.IntN(100)}
		for range r.IntN(600) {
			if r.IntN(3) > 0 || len(want) == 0 {
				p := pos{height: r.Int64N(20), index: r.IntN(20)}
				if round%4 == 1 { // after the last popped, as the trace queues
					p = pos{height: last.height + r.Int64N(1000), index: r.IntN(5000)}
					if p.cmp(last) <= 0 {
						continue
					}
				}
				if round%4 == 3 { // outside queueKey's range: clamped keys tie
					p = pos{height: 1<<40 - 2 + r.Int64N(4), index: 1<<24 - 2 + r.IntN(4)}
					if r.IntN(3) == 0 {
						p.height = -r.Int64N(3)
					}
				}
				if seen[p] { // a transaction is queued once
					continue
				}
				seen[p] = true
				q.push(p, int32(works.add(work{pos: p})))
				want = append(want, p)
				continue
			}
			slices.SortFunc(want, pos.cmp)
			if got := pop(); got != want[0] {
				t.Fatalf("round %d: popped %v, want %v", round, got, want[0])
			}
			last, want = want[0], want[1:]
			if q.Len() != len(want) {
				t.Fatalf("round %d: Len %d, want %d", round, q.Len(), len(want))
			}
		}
		slices.SortFunc(want, pos.cmp)
		for _, p := range want {
			if got := pop(); got != p {
				t.Fatalf("round %d: drained %v, want %v", round, got, p)
			}
		}
		if q.Len() != 0 {
			t.Fatalf("round %d: %d left", round, q.Len())
		}
	}
}

// TestSortEdges sorts random edges, grouped by their from as Run adds
// them and shuffled as a Tracer may leave them: sortEdges gives what a
// full sort gives.
func TestSortEdges(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 300 {
		seen := map[[2]pos]bool{}
		var eo []edgeOrder
		for range r.IntN(200) {
			e := edgeOrder{from: pos{r.Int64N(10), r.IntN(5)}, to: pos{r.Int64N(10), r.IntN(5)}, i: int32(len(eo))}
			if !seen[[2]pos{e.from, e.to}] {
				seen[[2]pos{e.from, e.to}] = true
				eo = append(eo, e)
			}
		}
		if round%2 == 0 { // Run's order: by from, the tos of one from in any order
			slices.SortStableFunc(eo, func(a, b edgeOrder) int { return a.from.cmp(b.from) })
		}
		want := slices.Clone(eo)
		slices.SortFunc(want, edgeOrder.cmp)
		sortEdges(eo)
		if !slices.Equal(eo, want) {
			t.Fatalf("round %d: sortEdges gave %v, want %v", round, eo, want)
		}
	}
}

// TestSortTo checks the sort of a run of edges by their spenders'
// positions against the library sort, on runs below and above the
// insertion sort's length.
func TestSortTo(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(31, 32))
	for range 3000 {
		run := make([]edgeOrder, rng.IntN(30))
		for i := range run {
			// Distinct positions (a run's spenders are distinct), many
			// in one block.
			run[i] = edgeOrder{to: pos{height: rng.Int64N(3), index: i*7%31 + 100*rng.IntN(2)}, i: int32(i)}
		}
		want := slices.Clone(run)
		slices.SortStableFunc(want, func(a, b edgeOrder) int { return a.to.cmp(b.to) })
		sortTo(run)
		if !slices.Equal(run, want) {
			t.Fatalf("sortTo = %v, want %v", run, want)
		}
	}
}
