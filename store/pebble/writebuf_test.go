package pebble

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestBufferedFile writes the same random sequence of writes, of sizes
// below, at and above the buffer's, to a file through bufferedFile and to
// one directly, and checks that every call that looks at the file (Stat,
// ReadAt, the syncs, Close) sees exactly what was written so far.
func TestBufferedFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		sizes []int
	}{
		{"small writes", []int{1, 7, 100, 4096, 33}},
		{"up to the buffer", []int{writeBufSize - 1, 1, writeBufSize - 2, 3}},
		{"past the buffer", []int{10, writeBufSize, 5, 3 * writeBufSize, 1}},
		{"nothing", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := vfs.NewMem()
			raw, err := fs.Create("direct", vfs.WriteCategoryUnspecified)
			if err != nil {
				t.Fatal(err)
			}
			bfs := tableFS{fs}
			f, err := bfs.Create("t.sst", vfs.WriteCategoryUnspecified)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := f.(*bufferedFile); !ok {
				t.Fatalf("tableFS created a %T for an sstable", f)
			}
			rng := rand.New(rand.NewPCG(1, uint64(len(tc.sizes))))
			var want []byte
			for i, n := range tc.sizes {
				p := make([]byte, n)
				for j := range p {
					p[j] = byte(rng.Uint32())
				}
				want = append(want, p...)
				// A vfs.File may change what it is given to write (Pebble's
				// invariants builds, -race among them, do): each gets a copy.
				if _, err := raw.Write(bytes.Clone(p)); err != nil {
					t.Fatal(err)
				}
				if k, err := f.Write(p); err != nil || k != n {
					t.Fatalf("write %d of %d bytes: %d, %v", i, n, k, err)
				}
				switch i % 3 {
				case 0:
					st, err := f.Stat()
					if err != nil || st.Size() != int64(len(want)) {
						t.Fatalf("after write %d: size %v, %v; want %d", i, st, err, len(want))
					}
				case 1:
					got := make([]byte, len(want))
					if _, err := f.ReadAt(got, 0); err != nil && !errors.Is(err, io.EOF) {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("after write %d: ReadAt differs from what was written", i)
					}
				case 2:
					if _, err := f.SyncTo(int64(len(want))); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if err := raw.Close(); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"t.sst", "direct"} {
				r, err := fs.Open(name)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(r)
				r.Close()
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%s holds %d bytes (%v), want the %d written", name, len(got), err, len(want))
				}
			}
			other, err := bfs.Create("OPTIONS-000001", vfs.WriteCategoryUnspecified)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := other.(*bufferedFile); ok {
				t.Fatal("tableFS buffered a file that is not an sstable")
			}
			other.Close()
		})
	}
}

// failingFile fails every write after the first ok bytes.
type failingFile struct {
	vfs.File
	ok int
}

var errWriteFailed = errors.New("write failed")

func (f *failingFile) Write(p []byte) (int, error) {
	if len(p) > f.ok {
		return 0, errWriteFailed
	}
	f.ok -= len(p)
	return f.File.Write(p)
}

// TestBufferedFileError checks that a write the buffer held and that later
// failed is reported by the call that wrote it out (a sync, Close), by
// every call after it, and by tableWritable.Finish, so that a table is
// never taken as written when its bytes are not.
func TestBufferedFileError(t *testing.T) {
	t.Parallel()
	fs := vfs.NewMem()
	raw, err := fs.Create("t.sst", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	f := newBufferedFile(&failingFile{File: raw})
	if _, err := f.Write([]byte("held")); err != nil {
		t.Fatalf("a held write failed: %v", err)
	}
	if err := f.Sync(); !errors.Is(err, errWriteFailed) {
		t.Fatalf("Sync: %v, want the failed write", err)
	}
	if _, err := f.Write([]byte("more")); !errors.Is(err, errWriteFailed) {
		t.Fatalf("write after a failure: %v", err)
	}
	w := newTableWritable(f)
	if err := w.Finish(); !errors.Is(err, errWriteFailed) {
		t.Fatalf("Finish: %v, want the failed write", err)
	}
}
