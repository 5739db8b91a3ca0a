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
// The filter's stage also adds each address it does not hold, as giveID
// did when it gave the address its id: the block's outputs are staged in
// the order they are applied, so each answer is the one the filter gave
// when its output was applied, with the bits of the addresses before it
// set. What the stages found stays true while the block is applied: the
// cache takes nothing while a run is built (cacheIDs runs after), and the
// filter only gains bits. giveID adds those of an address the filter held
// that was new (a false positive: its bits are set) and of an address that
// is not an output's (an input's or a backfill's, which the stage did not
// see); it marks the blocks of the latter in a.dirty, and an address the
// stage found new in such a block is looked for in the run's ids first
// (given its id since, it is there). The run's ids
// table gains entries as the block gives ids out, so it is still asked
// first, as before (its slot read here). It makes chain c's filter on the
// chain's first block.
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
				hit = f.stageBits(o.kh, uint64(b2i(out.Address != "")))
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
	gens := a.idCache.parts()
	if held == 0 || a.idCache.entries() == 0 {
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

// stageBits is has as a bit (1: held), without a branch on the filter's
// words, so that a loop that stages many keeps their misses in flight; an
// address it does not hold is added when add is 1 (giveID's add made here,
// while its block is in the CPU's cache: stageAddrs' addresses are in the
// order giveID would add them).
func (f *addrFilter) stageBits(h, add uint64) uint64 {
	w := f.locate(h)
	hit := uint64(1)
	for i := range addrFilterProbes {
		b := h >> (9 * i) & 511
		hit &= f.bits[w+int(b/64)] >> (b % 64)
	}
	hit &= 1
	add &^= hit
	for i := range addrFilterProbes {
		b := h >> (9 * i) & 511
		f.bits[w+int(b/64)] |= add << (b % 64)
	}
	f.n += int(add)
	return hit
}

// dirtyBlocks marks the filter blocks giveID added an address to that is
// not an output's since the block's addresses were staged, by their index
// modulo its bits.
type dirtyBlocks [64]uint64

// mark marks the block of f that h's bits are in.
func (d *dirtyBlocks) mark(f *addrFilter, h uint64) {
	i := f.locate(h) / 8 % (64 * len(d))
	d[i/64] |= 1 << (i % 64)
}

// has reports whether the block of f that h's bits are in may have had
// such an address added since the stage.
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
