package trace

// poison is methods.md §1.3: every output of a transaction that receives
// any taint of a source is wholly tainted by that source, and so is the
// fee. It does not conserve value; it bounds what "may have touched" the
// seeds and explodes after a few hops, so the budget matters.
type poison struct{}

func (poison) spread(f *flow) {
	f.totals()
	for s, t := range f.srcT {
		if t == 0 {
			continue
		}
		f.feeT[s] = f.fee
		for j, w := range f.out {
			if w > 0 {
				f.addSeg(j, seg{src: int32(s), hi: w})
			}
		}
	}
	// Every output of value holds it once a source with taint.
	f.tot = f.tot[:0]
	for _, w := range f.out {
		f.tot = append(f.tot, max(w, 0)*int64(f.active))
	}
	f.totKnown = true
}
