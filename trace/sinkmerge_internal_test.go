package trace

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestMergeTail checks that mergeTail, given order sorted before k and
// after, leaves what a sort of the whole gives: the budget's end makes a
// Run's sinks two such runs (drainRun), and a merge that dropped, doubled
// or misplaced one would change the result's order.
func TestMergeTail(t *testing.T) {
	t.Parallel()
	rec := func(h int64, vout uint32, i int32) sinkOrder {
		return sinkOrder{pos: pos{height: h}, vout: vout, i: i}
	}
	tests := []struct {
		name  string
		order []sinkOrder
		k     int
	}{
		{"empty", nil, 0},
		{"all before", []sinkOrder{rec(1, 0, 0), rec(2, 0, 1)}, 2},
		{"all after", []sinkOrder{rec(1, 0, 0), rec(2, 0, 1)}, 0},
		{"already in order", []sinkOrder{rec(1, 0, 0), rec(2, 0, 1), rec(3, 0, 2)}, 2},
		{"tail first", []sinkOrder{rec(5, 0, 0), rec(6, 0, 1), rec(1, 0, 2), rec(2, 0, 3)}, 2},
		{"interleaved", []sinkOrder{rec(1, 0, 0), rec(3, 0, 1), rec(5, 1, 2), rec(2, 0, 3), rec(3, 1, 4), rec(5, 0, 5), rec(9, 0, 6)}, 3},
		{"same place, index decides", []sinkOrder{rec(4, 2, 0), rec(4, 2, 2), rec(4, 2, 1)}, 2},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 20 {
		var o []sinkOrder
		for i := range 50 + n*10 {
			o = append(o, rec(r.Int64N(30), uint32(r.IntN(3)), int32(i)))
		}
		k := r.IntN(len(o) + 1)
		slices.SortFunc(o[:k], sinkOrder.cmp)
		slices.SortFunc(o[k:], sinkOrder.cmp)
		tests = append(tests, struct {
			name  string
			order []sinkOrder
			k     int
		}{"random", o, k})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := slices.Clone(tc.order)
			mergeTail(got, tc.k, nil)
			want := slices.Clone(tc.order)
			slices.SortFunc(want, sinkOrder.cmp)
			if !slices.Equal(got, want) {
				t.Fatalf("mergeTail(%v, %d) = %v, want %v", tc.order, tc.k, got, want)
			}
		})
	}
}
