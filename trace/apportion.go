package trace

import (
	"math/big"
	"math/bits"
)

// Apportion splits the integer d over the weights w by largest remainder
// (methods.md §0.1), the one rounding rule of heistgraph: share j is
// ⌊d·w[j]/W⌋ with W = Σw, and the d − Σ⌊…⌋ units left over go one each to
// the indices with the largest remainders (d·w[j]) mod W, ties to the lower
// index. The shares sum to d exactly and share j ≤ w[j] whenever d ≤ W.
// If W is 0 everything goes to index 0 (an empty w returns nil). Weights
// must not be negative and d must be ≥ 0; products are computed in 128
// bits, so no amount overflows. The returned slice is the caller's.
func Apportion(d int64, w []int64) []int64 {
	var sc apportionScratch
	return sc.apportion(d, w, nil)
}

// apportionScratch holds Apportion's working slices for reuse.
type apportionScratch struct {
	rem []uint64
	idx []int
}

// apportion is Apportion into q (resized to len(w)), reusing sc's
// slices: the trace's hot path allocates nothing here.
func (sc *apportionScratch) apportion(d int64, w []int64, q []int64) []int64 {
	if len(w) == 0 {
		return nil
	}
	q = grow(q, len(w))
	clear(q)
	var total int64
	for _, x := range w {
		if x < 0 {
			panic("trace: Apportion with a negative weight")
		}
		total += x
	}
	if d < 0 {
		panic("trace: Apportion of a negative amount")
	}
	if total == 0 {
		q[0] = d
		return q
	}
	if d == total {
		// Every share is its weight exactly (⌊d·w/W⌋ = w, no remainder):
		// no division. Haircut's common case, an output line wholly
		// tainted by one source.
		copy(q, w)
		return q
	}
	if cap(sc.rem) < len(w) {
		sc.rem = make([]uint64, len(w))
	}
	rem := sc.rem[:len(w)]
	var given int64
	for j, x := range w {
		q[j], rem[j] = mulDiv(d, x, total)
		given += q[j]
	}
	left := d - given
	if left == 0 {
		return q
	}
	// The left units go to the left largest remainders, ties to the
	// lower index: a total order, so which indices get one is all that
	// matters, not their order. A few units (the common case: one or
	// two; left < len(w)) are placed by as many scans, more by selecting
	// the left first indices in that order (selectFirst).
	if left <= 4 {
		for range left {
			best := -1
			for j, r := range rem {
				if r > 0 && (best < 0 || r > rem[best]) {
					best = j
				}
			}
			q[best]++
			rem[best] = 0 // given: out of the next scans
		}
		return q
	}
	idx := sc.idx[:0]
	for j := range w {
		if rem[j] > 0 {
			idx = append(idx, j)
		}
	}
	sc.idx = idx
	// left < the number of non-zero remainders, by construction.
	selectFirst(idx, int(left), func(a, b int) bool { return rem[a] > rem[b] || rem[a] == rem[b] && a < b })
	for _, j := range idx[:left] {
		q[j]++
	}
	return q
}

// selectFirst reorders idx so that its first k elements (0 < k <
// len(idx)) are the k first of idx in the strict order less, in no
// particular order among themselves (quickselect, the pivot a median of
// three).
func selectFirst(idx []int, k int, less func(a, b int) bool) {
	lo, hi := 0, len(idx) // the boundary k lies in idx[lo:hi]
	for hi-lo > 1 {
		// Median of three to idx[hi-1], the pivot.
		m := lo + (hi-lo)/2
		if less(idx[m], idx[lo]) {
			idx[m], idx[lo] = idx[lo], idx[m]
		}
		if less(idx[hi-1], idx[lo]) {
			idx[hi-1], idx[lo] = idx[lo], idx[hi-1]
		}
		if less(idx[m], idx[hi-1]) {
			idx[m], idx[hi-1] = idx[hi-1], idx[m]
		}
		p := idx[hi-1]
		s := lo
		for i := lo; i < hi-1; i++ {
			if less(idx[i], p) {
				idx[s], idx[i] = idx[i], idx[s]
				s++
			}
		}
		idx[s], idx[hi-1] = idx[hi-1], idx[s]
		// idx[lo:s] before the pivot, now at s, idx[s+1:hi] after it.
		switch {
		case s == k || s+1 == k:
			return
		case k < s:
			hi = s
		default:
			lo = s + 1
		}
	}
}

// mulDiv returns ⌊a·b/c⌋ and (a·b) mod c for non-negative a, b and c > 0,
// with the product in 128 bits.
func mulDiv(a, b, c int64) (int64, uint64) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi < uint64(c) {
		q, r := bits.Div64(hi, lo, uint64(c))
		return int64(q), r
	}
	// The quotient does not fit 64 bits; only reachable when a > c.
	p := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	q, r := new(big.Int).QuoRem(p, big.NewInt(c), new(big.Int))
	return q.Int64(), r.Uint64()
}
