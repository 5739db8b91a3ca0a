package trace

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// haircutByDefinition is methods.md §1.4 as written, the spread before
// its shortcuts: per source in source order, the fee's floor, the excess
// over the room to the fee, and Apportion over the outputs' remaining
// capacity. It returns each output's amount per source and the fee's.
func haircutByDefinition(in, out []int64, inT []*taint, nsrc int) (shares [][]int64, fees []int64) {
	var v, fee int64
	for _, x := range in {
		v += x
	}
	fee = v
	for _, x := range out {
		fee -= x
	}
	srcT := make([]int64, nsrc)
	for _, t := range inT {
		if t != nil {
			for _, s := range t.segs {
				srcT[s.src] += s.hi - s.lo
			}
		}
	}
	capa := slices.Clone(out)
	shares = make([][]int64, len(out))
	for j := range shares {
		shares[j] = make([]int64, nsrc)
	}
	fees = make([]int64, nsrc)
	for s, t := range srcT {
		if t == 0 {
			continue
		}
		var room, tf int64
		for _, c := range capa {
			room += c
		}
		if v > 0 {
			tf, _ = mulDiv(fee, t, v)
		}
		d := t - tf
		if d > room {
			tf, d = tf+d-room, room
		}
		fees[s] = tf
		for j, a := range Apportion(d, capa) {
			shares[j][s] += a
			capa[j] -= a
		}
	}
	return shares, fees
}

// TestHaircutSpread checks haircut's spread (its one-division case of two
// outputs, its cases of one output and of full outputs, the products
// beyond 64 bits) against methods.md's definition on random transactions:
// the same share of every output per source, the same fee per source,
// and one segment a source in source order; and, for haircut and poison,
// each output's total the spread gives (flow.tot) against its segments.
func TestHaircutSpread(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(21, 22))
	amount := func(scale int) int64 {
		switch scale {
		case 0:
			return rng.Int64N(4) // zeros and ties
		case 1:
			return rng.Int64N(1_000_000)
		default:
			return rng.Int64N(math.MaxInt64 / 64) // products beyond 64 bits
		}
	}
	var f flow
	for range 40000 {
		scale := rng.IntN(3)
		nin, nout, nsrc := 1+rng.IntN(4), 1+rng.IntN(3), 1+rng.IntN(6)
		if rng.IntN(10) == 0 {
			nout = 3 + rng.IntN(40)
		}
		f.reset(nin, nout, nsrc)
		var wsum int64
		for j := range nout {
			f.out[j] = amount(scale)
			wsum += f.out[j]
		}
		// Inputs worth the outputs and a fee (none, some, or all of a
		// spare input); each tainted in part or whole, by one or more
		// sources in order.
		var v int64
		for i := range nin {
			f.in[i] = amount(scale)
			v += f.in[i]
		}
		if v < wsum {
			f.in[0] += wsum - v
			if rng.IntN(3) == 0 {
				f.in[0] += amount(scale)
			}
		}
		f.fee = -wsum
		ts := make([]taint, nin)
		for i := range nin {
			f.fee += f.in[i]
			if rng.IntN(4) == 0 {
				continue
			}
			left := f.in[i]
			for s := range nsrc {
				if left == 0 || rng.IntN(2) == 0 {
					continue
				}
				a := left
				if rng.IntN(3) > 0 {
					a = rng.Int64N(left + 1)
				}
				if a > 0 {
					ts[i].segs = append(ts[i].segs, seg{src: int32(s), hi: a})
					left -= a
				}
			}
			f.inT[i] = &ts[i]
		}
		wantShares, wantFees := haircutByDefinition(f.in, f.out, f.inT, nsrc)
		haircut{}.spread(&f)
		for j := range nout {
			got := make([]int64, nsrc)
			last := int32(-1)
			for _, sg := range f.outT[j].segs {
				if sg.src <= last || sg.lo != 0 || sg.hi <= 0 {
					t.Fatalf("output %d: segments %v: want one positive segment a source, in order", j, f.outT[j].segs)
				}
				got[sg.src], last = sg.hi, sg.src
			}
			if !slices.Equal(got, wantShares[j]) {
				t.Fatalf("in %v out %v taint %v: output %d shares %v, want %v", f.in, f.out, ts, j, got, wantShares[j])
			}
			if tot := f.outT[j].total(); !f.totKnown || f.tot[j] != tot {
				t.Fatalf("in %v out %v taint %v: output %d total %d (known %v), want %d", f.in, f.out, ts, j, f.tot[j], f.totKnown, tot)
			}
		}
		if !slices.Equal(f.feeT, wantFees) {
			t.Fatalf("in %v out %v taint %v: fee shares %v, want %v", f.in, f.out, ts, f.feeT, wantFees)
		}
		// Poison on the same flow: every output's total is what its
		// segments sum to, as for haircut.
		in, out, inT, fee := slices.Clone(f.in), slices.Clone(f.out), slices.Clone(f.inT), f.fee
		f.reset(nin, nout, nsrc)
		copy(f.in, in)
		copy(f.out, out)
		copy(f.inT, inT)
		f.fee = fee
		poison{}.spread(&f)
		for j := range nout {
			if tot := f.outT[j].total(); !f.totKnown || f.tot[j] != tot {
				t.Fatalf("poison: in %v out %v taint %v: output %d total %d (known %v), want %d", in, out, ts, j, f.tot[j], f.totKnown, tot)
			}
		}
	}
}
