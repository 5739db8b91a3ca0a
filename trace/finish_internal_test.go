package trace

import (
	"math/rand/v2"
	"slices"
	"testing"
)

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
