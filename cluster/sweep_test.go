package cluster

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestOnlyIn checks that sweep's search for a cluster's only input
// address answers the same by scanning the entries in input order as by
// searching them sorted: the same answer and the same input address.
func TestOnlyIn(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		n := 1 + rng.IntN(24)
		byCluster := make([]uint64, n)
		for i := range byCluster {
			byCluster[i] = uint64(1+rng.IntN(6))<<32 | uint64(i)
		}
		sorted := slices.Clone(byCluster)
		slices.Sort(sorted)
		for c := uint32(0); c <= 7; c++ {
			i, only := onlyIn(byCluster, c, false)
			j, want := onlyIn(sorted, c, true)
			if only != want || only && uint32(byCluster[i]) != uint32(sorted[j]) {
				t.Fatalf("cluster %d of %x: scan %d %v, sorted %d %v", c, byCluster, i, only, j, want)
			}
		}
	}
}
