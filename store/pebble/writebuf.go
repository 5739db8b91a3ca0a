package pebble

import (
	"errors"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2/objstorage"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Larger writes of sstables. Pebble writes a table through a 4 KiB buffer
// (objstorageprovider's bufio.Writer): one write system call for each data
// block or two, a tenth of a bulk ingest's CPU went to write(2) and its
// entry and exit. The tables a flush, a compaction or a bulk-loaded group
// writes go through writeBufSize bytes instead: a sixty-fourth of the
// calls, the same bytes.

// writeBufSize is how many bytes of an sstable being written are held
// before they are written to its file.
const writeBufSize = 256 << 10

// writeBufs holds the buffers of the files being written (a few at once:
// two compactions, a flush, a bulk group's sinks), reused from file to
// file.
var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, writeBufSize); return &b }}

// bufferedFile is a file being written whose writes are held in buf until
// it is full, and written before anything else is done to the file (a
// sync, a read, a stat, closing it), so that what the file holds, as any
// of its methods sees it, is what was written. It is used by one
// goroutine at a time, as Pebble uses a file it writes.
type bufferedFile struct {
	vfs.File
	buf *[]byte
	err error // the first failed write; every later call returns it
}

func newBufferedFile(f vfs.File) *bufferedFile {
	return &bufferedFile{File: f, buf: writeBufs.Get().(*[]byte)}
}

func (f *bufferedFile) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	if f.buf == nil {
		return 0, errors.New("pebble store: write to a closed file")
	}
	b := *f.buf
	if len(b)+len(p) > cap(b) {
		if err := f.flush(); err != nil {
			return 0, err
		}
		b = *f.buf
	}
	if len(p) >= cap(b) {
		n, err := f.File.Write(p)
		f.err = err
		return n, err
	}
	*f.buf = append(b, p...)
	return len(p), nil
}

// flush writes what buf holds to the file.
func (f *bufferedFile) flush() error {
	if f.err != nil || f.buf == nil || len(*f.buf) == 0 {
		return f.err
	}
	_, f.err = f.File.Write(*f.buf)
	*f.buf = (*f.buf)[:0]
	return f.err
}

func (f *bufferedFile) Close() error {
	err := f.flush()
	if f.buf != nil {
		*f.buf = (*f.buf)[:0]
		writeBufs.Put(f.buf)
		f.buf = nil
	}
	return errors.Join(err, f.File.Close())
}

func (f *bufferedFile) Sync() error {
	if err := f.flush(); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *bufferedFile) SyncData() error {
	if err := f.flush(); err != nil {
		return err
	}
	return f.File.SyncData()
}

func (f *bufferedFile) SyncTo(length int64) (bool, error) {
	if err := f.flush(); err != nil {
		return false, err
	}
	return f.File.SyncTo(length)
}

func (f *bufferedFile) Stat() (vfs.FileInfo, error) {
	if err := f.flush(); err != nil {
		return nil, err
	}
	return f.File.Stat()
}

func (f *bufferedFile) Read(p []byte) (int, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

func (f *bufferedFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *bufferedFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

// tableFS is fs whose sstables being written (files created with the
// suffix .sst) hold their writes in a bufferedFile.
type tableFS struct{ vfs.FS }

func (t tableFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := t.FS.Create(name, category)
	if err != nil || !strings.HasSuffix(name, ".sst") {
		return f, err
	}
	return newBufferedFile(f), nil
}

// tableWritable is an objstorage.Writable over a file being written
// through a bufferedFile: the writes of a bulk-loaded group's or a
// clustering run's tables (tableSink), which Pebble's own
// objstorageprovider.NewFileWritable would write 4 KiB at a time.
type tableWritable struct{ f *bufferedFile }

var _ objstorage.Writable = tableWritable{}

func newTableWritable(f vfs.File) tableWritable {
	if b, ok := f.(*bufferedFile); ok {
		return tableWritable{b}
	}
	return tableWritable{newBufferedFile(f)}
}

func (w tableWritable) Write(p []byte) error {
	_, err := w.f.Write(p)
	return err
}

// Finish writes what is held, syncs the file and closes it.
func (w tableWritable) Finish() error {
	err := w.f.Sync()
	return errors.Join(err, w.f.Close())
}

// Abort closes the file; what it holds does not matter.
func (w tableWritable) Abort() {
	_ = w.f.Close()
}
