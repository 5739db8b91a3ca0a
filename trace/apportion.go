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
	rem  []uint64
	vals []uint64
}

// apportion is Apportion into q (resized to len(w)), reusing sc's
// slices: the trace's hot path allocates nothing here.
func (sc *apportionScratch) apportion(d int64, w []int64, q []int64) []int64 {
	if len(w) == 0 {
		return nil
	}
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
	return sc.apportionOf(d, w, total, q)
}

// apportionOf is apportion with the weights' sum, total, given (haircut
// has it): w non-empty, no weight negative, d ≥ 0.
func (sc *apportionScratch) apportionOf(d int64, w []int64, total int64, q []int64) []int64 {
	q = grow(q, len(w))
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
		// mulDiv, with the product that fits 64 bits (most amounts)
		// divided here: mulDiv does not inline.
		if hi, lo := bits.Mul64(uint64(d), uint64(x)); hi == 0 {
			k := lo / uint64(total)
			q[j], rem[j] = int64(k), lo-k*uint64(total)
		} else {
			q[j], rem[j] = mulDiv(d, x, total)
		}
		given += q[j]
	}
	left := d - given
	if left == 0 {
		return q
	}
	// The left units go to the left largest remainders, ties to the
	// lower index: a total order, so which indices get one is all that
	// matters, not their order. A few units (the common case: one or
	// two; left < len(w)) are placed by as many scans. More go by the
	// left-th largest remainder r (left is below the number of non-zero
	// remainders, by construction): one each to the indices above r,
	// and the units still left to the lowest indices at r.
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
	vals := sc.vals[:0]
	for _, r := range rem {
		if r > 0 {
			vals = append(vals, r)
		}
	}
	sc.vals = vals
	r := kthLargest(vals, int(left))
	for j, x := range rem {
		if x > r {
			q[j]++
			left--
		}
	}
	for j, x := range rem {
		if left == 0 {
			break
		}
		if x == r {
			q[j]++
			left--
		}
	}
	return q
}

// kthLargest returns the k-th largest of vals (1 ≤ k ≤ len(vals)),
// reordering vals (quickselect, Hoare's partition around a median of
// three).
func kthLargest(vals []uint64, k int) uint64 {
	want := k - 1 // its index were vals sorted in descending order
	lo, hi := 0, len(vals)-1
	for lo < hi {
		a, b, c := vals[lo], vals[lo+(hi-lo)/2], vals[hi]
		p := max(min(a, b), min(max(a, b), c)) // the median of the three
		i, j := lo, hi
		for i <= j {
			for vals[i] > p {
				i++
			}
			for vals[j] < p {
				j--
			}
			if i <= j {
				vals[i], vals[j] = vals[j], vals[i]
				i++
				j--
			}
		}
		// vals[lo:j+1] ≥ p, vals[i:hi+1] ≤ p, and those between are p.
		switch {
		case want <= j:
			hi = j
		case want >= i:
			lo = i
		default:
			return p
		}
	}
	return vals[want]
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
