package bitcoin

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// This file reads the bytes of input files: Bitcoin Core blk*.dat files
// (optionally obfuscated with xor.dat) and files of raw block hex. It knows
// nothing of chain order; source.go and order.go build on it.

// XORFile is the name of the obfuscation key Bitcoin Core 28 and later keep
// in its blocks folder: 8 bytes; file byte p is XORed with key[p%8].
const XORFile = "xor.dat"

// format is what detect found in a file.
type format uint8

const (
	formatEmpty format = iota // no bytes, or zero padding only
	formatBlk                 // blk*.dat framing
	formatHex                 // raw block hex, one block per line
)

func (f format) String() string {
	switch f {
	case formatBlk:
		return "blk"
	case formatHex:
		return "hex"
	}
	return "empty"
}

// fileSystem is what FileSource reads through: the operating system's
// files, or (in tests and fuzzing) files in memory, after Pebble's vfs.
type fileSystem interface {
	Stat(name string) (fs.FileInfo, error)
	ReadDir(name string) ([]fs.DirEntry, error)
	ReadFile(name string) ([]byte, error)
	Open(name string) (file, error)
}

// file is an open input file: random access for both passes.
type file interface {
	io.ReaderAt
	io.Closer
}

// osFS reads the operating system's files.
type osFS struct{}

func (osFS) Stat(name string) (fs.FileInfo, error)      { return os.Stat(name) }
func (osFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }
func (osFS) ReadFile(name string) ([]byte, error)       { return os.ReadFile(name) }
func (osFS) Open(name string) (file, error)             { return os.Open(name) }

// inputFile is one file to read, with what detect found in it.
type inputFile struct {
	path   string
	size   int64
	key    [8]byte // xor key; zero means none
	format format
	magic  [4]byte // the network magic of a blk file
	// named is set for a file the caller named itself (not one a folder
	// stands for): an empty one is an error, not a preallocated blk file.
	named bool
}

// listInputs expands paths: a file stands for itself, a folder for its
// top-level blk*.dat files in numeric order. A file gets the xor.dat key
// found beside it. Folders with no blk*.dat file are an error, as are
// missing paths.
func listInputs(fsys fileSystem, paths []string) ([]inputFile, error) {
	var files []inputFile
	keys := map[string][8]byte{} // folder -> key
	keyOf := func(dir string) ([8]byte, error) {
		if k, ok := keys[dir]; ok {
			return k, nil
		}
		k, err := readXORKey(fsys, dir)
		if err != nil {
			return k, err
		}
		keys[dir] = k
		return k, nil
	}
	for _, p := range paths {
		st, err := fsys.Stat(p)
		if err != nil {
			return nil, inputError(p, err)
		}
		if !st.IsDir() {
			k, err := keyOf(filepath.Dir(p))
			if err != nil {
				return nil, err
			}
			files = append(files, inputFile{path: p, size: st.Size(), key: k, named: true})
			continue
		}
		ents, err := fsys.ReadDir(p)
		if err != nil {
			return nil, inputError(p, err)
		}
		type numbered struct {
			n    uint64
			name string
		}
		var blks []numbered
		for _, e := range ents {
			if n, ok := blkNumber(e.Name()); ok && e.Type().IsRegular() {
				blks = append(blks, numbered{n, e.Name()})
			}
		}
		if len(blks) == 0 {
			return nil, &DecodeError{File: p, Err: fmt.Errorf("folder holds no blk*.dat files: %w", heistgraph.ErrInvalid)}
		}
		slices.SortFunc(blks, func(a, b numbered) int { return cmp.Or(cmp.Compare(a.n, b.n), strings.Compare(a.name, b.name)) })
		k, err := keyOf(p)
		if err != nil {
			return nil, err
		}
		for _, b := range blks {
			path := filepath.Join(p, b.name)
			st, err := fsys.Stat(path)
			if err != nil {
				return nil, inputError(path, err)
			}
			files = append(files, inputFile{path: path, size: st.Size(), key: k})
		}
	}
	return files, nil
}

// inputError reports a path the caller gave that cannot be used. A missing
// or unreadable path is bad input and wraps heistgraph.ErrInvalid as well as
// the cause (fs.ErrNotExist, fs.ErrPermission); other failures wrap the
// cause only. The message names the path once.
func inputError(path string, err error) error {
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("bitcoin: block input %s: %w: %w", path, cause, heistgraph.ErrInvalid)
	}
	return fmt.Errorf("bitcoin: block input %s: %w", path, cause)
}

// blkNumber parses Bitcoin Core's blk file names: "blk" digits ".dat".
func blkNumber(name string) (uint64, bool) {
	digits, ok := strings.CutPrefix(name, "blk")
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, ".dat")
	if !ok || digits == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}

// readXORKey reads dir/xor.dat; no file means no key.
func readXORKey(fsys fileSystem, dir string) ([8]byte, error) {
	var k [8]byte
	path := filepath.Join(dir, XORFile)
	b, err := fsys.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return k, nil
	}
	if err != nil {
		return k, fmt.Errorf("bitcoin: read %s: %w", path, err)
	}
	if len(b) != len(k) {
		return k, &DecodeError{File: path, Err: fmt.Errorf("xor key of %d bytes, want %d: %w", len(b), len(k), heistgraph.ErrInvalid)}
	}
	copy(k[:], b)
	return k, nil
}

// xorAt de-obfuscates b, which was read at file offset off, with key.
func xorAt(b []byte, off int64, key *[8]byte) {
	if *key == [8]byte{} {
		return
	}
	k := int(off % 8)
	for i := range b {
		b[i] ^= key[k]
		k = (k + 1) & 7
	}
}

// detect decides f's format from its first bytes: blk framing with a known
// network magic (after de-obfuscation, or failing that without it), zero
// padding or nothing (empty), or hex text (hex digits and white space
// only). A file the caller named that has no bytes at all is an error, as
// is one of neither format; the error says what the file is not and where
// it stopped looking like hex.
func (f *inputFile) detect(r io.ReaderAt) error {
	var head [512]byte
	n, err := r.ReadAt(head[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("bitcoin: read %s: %w", f.path, err)
	}
	b := head[:n]
	if n == 0 {
		if f.named {
			return &DecodeError{File: f.path, Err: fmt.Errorf("file is empty: not a blk file nor raw block hex: %w", heistgraph.ErrInvalid)}
		}
		f.format = formatEmpty
		return nil
	}
	if n >= 4 {
		plain := slices.Clone(b[:4])
		xorAt(plain, 0, &f.key)
		if _, ok := heistgraph.NetworkByMagic([4]byte(plain)); ok {
			f.format, f.magic = formatBlk, [4]byte(plain)
			return nil
		}
		if _, ok := heistgraph.NetworkByMagic([4]byte(b[:4])); ok {
			f.format, f.magic, f.key = formatBlk, [4]byte(b[:4]), [8]byte{}
			return nil
		}
	}
	if allZero(b) {
		f.format = formatEmpty // a preallocated blk file never written
		return nil
	}
	// Hex text: the first bytes that are not white space are hex digits
	// (enough of them that random bytes do not pass by chance; a bad
	// character further on is the hex scan's error, with its offset).
	i, digits := 0, 0
	for ; i < len(b) && digits < hexProbe; i++ {
		switch {
		case isHexDigit(b[i]):
			digits++
		case strings.IndexByte(hexSpace, b[i]) < 0:
			return &DecodeError{File: f.path, Err: fmt.Errorf("neither blk framing (no known network magic at offset 0: %x) nor block hex (byte %#02x at offset %d is not a hex digit): %w",
				b[:min(n, 4)], b[i], i, heistgraph.ErrInvalid)}
		}
	}
	f.format = formatHex
	return nil
}

// hexProbe is how many hex digits detect wants before the first other
// byte to take a file for hex text.
const hexProbe = 64

// hexSpace is the white space a hex file may have around its lines.
const hexSpace = " \t\r\n\v\f"

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// found is a block record pass 1 found: where its bytes are and its header.
type found struct {
	off    int64 // offset of the block's first byte (blk) or hex digit (hex)
	size   int   // block bytes
	header [HeaderSize]byte
}

// window reads a file through a buffer for pass 1: records of small blocks
// come from one read, large blocks' bodies are skipped.
type window struct {
	r    io.ReaderAt
	size int64
	key  *[8]byte
	buf  []byte
	off  int64 // buf holds the file's bytes [off, off+len(buf))
}

const windowSize = 1 << 20

// at returns the n bytes at off, de-obfuscated; fewer at the end of the file.
func (w *window) at(off int64, n int) ([]byte, error) {
	if off >= w.off && off+int64(n) <= w.off+int64(len(w.buf)) {
		i := int(off - w.off)
		return w.buf[i : i+n], nil
	}
	if w.buf == nil {
		w.buf = make([]byte, 0, windowSize)
	}
	want := min(int64(cap(w.buf)), w.size-off)
	if want < 0 {
		want = 0
	}
	buf := w.buf[:want]
	m, err := w.r.ReadAt(buf, off)
	if err != nil && !(errors.Is(err, io.EOF) && int64(m) == want) {
		return nil, err
	}
	w.buf, w.off = buf[:m], off
	xorAt(w.buf, off, w.key)
	return w.buf[:min(n, m)], nil
}

// scanBlk walks the records of a blk file: 4-byte magic, 4-byte
// little-endian length, block. It stops at a zero magic (Core's preallocated
// padding) or at the end of the file, and calls fn for each record.
func scanBlk(ctx context.Context, f *inputFile, r io.ReaderAt, fn func(found) error) error {
	w := window{r: r, size: f.size, key: &f.key}
	fail := func(off int64, format string, args ...any) error {
		return &DecodeError{File: f.path, Offset: off, Err: fmt.Errorf(format+": %w", append(args, heistgraph.ErrInvalid)...)}
	}
	for off, n := int64(0), 0; off < f.size; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		b, err := w.at(off, 8+HeaderSize)
		if err != nil {
			return fmt.Errorf("bitcoin: read %s at %d: %w", f.path, off, err)
		}
		if len(b) < 8 {
			if allZero(b) {
				return nil
			}
			return fail(off, "truncated record header: %d bytes left", len(b))
		}
		magic := [4]byte(b[:4])
		if magic == [4]byte{} {
			return nil
		}
		if magic != f.magic {
			return fail(off, "network magic %x, want %x (not the start of a record)", magic, f.magic)
		}
		size := int64(uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24)
		switch {
		case size < HeaderSize:
			return fail(off, "record length %d is less than a block header", size)
		case size > MaxBlockSize:
			return fail(off, "record length %d exceeds the maximum block size %d", size, MaxBlockSize)
		case size > f.size-off-8:
			return fail(off, "truncated record: length %d runs past the end of the file (%d bytes left)", size, f.size-off-8)
		}
		rec := found{off: off + 8, size: int(size)}
		copy(rec.header[:], b[8:])
		if err := fn(rec); err != nil {
			return err
		}
		off += 8 + size
	}
	return nil
}

// scanHex walks a file of block hex, one block per line; blank lines and
// whitespace around a line are ignored. Only the header is decoded here;
// pass 2 decodes the rest.
func scanHex(ctx context.Context, f *inputFile, r io.Reader, fn func(found) error) error {
	fail := func(off int64, format string, args ...any) error {
		return &DecodeError{File: f.path, Offset: off, Err: fmt.Errorf(format+": %w", append(args, heistgraph.ErrInvalid)...)}
	}
	const maxLine = 2*MaxBlockSize + 4096
	br := bufio.NewReaderSize(r, 1<<16)
	var long []byte // a line longer than br's buffer
	var off int64   // offset of the current line
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(line) > maxLine {
				return fail(off, "line longer than %d characters, the hex of the largest block", maxLine)
			}
			long = append(long, line...)
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("bitcoin: read %s: %w", f.path, err)
		}
		if long != nil {
			long = append(long, line...)
			line, long = long, nil
		}
		if len(line) > 0 {
			if e := hexLine(f, off, line, fn, fail); e != nil {
				return e
			}
		}
		off += int64(len(line))
		if err != nil { // io.EOF
			return nil
		}
	}
}

func hexLine(f *inputFile, off int64, line []byte, fn func(found) error, fail func(int64, string, ...any) error) error {
	t := bytes.TrimLeft(line, hexSpace)
	start := off + int64(len(line)-len(t))
	t = bytes.TrimRight(t, hexSpace)
	if len(t) == 0 {
		return nil
	}
	switch {
	case len(t)%2 == 1:
		return fail(start, "odd number of hex digits (%d)", len(t))
	case len(t) < 2*HeaderSize:
		return fail(start, "%d hex digits cannot hold a block header", len(t))
	case len(t) > 2*MaxBlockSize:
		return fail(start, "%d hex digits exceed the maximum block size %d", len(t), MaxBlockSize)
	}
	rec := found{off: start, size: len(t) / 2}
	if i, err := decodeHex(rec.header[:], t[:2*HeaderSize]); err != nil {
		return fail(start+int64(i), "%v", err)
	}
	return fn(rec)
}

// decodeHex decodes src into dst and, on failure, returns the index of the
// offending character.
func decodeHex(dst, src []byte) (int, error) {
	for i := 0; i+1 < len(src); i += 2 {
		hi, ok1 := fromHex(src[i])
		lo, ok2 := fromHex(src[i+1])
		if !ok1 || !ok2 {
			if ok1 {
				i++
			}
			return i, fmt.Errorf("invalid hex character %q", src[i])
		}
		dst[i/2] = hi<<4 | lo
	}
	return 0, nil
}

func fromHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// readBlock reads the block of a record found in f into buf (grown as
// needed) and returns its bytes; n limits the read to a prefix when smaller
// than the block.
func readBlock(f *inputFile, r io.ReaderAt, rec found, n int, buf []byte) ([]byte, error) {
	n = min(n, rec.size)
	if f.format == formatHex {
		hexBuf := slices.Grow(buf[:0], 3*n)[:3*n]
		src, dst := hexBuf[n:], hexBuf[:n]
		if _, err := r.ReadAt(src, rec.off); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("bitcoin: read %s at %d: %w", f.path, rec.off, err)
		}
		if i, err := decodeHex(dst, src); err != nil {
			return nil, &DecodeError{File: f.path, Offset: rec.off + int64(i), Err: fmt.Errorf("%v: %w", err, heistgraph.ErrInvalid)}
		}
		return dst, nil
	}
	b := slices.Grow(buf[:0], n)[:n]
	m, err := r.ReadAt(b, rec.off)
	if m < n {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, &DecodeError{File: f.path, Offset: rec.off, Err: fmt.Errorf("truncated block: %d of %d bytes (file changed since indexing?): %w", m, n, heistgraph.ErrInvalid)}
		}
		return nil, fmt.Errorf("bitcoin: read %s at %d: %w", f.path, rec.off, err)
	}
	xorAt(b, rec.off, &f.key)
	return b, nil
}

// fileOffset maps an offset within a block to one in its file.
func fileOffset(f *inputFile, rec found, pos int64) int64 {
	if f.format == formatHex {
		return rec.off + 2*pos
	}
	return rec.off + pos
}
