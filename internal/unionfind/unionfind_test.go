package unionfind

import (
	"math/rand/v2"
	"testing"
)

// TestAgainstLabels joins random pairs and groups, and checks every
// element's root against a naive relabelling: same set ⇔ same root, and
// the root is the set's smallest element.
func TestAgainstLabels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		n := 1 + rng.IntN(200)
		s := New(n)
		label := make([]int, n) // naive: the set's smallest element
		for i := range label {
			label[i] = i
		}
		join := func(a, b int) {
			la, lb := label[a], label[b]
			m := min(la, lb)
			for i := range label {
				if label[i] == la || label[i] == lb {
					label[i] = m
				}
			}
		}
		for range rng.IntN(2 * n) {
			if rng.IntN(3) == 0 {
				ids := make([]uint32, rng.IntN(5))
				for k := range ids {
					ids[k] = uint32(rng.IntN(n))
				}
				s.UnionAll(ids)
				for k := 1; k < len(ids); k++ {
					join(int(ids[0]), int(ids[k]))
				}
				continue
			}
			a, b := rng.IntN(n), rng.IntN(n)
			s.Union(uint32(a), uint32(b))
			join(a, b)
		}
		for i := range n {
			if got := s.Find(uint32(i)); int(got) != label[i] {
				t.Fatalf("round %d: Find(%d) = %d, want %d", round, i, got, label[i])
			}
		}
	}
}
