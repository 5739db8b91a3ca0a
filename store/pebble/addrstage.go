package pebble

import (
	"runtime"
	"slices"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// addrStage is what stageAddrs found of an output's address before the
// block's txs were applied: held, that the chain's filter held it then
// (or the chain has no filter), and when asked, the ids cache's answer
// (id, old, ok: addrIDCache.get's).
type addrStage struct {
	id                   uint64
	held, asked, old, ok bool
}

// stageAddrs looks the addresses of the block's outputs (b's, prepared in
// a.outs) up ahead of its txs, into a.staged, as prespend does its inputs:
// the chain's filter, the first slot of the run's ids table, and for the
// addresses the filter holds (used before: about one in six on the large
// world) the ids cache. Resolved one output at a time (hashedAddrID) each
// of these was a miss waited for before the next; here each stage is a
// loop whose reads do not depend on each other, so their misses overlap:
// the filter's block of every address (its bits tested without a branch),
// then the cache's first slots of the held ones, then the records those
// slots name, then the cache's look-ups, whose reads are in the CPU's
// caches by then.
//
// What the stages found stays true while the block is applied: the cache
// takes nothing while a run is built (cacheIDs runs after), and the filter
// only gains bits, from giveID, which marks the filter blocks it adds to
// (a.dirty): an address the filter did not hold is tested again only when
// its block was added to since. The run's ids table gains entries as the
// block gives ids out, so it is still asked first, as before (its slot
// read here). It makes chain c's filter on the chain's first block.
func (a *applier) stageAddrs(db pebbledb.Reader, b *heistgraph.Block, c chainCode) error {
	f, err := a.newFilter(db, c)
	if err != nil {
		return err
	}
	n := len(a.outs)
	a.staged = slices.Grow(a.staged[:0], n)[:n]
	a.heldAt = slices.Grow(a.heldAt[:0], n)[:n]
	a.heldAddr = slices.Grow(a.heldAddr[:0], n)[:n]
	clear(a.dirty[:])
	var touched uint64
	x := &a.ids.ids
	mask := uint64(len(x.slots) - 1)
	held := 0
	j := 0
	for i := range b.Txs {
		for _, out := range b.Txs[i].Outputs {
			o := &a.outs[j]
			hit := uint64(1)
			if f != nil {
				hit = f.hasBits(o.kh)
			}
			a.staged[j] = addrStage{held: hit != 0}
			// The held addresses, listed without a branch: the next one
			// overwrites what is not.
			a.heldAt[held] = int32(j)
			a.heldAddr[held] = out.Address
			held += int(hit) & b2i(out.Address != "")
			if len(x.slots) > 0 {
				touched += x.slots[o.h&mask]
			}
			j++
		}
	}
	a.heldAt, a.heldAddr = a.heldAt[:held], a.heldAddr[:held]
	gens := &a.idCache.gens
	if held == 0 || gens[0].n+gens[1].n == 0 {
		runtime.KeepAlive(touched)
		return nil
	}
	for _, j := range a.heldAt {
		h := a.outs[j].h
		for g := range gens {
			if gens[g].n > 0 {
				touched += gens[g].slots[h>>gens[g].shift]
			}
		}
	}
	for _, j := range a.heldAt {
		h := a.outs[j].h
		for g := range gens {
			touched += gens[g].first(h)
		}
	}
	runtime.KeepAlive(touched) // the reads are made
	for k, j := range a.heldAt {
		pr := &a.outs[j]
		if !pr.own {
			continue // formOf packs it (packedOf): left to hashedAddrID
		}
		a.form = appendAddrForm(a.form[:0], a.heldAddr[k], &pr.p, pr.ok)
		st := &a.staged[j]
		st.id, st.old, st.ok = a.idCache.get(pr.h, c, a.form)
		st.asked = true
	}
	clear(a.heldAddr) // drop the address strings
	return nil
}

// b2i is 1 for true, 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// hasBits is has as a bit (1: held), without a branch on the filter's
// words: a loop that stages many of them keeps their misses in flight.
func (f *addrFilter) hasBits(h uint64) uint64 {
	w := f.locate(h)
	hit := uint64(1)
	for i := range addrFilterProbes {
		b := h >> (9 * i) & 511
		hit &= f.bits[w+int(b/64)] >> (b % 64)
	}
	return hit & 1
}

// dirtyBlocks marks the filter blocks giveID added to since the block's
// addresses were staged, by their index modulo its bits.
type dirtyBlocks [64]uint64

// mark marks the block of f that h's bits are in.
func (d *dirtyBlocks) mark(f *addrFilter, h uint64) {
	i := f.locate(h) / 8 % (64 * len(d))
	d[i/64] |= 1 << (i % 64)
}

// has reports whether the block of f that h's bits are in may have been
// added to since the stage.
func (d *dirtyBlocks) has(f *addrFilter, h uint64) bool {
	i := f.locate(h) / 8 % (64 * len(d))
	return d[i/64]&(1<<(i%64)) != 0
}

// first returns the first word of the record that g's first slot with h's
// tag names, from h's home (0: none), reading it: stageAddrs' read ahead
// of find's.
func (g *idGen) first(h uint64) uint64 {
	if g.n == 0 {
		return 0
	}
	mask := uint64(len(g.slots) - 1)
	tag := h &^ (1<<32 - 1)
	for i := h >> g.shift; ; i = (i + 1) & mask {
		s := g.slots[i]
		if s == 0 {
			return 0
		}
		if s&^(1<<32-1) == tag {
			at := (int(uint32(s)) - 1) * idRecAlign
			return uint64(g.chunks[at/g.chunk][at%g.chunk])
		}
	}
}
