package pebble

import "math/bits"

// tagSlots is the table of slots of the ids cache's generations and the
// output cache: open-addressed, a power of two long, each slot the high 32
// bits of a hash and 1 + the place of its record (0: empty), its first
// probe chosen by the high bits of the hash, which the slot keeps, so that
// doubling the table places the slots again without reading the records.
type tagSlots struct {
	slots []uint64
	shift uint // 64 - log2(len(slots))
}

// double doubles the slots (at least least) and places them again.
func (t *tagSlots) double(least int) {
	old := t.slots
	n := max(least, 2*len(old))
	t.slots = make([]uint64, n)
	hugePages(t.slots)
	t.shift = uint(64 - bits.Len(uint(n-1)))
	for _, s := range old {
		if s != 0 {
			t.place(s)
		}
	}
}

// place puts slot value s in its first empty slot from its home.
func (t *tagSlots) place(s uint64) {
	mask := uint64(len(t.slots) - 1)
	i := s >> t.shift
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}
