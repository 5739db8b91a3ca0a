package txgraph

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"github.com/heistgraph/heistgraph"
)

var magic = [8]byte{'H', 'G', 'T', 'X', 'G', 0, 0, 3}

// ErrFormat says a graph file is not one this build reads (another
// version, truncated, or damaged): from Open, or from the read that met
// the damage (damage.go). Rebuild it (Update rebuilds a file of another
// version, or damaged, when it extends it).
var ErrFormat = errors.New("txgraph: not a graph file of this version, or damaged")

// field is one array of tables as bytes, for writing and mapping.
type field struct {
	name  string
	bytes func() []byte            // the array's bytes
	set   func(b []byte, n uint64) // point the array at b (n elements)
	size  uint64                   // bytes per element
	count func() uint64            // elements
	key   unsafe.Pointer           // the array (a spill's key)
	// load fills the array with n elements: from section i of secs in
	// src when src is not nil, else from b (another graph's array).
	load func(s *spill, src *os.File, secs []section, i int, b []byte, n uint64) error
}

func fieldOf[T any](name string, p *[]T) field {
	var z T
	sz := uint64(unsafe.Sizeof(z))
	return field{
		name: name,
		size: sz,
		key:  unsafe.Pointer(p),
		bytes: func() []byte {
			if len(*p) == 0 {
				return nil
			}
			return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(*p))), uint64(len(*p))*sz)
		},
		set: func(b []byte, n uint64) {
			if n == 0 {
				*p = nil
				return
			}
			*p = unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
		},
		count: func() uint64 { return uint64(len(*p)) },
		load: func(s *spill, src *os.File, secs []section, i int, b []byte, n uint64) error {
			if src != nil {
				return loadSection(s, p, src, secs[i].Off, int(n))
			}
			*p = nil
			if err := reserve(s, p, int(n)); err != nil {
				return err
			}
			*p = (*p)[:n]
			copy(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(*p))), n*sz), b)
			return nil
		},
	}
}

func (t *tables) fields() []field {
	return []field{
		fieldOf("blk_hash", &t.blkHash), fieldOf("blk_height", &t.blkHeight), fieldOf("blk_time", &t.blkTime),
		fieldOf("txid", &t.txid), fieldOf("tx_block", &t.txBlock), fieldOf("tx_index", &t.txIndex),
		fieldOf("tx_fee", &t.txFee), fieldOf("tx_flags", &t.txFlags), fieldOf("tx_in", &t.txIn), fieldOf("tx_nin", &t.txNIn),
		fieldOf("tx_out", &t.txOut), fieldOf("tx_nout", &t.txNOut), fieldOf("tx_slots", &t.txSlots),
		fieldOf("in_prev", &t.inPrev), fieldOf("in_vout", &t.inVout),
		fieldOf("out_value", &t.outValue), fieldOf("out_addr", &t.outAddr), fieldOf("out_type", &t.outType),
		fieldOf("out_sp_tx", &t.outSpTx), fieldOf("out_sp_vin", &t.outSpVin),
		fieldOf("scr_out", &t.scrOut), fieldOf("scr_off", &t.scrOff), fieldOf("scr_bytes", &t.scrBytes),
		fieldOf("addr_off", &t.addrOff), fieldOf("addr_bytes", &t.addrBytes), fieldOf("addr_first", &t.addrFirst),
		fieldOf("addr_slots", &t.addrSlots),
		// Version 2, for clustering: appended, so that the sections above
		// keep their order.
		fieldOf("blk_first", &t.blkFirst), fieldOf("blk_ntx", &t.blkNTx),
		fieldOf("tx_lock", &t.txLock), fieldOf("tx_version", &t.txVersion),
		// Version 3, for trace: derived (tables.derive).
		fieldOf("in_spent", &t.inSpent),
	}
}

// littleEndian reports whether the host stores integers as the file does.
func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// Path returns the file of chain's graph under dir (a data directory's
// txgraph folder).
func Path(dir string, chain heistgraph.Chain) string {
	return filepath.Join(dir, string(chain)+".txg")
}

func align8(n uint64) uint64 { return (n + 7) &^ 7 }

// write writes t with m to path atomically (a temporary file, synced,
// renamed over path, the directory synced). The arrays sp holds in files
// are copied file to file by the kernel (copy_file_range), not through
// the process, and released once copied (t's arrays are emptied).
func write(path string, t *tables, m meta, sp *spill) error {
	if !littleEndian() {
		return fmt.Errorf("txgraph: write %s: big-endian hosts are not supported", path)
	}
	fs := t.fields()
	// The header's length depends on the offsets it holds: lay the
	// sections out after a header padded to a fixed room, grown until it
	// fits.
	room := uint64(4096)
	var hdr []byte
	var err error
	for {
		off := align8(16 + room)
		m.Sections = m.Sections[:0]
		for _, f := range fs {
			n := f.count()
			m.Sections = append(m.Sections, section{Name: f.name, Off: off, Len: n})
			off = align8(off + n*f.size)
		}
		hdr, err = json.Marshal(m)
		if err != nil {
			return fmt.Errorf("txgraph: write %s: %w", path, err)
		}
		if uint64(len(hdr)) <= room {
			break
		}
		room = align8(uint64(len(hdr)) * 2)
	}
	return writeFile(path, func(dst *os.File, w *bufio.Writer) error {
		var head [16]byte
		copy(head[:8], magic[:])
		binary.LittleEndian.PutUint64(head[8:], uint64(len(hdr)))
		w.Write(head[:])
		w.Write(hdr)
		pos := uint64(16 + len(hdr))
		pad := func(to uint64) {
			for ; pos < to; pos++ {
				w.WriteByte(0)
			}
		}
		for i, f := range fs {
			pad(m.Sections[i].Off)
			b := f.bytes()
			if src := sp.file(f.key, b); src != nil {
				if err := w.Flush(); err != nil {
					return err
				}
				if err := copyFrom(dst, src, len(b)); err != nil {
					return err
				}
				// Copied: its file's blocks are freed now, not when
				// the whole graph is written.
				sp.release(f.key)
				f.set(nil, 0)
			} else {
				w.Write(b)
			}
			pos += uint64(len(b))
		}
		pad(align8(pos))
		return nil
	})
}

// writeFile writes path atomically with what fill writes to w, or to f
// past what it flushed of w (a temporary file in its folder, synced,
// renamed over path, the folder synced). A write error of w's surfaces at
// the final flush.
func writeFile(path string, fill func(f *os.File, w *bufio.Writer) error) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("txgraph: write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("txgraph: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("txgraph: write %s: %w", path, err)
	}
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err := fill(tmp, w); err != nil {
		return fmt.Errorf("txgraph: write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("txgraph: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("txgraph: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("txgraph: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("txgraph: write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// parse reads the header of a mapped file and points t's arrays into it,
// checking only what does not grow with the file: the header, that every
// section lies inside the file, and that the arrays' lengths agree
// (lengths). The numbers inside the arrays are checked where they are
// read (damage.go), or all at once by Verify.
func parse(path string, b []byte, t *tables) (meta, error) {
	var m meta
	bad := func(what string) (meta, error) {
		return meta{}, fmt.Errorf("txgraph: %s: %s: %w", path, what, ErrFormat)
	}
	if len(b) < 16 || [8]byte(b[:8]) != magic {
		return bad("bad magic")
	}
	n := binary.LittleEndian.Uint64(b[8:16])
	if n > uint64(len(b))-16 {
		return bad("header past the end")
	}
	if err := json.Unmarshal(b[16:16+n], &m); err != nil {
		return meta{}, fmt.Errorf("txgraph: %s: header: %v: %w", path, err, ErrFormat)
	}
	fs := t.fields()
	if len(m.Sections) != len(fs) {
		return bad(fmt.Sprintf("%d sections, want %d", len(m.Sections), len(fs)))
	}
	for i, f := range fs {
		s := m.Sections[i]
		if s.Name != f.name || s.Off%8 != 0 || s.Off > uint64(len(b)) || s.Len > (uint64(len(b))-s.Off)/f.size {
			return bad("section " + s.Name)
		}
		f.set(b[s.Off:s.Off+s.Len*f.size], s.Len)
	}
	if len(m.Types) > 256 {
		return bad(fmt.Sprintf("%d script types", len(m.Types)))
	}
	if !t.lengths() {
		return bad("array lengths disagree")
	}
	return m, nil
}

// lengths reports whether the arrays' lengths agree, and the last offsets
// of the scripts' and addresses' bytes are those bytes' lengths: what the
// reads by number assume of the arrays as a whole (each number read is
// checked where it is read). It reads a few numbers, whatever the graph's
// size.
func (t *tables) lengths() bool {
	nb, nt := len(t.blkHash), len(t.txid)
	ni, no := len(t.inPrev), len(t.outValue)
	return len(t.blkHeight) == nb && len(t.blkTime) == nb && len(t.blkFirst) == nb && len(t.blkNTx) == nb &&
		len(t.txBlock) == nt && len(t.txIndex) == nt && len(t.txFee) == nt && len(t.txFlags) == nt &&
		len(t.txIn) == nt && len(t.txNIn) == nt && len(t.txOut) == nt && len(t.txNOut) == nt &&
		len(t.txLock) == nt && len(t.txVersion) == nt &&
		len(t.txSlots)&(len(t.txSlots)-1) == 0 && len(t.txSlots) >= 2*nt && len(t.txSlots) > 0 &&
		len(t.inVout) == ni && len(t.inSpent) == ni &&
		len(t.outAddr) == no && len(t.outType) == no && len(t.outSpTx) == no && len(t.outSpVin) == no &&
		len(t.scrOff) == len(t.scrOut)+1 && t.scrOff[len(t.scrOut)] == uint64(len(t.scrBytes)) &&
		len(t.addrOff) >= 1 && t.addrOff[len(t.addrOff)-1] == uint64(len(t.addrBytes)) &&
		len(t.addrFirst) == len(t.addrOff)-1 && len(t.addrSlots)&(len(t.addrSlots)-1) == 0 && len(t.addrSlots) >= 2*(len(t.addrOff)-1) && len(t.addrSlots) > 0
}

// check verifies every number in the arrays points inside them: what
// each read checks of the numbers it reads, for all of them at once (a
// read of the whole file). Update runs it before it extends a graph (the
// builder trusts the tables it loads); Verify for a caller that wants a
// whole file checked. ntypes is the number of script types.
func (t *tables) check(ntypes int) error {
	if !t.lengths() {
		return fmt.Errorf("txgraph: array lengths disagree: %w", ErrFormat)
	}
	nb, nt := len(t.blkHash), len(t.txid)
	ni, no := len(t.inPrev), len(t.outValue)
	bad := func(what string, i int) error {
		return fmt.Errorf("txgraph: %s %d out of bounds: %w", what, i, ErrFormat)
	}
	for n := range nt {
		if t.txIn[n] > uint64(ni) || uint64(t.txNIn[n]) > uint64(ni)-t.txIn[n] ||
			t.txOut[n] > uint64(no) || uint64(t.txNOut[n]) > uint64(no)-t.txOut[n] ||
			t.txBlock[n] < -1 || int(t.txBlock[n]) >= nb {
			return bad("tx", n)
		}
	}
	for i, f := range t.blkFirst {
		if int(f) > nt || (i > 0 && f < t.blkFirst[i-1]) {
			return bad("block", i)
		}
	}
	// A block's transactions have at most the graph's inputs and outputs
	// (ReadClusterCols checks it of those it reads).
	for i, f := range t.blkFirst {
		end := uint32(nt)
		if i+1 < nb {
			end = t.blkFirst[i+1]
		}
		var sin, sout uint64
		for n := f; n < end; n++ {
			if t.txBlock[n] == int32(i) {
				sin, sout = sin+uint64(t.txNIn[n]), sout+uint64(t.txNOut[n])
			}
		}
		if sin > uint64(ni) || sout > uint64(no) {
			return bad("block", i)
		}
	}
	for i, p := range t.inPrev {
		if (p != none && int(p) >= nt) || (t.inSpent[i] != noOut && t.inSpent[i] >= uint64(no)) {
			return bad("input", i)
		}
	}
	na := len(t.addrFirst)
	for o := range no {
		if (t.outAddr[o] != none && int(t.outAddr[o]) >= na) || (t.outSpTx[o] != none && int(t.outSpTx[o]) >= nt) ||
			int(t.outType[o]) >= ntypes {
			return bad("output", o)
		}
	}
	for i := range na {
		if t.addrOff[i] > t.addrOff[i+1] {
			return bad("address", i)
		}
	}
	for i, o := range t.scrOut {
		if o >= uint64(no) || (i > 0 && o <= t.scrOut[i-1]) || t.scrOff[i] > t.scrOff[i+1] {
			return bad("script", i)
		}
	}
	for i, s := range t.txSlots {
		if int(s) > nt {
			return bad("tx slot", i)
		}
	}
	for i, s := range t.addrSlots {
		if int(s) > na {
			return bad("address slot", i)
		}
	}
	return nil
}
