package trace

import (
	"slices"

	"github.com/holiman/uint256"
)

// This file holds the five policies on a balance (methods.md §2.2): how a
// debit from a balance of one (address, asset) takes its taint, and how
// credits join the balance. A balance, a transfer in flight and an inflow
// waiting in a transaction (§2.3) are all parcels.

// lot is a run of value of one kind on a FIFO/LIFO balance's line, oldest
// first: all tainted or all clean.
type lot struct {
	n       uint256.Int
	tainted bool
}

// parcel is value of one asset: its amount, its tainted part and, for
// FIFO and LIFO, its lots in line order (oldest first) summing to amt.
// Under poison a tainted parcel is tainted whole (tnt == amt) and stays
// marked even when its balance runs to zero (methods.md §2.2: once tainted,
// every later debit is). hop is the smallest hop of its taint.
type parcel struct {
	amt, tnt uint256.Int
	lots     []lot
	hop      int
	mark     bool // poison: tainted for good
}

// acctRule is one policy on balances.
type acctRule struct {
	policy  Policy
	lines   bool // FIFO or LIFO: lots
	maxLots int
}

func (p *parcel) reset() {
	p.amt.Clear()
	p.tnt.Clear()
	p.lots = p.lots[:0]
	p.hop = 0
	p.mark = false
}

// tainted reports whether p carries taint.
func (p *parcel) tainted() bool { return p.mark || !p.tnt.IsZero() }

// set makes p a copy of q (reusing p's lots).
func (p *parcel) set(q *parcel) {
	p.amt, p.tnt, p.hop, p.mark = q.amt, q.tnt, q.hop, q.mark
	p.lots = append(p.lots[:0], q.lots...)
}

// addSat adds y to x, saturating at 2²⁵⁶−1 (only a token that logs absurd
// amounts gets there; taint, bounded by the seeds, never does).
func addSat(x, y *uint256.Int) {
	if _, o := x.AddOverflow(x, y); o {
		x.SetAllOne()
	}
}

// pushLot appends a lot, merging it with the last one of the same kind.
func (p *parcel) pushLot(l lot) {
	if l.n.IsZero() {
		return
	}
	if k := len(p.lots); k > 0 && p.lots[k-1].tainted == l.tainted {
		addSat(&p.lots[k-1].n, &l.n)
		return
	}
	p.lots = append(p.lots, l)
}

// add joins q to the end (newest part) of p.
func (r *acctRule) add(p, q *parcel) {
	if q.tainted() && (!p.tainted() || q.hop < p.hop) {
		p.hop = q.hop
	}
	wasTainted := p.tainted()
	addSat(&p.amt, &q.amt)
	switch {
	case r.policy == Poison:
		if wasTainted || q.tainted() {
			p.tnt, p.mark = p.amt, true
		}
	case r.lines:
		addSat(&p.tnt, &q.tnt)
		for _, l := range q.lots {
			p.pushLot(l)
		}
		r.compact(p)
	default:
		addSat(&p.tnt, &q.tnt)
	}
}

// prependClean puts n clean base units at the start (oldest part) of p:
// an opening balance, or value whose history the store lacks.
func (r *acctRule) prependClean(p *parcel, n *uint256.Int) {
	if n.IsZero() {
		return
	}
	addSat(&p.amt, n)
	switch {
	case r.policy == Poison:
		if p.tainted() {
			p.tnt = p.amt
		}
	case r.lines:
		if len(p.lots) > 0 && !p.lots[0].tainted {
			addSat(&p.lots[0].n, n)
		} else {
			p.lots = slices.Insert(p.lots, 0, lot{n: *n})
		}
	}
}

// take moves d base units (d ≤ p.amt) out of p into out (reset first)
// under the policy: FIFO from the oldest lots, LIFO from the newest,
// haircut ⌊d·tnt/amt⌋ (the floor residue stays in p), taint-first
// min(d, tnt) (and at most *limit when limit is not nil, unless p's clean
// part cannot cover the rest), poison all of d when p is tainted. out.hop
// is p.hop.
func (r *acctRule) take(p *parcel, d *uint256.Int, out *parcel, limit *uint256.Int) {
	out.reset()
	out.amt = *d
	out.hop = p.hop
	if d.IsZero() {
		return
	}
	switch r.policy {
	case Poison:
		if p.tainted() {
			out.tnt = *d
		}
	case Haircut:
		if p.tainted() {
			out.tnt.MulDivOverflow(d, &p.tnt, &p.amt) // ≤ d: no overflow
		}
	case TIHO:
		out.tnt = *d
		if p.tnt.Lt(&out.tnt) {
			out.tnt = p.tnt
		}
		if limit != nil && limit.Lt(&out.tnt) {
			out.tnt = *limit
		}
		// What the clean part cannot cover is tainted, whatever the limit.
		var clean, floor uint256.Int
		clean.Sub(&p.amt, &p.tnt)
		if clean.Lt(d) {
			floor.Sub(d, &clean)
			if out.tnt.Lt(&floor) {
				out.tnt = floor
			}
		}
	case FIFO:
		r.takeFront(p, d, out)
	case LIFO:
		r.takeBack(p, d, out)
	}
	p.amt.Sub(&p.amt, d)
	p.tnt.Sub(&p.tnt, &out.tnt)
	if r.policy == Poison && p.tainted() {
		p.tnt = p.amt
	}
}

// takeFront takes d from the oldest lots of p into out's lots.
func (r *acctRule) takeFront(p *parcel, d *uint256.Int, out *parcel) {
	rem := *d
	i := 0
	for ; i < len(p.lots) && !rem.IsZero(); i++ {
		l := &p.lots[i]
		if l.n.Gt(&rem) {
			out.pushLot(lot{n: rem, tainted: l.tainted})
			if l.tainted {
				addSat(&out.tnt, &rem)
			}
			l.n.Sub(&l.n, &rem)
			rem.Clear()
			break
		}
		out.pushLot(*l)
		if l.tainted {
			addSat(&out.tnt, &l.n)
		}
		rem.Sub(&rem, &l.n)
	}
	p.lots = append(p.lots[:0], p.lots[i:]...)
}

// takeBack takes d from the newest lots of p; out's lots keep line order.
func (r *acctRule) takeBack(p *parcel, d *uint256.Int, out *parcel) {
	rem := *d
	j := len(p.lots)
	for j > 0 && !rem.IsZero() {
		l := &p.lots[j-1]
		if l.n.Gt(&rem) {
			if l.tainted {
				addSat(&out.tnt, &rem)
			}
			l.n.Sub(&l.n, &rem)
			out.lots = append(out.lots, lot{n: rem, tainted: l.tainted})
			rem.Clear()
			break
		}
		if l.tainted {
			addSat(&out.tnt, &l.n)
		}
		out.lots = append(out.lots, *l)
		rem.Sub(&rem, &l.n)
		j--
	}
	p.lots = p.lots[:j]
	slices.Reverse(out.lots)
}

// taintNewest turns up to n of p's clean value tainted, newest first (a
// seed claim), and returns how much it turned. The caller ensures room.
func (r *acctRule) taintNewest(p *parcel, n *uint256.Int) uint256.Int {
	var room uint256.Int
	room.Sub(&p.amt, &p.tnt)
	give := *n
	if room.Lt(&give) {
		give = room
	}
	if give.IsZero() {
		return give
	}
	p.hop = 0
	switch {
	case r.policy == Poison:
		p.tnt, p.mark = p.amt, true
		return give
	case r.lines:
		rem := give
		for j := len(p.lots) - 1; j >= 0 && !rem.IsZero(); j-- {
			l := &p.lots[j]
			if l.tainted {
				continue
			}
			if l.n.Gt(&rem) {
				// Split: the older part stays clean, the newer is tainted.
				var old uint256.Int
				old.Sub(&l.n, &rem)
				l.n = rem
				l.tainted = true
				p.lots = slices.Insert(p.lots, j, lot{n: old})
				rem.Clear()
				break
			}
			l.tainted = true
			rem.Sub(&rem, &l.n)
		}
		r.merge(p)
	}
	addSat(&p.tnt, &give)
	return give
}

// clearTaint makes p wholly clean (its taint became a sink).
func (r *acctRule) clearTaint(p *parcel) {
	p.tnt.Clear()
	p.mark = false
	for i := range p.lots {
		p.lots[i].tainted = false
	}
	r.merge(p)
}

// merge joins adjacent lots of the same kind.
func (r *acctRule) merge(p *parcel) {
	if len(p.lots) < 2 {
		return
	}
	out := p.lots[:1]
	for _, l := range p.lots[1:] {
		if k := len(out) - 1; out[k].tainted == l.tainted {
			addSat(&out[k].n, &l.n)
			continue
		}
		out = append(out, l)
	}
	p.lots = out
}

// compact keeps p within maxLots lots, amount-exact (methods.md §2.2, as
// §1.5): while over the cap, the two tainted lots with the smallest clean
// gap between them are joined and the gap moves after them. Tainted and
// clean totals are unchanged; only positions are approximated.
func (r *acctRule) compact(p *parcel) {
	for len(p.lots) > r.maxLots {
		best := -1
		for i := 0; i+2 < len(p.lots); i++ {
			if p.lots[i].tainted && !p.lots[i+1].tainted && p.lots[i+2].tainted &&
				(best < 0 || p.lots[i+1].n.Lt(&p.lots[best+1].n)) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		addSat(&p.lots[best].n, &p.lots[best+2].n)
		p.lots = slices.Delete(p.lots, best+2, best+3)
		r.merge(p)
	}
}
