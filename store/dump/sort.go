package dump

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// sorter orders lines by a key with bounded memory (an external merge
// sort): lines are kept in memory up to limit bytes, then sorted and
// written to a temporary file as one run; the runs and what is left in
// memory are merged when the lines are written out. Keys are compared as
// bytes, then lines (so equal keys still come out in one order).
type sorter struct {
	dir   string // for the runs; "" means os.TempDir
	limit int
	buf   []entry
	size  int
	runs  []*os.File
}

type entry struct{ key, line []byte }

func compareEntries(a, b entry) int {
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c
	}
	return bytes.Compare(a.line, b.line)
}

// add keeps a copy of key and line.
func (s *sorter) add(key, line []byte) error {
	e := entry{key: slices.Clone(key), line: slices.Clone(line)}
	s.buf = append(s.buf, e)
	s.size += len(e.key) + len(e.line) + 64
	if s.size >= s.limit {
		return s.spill()
	}
	return nil
}

// spill writes the lines in memory as one sorted run.
func (s *sorter) spill() error {
	slices.SortFunc(s.buf, compareEntries)
	f, err := os.CreateTemp(s.dir, "heistgraph-dump-*.run")
	if err != nil {
		return fmt.Errorf("sorting the dump: %w", err)
	}
	// The run is read back through the open file only.
	if err := os.Remove(f.Name()); err != nil {
		return errors.Join(fmt.Errorf("sorting the dump: %w", err), f.Close())
	}
	s.runs = append(s.runs, f)
	w := bufio.NewWriterSize(f, 1<<16)
	var n [binary.MaxVarintLen64]byte
	for _, e := range s.buf {
		for _, b := range [][]byte{e.key, e.line} {
			w.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
			w.Write(b)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("sorting the dump: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("sorting the dump: %w", err)
	}
	s.buf, s.size = s.buf[:0], 0
	return nil
}

// writeTo writes every line added, in order, each followed by a newline,
// and releases the runs. The sorter is empty afterwards.
func (s *sorter) writeTo(w io.Writer) (err error) {
	defer func() { err = errors.Join(err, s.close()) }()
	slices.SortFunc(s.buf, compareEntries)
	if len(s.runs) == 0 {
		for _, e := range s.buf {
			if err := writeLine(w, e.line); err != nil {
				return err
			}
		}
		s.buf, s.size = s.buf[:0], 0
		return nil
	}
	h := &mergeHeap{}
	for _, f := range s.runs {
		r := &runReader{r: bufio.NewReaderSize(f, 1<<16)}
		if err := h.push(r); err != nil {
			return err
		}
	}
	h.push(&runReader{mem: s.buf})
	for h.Len() > 0 {
		r := h.rs[0]
		if err := writeLine(w, r.cur.line); err != nil {
			return err
		}
		ok, err := r.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	s.buf, s.size = s.buf[:0], 0
	return nil
}

func (s *sorter) close() error {
	var errs []error
	for _, f := range s.runs {
		errs = append(errs, f.Close())
	}
	s.runs = nil
	return errors.Join(errs...)
}

func writeLine(w io.Writer, line []byte) error {
	if _, err := w.Write(line); err != nil {
		return err
	}
	_, err := w.Write([]byte{'\n'})
	return err
}

// runReader reads one sorted run: a file, or the sorted lines in memory.
type runReader struct {
	r   *bufio.Reader
	mem []entry
	cur entry
}

// next moves to the run's next entry, reporting false at its end.
func (r *runReader) next() (bool, error) {
	if r.r == nil {
		if len(r.mem) == 0 {
			return false, nil
		}
		r.cur, r.mem = r.mem[0], r.mem[1:]
		return true, nil
	}
	var parts [2][]byte
	for i := range parts {
		n, err := binary.ReadUvarint(r.r)
		if i == 0 && err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("reading back a sorted run of the dump: %w", err)
		}
		parts[i] = make([]byte, n)
		if _, err := io.ReadFull(r.r, parts[i]); err != nil {
			return false, fmt.Errorf("reading back a sorted run of the dump: %w", err)
		}
	}
	r.cur = entry{key: parts[0], line: parts[1]}
	return true, nil
}

// mergeHeap orders runs by their current entries.
type mergeHeap struct{ rs []*runReader }

func (h *mergeHeap) Len() int           { return len(h.rs) }
func (h *mergeHeap) Less(i, j int) bool { return compareEntries(h.rs[i].cur, h.rs[j].cur) < 0 }
func (h *mergeHeap) Swap(i, j int)      { h.rs[i], h.rs[j] = h.rs[j], h.rs[i] }
func (h *mergeHeap) Push(x any)         { h.rs = append(h.rs, x.(*runReader)) }
func (h *mergeHeap) Pop() any {
	r := h.rs[len(h.rs)-1]
	h.rs = h.rs[:len(h.rs)-1]
	return r
}

// push adds r unless it is empty.
func (h *mergeHeap) push(r *runReader) error {
	ok, err := r.next()
	if ok {
		heap.Push(h, r)
	}
	return err
}
