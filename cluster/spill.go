package cluster

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"github.com/heistgraph/heistgraph"
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
//
// A spilled array is mapped once for every uint32 id, so that appends
// never move it, but its file holds disk only for the ids reserved: the
// engine reserves room for the addresses a transaction can add before it
// clusters it (engine.reserve), and a file is extended in chunks with its
// blocks allocated (fallocate, spill_linux.go). A full disk is then an
// error of the reservation (SpillFullError), not a SIGBUS when a page of
// the mapping past the file's end, or of a sparse file the system cannot
// write back, is first touched.

// maxAddrIDs is how many address ids a spilled array has room for: every
// uint32 id.
const maxAddrIDs = 1 << 32

// spillChunkIDs is the least number of ids a reservation grows by; it also
// grows by an eighth of what is reserved, so that a large clustering
// extends its files rarely. A variable for the tests.
var spillChunkIDs int64 = 1 << 16

// SpillFullError is a reservation in the spill directory that the disk
// has no room for. It wraps heistgraph.ErrInvalid: the command-line's
// exit code 2, with the directory and the bytes to free named.
type SpillFullError struct {
	Dir  string
	Need int64 // the bytes the reservation asked for
	Free int64 // the bytes free to an unprivileged user then (-1: unknown)
}

func (e *SpillFullError) Error() string {
	free := "unknown"
	if e.Free >= 0 {
		free = fmt.Sprintf("%d bytes", e.Free)
	}
	return fmt.Sprintf("cluster: spill to %s: no room on its disk for %d more bytes of the clustering's arrays (free: %s)",
		e.Dir, e.Need, free)
}

func (e *SpillFullError) Unwrap() error { return heistgraph.ErrInvalid }

// spillFile is one spilled array: its mapping, its file (kept open to
// extend it) and the bytes of one id.
type spillFile struct {
	b    []byte
	f    *os.File
	size int64
}

// spiller gives out an owner's arrays, on the heap or spilled to dir, and
// reserves disk for their ids.
type spiller struct {
	dir   string
	files []spillFile
	// reserved is how many ids every spilled array has disk for.
	reserved int64
}

// array returns an empty array of T with room for n ids before it grows:
// on the heap without a dir, else over a file in dir mapped for every id,
// so that appends never move it (its disk is reserved by reserve).
func array[T uint32 | uint64 | cell](s *spiller, n int) ([]T, error) {
	if s.dir == "" {
		return make([]T, 0, n), nil
	}
	var zero T
	size := int64(unsafe.Sizeof(zero))
	b, f, err := spillBytes(s.dir, maxAddrIDs*size)
	if err != nil {
		return nil, fmt.Errorf("cluster: spill to %s: %w", s.dir, err)
	}
	s.files = append(s.files, spillFile{b: b, f: f, size: size})
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), maxAddrIDs)[:0], nil
}

// reserve makes every spilled array's file hold disk for ids ids (nothing
// for arrays on the heap), growing by at least spillChunkIDs and an eighth
// of what is reserved. A full disk is a *SpillFullError.
func (s *spiller) reserve(ids int64) error {
	if ids <= s.reserved || len(s.files) == 0 {
		return nil
	}
	if ids > maxAddrIDs {
		return fmt.Errorf("cluster: %d address ids, more than the %d a spilled array holds: %w", ids, int64(maxAddrIDs), heistgraph.ErrInvalid)
	}
	want := min(max(ids, s.reserved+max(spillChunkIDs, s.reserved/8)), maxAddrIDs)
	for _, sf := range s.files {
		off, n := s.reserved*sf.size, (want-s.reserved)*sf.size
		if err := allocate(sf.f, off, n); err != nil {
			if errors.Is(err, errNoSpace) {
				return &SpillFullError{Dir: s.dir, Need: (want - s.reserved) * s.idBytes(), Free: freeBytes(s.dir)}
			}
			return fmt.Errorf("cluster: spill to %s: reserve %d bytes: %w", s.dir, n, err)
		}
	}
	s.reserved = want
	return nil
}

// idBytes is what one id takes in all the spilled arrays.
func (s *spiller) idBytes() int64 {
	var n int64
	for _, sf := range s.files {
		n += sf.size
	}
	return n
}

// releaseWith unmaps the spilled arrays and closes their files once
// owner, which holds them and is the only one to, is unreachable.
func releaseWith[T any](s *spiller, owner *T) {
	if len(s.files) > 0 {
		runtime.AddCleanup(owner, unmapAll, s.files)
	}
}

func unmapAll(files []spillFile) {
	for _, sf := range files {
		_ = unmapBytes(sf.b)
		_ = sf.f.Close()
	}
}

// oneArray returns an empty array with room for n ids, as array does,
// with disk reserved for n ids, to be released with owner (see
// releaseWith).
func oneArray[A uint32 | uint64 | cell](dir string, n int) ([]A, *spiller, error) {
	s := &spiller{dir: dir}
	a, err := array[A](s, n)
	if err == nil {
		err = s.reserve(int64(n))
	}
	if err != nil {
		unmapAll(s.files)
		return nil, nil, err
	}
	return a, s, nil
}

// arrays returns two empty arrays with room for n ids, as array does, with
// disk reserved for n ids, to be released with owner (see releaseWith).
func arrays[A, B uint32 | uint64](dir string, n int) ([]A, []B, *spiller, error) {
	s := &spiller{dir: dir}
	a, err := array[A](s, n)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := array[B](s, n)
	if err == nil {
		err = s.reserve(int64(n))
	}
	if err != nil {
		unmapAll(s.files)
		return nil, nil, nil, err
	}
	return a, b, s, nil
}
