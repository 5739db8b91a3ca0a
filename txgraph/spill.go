package txgraph

import (
	"fmt"
	"io"
	"os"
	"unsafe"
)

// spill keeps a builder's arrays in files rather than on Go's heap: each
// array is a temporary file in the graph's folder, unlinked once created
// (a build killed midway leaves nothing behind), mapped read-write and
// shared, so that the arrays' pages are the page cache's to write back
// and drop, and a build's memory does not grow with the graph (package
// doc). An array grows by lengthening its file and mapping it again: its
// numbers stay where they are.
type spill struct {
	dir  string
	cols map[unsafe.Pointer]*spillCol // by the address of the slice
}

// spillCol is one array's file and mapping.
type spillCol struct {
	f *os.File
	b []byte
}

// newSpill spills to files in dir; nil (the heap) where files cannot
// be mapped.
func newSpill(dir string) (*spill, error) {
	if !canMapRW {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("txgraph: build: %w", err)
	}
	return &spill{dir: dir, cols: map[unsafe.Pointer]*spillCol{}}, nil
}

// close unmaps and closes every array's file (removed already); the
// arrays must not be read after.
func (s *spill) close() {
	if s == nil {
		return
	}
	for _, c := range s.cols {
		c.unmap()
		c.f.Close()
	}
	clear(s.cols)
}

// release unmaps and closes array key's file; the array must not be
// read after.
func (s *spill) release(key unsafe.Pointer) {
	if c := s.cols[key]; c != nil {
		c.unmap()
		c.f.Close()
		delete(s.cols, key)
	}
}

func (c *spillCol) unmap() {
	if c.b != nil {
		munmap(c.b)
		c.b = nil
	}
}

// spillMinBytes is an array file's first size: the mappings grow by
// doubling from it.
const spillMinBytes = 1 << 16

// reserve makes room in *p for need elements in all, keeping its
// elements: on the heap when s is nil, else in p's file, grown and mapped
// again (a slice of p taken before does not survive it).
func reserve[T any](s *spill, p *[]T, need int) error {
	if cap(*p) >= need {
		return nil
	}
	var z T
	size := int(unsafe.Sizeof(z))
	want := max(need, 2*cap(*p), spillMinBytes/size)
	if s == nil {
		*p = append((*p)[:cap(*p)], make([]T, want-cap(*p))...)[:len(*p)]
		return nil
	}
	key := unsafe.Pointer(p)
	c := s.cols[key]
	if c == nil {
		f, err := os.CreateTemp(s.dir, ".txg-build*")
		if err != nil {
			return fmt.Errorf("txgraph: build: %w", err)
		}
		os.Remove(f.Name())
		c = &spillCol{f: f}
		s.cols[key] = c
	}
	bytes := want * size
	if err := c.f.Truncate(int64(bytes)); err != nil {
		return fmt.Errorf("txgraph: build: grow %s: %w", c.f.Name(), err)
	}
	b, err := mapRW(c.f, bytes)
	if err != nil {
		return fmt.Errorf("txgraph: build: map %s: %w", c.f.Name(), err)
	}
	n := len(*p)
	grown := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), want)
	if c.b == nil || n > 0 && unsafe.Pointer(unsafe.SliceData(*p)) != unsafe.Pointer(unsafe.SliceData(c.b)) {
		copy(grown, *p) // on the heap (loaded, or a test's): moved in
	}
	c.unmap()
	c.b = b
	*p = grown[:n]
	return nil
}

// fresh gives *p n zero elements in a file of its own (the slot tables,
// filled again when they grow).
func fresh[T any](s *spill, p *[]T, n int) error {
	if s == nil {
		*p = make([]T, n)
		return nil
	}
	s.release(unsafe.Pointer(p))
	*p = nil
	if err := reserve(s, p, n); err != nil {
		return err
	}
	*p = (*p)[:n]
	return nil
}

// loadSection fills *p with the n elements of the section at off in
// src: copied by the kernel (copy_file_range) into p's file when s spills,
// no page of either passing through the process.
func loadSection[T any](s *spill, p *[]T, src *os.File, off uint64, n int) error {
	var z T
	size := uint64(unsafe.Sizeof(z))
	*p = nil
	if s == nil || n == 0 {
		if err := reserve(s, p, n); err != nil {
			return err
		}
		buf := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData((*p)[:n]))), uint64(n)*size)
		if _, err := src.ReadAt(buf, int64(off)); err != nil {
			return fmt.Errorf("txgraph: load: %w", err)
		}
		*p = (*p)[:n]
		return nil
	}
	f, err := os.CreateTemp(s.dir, ".txg-build*")
	if err != nil {
		return fmt.Errorf("txgraph: load: %w", err)
	}
	os.Remove(f.Name())
	s.cols[unsafe.Pointer(p)] = &spillCol{f: f}
	if _, err := src.Seek(int64(off), io.SeekStart); err != nil {
		return fmt.Errorf("txgraph: load: %w", err)
	}
	if _, err := f.ReadFrom(&io.LimitedReader{R: src, N: int64(uint64(n) * size)}); err != nil {
		return fmt.Errorf("txgraph: load: %w", err)
	}
	if err := reserve(s, p, n); err != nil {
		return err
	}
	*p = (*p)[:n]
	return nil
}

// file returns the file holding array key when b, its elements' bytes,
// lie in its mapping; nil when they do not (on the heap), or s is nil.
func (s *spill) file(key unsafe.Pointer, b []byte) *os.File {
	if s == nil || len(b) == 0 {
		return nil
	}
	c := s.cols[key]
	if c == nil || unsafe.SliceData(b) != unsafe.SliceData(c.b) {
		return nil
	}
	return c.f
}

// copyFrom appends the first n bytes of src to dst, file to file in the
// kernel where it can (copy_file_range; io.Copy's fallback elsewhere).
func copyFrom(dst, src *os.File, n int) error {
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return err
	}
	w, err := dst.ReadFrom(&io.LimitedReader{R: src, N: int64(n)})
	if err == nil && w != int64(n) {
		err = io.ErrUnexpectedEOF
	}
	return err
}
