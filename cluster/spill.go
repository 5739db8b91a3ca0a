package cluster

import (
	"fmt"
	"runtime"
	"unsafe"
)

// The per-address arrays of a clustering (the address keys, the clusters
// and the rings: 20 of its about 26 bytes an address) live on Go's heap,
// or, with Options.SpillDir, in memory-mapped files there: the system
// keeps their pages in memory while it can and writes them out and drops
// them under memory pressure (a cgroup's limit), so a clustering with more
// addresses than its share of --memory goes on, more slowly, instead of
// being killed. What stays on Go's heap is the address table's slots, 4
// bytes each at 53–80% load (about 6 bytes an address). See
// docs/scaling.md, "The whole Bitcoin chain on one machine".

// maxAddrIDs is how many address ids a spilled array has room for: every
// uint32 id.
const maxAddrIDs = 1 << 32

// spiller gives out an owner's arrays, on the heap or spilled to dir.
type spiller struct {
	dir  string
	maps [][]byte
}

// array returns an empty array of T with room for n ids before it grows:
// on the heap without a dir, else over a sparse file in dir mapped for
// every id, so that appends never move it.
func array[T uint32 | uint64](s *spiller, n int) ([]T, error) {
	if s.dir == "" {
		return make([]T, 0, n), nil
	}
	var zero T
	b, err := spillBytes(s.dir, maxAddrIDs*int64(unsafe.Sizeof(zero)))
	if err != nil {
		return nil, fmt.Errorf("cluster: spill to %s: %w", s.dir, err)
	}
	s.maps = append(s.maps, b)
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), maxAddrIDs)[:0], nil
}

// releaseWith unmaps the spilled arrays once owner, which holds them and
// is the only one to, is unreachable.
func releaseWith[T any](s *spiller, owner *T) {
	if len(s.maps) > 0 {
		runtime.AddCleanup(owner, unmapAll, s.maps)
	}
}

func unmapAll(maps [][]byte) {
	for _, b := range maps {
		_ = unmapBytes(b)
	}
}

// arrays returns two empty arrays with room for n ids, as array does, to
// be released with owner (see releaseWith).
func arrays[A, B uint32 | uint64](dir string, n int) ([]A, []B, *spiller, error) {
	s := &spiller{dir: dir}
	a, err := array[A](s, n)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := array[B](s, n)
	if err != nil {
		unmapAll(s.maps)
		return nil, nil, nil, err
	}
	return a, b, s, nil
}
