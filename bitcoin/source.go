package bitcoin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"sync"

	"github.com/heistgraph/heistgraph"
)

// FileOptions configures a FileSource. The zero value is usable: detect the
// network, know no stored blocks, log nothing, report no progress.
type FileOptions struct {
	// Network is the network the files must belong to. Nil means: the
	// network of the first blk file's magic, or mainnet when there are only
	// hex files. A blk file whose magic is another network's is an error.
	Network *heistgraph.Network
	// Known reports the height of a block the caller already has (the
	// store). A known block is not emitted; a block whose parent is known
	// continues at the parent's height + 1. Nil knows nothing. It is called
	// from the goroutine ranging over Blocks, during indexing.
	Known func(hash heistgraph.Hash) (height int64, ok bool)
	// Logger receives the summary of indexing and one line per stale block
	// skipped. Nil discards.
	Logger *slog.Logger
	// Progress, if set, is called after each block emitted with the bytes
	// of blocks read so far and the number of blocks emitted, and once at
	// the end with TotalBytes(); it runs on the goroutine ranging over Blocks and
	// must return quickly.
	Progress func(bytesRead, blocksEmitted int64)
}

// DefaultFileOptions returns the defaults documented on FileOptions.
func DefaultFileOptions() FileOptions { return FileOptions{} }

// Validate checks o and fills defaults. An unknown Network is an error
// wrapping heistgraph.ErrInvalid.
func (o *FileOptions) Validate() error {
	if o.Network != nil {
		if _, err := ChainParams(*o.Network); err != nil {
			return err
		}
		if net, ok := heistgraph.NetworkByChain(o.Network.Chain); !ok || net != *o.Network {
			return fmt.Errorf("bitcoin: network %q does not match the known %s parameters: %w", o.Network.Name, o.Network.Chain, heistgraph.ErrInvalid)
		}
	}
	if o.Known == nil {
		o.Known = func(heistgraph.Hash) (int64, bool) { return 0, false }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// FileStats counts what a FileSource found and did in its last Blocks run.
type FileStats struct {
	Files      int   // input files read
	Records    int64 // block records in them, duplicates included
	Duplicates int64 // records of a block already seen
	Known      int64 // unique blocks Known reported, not emitted
	Stale      int64 // blocks off the best chain, skipped and logged
	Emitted    int64 // blocks yielded
}

// FileSource reads blocks from Bitcoin Core blk*.dat files (plain, or
// obfuscated with the xor.dat beside them) and from files of raw block hex,
// and yields them in chain order. It implements heistgraph.BlockStream.
//
// # Paths
//
// Each path is a file or a folder. A file's format is detected from its
// content: blk framing with any known network magic, or hex text with one
// block per line (blank lines and whitespace around a line are ignored). A
// folder stands for its top-level blk*.dat files in numeric order, with the
// folder's xor.dat if present; other files in it are ignored.
//
// # Order
//
// Blocks runs two passes. Pass 1 indexes every record by reading only
// headers (file, offset, size, hash, parent, bits; about 130 bytes a block),
// since Core stores blocks out of height order. Then each block gets a height:
// a child of the network's genesis block has height 1 (genesis itself, built
// in, is emitted first at height 0 unless Known has it); a child of a Known
// block continues from it; a child of an indexed block continues from that;
// any other block is a root at the height its BIP34 coinbase states, and a
// root without one is an error. Within each tree of blocks the best chain
// ends at the block of most cumulative work (the first in file order on a
// tie); blocks off it are stale: skipped, logged and counted. Trees whose
// best chains claim the same heights are forks the data cannot join: the one
// with less work is stale. Pass 2 reads the blocks to emit in height order by
// offset, one at a time, and decodes them; memory is bounded by the index.
//
// # Errors
//
// A file named in paths that is empty, or hex text with no block in it, is
// an error; so is a file of neither format (the message says it is neither,
// and where it stopped looking like hex). A folder's blk*.dat files may be
// empty or zero padding (Bitcoin Core preallocates them).
//
// Bad bytes anywhere (wrong magic where a record should start, a length past
// the end of the file or above MaxBlockSize, bad hex, a block that does not
// decode, a merkle mismatch, a root without a BIP34 height) end the sequence
// with a *DecodeError wrapping heistgraph.ErrInvalid that names the file,
// the byte offset and the block. A FileSource may be used by one goroutine
// at a time; each call of Blocks starts over.
type FileSource struct {
	fsys  fileSystem
	files []inputFile
	net   heistgraph.Network
	opts  FileOptions
	size  int64

	mu    sync.Mutex
	stats FileStats
}

var _ heistgraph.BlockStream = (*FileSource)(nil)

// NewFileSource lists and inspects paths (formats, xor keys, network) without
// reading any block. Errors: a missing or unreadable path (wrapping the
// cause, such as fs.ErrNotExist, and heistgraph.ErrInvalid), a folder
// without blk*.dat files, an empty file, a file of neither format, or a
// network mismatch (all wrap heistgraph.ErrInvalid).
func NewFileSource(paths []string, opts FileOptions) (*FileSource, error) {
	return newFileSource(osFS{}, paths, opts)
}

// newFileSource is NewFileSource reading through fsys.
func newFileSource(fsys fileSystem, paths []string, opts FileOptions) (*FileSource, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("bitcoin: no block files given: %w", heistgraph.ErrInvalid)
	}
	files, err := listInputs(fsys, paths)
	if err != nil {
		return nil, err
	}
	s := &FileSource{fsys: fsys, files: files, opts: opts}
	var detected *inputFile
	for i := range files {
		f := &files[i]
		s.size += f.size
		if err := detectFile(fsys, f); err != nil {
			return nil, err
		}
		if f.format != formatBlk {
			continue
		}
		switch {
		case opts.Network != nil && f.magic != opts.Network.Magic:
			return nil, &DecodeError{File: f.path, Err: fmt.Errorf("network magic %x is %s's, not %s's: %w", f.magic, magicName(f.magic), opts.Network.Name, heistgraph.ErrInvalid)}
		case detected == nil:
			detected = f
		case f.magic != detected.magic:
			return nil, &DecodeError{File: f.path, Err: fmt.Errorf("network magic %x is %s's, but %s is %s's: %w", f.magic, magicName(f.magic), detected.path, magicName(detected.magic), heistgraph.ErrInvalid)}
		}
	}
	switch {
	case opts.Network != nil:
		s.net = *opts.Network
	case detected != nil:
		s.net, _ = heistgraph.NetworkByMagic(detected.magic)
	default:
		s.net = heistgraph.Mainnet
	}
	return s, nil
}

func detectFile(fsys fileSystem, f *inputFile) error {
	h, err := fsys.Open(f.path)
	if err != nil {
		return fmt.Errorf("bitcoin: block input: %w", err)
	}
	defer h.Close()
	return f.detect(h)
}

func magicName(m [4]byte) string {
	if n, ok := heistgraph.NetworkByMagic(m); ok {
		return n.Name
	}
	return "no network"
}

// Network returns the network of the files.
func (s *FileSource) Network() heistgraph.Network { return s.net }

// TotalBytes returns the total size of the input files in bytes, the
// maximum for a progress bar fed by FileOptions.Progress.
func (s *FileSource) TotalBytes() int64 { return s.size }

// Stats returns the counts of the last (or current) Blocks run. It is safe
// to call from any goroutine.
func (s *FileSource) Stats() FileStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// StaleCount returns Stats().Stale: blocks off the best chain, skipped.
func (s *FileSource) StaleCount() int64 { return s.Stats().Stale }

// SkippedCount returns Stats().Known: blocks the caller already had
// (FileOptions.Known), skipped.
func (s *FileSource) SkippedCount() int64 { return s.Stats().Known }

func (s *FileSource) setStats(f func(*FileStats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// Blocks indexes the files, orders the blocks and yields those to emit in
// height order with Height set, parents first. An error (the first element
// of a pair) ends the sequence; so does cancelling ctx, with ctx's error.
// Each block is newly allocated and owned by the caller.
func (s *FileSource) Blocks(ctx context.Context) iter.Seq2[*heistgraph.Block, error] {
	return emit(ctx, s, func() func(*readers, *record, *[]byte) (*heistgraph.Block, error) {
		return func(rd *readers, r *record, buf *[]byte) (*heistgraph.Block, error) {
			b, err := s.decode(rd, r, buf, decodeDomain)
			if err != nil {
				return nil, err
			}
			b.Height = r.height
			return b, nil
		}
	})
}

// RawBlocks is Blocks for the fast path: the same blocks in the same order,
// checked the same way with the same errors, each yielded as a RawBlock
// scanned by one Scanner (Scanner.Scan), with Height set. A yielded view
// and its bytes are valid only until the loop asks for the next block:
// keep nothing of it but copies. Each call of RawBlocks starts over with a
// Scanner of its own.
func (s *FileSource) RawBlocks(ctx context.Context) iter.Seq2[*RawBlock, error] {
	return emit(ctx, s, func() func(*readers, *record, *[]byte) (*RawBlock, error) {
		var sc Scanner
		return func(rd *readers, r *record, buf *[]byte) (*RawBlock, error) {
			var rb *RawBlock
			_, err := s.decode(rd, r, buf, func(raw []byte, _ heistgraph.Network) (*heistgraph.Block, heistgraph.Hash, error) {
				var err error
				if rb, err = sc.Scan(raw); err != nil {
					return nil, heistgraph.Hash{}, err
				}
				return nil, rb.Hash, nil
			})
			if err != nil {
				return nil, err
			}
			rb.Height = r.height
			return rb, nil
		}
	})
}

// emit is the loop of Blocks and RawBlocks: index, then read each block to
// emit with the function newRead makes for the sequence, in height order,
// counting and reporting progress.
func emit[T any](ctx context.Context, s *FileSource, newRead func() func(*readers, *record, *[]byte) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		s.setStats(func(st *FileStats) { *st = FileStats{Files: len(s.files)} })
		rd := &readers{fsys: s.fsys, files: s.files}
		defer rd.close()
		p, err := s.index(ctx, rd)
		if err != nil {
			yield(zero, err)
			return
		}
		read := newRead()
		var buf []byte
		var bytesRead, emitted int64
		for _, i := range p.emit {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			r := &p.recs[i]
			b, err := read(rd, r, &buf)
			if err != nil {
				yield(zero, err)
				return
			}
			bytesRead += int64(r.size)
			emitted++
			s.setStats(func(st *FileStats) { st.Emitted++ })
			if s.opts.Progress != nil {
				s.opts.Progress(bytesRead, emitted)
			}
			if !yield(b, nil) {
				return
			}
		}
		if s.opts.Progress != nil {
			s.opts.Progress(s.size, emitted)
		}
	}
}

// index is pass 1 and ordering.
func (s *FileSource) index(ctx context.Context, rd *readers) (*plan, error) {
	genesis, err := GenesisHash(s.net)
	if err != nil {
		return nil, err
	}
	var recs []record
	byHash := map[heistgraph.Hash]int32{}
	var records, dups int64
	for fi := range s.files {
		f := &s.files[fi]
		add := func(fd found) error {
			records++
			r := recordOf(int32(fi), fd)
			if _, dup := byHash[r.hash]; dup {
				dups++
				return nil
			}
			byHash[r.hash] = int32(len(recs))
			recs = append(recs, r)
			return nil
		}
		switch f.format {
		case formatBlk:
			h, err := rd.get(int32(fi))
			if err != nil {
				return nil, err
			}
			err = scanBlk(ctx, f, h, add)
			if err != nil {
				return nil, err
			}
		case formatHex:
			h, err := rd.get(int32(fi))
			if err != nil {
				return nil, err
			}
			before := records
			if err := scanHex(ctx, f, io.NewSectionReader(h, 0, f.size), add); err != nil {
				return nil, err
			}
			if records == before {
				return nil, &DecodeError{File: f.path, Err: fmt.Errorf("holds only white space: not a blk file nor raw block hex: %w", heistgraph.ErrInvalid)}
			}
		}
	}
	// The built-in genesis block replaces a copy in the files, and is added
	// when a block builds on it.
	if gi, ok := byHash[genesis]; ok {
		recs[gi].file = genesisFile
	} else {
		for i := range recs {
			if recs[i].prev == genesis {
				raw, err := genesisBytes(s.net)
				if err != nil {
					return nil, err
				}
				var fd found
				copy(fd.header[:], raw)
				fd.size = len(raw)
				g := recordOf(genesisFile, fd)
				byHash[genesis] = int32(len(recs))
				recs = append(recs, g)
				break
			}
		}
	}
	p, err := order(recs, byHash, genesis, s.opts.Known, func(r *record) (int64, error) { return s.rootHeight(rd, r) })
	if err != nil {
		return nil, err
	}
	log := s.opts.Logger
	for _, i := range p.stale {
		r := &p.recs[i]
		log.Info("stale block skipped", "hash", r.hash, "height", r.height, "file", s.path(r), "offset", s.recordStart(r))
	}
	s.setStats(func(st *FileStats) {
		st.Records, st.Duplicates, st.Known, st.Stale = records, dups, int64(p.known), int64(len(p.stale))
	})
	log.Info("indexed block files", "network", s.net.Name, "files", len(s.files), "records", records,
		"duplicates", dups, "known", p.known, "stale", len(p.stale), "to_emit", len(p.emit))
	return p, nil
}

func (s *FileSource) path(r *record) string {
	if r.file == genesisFile {
		return "(built-in genesis)"
	}
	return s.files[r.file].path
}

// recordStart is the offset errors name for a record: its magic in a blk
// file, its first hex digit in a hex file.
func (s *FileSource) recordStart(r *record) int64 {
	if r.file == genesisFile {
		return 0
	}
	if s.files[r.file].format == formatBlk {
		return r.off - 8
	}
	return r.off
}

// rootHeight reads a root block's BIP34 height from its coinbase.
func (s *FileSource) rootHeight(rd *readers, r *record) (int64, error) {
	f := &s.files[r.file]
	h, err := rd.get(r.file)
	if err != nil {
		return 0, err
	}
	const prefix = 1024 // header, counts, coinbase prevout, scriptSig start
	raw, err := readBlock(f, h, found{off: r.off, size: int(r.size)}, prefix, nil)
	if err != nil {
		return 0, err
	}
	height, ok := CoinbaseHeight(raw)
	if !ok {
		return 0, &DecodeError{File: f.path, Offset: s.recordStart(r), Hash: r.hash.String(),
			Err: fmt.Errorf("cannot place the block: its parent %s is neither in the input nor known, and its coinbase states no BIP34 height: %w", r.prev, heistgraph.ErrInvalid)}
	}
	return height, nil
}

// decoder decodes the bytes of a block of net and returns its hash; the
// block may be nil (RawBlocks keeps its view aside).
type decoder func(raw []byte, net heistgraph.Network) (*heistgraph.Block, heistgraph.Hash, error)

// decodeDomain is the decoder of Blocks.
func decodeDomain(raw []byte, net heistgraph.Network) (*heistgraph.Block, heistgraph.Hash, error) {
	b, err := DecodeBlock(raw, net)
	if err != nil {
		return nil, heistgraph.Hash{}, err
	}
	return b, b.Hash, nil
}

// decode reads the block of r and decodes it with dec, naming the file,
// offset and height in its errors, and checks its hash against the index.
func (s *FileSource) decode(rd *readers, r *record, buf *[]byte, dec decoder) (*heistgraph.Block, error) {
	if r.file == genesisFile {
		raw, err := genesisBytes(s.net)
		if err != nil {
			return nil, err
		}
		b, _, err := dec(raw, s.net)
		return b, err
	}
	f := &s.files[r.file]
	h, err := rd.get(r.file)
	if err != nil {
		return nil, err
	}
	fd := found{off: r.off, size: int(r.size)}
	raw, err := readBlock(f, h, fd, fd.size, *buf)
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			de.Height, de.Hash = r.height, r.hash.String()
		}
		return nil, err
	}
	*buf = raw[:0]
	b, hash, err := dec(raw, s.net)
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			de.File, de.Offset, de.Height = f.path, fileOffset(f, fd, de.Offset), r.height
		}
		return nil, err
	}
	if hash != r.hash {
		return nil, &DecodeError{File: f.path, Offset: s.recordStart(r), Height: r.height, Hash: r.hash.String(),
			Err: fmt.Errorf("block hash is now %s (file changed since indexing?): %w", hash, heistgraph.ErrInvalid)}
	}
	return b, nil
}

// readers keeps a few input files open for random access.
type readers struct {
	fsys  fileSystem
	files []inputFile
	open  []openFile // most recently used last
}

type openFile struct {
	i int32
	f file
}

const maxOpenFiles = 8

func (rd *readers) get(i int32) (file, error) {
	for j, o := range rd.open {
		if o.i == i {
			if j != len(rd.open)-1 {
				copy(rd.open[j:], rd.open[j+1:])
				rd.open[len(rd.open)-1] = o
			}
			return o.f, nil
		}
	}
	f, err := rd.fsys.Open(rd.files[i].path)
	if err != nil {
		return nil, fmt.Errorf("bitcoin: block input: %w", err)
	}
	if len(rd.open) == maxOpenFiles {
		rd.open[0].f.Close()
		rd.open = append(rd.open[:0], rd.open[1:]...)
	}
	rd.open = append(rd.open, openFile{i, f})
	return f, nil
}

func (rd *readers) close() {
	for _, o := range rd.open {
		o.f.Close()
	}
	rd.open = nil
}
