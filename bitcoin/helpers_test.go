package bitcoin

import (
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/heistgraph/heistgraph"
)

// Test vectors in testdata/ (see testdata/README.md).
const (
	blocks1to255File = "testdata/blocks1-256.blk"
	bigBlkBz2File    = "testdata/blk-0-to-14131.dat.bz2"
	hash574200       = "0000000000000000001602407ac49862a7bca9d00f7f402db20b7be2f5de59d2"
	block574200File  = "testdata/block-" + hash574200 + ".raw"
	hash170          = "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee"
	txid170          = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
	coinbase9        = "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9"
)

// readFile reads a testdata file or fails the test.
func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// splitBlk cuts blk framing with a plain loop, independently of blkfile.go:
// it returns the raw blocks in file order and stops at zero padding.
func splitBlk(tb testing.TB, b []byte) [][]byte {
	tb.Helper()
	var blocks [][]byte
	for len(b) >= 8 && !bytes.Equal(b[:4], []byte{0, 0, 0, 0}) {
		n := binary.LittleEndian.Uint32(b[4:8])
		if !bytes.Equal(b[:4], heistgraph.Mainnet.Magic[:]) || int(n) > len(b)-8 {
			tb.Fatalf("bad test vector framing")
		}
		blocks = append(blocks, b[8:8+n])
		b = b[8+n:]
	}
	return blocks
}

// frame puts raw blocks in blk framing with magic.
func frame(magic [4]byte, blocks ...[]byte) []byte {
	var out []byte
	for _, b := range blocks {
		out = append(out, magic[:]...)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(b)))
		out = append(out, b...)
	}
	return out
}

// blocks1to255 returns mainnet blocks 1 to 255, in order.
func blocks1to255(tb testing.TB) [][]byte {
	return splitBlk(tb, readFile(tb, blocks1to255File))
}

var bigBlk struct {
	once sync.Once
	path string
	err  error
}

// bigBlkPath decompresses blk-0-to-14131.dat.bz2 once per test binary into
// a temporary folder removed by TestMain and returns its path.
func bigBlkPath(tb testing.TB) string {
	tb.Helper()
	bigBlk.once.Do(func() {
		bigBlk.err = func() error {
			dir, err := os.MkdirTemp("", "heistgraph-bitcoin-test-")
			if err != nil {
				return err
			}
			tempDirs = append(tempDirs, dir)
			in, err := os.Open(bigBlkBz2File)
			if err != nil {
				return err
			}
			defer in.Close()
			path := filepath.Join(dir, "blk00000.dat")
			out, err := os.Create(path)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, bzip2.NewReader(in)); err != nil {
				out.Close()
				return fmt.Errorf("decompress %s: %w", bigBlkBz2File, err)
			}
			bigBlk.path = path
			return out.Close()
		}()
	})
	if bigBlk.err != nil {
		tb.Fatal(bigBlk.err)
	}
	return bigBlk.path
}

var tempDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// writeFile writes b to dir/name and returns the path.
func writeFile(tb testing.TB, dir, name string, b []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// collect ranges over a source and returns its blocks or the first error.
// It also ranges over RawBlocks and fails the test unless that yields the
// same blocks (seen through their views) and the same error.
func collect(tb testing.TB, s *FileSource) ([]*heistgraph.Block, error) {
	tb.Helper()
	var out []*heistgraph.Block
	var err error
	for b, e := range s.Blocks(tb.Context()) {
		if err = e; err != nil {
			break
		}
		out = append(out, b)
	}
	// A copy that neither logs nor reports progress, so the caller sees
	// only the first pass's.
	quiet := &FileSource{fsys: s.fsys, files: s.files, net: s.net, opts: s.opts, size: s.size}
	quiet.opts.Logger, quiet.opts.Progress = slog.New(slog.DiscardHandler), nil
	n := 0
	for rb, e := range quiet.RawBlocks(tb.Context()) {
		if e != nil {
			if err == nil || e.Error() != err.Error() || n != len(out) {
				tb.Fatalf("RawBlocks: error %v after %d blocks; Blocks: %v after %d", e, n, err, len(out))
			}
			return out, err
		}
		if n >= len(out) {
			tb.Fatalf("RawBlocks yields block %d (%s), Blocks %d blocks", n, rb.Hash, len(out))
		}
		got := viewBlock(rb, s.Network())
		got.Height = rb.Height
		if !reflect.DeepEqual(got, out[n]) {
			tb.Fatalf("RawBlocks: block %d (%s at %d) differs from Blocks' (%s at %d)", n, rb.Hash, rb.Height, out[n].Hash, out[n].Height)
		}
		n++
	}
	if n != len(out) || err != nil {
		tb.Fatalf("RawBlocks: %d blocks and no error; Blocks: %d, %v", n, len(out), err)
	}
	return out, nil
}

// synth describes a block built in a test: on prev, with a coinbase
// (stating height under BIP34 when version >= 2 and height > 0) and txs.
type synth struct {
	prev    heistgraph.Hash
	version int32
	height  int64
	tag     byte // makes otherwise equal blocks differ
	bits    uint32
	txs     []*wire.MsgTx
}

// coinbaseTx returns a coinbase paying 50 BTC to a P2PKH script.
func coinbaseTx(scriptSig []byte) *wire.MsgTx {
	tx := wire.NewMsgTx(1)
	tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, 0xffffffff), scriptSig, nil))
	tx.AddTxOut(wire.NewTxOut(50e8, append(append([]byte{0x76, 0xa9, 0x14}, bytes.Repeat([]byte{0x11}, 20)...), 0x88, 0xac)))
	return tx
}

// spendTx returns a tx spending prev:0 to one P2WPKH output.
func spendTx(prev chainhash.Hash, value int64) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&prev, 0), []byte{0x51}, nil))
	tx.AddTxOut(wire.NewTxOut(value, append([]byte{0x00, 0x14}, bytes.Repeat([]byte{0x22}, 20)...)))
	return tx
}

// msg builds the wire block of s, with a correct merkle root.
func (s synth) msg() *wire.MsgBlock {
	var sig []byte
	if s.version >= 2 && s.height > 0 {
		var err error
		sig, err = txscript.NewScriptBuilder().AddInt64(s.height).AddData([]byte{s.tag, 0xee}).Script()
		if err != nil {
			panic(err)
		}
	} else {
		sig = []byte{0x04, 0xff, 0xff, 0x00, 0x1d, 0x01, s.tag}
	}
	bits := s.bits
	if bits == 0 {
		bits = 0x1d00ffff
	}
	m := wire.NewMsgBlock(wire.NewBlockHeader(s.version, (*chainhash.Hash)(&s.prev), &chainhash.Hash{}, bits, uint32(s.tag)))
	m.Header.Timestamp = time.Unix(1231006505+int64(s.tag)*600, 0)
	m.AddTransaction(coinbaseTx(sig))
	for _, tx := range s.txs {
		m.AddTransaction(tx)
	}
	var ids []chainhash.Hash
	for _, tx := range m.Transactions {
		ids = append(ids, tx.TxHash())
	}
	m.Header.MerkleRoot = testMerkle(ids)
	return m
}

// bytes serializes the block of s.
func (s synth) bytes() []byte {
	var buf bytes.Buffer
	if err := s.msg().Serialize(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// serialize serializes a wire block.
func serialize(m *wire.MsgBlock) []byte {
	var buf bytes.Buffer
	if err := m.Serialize(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// testMerkle is a plain recursive merkle root, independent of doubler.merkleRoot.
func testMerkle(ids []chainhash.Hash) chainhash.Hash {
	if len(ids) == 1 {
		return ids[0]
	}
	var next []chainhash.Hash
	for i := 0; i < len(ids); i += 2 {
		j := min(i+1, len(ids)-1)
		next = append(next, chainhash.DoubleHashH(append(ids[i][:], ids[j][:]...)))
	}
	return testMerkle(next)
}

// chainOf builds n synthetic blocks on prev, the first tagged tag.
func chainOf(prev heistgraph.Hash, n int, tag byte) [][]byte {
	var out [][]byte
	for i := range n {
		b := synth{prev: prev, version: 1, tag: tag + byte(i)}.bytes()
		out = append(out, b)
		prev = heistgraph.Hash(chainhash.DoubleHashH(b[:80]))
	}
	return out
}

// mapFS serves FileSource from memory (fuzzing writes no files).
type mapFS struct{ fstest.MapFS }

func (m mapFS) Stat(name string) (fs.FileInfo, error)      { return fs.Stat(m.MapFS, name) }
func (m mapFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(m.MapFS, name) }
func (m mapFS) ReadFile(name string) ([]byte, error)       { return fs.ReadFile(m.MapFS, name) }

func (m mapFS) Open(name string) (file, error) {
	f, err := m.MapFS.Open(name)
	if err != nil {
		return nil, err
	}
	ra, ok := f.(file)
	if !ok {
		f.Close()
		return nil, fmt.Errorf("%s: no ReadAt", name)
	}
	return ra, nil
}
