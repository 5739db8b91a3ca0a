package trace

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDenseIndex checks denseIndex against a map on random sets and gets:
// keys at the ends of the 32-bit range, at page edges and at random, in
// runs and far apart, values from -1 up, overwrites, and reset.
func TestDenseIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	edges := []uint32{0, 1, 255, 256, 257, 1<<20 - 1, 1 << 20, 1<<20 + 1, 1<<31 - 1, 1 << 31, ^uint32(0) - 1, ^uint32(0)}
	for round := range 20 {
		var d denseIndex
		model := map[uint32]int32{}
		key := func() uint32 {
			switch r.IntN(3) {
			case 0:
				return edges[r.IntN(len(edges))]
			case 1:
				return uint32(r.IntN(4096)) + uint32(round)<<24 // a run
			}
			return r.Uint32()
		}
		for range 2000 {
			k := key()
			if r.IntN(2) == 0 {
				v := int32(r.IntN(1000)) - 1
				d.set(k, v)
				model[k] = v
			}
			got, ok := d.get(k)
			want, wok := model[k]
			if ok != wok || got != want {
				t.Fatalf("round %d: get(%d) = %d %v, want %d %v", round, k, got, ok, want, wok)
			}
			if d.len() != len(model) {
				t.Fatalf("round %d: len %d, want %d", round, d.len(), len(model))
			}
		}
		for k, want := range model {
			if got, ok := d.get(k); !ok || got != want {
				t.Fatalf("round %d: get(%d) = %d %v, want %d", round, k, got, ok, want)
			}
		}
		d.reset()
		for k := range model {
			if _, ok := d.get(k); ok {
				t.Fatalf("round %d: %d set after reset", round, k)
			}
		}
	}
	var d denseIndex
	defer func() {
		if recover() == nil {
			t.Error("set of -2 did not panic")
		}
	}()
	d.set(3, -2)
}

// TestChunks checks chunks against a slice: adds, reads, writes through
// at, truncates (the dropped values are zero when added again), and that
// a value's address stays the same while the list grows.
func TestChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	type v struct {
		a int64
		s string
	}
	var c chunks[v]
	var model []v
	first := (*v)(nil)
	for step := range 20000 {
		switch op := r.IntN(10); {
		case op < 7:
			x := v{a: int64(step), s: string(rune('a' + step%26))}
			if i := c.add(x); i != len(model) {
				t.Fatalf("step %d: add returned %d, want %d", step, i, len(model))
			}
			model = append(model, x)
		case op < 9 && len(model) > 0:
			i := r.IntN(len(model))
			c.at(i).a += 7
			model[i].a += 7
		case len(model) > 0:
			n := len(model) - r.IntN(min(len(model), 3000)+1)
			c.truncate(n)
			model = model[:n]
		}
		if c.len() != len(model) {
			t.Fatalf("step %d: len %d, want %d", step, c.len(), len(model))
		}
		if len(model) > 0 {
			if first == nil {
				first = c.at(0)
			}
			if c.at(0) != first {
				t.Fatalf("step %d: the first value moved", step)
			}
		} else {
			first = nil
		}
	}
	for i := range model {
		if *c.at(i) != model[i] {
			t.Fatalf("value %d = %+v, want %+v", i, *c.at(i), model[i])
		}
	}
	// Truncated places are zero when added again: the pages keep nothing
	// of what was dropped.
	n := c.len()
	c.truncate(0)
	for i := range n {
		if *c.at(i) != (v{}) {
			t.Fatalf("value %d not cleared: %+v", i, *c.at(i))
		}
	}
}

// TestAddSegRoom checks that outputs' segments cut from the flow's slab
// with room for the active sources stay apart: random flows with several
// sources, segments added to outputs in any order (more than the room
// for some), and every output holds exactly what was added to it. The
// slab is reused from the next reset on (what outlives a visit is
// copied out: engine.segs, a Tracer's resting taint).
func TestAddSegRoom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var f flow
	for visit := range 3000 {
		nsrc := 1 + r.IntN(10)
		nout := 1 + r.IntN(6)
		f.reset(2, nout, nsrc)
		in := make([]taint, 2)
		for s := range nsrc {
			if r.IntN(3) > 0 {
				in[r.IntN(2)].segs = append(in[r.IntN(2)].segs, seg{src: int32(s), hi: 1 + int64(r.IntN(100))})
			}
		}
		f.inT[0], f.inT[1] = &in[0], &in[1]
		f.totals()
		active := 0
		for _, x := range f.srcT {
			if x != 0 {
				active++
			}
		}
		if f.active != active {
			t.Fatalf("visit %d: active %d, want %d", visit, f.active, active)
		}
		outs := make([][]seg, nout)
		for range r.IntN(3 * (active + 1) * nout) {
			j := r.IntN(nout)
			sg := seg{src: int32(r.IntN(nsrc)), hi: int64(visit)<<8 | int64(len(outs[j]))}
			f.addSeg(j, sg)
			outs[j] = append(outs[j], sg)
		}
		for j := range nout {
			if !slices.Equal(f.outT[j].segs, outs[j]) {
				t.Fatalf("visit %d output %d: %v, want %v", visit, j, f.outT[j].segs, outs[j])
			}
		}
	}
}

// TestSegPool checks that runs of segments put into the pool read back
// as they were put, after many later puts (runs of 0 to beyond a page,
// so that some start a page and some fill one), and that a run read back
// is capped at its end: appending to it leaves the next run alone.
func TestSegPool(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var p segPool
	var refs []segRef
	var want [][]seg
	for i := range 5000 {
		n := r.IntN(12)
		if r.IntN(500) == 0 {
			n = segPage + r.IntN(100)
		}
		var s []seg
		for k := range n {
			s = append(s, seg{src: int32(i), lo: int64(k), hi: r.Int64()})
		}
		refs = append(refs, p.put(s))
		want = append(want, s)
		if i > 0 && r.IntN(10) == 0 {
			_ = append(p.get(refs[i-1]), seg{src: -1})
		}
	}
	for i, ref := range refs {
		if got := p.get(ref); !slices.Equal(got, want[i]) {
			t.Fatalf("run %d: %v, want %v", i, got, want[i])
		}
	}
	if len(p.pages) < 3 {
		t.Errorf("the runs filled %d pages: too few to test page ends", len(p.pages))
	}
}
