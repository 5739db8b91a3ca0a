package trace

import (
	"fmt"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// Policy names a taint policy (methods.md §1.3–1.7).
type Policy string

// The policies. Haircut is the default for amounts (methods.md §1.12).
const (
	Poison  Policy = "poison"
	Haircut Policy = "haircut"
	FIFO    Policy = "fifo"
	LIFO    Policy = "lifo"
	TIHO    Policy = "tiho"
)

// Policies lists every policy in the order Compare runs them.
func Policies() []Policy { return []Policy{Haircut, Poison, FIFO, LIFO, TIHO} }

// ParsePolicy parses a policy name (any case). It returns an error wrapping
// heistgraph.ErrInvalid for anything else.
func ParsePolicy(s string) (Policy, error) {
	p := Policy(strings.ToLower(strings.TrimSpace(s)))
	for _, q := range Policies() {
		if p == q {
			return p, nil
		}
	}
	return "", fmt.Errorf("trace: unknown policy %q (want poison, haircut, fifo, lifo or tiho): %w", s, heistgraph.ErrInvalid)
}

// Conserving reports whether p conserves value: Σ sinks + fees = seed
// amount, exactly, per source. Every policy but poison does.
func (p Policy) Conserving() bool { return p != Poison }

// spreader is one policy's rule for one transaction: from the taint of its
// inputs it gives each output and the fee their taint. Each policy lives in
// its own file (poison.go, haircut.go, fifo.go, lifo.go, tiho.go).
type spreader interface {
	spread(f *flow)
}

// spreaderFor returns p's rule.
func spreaderFor(p Policy) spreader {
	switch p {
	case Poison:
		return poison{}
	case FIFO:
		return lineRule{lifo: false}
	case LIFO:
		return lineRule{lifo: true}
	case TIHO:
		return tiho{}
	default:
		return haircut{}
	}
}

// flow is one transaction as a policy sees it (methods.md §0.4): input
// values in vin order with their taint, output values in vout order, the
// fee, and, once spread, the outputs' and the fee's taint.
type flow struct {
	in   []int64
	inT  []*taint // nil for a clean input
	out  []int64
	fee  int64 // V − W ≥ 0
	nsrc int   // sources are 0 … nsrc−1

	maxIntervals int // FIFO/LIFO cap per output (methods.md §1.5)

	outT []taint // per output
	feeT []int64 // per source
	srcT []int64 // per source: T_s, the taint entering (value policies)
	capa []int64 // scratch: remaining capacity per output
	ord  []int   // scratch
	q    []int64 // scratch: haircut's shares
	ap   apportionScratch
	slab []seg // where outputs' segments are cut from (addSeg); reused by reset
	// active is how many sources have taint entering (totals): an
	// output's segments of a value policy are at most that many.
	active int
	// tot is, when totKnown, each output's taint over all its segments
	// (taint.total) as the policy's spread gave it: a rule that knows it
	// without a pass over the segments (haircut, poison) sets it.
	tot      []int64
	totKnown bool
}

// addSeg appends sg to output j's taint. An output's segments are cut
// from a slab, reused from one visit to the next (what outlives the visit
// is copied out: an arrival's segments into engine.segs, a Tracer's
// resting taint), with room for one segment per active source (a value
// policy gives an output at most one per source): a further segment
// grows the slice out of the slab.
func (f *flow) addSeg(j int, sg seg) {
	t := &f.outT[j]
	if t.segs == nil {
		k := max(f.active, 1)
		if len(f.slab)+k > cap(f.slab) {
			// Twice the one filled: a visit of many outputs and sources
			// (a CoinJoin's) fills one slab, not one a few outputs, and
			// the visits after it fit in it (reset keeps it).
			f.slab = make([]seg, 0, max(2*cap(f.slab), 512, k))
		}
		n := len(f.slab)
		f.slab = f.slab[:n+k]
		t.segs = f.slab[n : n : n+k]
	}
	t.segs = append(t.segs, sg)
}

// reset prepares f for a transaction with the given number of inputs and
// outputs, keeping its buffers.
func (f *flow) reset(nin, nout, nsrc int) {
	f.in = grow(f.in, nin)
	f.inT = growPtr(f.inT, nin)
	f.out = grow(f.out, nout)
	f.outT = slices.Grow(f.outT[:0], nout)[:nout]
	clear(f.outT)
	f.nsrc = nsrc
	f.feeT = grow(f.feeT, nsrc)
	f.srcT = grow(f.srcT, nsrc)
	f.fee = 0
	f.active = 0
	f.totKnown = false
	f.slab = f.slab[:0]
}

// totals fills f.srcT with the taint entering per source, and f.active
// with how many sources have some.
func (f *flow) totals() {
	clear(f.srcT)
	for _, t := range f.inT {
		if t == nil {
			continue
		}
		for _, s := range t.segs {
			f.srcT[s.src] += s.hi - s.lo
		}
	}
	f.active = 0
	for _, x := range f.srcT {
		if x != 0 {
			f.active++
		}
	}
}

func grow(s []int64, n int) []int64 {
	if cap(s) < n {
		return make([]int64, n)
	}
	s = s[:n]
	clear(s)
	return s
}

func growPtr(s []*taint, n int) []*taint {
	if cap(s) < n {
		return make([]*taint, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// seg is a piece of taint of one source. For the value policies (poison,
// haircut, TIHO) lo is 0 and hi the amount, one seg per source in source
// order. For the interval policies (FIFO, LIFO) [lo, hi) is a span of the
// output's own line (offsets 0 … value), segs sorted by lo and disjoint.
type seg struct {
	src    int32
	lo, hi int64
}

// taint is what one output carries.
type taint struct {
	segs      []seg
	compacted bool // FIFO/LIFO: positions approximated to keep the cap (methods.md §1.5)
	viaCJ     bool // the taint went through a CoinJoin (--through-coinjoin)
}

// total returns the tainted amount over all sources.
func (t *taint) total() int64 {
	var n int64
	for _, s := range t.segs {
		n += s.hi - s.lo
	}
	return n
}

// bySource returns the tainted amount per source, for sources with taint,
// in source order.
func (t *taint) bySource() []srcAmount { return t.appendBySource(nil) }

// appendBySource is bySource appending to buf (a caller's reused buffer).
func (t *taint) appendBySource(buf []srcAmount) []srcAmount {
	out := buf[:0]
	if len(t.segs) == 1 { // most: one source, or one span
		return append(out, srcAmount{t.segs[0].src, t.segs[0].hi - t.segs[0].lo})
	}
	// A value policy's taint is one segment a source, in source order:
	// then each segment is its source's amount.
	distinct := true
	for i := 1; i < len(t.segs); i++ {
		if t.segs[i].src <= t.segs[i-1].src {
			distinct = false
			break
		}
	}
	if distinct {
		for _, s := range t.segs {
			out = append(out, srcAmount{s.src, s.hi - s.lo})
		}
		return out
	}
	for _, s := range t.segs {
		found := false
		for i := range out {
			if out[i].src == s.src {
				out[i].amount += s.hi - s.lo
				found = true
				break
			}
		}
		if !found {
			out = append(out, srcAmount{s.src, s.hi - s.lo})
		}
	}
	for i := 1; i < len(out); i++ { // few sources: insertion sort
		for j := i; j > 0 && out[j].src < out[j-1].src; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

type srcAmount struct {
	src    int32
	amount int64
}
