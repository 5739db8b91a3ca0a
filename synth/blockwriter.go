package synth

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/heistgraph/heistgraph"
)

// Block header constants of the world: version with the BIP 9 top bits,
// regtest's minimum difficulty.
const (
	blockVersion = 0x20000000
	regtestBits  = 0x207fffff
	// maxBlockFile is where Bitcoin Core starts a new blk file (128 MiB).
	maxBlockFile = 128 << 20
	// subsidy is the coinbase reward. The world uses a fixed 50 BTC rather
	// than regtest's halving every 150 blocks, so that long worlds keep an
	// economy; nothing in heistgraph validates the subsidy.
	subsidy = 50 * 100_000_000
)

// block is the block under construction: the transactions already
// serialized (without the coinbase, which is built last), their ids and
// the fees they pay.
type block struct {
	body   []byte
	txids  []chainhash.Hash
	wtxids []chainhash.Hash
	fees   int64
}

func (b *block) reset() {
	b.body = b.body[:0]
	b.txids = b.txids[:0]
	b.wtxids = b.wtxids[:0]
	b.fees = 0
}

// blockWriter writes blocks in Bitcoin Core's blk-file framing (network
// magic, 4-byte little-endian length, raw block) to blk00000.dat,
// blk00001.dat, ... in dir, starting a new file where Core would.
type blockWriter struct {
	dir   string
	magic [4]byte
	limit int64 // file size at which a new file starts
	f     *os.File
	bw    *bufio.Writer
	num   int   // current file number, -1 before the first
	size  int64 // bytes in the current file
	total int64 // bytes in all files
	files []string
}

func newBlockWriter(dir string) *blockWriter {
	return &blockWriter{dir: dir, magic: heistgraph.Regtest.Magic, num: -1, limit: maxBlockFile}
}

// write appends one block record made of the given parts.
func (bw *blockWriter) write(parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	rec := int64(8 + n)
	if bw.f == nil || bw.size+rec > bw.limit {
		if err := bw.next(); err != nil {
			return err
		}
	}
	var hdr [8]byte
	copy(hdr[:4], bw.magic[:])
	binary.LittleEndian.PutUint32(hdr[4:], uint32(n))
	if _, err := bw.bw.Write(hdr[:]); err != nil {
		return fmt.Errorf("write %s: %w", bw.f.Name(), err)
	}
	for _, p := range parts {
		if _, err := bw.bw.Write(p); err != nil {
			return fmt.Errorf("write %s: %w", bw.f.Name(), err)
		}
	}
	bw.size += rec
	bw.total += rec
	return nil
}

// next closes the current file and opens the following one.
func (bw *blockWriter) next() error {
	if err := bw.closeFile(); err != nil {
		return err
	}
	bw.num++
	name := fmt.Sprintf("blk%05d.dat", bw.num)
	f, err := os.Create(filepath.Join(bw.dir, name))
	if err != nil {
		return fmt.Errorf("create block file: %w", err)
	}
	bw.f, bw.size = f, 0
	bw.files = append(bw.files, name)
	if bw.bw == nil {
		bw.bw = bufio.NewWriterSize(f, 1<<20)
	} else {
		bw.bw.Reset(f)
	}
	return nil
}

func (bw *blockWriter) closeFile() error {
	if bw.f == nil {
		return nil
	}
	if err := bw.bw.Flush(); err != nil {
		bw.f.Close()
		return fmt.Errorf("write %s: %w", bw.f.Name(), err)
	}
	if err := bw.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", bw.f.Name(), err)
	}
	bw.f = nil
	return nil
}

// finish flushes and closes the last file and removes blk files left in
// dir by an earlier, longer world, so that dir holds exactly this chain.
func (bw *blockWriter) finish() error {
	if err := bw.closeFile(); err != nil {
		return err
	}
	entries, err := os.ReadDir(bw.dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", bw.dir, err)
	}
	for _, e := range entries {
		var n int
		if !blkName.MatchString(e.Name()) {
			continue
		}
		if _, err := fmt.Sscanf(e.Name(), "blk%05d.dat", &n); err == nil && n > bw.num {
			if err := os.Remove(filepath.Join(bw.dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove stale %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}

// abort closes the current file without caring about errors (the
// generation already failed).
func (bw *blockWriter) abort() {
	if bw.f != nil {
		bw.f.Close()
		bw.f = nil
	}
}

var blkName = regexp.MustCompile(`^blk[0-9]{5}\.dat$`)

// merkleRoot returns the Bitcoin merkle root of hashes (the last hash of an
// odd level is paired with itself). It reuses hashes' storage.
func merkleRoot(hashes []chainhash.Hash) chainhash.Hash {
	if len(hashes) == 0 {
		return chainhash.Hash{}
	}
	var buf [64]byte
	for len(hashes) > 1 {
		n := 0
		for i := 0; i < len(hashes); i += 2 {
			j := i + 1
			if j == len(hashes) {
				j = i
			}
			copy(buf[:32], hashes[i][:])
			copy(buf[32:], hashes[j][:])
			hashes[n] = chainhash.DoubleHashH(buf[:])
			n++
		}
		hashes = hashes[:n]
	}
	return hashes[0]
}

// appendHeightPush appends the BIP 34 serialization of height to a script
// as Bitcoin Core does (CScript() << height): OP_1..OP_16 for small
// heights, else a minimal little-endian push.
func appendHeightPush(s []byte, height int64) []byte {
	if height >= 1 && height <= 16 {
		return append(s, byte(0x50+height))
	}
	var num []byte
	for v := height; v > 0; v >>= 8 {
		num = append(num, byte(v))
	}
	if num[len(num)-1]&0x80 != 0 {
		num = append(num, 0)
	}
	s = append(s, byte(len(num)))
	return append(s, num...)
}

// powTarget is the target of regtestBits.
var powTarget = compactToBig(regtestBits)

func compactToBig(c uint32) *big.Int {
	mant := int64(c & 0x007fffff)
	exp := uint(c >> 24)
	t := big.NewInt(mant)
	if exp <= 3 {
		return t.Rsh(t, 8*(3-exp))
	}
	return t.Lsh(t, 8*(exp-3))
}

// meetsTarget reports whether a block hash (internal byte order) is at or
// below the proof-of-work target.
func meetsTarget(h chainhash.Hash) bool {
	var be [32]byte
	for i := range be {
		be[i] = h[31-i]
	}
	return new(big.Int).SetBytes(be[:]).Cmp(powTarget) <= 0
}

// endBlock builds the coinbase (BIP 34 height, witness commitment), the
// header with a nonce meeting regtest's target, and writes the block.
func (w *world) endBlock() error {
	m := w.pickMiner()
	reward := subsidy + w.blk.fees

	// Witness commitment over the wtxids, the coinbase's counted as zero.
	wt := make([]chainhash.Hash, 0, len(w.blk.wtxids)+1)
	wt = append(wt, chainhash.Hash{})
	wt = append(wt, w.blk.wtxids...)
	wroot := merkleRoot(wt)
	var reserved [32]byte
	commitment := chainhash.DoubleHashH(append(wroot[:], reserved[:]...))

	ss := appendHeightPush(nil, int64(w.height))
	ss = binary.LittleEndian.AppendUint64(ss, w.rng.Uint64()) // extranonce
	ss = append(ss, m.tag...)

	cb := make([]byte, 0, 256)
	cb = binary.LittleEndian.AppendUint32(cb, 2)
	cb = append(cb, 0x00, 0x01)
	ioStart := len(cb)
	cb = append(cb, 1)
	cb = append(cb, make([]byte, 32)...)
	cb = binary.LittleEndian.AppendUint32(cb, 0xffffffff)
	cb = appendVarInt(cb, uint64(len(ss)))
	cb = append(cb, ss...)
	cb = binary.LittleEndian.AppendUint32(cb, seqFinal)
	cb = append(cb, 2)
	cb = binary.LittleEndian.AppendUint64(cb, uint64(reward))
	cb = append(cb, byte(w.book.kind[m.cbAddr].scriptLen()))
	cb = w.book.appendScript(cb, m.cbAddr)
	cb = binary.LittleEndian.AppendUint64(cb, 0)
	cb = append(cb, 38, 0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed)
	cb = append(cb, commitment[:]...)
	ioEnd := len(cb)
	cb = append(cb, 1, 32)
	cb = append(cb, reserved[:]...)
	cb = binary.LittleEndian.AppendUint32(cb, 0)
	stripped := make([]byte, 0, len(cb))
	stripped = append(stripped, cb[:4]...)
	stripped = append(stripped, cb[ioStart:ioEnd]...)
	stripped = append(stripped, cb[len(cb)-4:]...)
	cbid := chainhash.DoubleHashH(stripped)

	ids := make([]chainhash.Hash, 0, len(w.blk.txids)+1)
	ids = append(ids, cbid)
	ids = append(ids, w.blk.txids...)
	root := merkleRoot(ids)

	var hdr [80]byte
	binary.LittleEndian.PutUint32(hdr[0:], blockVersion)
	copy(hdr[4:36], w.prev[:])
	copy(hdr[36:68], root[:])
	binary.LittleEndian.PutUint32(hdr[68:], w.time)
	binary.LittleEndian.PutUint32(hdr[72:], regtestBits)
	var hash chainhash.Hash
	for nonce := uint32(0); ; nonce++ {
		binary.LittleEndian.PutUint32(hdr[76:], nonce)
		hash = chainhash.DoubleHashH(hdr[:])
		if meetsTarget(hash) {
			break
		}
	}

	count := appendVarInt(nil, uint64(len(w.blk.txids)+1))
	if err := w.out.write(hdr[:], count, cb, w.blk.body); err != nil {
		return err
	}
	w.prev = hash
	w.txs++
	w.book.markUsed(m.cbAddr)
	m.w.add(coin{hash: cbid, vout: 0, value: reward, addr: m.cbAddr, height: w.height, cb: true})
	w.blk.reset()
	return nil
}
