package trace

// lineRule is FIFO (methods.md §1.5) or, with lifo set, LIFO (§1.6; see
// lifo.go for how its input line is built). Inputs are laid end to end on
// the input line, each carrying its tainted spans shifted by its offset;
// outputs are laid end to end in vout order on the output line with the
// fee last, [W, V); the satoshi at position p of the input line goes to
// position p of the output line. Output j receives the tainted spans that
// fall in its window, re-based to its own line; the fee gets whatever
// falls in [W, V). Spans carry their source, so sources stay apart, and a
// satoshi never carries two sources (the engine resolves claims on the
// same satoshi before it gets here, methods.md §1.5 "overlap").
type lineRule struct{ lifo bool }

func (r lineRule) spread(f *flow) {
	line := r.inputLine(f)
	var pos int64
	k := 0
	for j, w := range f.out {
		end := pos + w
		for k < len(line) && line[k].hi <= pos {
			k++
		}
		for i := k; i < len(line) && line[i].lo < end; i++ {
			lo, hi := max(line[i].lo, pos), min(line[i].hi, end)
			if lo < hi {
				f.outT[j].segs = appendSpan(f.outT[j].segs, seg{src: line[i].src, lo: lo - pos, hi: hi - pos})
			}
		}
		if len(f.outT[j].segs) > f.maxIntervals && f.maxIntervals > 0 {
			f.outT[j].segs = compact(f.outT[j].segs, f.maxIntervals)
			f.outT[j].compacted = true
		}
		pos = end
	}
	for i := k; i < len(line); i++ { // the fee's window [W, V)
		lo := max(line[i].lo, pos)
		if lo < line[i].hi {
			f.feeT[line[i].src] += line[i].hi - lo
		}
	}
}

// inputLine lays the inputs' tainted spans on the input line, sorted by
// position.
func (r lineRule) inputLine(f *flow) []seg {
	if r.lifo {
		return lifoLine(f)
	}
	var line []seg
	var off int64
	for i, v := range f.in {
		if t := f.inT[i]; t != nil {
			for _, s := range t.segs {
				line = appendSpan(line, seg{src: s.src, lo: off + s.lo, hi: off + s.hi})
			}
		}
		off += v
	}
	return line
}

// appendSpan appends s to spans sorted by position, merging it with the
// last span when they touch and share a source.
func appendSpan(spans []seg, s seg) []seg {
	if n := len(spans); n > 0 && spans[n-1].hi == s.lo && spans[n-1].src == s.src {
		spans[n-1].hi = s.hi
		return spans
	}
	return append(spans, s)
}

// compact reduces spans (sorted, disjoint) to at most limit by repeatedly
// joining the two nearest neighbouring spans of one source, [a,b) and
// [c,d) becoming [a, a+(b−a)+(d−c)): the tainted amount stays exact and
// only positions are approximated (methods.md §1.5, changed from the first
// draft, which covered the gap and inflated taint). Neighbours of
// different sources are never joined, so when sources alternate the cap
// is exceeded rather than break a position.
func compact(spans []seg, limit int) []seg {
	for len(spans) > limit {
		best, gap := -1, int64(-1)
		for i := 0; i+1 < len(spans); i++ {
			if spans[i].src != spans[i+1].src {
				continue
			}
			if g := spans[i+1].lo - spans[i].hi; best < 0 || g < gap {
				best, gap = i, g
			}
		}
		if best < 0 {
			return spans
		}
		a, b := spans[best], spans[best+1]
		spans[best].hi = a.hi + (b.hi - b.lo)
		spans = append(spans[:best+1], spans[best+2:]...)
		// The joined span may now touch its successor of the same source.
		if best+1 < len(spans) && spans[best].hi == spans[best+1].lo && spans[best].src == spans[best+1].src {
			spans[best].hi = spans[best+1].hi
			spans = append(spans[:best+1], spans[best+2:]...)
		}
	}
	return spans
}
