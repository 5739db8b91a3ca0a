package trace

// lifoLine builds LIFO's input line (methods.md §1.6): a stack pop, the
// last input first, each input's own line mirrored ([a,b) on an input of
// value v becomes [v−b, v−a)). The output line is FIFO's: vout order with
// the fee last (lineRule in fifo.go). This is our definition; some papers
// reverse the outputs instead, a variant we do not build.
func lifoLine(f *flow) []seg {
	var line []seg
	var off int64
	for i := len(f.in) - 1; i >= 0; i-- {
		v := f.in[i]
		if t := f.inT[i]; t != nil {
			for k := len(t.segs) - 1; k >= 0; k-- {
				s := t.segs[k]
				line = appendSpan(line, seg{src: s.src, lo: off + v - s.hi, hi: off + v - s.lo})
			}
		}
		off += v
	}
	return line
}
