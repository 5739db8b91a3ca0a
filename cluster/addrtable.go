package cluster

import (
	"hash/maphash"
	"math/bits"
)

// addrKey is a 96-bit hash of an address string: the in-memory identity
// of an address (the string itself stays in the store). Two independent
// seeded hashes give hi and lo; two of n distinct addresses share a key
// with probability about n²/2⁹⁷ (1.4e-11 for the 1.5 billion addresses
// of the Bitcoin chain, 1e-18 for a world of 350,000).
type addrKey struct {
	hi uint64
	lo uint32
}

// hasher computes addrKeys with seeds drawn for one engine.
type hasher [2]maphash.Seed

func newHasher() hasher { return hasher{maphash.MakeSeed(), maphash.MakeSeed()} }

func (h *hasher) key(addr string) addrKey {
	return addrKey{maphash.String(h[0], addr), uint32(maphash.String(h[1], addr))}
}

// addrTable maps address keys to address ids 1, 2, ... given out in
// order. Keys are kept by id in two flat arrays (12 bytes an address, on
// the heap or spilled) and
// found through an open-addressing table of ids with linear probing (4
// bytes a slot, at most maxLoad full) beside a byte a slot of the key's
// tag (8 bits of lo, never 0; 0 marks an empty slot): a probe reads the
// key of an id only when the tags match, so looking up an address the
// table does not hold (every new address) reads the tags and seldom
// anything else, where it read the key of every id on its way. No
// pointers, so the garbage collector never scans it, and about 19.5 bytes
// an address in all where the Go map of 128-bit keys it replaced took
// about 40 (docs/benchmarks.md).
type addrTable struct {
	hi    []uint64 // hi[id]; id 0 unused
	lo    []uint32
	slots []uint32 // address ids; 0 is an empty slot
	tags  []uint8  // tags[i]: the tag of slots[i]'s key; 0 for an empty slot
	used  int
	spill *spiller
}

// tag returns the tag of a key whose lo is lo.
func tag(lo uint32) uint8 { return max(uint8(lo), 1) }

// maxLoad bounds the fraction of slots in use (linear probing's expected
// probes for a miss are about (1+1/(1-α)²)/2: 8.5 at 0.8).
const maxLoad = 0.8

// newAddrTable returns a table with room for n addresses before it grows,
// its keys on the heap or spilled (spill.go) to dir.
func newAddrTable(n int, dir string) (*addrTable, error) {
	hi, lo, s, err := arrays[uint64, uint32](dir, n+1)
	if err != nil {
		return nil, err
	}
	t := &addrTable{hi: append(hi, 0), lo: append(lo, 0), spill: s}
	releaseWith(s, t)
	t.resize(slotsFor(n))
	return t, nil
}

// slotsFor returns a table size that holds n keys at about 0.7 full.
func slotsFor(n int) int { return max(16, n+n*3/7) }

// reserve makes room for n more addresses in the spilled keys (spill.go);
// add must not go past it.
func (t *addrTable) reserve(n int) error { return t.spill.reserve(int64(len(t.hi) + n)) }

// len returns the number of addresses in the table.
func (t *addrTable) len() int { return len(t.hi) - 1 }

// home returns k's first slot: hi scaled to the table's size.
func (t *addrTable) home(hi uint64) int {
	s, _ := bits.Mul64(hi, uint64(len(t.slots)))
	return int(s)
}

// get returns the id of k, or 0 when k is not in the table.
func (t *addrTable) get(k addrKey) uint32 {
	n, want := len(t.tags), tag(k.lo)
	for i := t.home(k.hi); ; {
		switch t.tags[i] {
		case 0:
			return 0
		case want:
			if id := t.slots[i]; t.hi[id] == k.hi && t.lo[id] == k.lo {
				return id
			}
		}
		if i++; i == n {
			i = 0
		}
	}
}

// getOrAdd returns the id of k, giving it the next id when the table does
// not hold it (added true): get and add in one probe, the slot a miss ends
// on being where k goes while the table has room.
func (t *addrTable) getOrAdd(k addrKey) (id uint32, added bool) {
	n, want := len(t.tags), tag(k.lo)
	i := t.home(k.hi)
	for {
		switch t.tags[i] {
		case 0:
			if float64(t.used+1) > maxLoad*float64(n) {
				return t.add(k), true
			}
			id = uint32(len(t.hi))
			t.hi = append(t.hi, k.hi)
			t.lo = append(t.lo, k.lo)
			t.slots[i], t.tags[i] = id, want
			t.used++
			return id, true
		case want:
			if id := t.slots[i]; t.hi[id] == k.hi && t.lo[id] == k.lo {
				return id, false
			}
		}
		if i++; i == n {
			i = 0
		}
	}
}

// add gives k (not in the table) the next id and returns it.
func (t *addrTable) add(k addrKey) uint32 {
	if float64(t.used+1) > maxLoad*float64(len(t.slots)) {
		t.resize(slotsFor(t.used + 1 + t.used/2))
	}
	id := uint32(len(t.hi))
	t.hi = append(t.hi, k.hi)
	t.lo = append(t.lo, k.lo)
	t.place(id)
	return id
}

// place puts id in the first empty slot from its key's home.
func (t *addrTable) place(id uint32) {
	i := firstEmpty(t.tags, t.home(t.hi[id]))
	t.slots[i], t.tags[i] = id, tag(t.lo[id])
	t.used++
}

// firstEmpty returns the first slot of an open-addressing table that holds
// 0, from slot i on, wrapping around (linear probing).
func firstEmpty[T uint8 | uint32 | uint64](slots []T, i int) int {
	for slots[i] != 0 {
		if i++; i == len(slots) {
			i = 0
		}
	}
	return i
}

// resize makes the slot table n slots long and places every id again.
func (t *addrTable) resize(n int) {
	t.slots, t.tags = make([]uint32, n), make([]uint8, n)
	t.used = 0
	for id := 1; id < len(t.hi); id++ {
		t.place(uint32(id))
	}
}
