package pebble

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// The audit log lives in its own append-only file, DATA/audit.log, not in
// Pebble's key space: a busy screening service appends tens of thousands of
// records a second, and through Pebble each one would be inserted in the
// memtable, flushed and compacted again and again on the cores that answer
// the screens (schemas before 3 kept them under keys v + seq; such stores
// are refused on open).
//
// The file is a magic header followed by frames, one per AppendAudit batch:
//
//	len(u32 LE) | payload | len(u32 LE) | crc32c(payload)(u32 LE)
//	payload = first seq (uvarint) | count (uvarint) | count records (appendAuditRecord)
//
// A batch is one frame, so a crash in the middle of its write loses the
// batch whole (AppendAudit had not returned). The length is written twice
// so the last frame can be found from the end of the file: opening does not
// read the log. Only when the last frame does not check (a torn write) is
// the file read from the start to the end of its last whole frame, and the
// rest cut off.

// auditFileName is the audit log's file in the store's directory.
const auditFileName = "audit.log"

// auditMagic starts the file.
var auditMagic = []byte("hgaudit1")

// auditFrameOverhead is a frame's bytes besides its payload.
const auditFrameOverhead = 12

// auditIndexEvery is how many records apart the in-memory index of frame
// offsets keeps its entries.
const auditIndexEvery = 4096

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// auditFile is the open audit log. Appends hold DB.auditMu; readers take
// mu for the size and index, and read with ReadAt below the size they saw.
type auditFile struct {
	f   vfs.File
	buf []byte // the frame being written (appends only)

	mu   sync.Mutex
	size int64  // bytes of whole frames
	next uint64 // the next sequence number (0: the file holds no record)
	// index holds the offset of a frame at least every auditIndexEvery
	// records, in order; built by the first read from the start
	// (indexed), then extended by appends.
	index   []auditMark
	indexed bool
	sinceIx uint64 // records appended since the last mark

	unsynced bool // a frame was written without a sync since the last (appends only)
}

type auditMark struct {
	first uint64 // the first seq of the frame at off
	off   int64
}

// openAuditFile opens dir's audit log. Writable, it creates the file (and
// syncs the directory) when there is none and cuts a torn last frame off;
// read-only, a missing file is an empty log and a torn last frame is
// ignored.
func openAuditFile(fsys vfs.FS, dir string, readOnly bool) (*auditFile, error) {
	if fsys == nil {
		fsys = vfs.Default
	}
	name := fsys.PathJoin(dir, auditFileName)
	var f vfs.File
	var err error
	if readOnly {
		f, err = fsys.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			return &auditFile{}, nil
		}
	} else {
		_, serr := fsys.Stat(name)
		f, err = fsys.OpenReadWrite(name, vfs.WriteCategoryUnspecified)
		if err == nil && errors.Is(serr, fs.ErrNotExist) {
			if err = syncDir(fsys, dir); err != nil {
				_ = f.Close()
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("audit log %s: %w", name, err)
	}
	a := &auditFile{f: f}
	if err := a.recover(fsys, name, readOnly); err != nil {
		_ = f.Close()
		return nil, err
	}
	return a, nil
}

func syncDir(fsys vfs.FS, dir string) error {
	d, err := fsys.OpenDir(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// recover finds the end of the last whole frame and the next sequence
// number.
func (a *auditFile) recover(fsys vfs.FS, name string, readOnly bool) error {
	st, err := a.f.Stat()
	if err != nil {
		return fmt.Errorf("audit log %s: %w", name, err)
	}
	size := st.Size()
	if size == 0 && !readOnly {
		if _, err := a.f.WriteAt(auditMagic, 0); err != nil {
			return fmt.Errorf("audit log %s: %w", name, err)
		}
		if err := a.f.SyncData(); err != nil {
			return fmt.Errorf("audit log %s: %w", name, err)
		}
		a.size = int64(len(auditMagic))
		return nil
	}
	if size < int64(len(auditMagic)) {
		if readOnly && size == 0 {
			return nil
		}
		return fmt.Errorf("audit log %s: %d bytes, shorter than its header: %w", name, size, errCorrupt)
	}
	head := make([]byte, len(auditMagic))
	if _, err := a.f.ReadAt(head, 0); err != nil {
		return fmt.Errorf("audit log %s: %w", name, err)
	}
	if !bytes.Equal(head, auditMagic) {
		return fmt.Errorf("audit log %s: header %q, want %q: %w", name, head, auditMagic, errCorrupt)
	}
	if size == int64(len(auditMagic)) {
		a.size = size
		return nil
	}
	// The last frame, read from the end.
	if first, count, ok := a.frameBefore(size); ok {
		a.size, a.next = size, first+count
		return nil
	}
	// A torn tail: walk the frames from the start.
	end, next, err := a.scan(name, size)
	if err != nil {
		return err
	}
	a.size, a.next, a.indexed = end, next, true
	if !readOnly && end < size && fsys == vfs.Default {
		// vfs has no truncation; on other file systems (tests) the next
		// append overwrites the torn bytes and opens walk the file until
		// a frame ends past them.
		if err := os.Truncate(name, end); err != nil {
			return fmt.Errorf("audit log %s: cut a torn frame at offset %d: %w", name, end, err)
		}
		if err := a.f.Sync(); err != nil {
			return fmt.Errorf("audit log %s: %w", name, err)
		}
	}
	return nil
}

// frameBefore checks the frame that ends at end and returns its first seq
// and record count.
func (a *auditFile) frameBefore(end int64) (first, count uint64, ok bool) {
	if end-int64(len(auditMagic)) < auditFrameOverhead {
		return 0, 0, false
	}
	var tail [8]byte
	if _, err := a.f.ReadAt(tail[:], end-8); err != nil {
		return 0, 0, false
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	start := end - auditFrameOverhead - n
	if start < int64(len(auditMagic)) {
		return 0, 0, false
	}
	frame := make([]byte, n+auditFrameOverhead)
	if _, err := a.f.ReadAt(frame, start); err != nil {
		return 0, 0, false
	}
	payload, ok := checkFrame(frame)
	if !ok {
		return 0, 0, false
	}
	first, count, _, ok = framePayloadHead(payload)
	return first, count, ok
}

// checkFrame returns the payload of the whole frame b, or false when its
// lengths or checksum do not match.
func checkFrame(b []byte) ([]byte, bool) {
	if len(b) < auditFrameOverhead {
		return nil, false
	}
	n := int(binary.LittleEndian.Uint32(b))
	if len(b) != n+auditFrameOverhead || int(binary.LittleEndian.Uint32(b[4+n:])) != n {
		return nil, false
	}
	payload := b[4 : 4+n]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(b[8+n:]) {
		return nil, false
	}
	return payload, true
}

// framePayloadHead decodes a payload's first seq and count and returns the
// records' bytes.
func framePayloadHead(p []byte) (first, count uint64, recs []byte, ok bool) {
	first, n := binary.Uvarint(p)
	if n <= 0 || first == 0 {
		return 0, 0, nil, false
	}
	count, m := binary.Uvarint(p[n:])
	if m <= 0 || count == 0 {
		return 0, 0, nil, false
	}
	return first, count, p[n+m:], true
}

// scan walks the frames of the file's first size bytes from the start,
// rebuilding the index, and returns the end of the last whole frame and the
// next seq. A frame that does not check ends the walk.
func (a *auditFile) scan(name string, size int64) (end int64, next uint64, err error) {
	a.index = a.index[:0]
	var since uint64
	off := int64(len(auditMagic))
	var head [4]byte
	var frame []byte
	for off+auditFrameOverhead <= size {
		if _, err := a.f.ReadAt(head[:], off); err != nil {
			return 0, 0, fmt.Errorf("audit log %s: offset %d: %w", name, off, err)
		}
		n := int64(binary.LittleEndian.Uint32(head[:]))
		if off+n+auditFrameOverhead > size {
			break
		}
		if cap(frame) < int(n)+auditFrameOverhead {
			frame = make([]byte, n+auditFrameOverhead)
		}
		frame = frame[:n+auditFrameOverhead]
		if _, err := a.f.ReadAt(frame, off); err != nil {
			return 0, 0, fmt.Errorf("audit log %s: offset %d: %w", name, off, err)
		}
		payload, ok := checkFrame(frame)
		if !ok {
			break
		}
		first, count, _, ok := framePayloadHead(payload)
		if !ok || next != 0 && first != next {
			break
		}
		if len(a.index) == 0 || since >= auditIndexEvery {
			a.index = append(a.index, auditMark{first: first, off: off})
			since = 0
		}
		since += count
		next = first + count
		off += n + auditFrameOverhead
	}
	a.sinceIx = since
	return off, next, nil
}

// append writes one frame holding payload (first seq, count, records),
// and syncs the file when sync is set. On error nothing counts as written:
// the size stays, and the next append overwrites whatever reached the
// file.
func (a *auditFile) append(first, count uint64, records []byte, sync bool) error {
	a.buf = a.buf[:0]
	a.buf = append(a.buf, 0, 0, 0, 0)
	a.buf = binary.AppendUvarint(a.buf, first)
	a.buf = binary.AppendUvarint(a.buf, count)
	a.buf = append(a.buf, records...)
	n := len(a.buf) - 4
	binary.LittleEndian.PutUint32(a.buf, uint32(n))
	crc := crc32.Checksum(a.buf[4:], castagnoli)
	a.buf = binary.LittleEndian.AppendUint32(a.buf, uint32(n))
	a.buf = binary.LittleEndian.AppendUint32(a.buf, crc)
	a.mu.Lock()
	off := a.size
	a.mu.Unlock()
	if _, err := a.f.WriteAt(a.buf, off); err != nil {
		return err
	}
	if sync {
		if err := a.f.SyncData(); err != nil {
			return err
		}
		a.unsynced = false
	} else {
		a.unsynced = true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.indexed && (len(a.index) == 0 || a.sinceIx >= auditIndexEvery) {
		a.index = append(a.index, auditMark{first: first, off: off})
		a.sinceIx = 0
	}
	a.sinceIx += count
	a.size = off + int64(len(a.buf))
	a.next = first + count
	return nil
}

// sync syncs the frames written without a sync.
func (a *auditFile) sync() error {
	if a == nil || !a.unsynced {
		return nil
	}
	if err := a.f.SyncData(); err != nil {
		return err
	}
	a.unsynced = false
	return nil
}

// from returns the offset of a frame at or before the one holding seq
// (building the index on first use) and the size to read up to.
func (a *auditFile) from(seq uint64) (int64, int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.indexed {
		if _, _, err := a.scan(auditFileName, a.size); err != nil {
			return 0, 0, err
		}
		a.indexed = true
	}
	off := int64(len(auditMagic))
	for _, m := range a.index { // few entries: a linear walk is fine
		if m.first > seq {
			break
		}
		off = m.off
	}
	return off, a.size, nil
}

// frames yields the frames' payloads from off up to size.
func (a *auditFile) frames(off, size int64, yield func(payload []byte) error) error {
	r := io.NewSectionReader(a.f, off, size-off)
	buf := make([]byte, 0, 64<<10)
	var head [4]byte
	for pos := off; pos < size; {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return fmt.Errorf("audit log: offset %d: %w", pos, err)
		}
		n := int(binary.LittleEndian.Uint32(head[:]))
		if pos+int64(n)+auditFrameOverhead > size {
			return fmt.Errorf("audit log: frame at offset %d runs past the end: %w", pos, errCorrupt)
		}
		if cap(buf) < n+auditFrameOverhead {
			buf = make([]byte, 0, n+auditFrameOverhead)
		}
		buf = append(buf[:0], head[:]...)
		buf = buf[:n+auditFrameOverhead]
		if _, err := io.ReadFull(r, buf[4:]); err != nil {
			return fmt.Errorf("audit log: offset %d: %w", pos, err)
		}
		payload, ok := checkFrame(buf)
		if !ok {
			return fmt.Errorf("audit log: frame at offset %d does not check: %w", pos, errCorrupt)
		}
		if err := yield(payload); err != nil {
			return err
		}
		pos += int64(n) + auditFrameOverhead
	}
	return nil
}

func (a *auditFile) close() error {
	if a == nil || a.f == nil {
		return nil
	}
	return a.f.Close()
}
