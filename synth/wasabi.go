package synth

import (
	"cmp"
	"slices"
)

// Wasabi 2 (WabiSabi, methods.md §4.3): rounds of at least 20 inputs (here
// 20-150), all P2WPKH or P2TR; each participant's money comes out as
// standard denominations (2^k, 3^k, 2·3^k, 10^k, 2·10^k, 5·10^k between
// 5,000 sat and 1,343.75 BTC), possibly plus one change output; inputs and
// outputs sorted by value, descending. Each participant pays the miner fee
// of its own inputs and outputs; remainders below 5,000 sat go to the fee.
// The coordinator charges no fee (as 2024's independent coordinators did),
// so a participant's loss is exactly its inputs minus its outputs.

// Wasabi denomination bounds (sat).
const (
	minDenom = 5_000
	maxDenom = 134_375_000_000
)

// wasabiDenoms lists the standard denominations in increasing order.
var wasabiDenoms = standardDenominations()

func standardDenominations() []int64 {
	var ds []int64
	add := func(v int64) {
		if v >= minDenom && v <= maxDenom {
			ds = append(ds, v)
		}
	}
	for v := int64(1); v <= maxDenom; v *= 2 {
		add(v)
	}
	for v := int64(1); v <= maxDenom; v *= 3 {
		add(v)
		add(2 * v)
	}
	for v := int64(1); v <= maxDenom; v *= 10 {
		add(v)
		add(2 * v)
		add(5 * v)
	}
	slices.Sort(ds)
	return slices.Compact(ds)
}

// isDenomination reports whether v is a standard denomination.
func isDenomination(v int64) bool {
	_, ok := slices.BinarySearch(wasabiDenoms, v)
	return ok
}

// wasabiHab is the coordinator's transaction fingerprint.
var wasabiHab = habits{version: 1, sequence: seqFinal, feePct: 100}

// wasabi holds coins registered for the next round by actors that do not
// choose their rounds themselves (attackers).
type wasabi struct {
	queue []coin
}

// participant is one party of a round: its inputs, where its outputs go,
// and the output values it gets.
type participant struct {
	ins  []coin
	dst  *wallet
	outs []int64
	max  int // outputs it may have
	user bool
}

// wasabiEligible reports whether c can enter a round at height h.
func (w *world) wasabiEligible(c *coin, h int32) bool {
	t := w.book.kind[c.addr]
	return (t == p2wpkh || t == p2tr) && c.spendable(h) && c.value >= 25_000
}

// wasabiRound gathers the queued coins and Wasabi users' coins and, if at
// least 20 inputs come together, writes the round.
func (w *world) wasabiRound(h int32) {
	target := w.p.wasabiMin + w.rng.IntN(w.p.wasabiMax-w.p.wasabiMin+1)
	var parts []*participant
	n := 0
	var queued []coin
	for _, c := range w.wasabi.queue {
		if !c.spendable(h) || n >= target {
			queued = append(queued, c)
			continue
		}
		parts = append(parts, &participant{ins: []coin{c}, dst: c.owner.mixOut, max: 10})
		n++
	}
	w.wasabi.queue = queued
	for _, i := range w.rng.Perm(len(w.wasabiUsers)) {
		if n >= target {
			break
		}
		u := w.wasabiUsers[i]
		var idx []int
		want := 1 + w.rng.IntN(6)
		for j := range u.w.coins {
			if len(idx) < want && w.wasabiEligible(&u.w.coins[j], h) {
				idx = append(idx, j)
			}
		}
		if len(idx) == 0 {
			continue
		}
		parts = append(parts, &participant{ins: u.w.removeAt(idx), dst: u.w, max: 1 + w.rng.IntN(6), user: true})
		n += len(idx)
	}
	if n < 20 || !w.wasabiPlan(parts) {
		for _, p := range parts {
			if p.user {
				p.dst.restore(p.ins)
			} else {
				w.wasabi.queue = append(w.wasabi.queue, p.ins...)
			}
		}
		return
	}
	d := &draft{hab: &wasabiHab, change: -1, coinjoin: "wasabi2"}
	for _, p := range parts {
		d.ins = append(d.ins, p.ins...)
		for _, v := range p.outs {
			d.outs = append(d.outs, output{addr: w.book.alloc(p.dst.ent, p.dst.stype), value: v, to: p.dst})
		}
	}
	slices.SortStableFunc(d.ins, func(a, b coin) int {
		if c := cmp.Compare(b.value, a.value); c != 0 {
			return c
		}
		return cmp.Compare(a.addr, b.addr)
	})
	slices.SortStableFunc(d.outs, func(a, b output) int {
		if c := cmp.Compare(b.value, a.value); c != 0 {
			return c
		}
		return cmp.Compare(a.addr, b.addr)
	})
	if _, ok := w.commit(d); !ok {
		panic("synth: wasabi round does not balance")
	}
}

// wasabiPlan decomposes every participant's money into outputs so that the
// round has the WabiSabi shape: more than 80% standard denominations, at
// least three distinct repeated values, at least one other output. It
// reports false when it cannot.
func (w *world) wasabiPlan(parts []*participant) bool {
	rate := w.feeRate(&wasabiHab)
	redo := true
	for attempt := 0; attempt < 8; attempt++ {
		if redo {
			for _, p := range parts {
				w.decompose(p, rate)
			}
		}
		redo = true
		std, all, nonStd := 0, 0, 0
		counts := map[int64]int{}
		for _, p := range parts {
			for _, v := range p.outs {
				all++
				counts[v]++
				if isDenomination(v) {
					std++
				} else {
					nonStd++
				}
			}
		}
		repeated := 0
		for _, c := range counts {
			if c >= 2 {
				repeated++
			}
		}
		switch {
		case repeated < 3:
			return false
		case std*5 <= all*4:
			for _, p := range parts {
				p.max += 4
			}
		case nonStd == 0:
			// Give one user a change output: merge its two smallest.
			if !w.mergeSmallest(parts, rate) {
				return false
			}
			redo = false
		default:
			return true
		}
	}
	return false
}

// mergeSmallest replaces the two smallest outputs of the first user
// participant that has two by one output of their sum (plus the output fee
// it saves), if that sum is not a denomination.
func (w *world) mergeSmallest(parts []*participant, rate int64) bool {
	for _, p := range parts {
		if !p.user || len(p.outs) < 2 {
			continue
		}
		slices.SortFunc(p.outs, func(a, b int64) int { return cmp.Compare(b, a) })
		k := len(p.outs)
		merged := p.outs[k-1] + p.outs[k-2] + rate*outputVBytes(p.dst.stype)
		if !isDenomination(merged) {
			p.outs = append(p.outs[:k-2], merged)
			return true
		}
	}
	return false
}

// decompose sets p.outs: greedy standard denominations (now and then one
// size smaller, for variety), at most p.max of them, and a change output
// for what is left if it is worth one. Fees are the participant's inputs'
// and outputs' virtual bytes at rate.
func (w *world) decompose(p *participant, rate int64) {
	var in, vb int64
	for i := range p.ins {
		in += p.ins[i].value
		vb += inputVBytes(w.book.kind[p.ins[i].addr], p.ins[i].owner.hab.lowR)
	}
	outFee := rate * outputVBytes(p.dst.stype)
	rem := in - rate*vb
	p.outs = p.outs[:0]
	for len(p.outs) < p.max {
		i, ok := slices.BinarySearch(wasabiDenoms, rem-outFee)
		if !ok {
			i--
		}
		if i < 0 {
			break
		}
		if i > 0 && w.rng.IntN(4) == 0 {
			i--
		}
		p.outs = append(p.outs, wasabiDenoms[i])
		rem -= wasabiDenoms[i] + outFee
	}
	if rem-outFee >= minDenom {
		p.outs = append(p.outs, rem-outFee)
	}
}
