package trace

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestApportion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    int64
		w    []int64
		want []int64
	}{
		{"exact", 10, []int64{1, 1}, []int64{5, 5}},
		{"largest remainder", 10, []int64{1, 1, 1}, []int64{4, 3, 3}},
		{"tie to lower index", 1, []int64{2, 2}, []int64{1, 0}},
		{"remainder order", 7, []int64{1, 2, 4}, []int64{1, 2, 4}},
		{"zero weight gets nothing", 5, []int64{0, 3, 0}, []int64{0, 5, 0}},
		{"zero total to first", 9, []int64{0, 0}, []int64{9, 0}},
		{"nothing", 0, []int64{3, 4}, []int64{0, 0}},
		// methods.md §1.11, tx1: D = 334,333,334 over x = 2.5, y = 3.4 BTC.
		{"example B tx1", 334_333_334, []int64{250_000_000, 340_000_000}, []int64{141_666_667, 192_666_667}},
		// methods.md §1.11, tx2: D = 188,287,880 over p = 0.3, q = 4.0 BTC.
		{"example B tx2", 188_287_880, []int64{30_000_000, 400_000_000}, []int64{13_136_364, 175_151_516}},
		// 21 M BTC times 21 M BTC does not fit 64 bits. Indices 1 and 2
		// tie on the remainder (half of W): the lower index wins.
		{"128-bit products", 2_100_000_000_000_000, []int64{2_100_000_000_000_000, 1, 2_099_999_999_999_999},
			[]int64{1_050_000_000_000_000, 1, 1_049_999_999_999_999}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Apportion(tc.d, tc.w)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Apportion(%d, %v) = %v, want %v", tc.d, tc.w, got, tc.want)
			}
		})
	}
	if Apportion(5, nil) != nil {
		t.Error("Apportion over no weights should be nil")
	}
}

// TestApportionProperties checks, on random inputs, that shares sum to d
// and stay within their weights when d ≤ W, and that each share is its
// floor or one more.
func TestApportionProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		n := 1 + rng.IntN(8)
		w := make([]int64, n)
		var total int64
		for i := range w {
			switch rng.IntN(4) {
			case 0:
				w[i] = 0
			case 1:
				w[i] = rng.Int64N(1000)
			default:
				w[i] = rng.Int64N(math.MaxInt64 / 16)
			}
			total += w[i]
		}
		if total == 0 {
			continue
		}
		d := rng.Int64N(total + 1)
		q := Apportion(d, w)
		var sum int64
		for i := range q {
			sum += q[i]
			if q[i] > w[i] {
				t.Fatalf("Apportion(%d, %v): share %d > weight", d, w, q[i])
			}
			fl, _ := mulDiv(d, w[i], total)
			if q[i] != fl && q[i] != fl+1 {
				t.Fatalf("Apportion(%d, %v): share %d is not floor %d or one more", d, w, q[i], fl)
			}
		}
		if sum != d {
			t.Fatalf("Apportion(%d, %v) sums to %d", d, w, sum)
		}
	}
}

// apportionByStableSort is Apportion as methods.md §0.1 words it: the
// floors, then one unit each to the indices sorted by remainder
// (descending), stably, so that ties go to the lower index.
func apportionByStableSort(d int64, w []int64) []int64 {
	var total int64
	for _, x := range w {
		total += x
	}
	q := make([]int64, len(w))
	if total == 0 {
		q[0] = d
		return q
	}
	rem := make([]uint64, len(w))
	left := d
	for j, x := range w {
		q[j], rem[j] = mulDiv(d, x, total)
		left -= q[j]
	}
	idx := make([]int, len(w))
	for j := range idx {
		idx[j] = j
	}
	slices.SortStableFunc(idx, func(a, b int) int { return -cmp.Compare(rem[a], rem[b]) })
	for _, j := range idx[:left] {
		q[j]++
	}
	return q
}

// TestApportionLeftovers checks Apportion against the stable sort of the
// remainders on random weights with many ties and up to 40 units left
// over (it places a few by scans and more by one sort).
func TestApportionLeftovers(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	var sc apportionScratch
	var q []int64
	for range 50000 {
		w := make([]int64, 1+rng.IntN(40))
		var total int64
		for i := range w {
			w[i] = rng.Int64N(1 + int64(rng.IntN(3))*rng.Int64N(1000))
			total += w[i]
		}
		d := rng.Int64N(2*total + 2)
		want := apportionByStableSort(d, w)
		q = sc.apportion(d, w, q)
		if !slices.Equal(q, want) {
			t.Fatalf("apportion(%d, %v) = %v, want %v", d, w, q, want)
		}
	}
}

func TestCompact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        []seg
		limit     int
		want      []seg
		compacted bool
	}{
		{"under the cap", []seg{{0, 0, 2}, {0, 5, 6}}, 2, []seg{{0, 0, 2}, {0, 5, 6}}, false},
		// The nearest pair [5,6)+[7,9) becomes [5,8): amounts exact.
		{"nearest pair", []seg{{0, 0, 2}, {0, 5, 6}, {0, 7, 9}}, 2, []seg{{0, 0, 2}, {0, 5, 8}}, true},
		{"joined span touching the next merges", []seg{{0, 0, 1}, {0, 2, 3}, {0, 4, 6}}, 2, []seg{{0, 0, 2}, {0, 4, 6}}, true},
		{"alternating sources stay", []seg{{0, 0, 1}, {1, 2, 3}, {0, 4, 5}}, 2, []seg{{0, 0, 1}, {1, 2, 3}, {0, 4, 5}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := compact(slices.Clone(tc.in), tc.limit)
			if !slices.Equal(got, tc.want) {
				t.Errorf("compact(%v, %d) = %v, want %v", tc.in, tc.limit, got, tc.want)
			}
			var a, b int64
			for _, s := range tc.in {
				a += s.hi - s.lo
			}
			for _, s := range got {
				b += s.hi - s.lo
			}
			if a != b {
				t.Errorf("compact changed the amount: %d → %d", a, b)
			}
		})
	}
}

// TestFIFOCap checks that a FIFO output fed more than MaxIntervals spans
// is compacted to the cap with its amount exact and marked.
func TestFIFOCap(t *testing.T) {
	t.Parallel()
	var f flow
	f.maxIntervals = 4
	f.reset(10, 1, 1)
	for i := range 10 {
		f.in[i] = 10
		if i%2 == 0 {
			f.inT[i] = &taint{segs: []seg{{0, 2, 5}}}
		}
	}
	f.out[0] = 100
	lineRule{}.spread(&f)
	got := f.outT[0]
	if len(got.segs) != 4 || !got.compacted || got.total() != 15 {
		t.Fatalf("FIFO cap: %d spans, compacted %t, amount %d; want 4, true, 15", len(got.segs), got.compacted, got.total())
	}
}

// TestKthLargest checks the selection of the leftover units' threshold
// against a sort, on random values with many ties, at every k.
func TestKthLargest(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for range 3000 {
		vals := make([]uint64, 1+rng.IntN(60))
		spread := 1 + rng.Uint64N(uint64(1+rng.IntN(3))*100)
		for i := range vals {
			vals[i] = 1 + rng.Uint64N(spread)
		}
		sorted := slices.Clone(vals)
		slices.SortFunc(sorted, func(a, b uint64) int { return cmp.Compare(b, a) })
		for k := 1; k <= len(vals); k++ {
			if got := kthLargest(slices.Clone(vals), k); got != sorted[k-1] {
				t.Fatalf("kthLargest(%v, %d) = %d, want %d", vals, k, got, sorted[k-1])
			}
		}
	}
}

// TestAppendBySource checks a taint's amounts by source against a sum by
// map, on segments of distinct sources in order (a value policy's), of
// repeated sources and out of order (an interval policy's spans).
func TestAppendBySource(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	for range 5000 {
		var tt taint
		src := int32(0)
		ordered := rng.IntN(2) == 0
		for range rng.IntN(8) {
			if ordered {
				src += 1 + int32(rng.IntN(3))
			} else {
				src = int32(rng.IntN(4))
			}
			lo := rng.Int64N(100)
			tt.segs = append(tt.segs, seg{src: src, lo: lo, hi: lo + 1 + rng.Int64N(100)})
		}
		sums := map[int32]int64{}
		for _, s := range tt.segs {
			sums[s.src] += s.hi - s.lo
		}
		var want []srcAmount
		for s, a := range sums {
			want = append(want, srcAmount{s, a})
		}
		slices.SortFunc(want, func(a, b srcAmount) int { return cmp.Compare(a.src, b.src) })
		got := tt.appendBySource([]srcAmount{{9, 9}})
		if len(got) != len(want) || (len(want) > 0 && !slices.Equal(got, want)) {
			t.Fatalf("appendBySource(%v) = %v, want %v", tt.segs, got, want)
		}
	}
}
