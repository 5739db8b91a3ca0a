package trace

import "math/bits"

// haircut is methods.md §1.4, the proportional policy and the default for
// amounts. Per source s, in source order: the fee takes t_f = ⌊f·T_s/V⌋
// and the rest, T_s − t_f, is apportioned (largest remainder) over the
// outputs' remaining capacity (value minus taint already given to earlier
// sources). For one source this is Apportion(T − ⌊f·T/V⌋, w₁…w_m) and
// never overflows an output; with several, the per-source floors can ask
// the outputs for a satoshi more than they hold, and that excess (at most
// one per source) goes to the fee, which always has room because Σ T_s ≤
// V. Nothing else reaches the fee, so no taint drifts into fees.
type haircut struct{}

func (haircut) spread(f *flow) {
	f.totals()
	var v int64
	for _, x := range f.in {
		v += x
	}
	capa := append(f.capa[:0], f.out...)
	f.capa = capa
	var room int64 // Σ capa: each source's shares take d from it, exactly
	for _, c := range capa {
		room += c
	}
	for s, t := range f.srcT {
		if t == 0 {
			continue
		}
		var tf int64
		if v > 0 {
			var ok bool
			if tf, _, ok = mulDiv64(f.fee, t, v); !ok {
				tf, _ = mulDiv(f.fee, t, v)
			}
		}
		d := t - tf
		if d > room {
			tf += d - room
			d = room
		}
		f.feeT[s] += tf
		if d == 0 {
			continue
		}
		src := int32(s)
		switch {
		case d == room:
			// Every share is its capacity (Apportion of the weights'
			// sum): the outputs are full.
			for j, c := range capa {
				if c > 0 {
					f.addSeg(j, seg{src: src, hi: c})
					capa[j] = 0
				}
			}
		case len(capa) == 2:
			// Apportion over two weights in one division: d·c₁ =
			// (d − q₀)·W − r₀, so share 1's floor is d − q₀ (remainder 0)
			// when r₀ is 0, else d − q₀ − 1 with remainder W − r₀, and the
			// one unit left goes to the larger remainder, ties to 0.
			q0, r0, ok := mulDiv64(d, capa[0], room)
			if !ok {
				q0, r0 = mulDiv(d, capa[0], room)
			}
			if r0 > 0 && r0 >= uint64(room)-r0 {
				q0++
			}
			if q0 > 0 {
				f.addSeg(0, seg{src: src, hi: q0})
				capa[0] -= q0
			}
			if q1 := d - q0; q1 > 0 {
				f.addSeg(1, seg{src: src, hi: q1})
				capa[1] -= q1
			}
		default:
			// One output (d < room = its capacity, all of d) or more.
			if len(capa) == 1 {
				f.addSeg(0, seg{src: src, hi: d})
				capa[0] -= d
				break
			}
			f.q = f.ap.apportionOf(d, capa, room, f.q)
			for j, a := range f.q {
				if a > 0 {
					f.addSeg(j, seg{src: src, hi: a})
					capa[j] -= a
				}
			}
		}
		room -= d
	}
	// Each share given to output j was taken from capa[j]: its taint is
	// what its capacity lost.
	f.tot = append(f.tot[:0], f.out...)
	for j, c := range capa {
		f.tot[j] -= c
	}
	f.totKnown = true
}

// mulDiv64 is mulDiv when the product fits 64 bits (most amounts; false
// otherwise): it inlines, mulDiv does not.
func mulDiv64(a, b, c int64) (int64, uint64, bool) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	k := lo / uint64(c)
	return int64(k), lo - k*uint64(c), hi == 0
}
