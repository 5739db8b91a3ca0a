package app

import "math/bits"

// screenFilter is a set of 64-bit hashes that may answer "perhaps" for a
// hash it does not hold, never "no" for one it does (one bit a hash, in a
// table of about 16 bits a member): what the screened resolver asks first,
// so that the addresses and clusters that carry no label (nearly all a
// trace reaches) are passed over without a map lookup or a lower-cased
// copy of the address. The zero value holds nothing.
type screenFilter struct {
	bits  []uint64
	shift uint // 64 − log2 of the table's bits
}

// newScreenFilter returns a filter of the hashes hs.
func newScreenFilter(hs []uint64) screenFilter {
	n := 64
	for n < 16*len(hs) {
		n *= 2
	}
	f := screenFilter{bits: make([]uint64, n/64), shift: uint(64 - bits.Len(uint(n)) + 1)}
	for _, h := range hs {
		i := f.index(h)
		f.bits[i/64] |= 1 << (i % 64)
	}
	return f
}

// index is h's bit: its high bits, after a mix (murmur3's finalizer)
// that spreads numbers given in runs (address and cluster ids).
func (f *screenFilter) index(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h >> f.shift
}

// mayHold reports whether h may be in the filter (false for any hash when
// the filter is the zero value).
func (f *screenFilter) mayHold(h uint64) bool {
	if f.bits == nil {
		return false
	}
	i := f.index(h)
	return f.bits[i/64]&(1<<(i%64)) != 0
}

// foldHash is the FNV-1a hash of s with its ASCII letters lower-cased:
// of a string of ASCII (a plainKey), the hash of strings.ToLower(s),
// without making it.
func foldHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}
