package trace

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
	f.capa = append(f.capa[:0], f.out...)
	var room int64 // Σ capa: each source's shares take d from it, exactly
	for _, c := range f.capa {
		room += c
	}
	for s, t := range f.srcT {
		if t == 0 {
			continue
		}
		var tf int64
		if v > 0 {
			tf, _ = mulDiv(f.fee, t, v)
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
		f.q = f.ap.apportionOf(d, f.capa, room, f.q)
		for j, a := range f.q {
			if a > 0 {
				f.addSeg(j, seg{src: int32(s), hi: a})
				f.capa[j] -= a
			}
		}
		room -= d
	}
}
