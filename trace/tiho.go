package trace

import "slices"

// tiho is methods.md §1.7, "taint in, highest out": the outputs, largest
// first (ties to the lower vout), each take as much of the taint as they
// hold until it is used; the fee takes taint only when the taint exceeds
// the outputs' total (then it takes the excess). Several sources fill in
// source order (the order of their first seeds), each continuing where the
// previous one left the outputs' capacity.
type tiho struct{}

func (tiho) spread(f *flow) {
	f.totals()
	f.ord = f.ord[:0]
	for j := range f.out {
		f.ord = append(f.ord, j)
	}
	slices.SortStableFunc(f.ord, func(a, b int) int {
		switch {
		case f.out[a] > f.out[b]:
			return -1
		case f.out[a] < f.out[b]:
			return 1
		}
		return a - b
	})
	f.capa = append(f.capa[:0], f.out...)
	k := 0 // first output in f.ord with capacity left
	for s, t := range f.srcT {
		for t > 0 && k < len(f.ord) {
			j := f.ord[k]
			a := min(t, f.capa[j])
			if a > 0 {
				f.outT[j].segs = append(f.outT[j].segs, seg{src: int32(s), hi: a})
				f.capa[j] -= a
				t -= a
			}
			if f.capa[j] == 0 {
				k++
			}
		}
		f.feeT[s] += t
	}
}
