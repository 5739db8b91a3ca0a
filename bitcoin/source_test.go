package bitcoin

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// The 16 MiB file of blocks 0-14131 ends in Core's zero padding: it must be
// read to the padding, with genesis deduplicated against the built-in one.
func TestFileSourceBlocks0To14131(t *testing.T) {
	t.Parallel()
	path := bigBlkPath(t)
	var progressed, lastBlocks int64
	s, err := NewFileSource([]string{path}, FileOptions{Progress: func(read, blocks int64) { progressed, lastBlocks = read, blocks }})
	if err != nil {
		t.Fatal(err)
	}
	if s.Network() != heistgraph.Mainnet {
		t.Fatalf("network %s", s.Network().Name)
	}
	var blocks, txs int64
	var prev heistgraph.Hash
	for b, err := range s.Blocks(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if b.Height != blocks || b.PrevHash != prev {
			t.Fatalf("block %s at height %d after %d blocks", b.Hash, b.Height, blocks)
		}
		prev = b.Hash
		blocks++
		txs += int64(len(b.Txs))
	}
	if blocks != 14132 || txs != 14247 {
		t.Errorf("%d blocks, %d txs; want 14132, 14247", blocks, txs)
	}
	st := s.Stats()
	if st.Records != 14132 || st.Emitted != 14132 || st.Stale != 0 || st.Duplicates != 0 || st.Files != 1 {
		t.Errorf("stats %+v", st)
	}
	if progressed != s.TotalBytes() || s.TotalBytes() != 16<<20 || lastBlocks != 14132 {
		t.Errorf("progress ended at %d bytes, %d blocks; size %d", progressed, lastBlocks, s.TotalBytes())
	}
}

// sourceOf writes files into a temporary folder and opens them.
func sourceOf(t *testing.T, opts FileOptions, files map[string][]byte, open ...string) (*FileSource, string, error) {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		writeFile(t, dir, name, b)
	}
	var paths []string
	for _, name := range open {
		paths = append(paths, filepath.Join(dir, name))
	}
	s, err := NewFileSource(paths, opts)
	return s, dir, err
}

// hashesOf returns the blocks' hashes and checks heights run from first.
func hashesOf(t *testing.T, blocks []*heistgraph.Block, first int64) []heistgraph.Hash {
	t.Helper()
	var hs []heistgraph.Hash
	for i, b := range blocks {
		if b.Height != first+int64(i) {
			t.Fatalf("block %d %s at height %d, want %d", i, b.Hash, b.Height, first+int64(i))
		}
		if i > 0 && b.PrevHash != blocks[i-1].Hash {
			t.Fatalf("block %d does not build on block %d", i, i-1)
		}
		hs = append(hs, b.Hash)
	}
	return hs
}

// want0to255 is genesis then blocks 1-255.
func want0to255(t *testing.T) []heistgraph.Hash {
	t.Helper()
	g, _ := GenesisHash(heistgraph.Mainnet)
	hs := []heistgraph.Hash{g}
	for _, b := range blocks1to255(t) {
		hs = append(hs, hash256(b[:80]))
	}
	return hs
}

func xorWith(b []byte, key [8]byte) []byte {
	out := bytes.Clone(b)
	for i := range out {
		out[i] ^= key[i%8]
	}
	return out
}

func hexLines(blocks [][]byte, sep string) []byte {
	var lines []string
	for _, b := range blocks {
		lines = append(lines, hex.EncodeToString(b))
	}
	return []byte(strings.Join(lines, sep))
}

// Inputs that hold mainnet blocks 0 (implicit) to 255 in different shapes
// all yield the same chain.
func TestFileSourceShapes(t *testing.T) {
	t.Parallel()
	blocks := blocks1to255(t)
	plain := frame(heistgraph.Mainnet.Magic, blocks...)
	key := [8]byte{0x4f, 0x1a, 0x00, 0xe7, 0x90, 0x33, 0x02, 0xbc}
	shuffled := slices.Clone(blocks)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	padded := append(bytes.Clone(plain), make([]byte, 1<<16)...)
	genesisRaw, _ := genesisBytes(heistgraph.Mainnet)

	tests := []struct {
		name  string
		files map[string][]byte
		open  []string
	}{
		{"blk file", map[string][]byte{"blocks.blk": plain}, []string{"blocks.blk"}},
		{"zero padding", map[string][]byte{"blk00000.dat": padded}, []string{"blk00000.dat"}},
		{"shuffled records", map[string][]byte{"s.blk": frame(heistgraph.Mainnet.Magic, shuffled...)}, []string{"s.blk"}},
		{"genesis in the file, twice", map[string][]byte{"g.blk": frame(heistgraph.Mainnet.Magic, append([][]byte{genesisRaw, genesisRaw}, blocks...)...)}, []string{"g.blk"}},
		{"duplicates across files", map[string][]byte{"a.blk": plain, "b.blk": frame(heistgraph.Mainnet.Magic, blocks[100:]...)}, []string{"a.blk", "b.blk"}},
		{"xor obfuscated", map[string][]byte{"blk00000.dat": xorWith(padded, key), XORFile: key[:]}, []string{"blk00000.dat"}},
		{"zero xor key", map[string][]byte{"blk00000.dat": plain, XORFile: make([]byte, 8)}, []string{"blk00000.dat"}},
		{"plain file beside xor.dat", map[string][]byte{"other.blk": plain, XORFile: key[:]}, []string{"other.blk"}},
		{"hex lines", map[string][]byte{"blocks.hex": hexLines(blocks, "\n")}, []string{"blocks.hex"}},
		{"hex with blank lines, CRLF and spaces", map[string][]byte{"blocks.txt": append(append([]byte("\n\r\n  "), hexLines(shuffled, "  \r\n\n\t ")...), "\n\n"...)}, []string{"blocks.txt"}},
		{"hex in upper case", map[string][]byte{"blocks.txt": bytes.ToUpper(hexLines(blocks, "\n"))}, []string{"blocks.txt"}},
		{"hex and blk together", map[string][]byte{"a.hex": hexLines(blocks[:100], "\n"), "b.blk": frame(heistgraph.Mainnet.Magic, blocks[100:]...)}, []string{"b.blk", "a.hex"}},
		{"folder", map[string][]byte{
			"blk00000.dat": xorWith(frame(heistgraph.Mainnet.Magic, blocks[200:]...), key),
			"blk00001.dat": xorWith(append(frame(heistgraph.Mainnet.Magic, blocks[:100]...), make([]byte, 4096)...), key),
			"blk00010.dat": xorWith(frame(heistgraph.Mainnet.Magic, blocks[100:200]...), key),
			"rev00000.dat": []byte("undo data, not blocks"),
			"notes.txt":    []byte("an unrelated file"),
			XORFile:        key[:],
		}, []string{""}},
	}
	want := want0to255(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _, err := sourceOf(t, FileOptions{}, tc.files, tc.open...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := collect(t, s)
			if err != nil {
				t.Fatal(err)
			}
			if hs := hashesOf(t, got, 0); !slices.Equal(hs, want) {
				t.Fatalf("%d blocks, want %d", len(hs), len(want))
			}
			if s.Network() != heistgraph.Mainnet {
				t.Errorf("network %s", s.Network().Name)
			}
			if got[170].Txs[1].TxID.String() != txid170 {
				t.Errorf("block 170 tx 1 is %s", got[170].Txs[1].TxID)
			}
		})
	}
}

func TestListInputsNumericOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"blk10.dat", "blk2.dat", "blk00001.dat", "blkx.dat", "blk.dat", "rev00000.dat", "index", XORFile} {
		writeFile(t, dir, name, make([]byte, 8))
	}
	files, err := listInputs(osFS{}, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f.path))
	}
	if want := []string{"blk00001.dat", "blk2.dat", "blk10.dat"}; !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
}

// A fork at block 250: the branch with more work is the chain, the other
// is stale, skipped, counted and logged.
func TestFileSourceStaleFork(t *testing.T) {
	t.Parallel()
	blocks := blocks1to255(t)
	at250 := hash256(blocks[249][:80])
	want := want0to255(t)
	tests := []struct {
		name      string
		fork      int // synthetic blocks on 250
		wantStale int
		realWins  bool
	}{
		{"shorter fork is stale", 3, 3, true},
		{"longer fork wins", 8, 5, false},
		{"equal work: first in file order wins", 5, 5, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fork := chainOf(at250, tc.fork, 100)
			var logs bytes.Buffer
			opts := FileOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			file := frame(heistgraph.Mainnet.Magic, append(slices.Clone(blocks), fork...)...)
			s, _, err := sourceOf(t, opts, map[string][]byte{"f.blk": file}, "f.blk")
			if err != nil {
				t.Fatal(err)
			}
			got, err := collect(t, s)
			if err != nil {
				t.Fatal(err)
			}
			hs := hashesOf(t, got, 0)
			wantHs := slices.Clone(want)
			if !tc.realWins {
				wantHs = wantHs[:251]
				for _, b := range fork {
					wantHs = append(wantHs, hash256(b[:80]))
				}
			}
			if !slices.Equal(hs, wantHs) {
				t.Errorf("%d blocks, tip %s; want %d, tip %s", len(hs), hs[len(hs)-1], len(wantHs), wantHs[len(wantHs)-1])
			}
			if st := s.Stats(); st.Stale != int64(tc.wantStale) {
				t.Errorf("%d stale, want %d", st.Stale, tc.wantStale)
			}
			if n := strings.Count(logs.String(), "stale block skipped"); n != tc.wantStale {
				t.Errorf("%d stale blocks logged, want %d:\n%s", n, tc.wantStale, logs.String())
			}
		})
	}
}

// Known lets an ingester resume: stored blocks are skipped, and a block
// whose parent is stored continues from it.
func TestFileSourceKnown(t *testing.T) {
	t.Parallel()
	blocks := blocks1to255(t)
	want := want0to255(t)
	heights := map[heistgraph.Hash]int64{}
	for h, hash := range want[:101] {
		heights[hash] = int64(h)
	}
	known := func(h heistgraph.Hash) (int64, bool) { v, ok := heights[h]; return v, ok }

	// The whole file, 0-100 stored.
	s, _, err := sourceOf(t, FileOptions{Known: known}, map[string][]byte{"a.blk": frame(heistgraph.Mainnet.Magic, blocks...)}, "a.blk")
	if err != nil {
		t.Fatal(err)
	}
	got, err := collect(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if hs := hashesOf(t, got, 101); !slices.Equal(hs, want[101:]) {
		t.Errorf("%d blocks from 101", len(hs))
	}
	if st := s.Stats(); st.Known != 101 || st.Emitted != 155 {
		t.Errorf("stats %+v", st)
	}

	// Only blocks 101-255: the parent of 101 is stored.
	s, _, err = sourceOf(t, FileOptions{Known: known}, map[string][]byte{"b.blk": frame(heistgraph.Mainnet.Magic, blocks[100:]...)}, "b.blk")
	if err != nil {
		t.Fatal(err)
	}
	got, err = collect(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if hs := hashesOf(t, got, 101); !slices.Equal(hs, want[101:]) {
		t.Errorf("%d blocks from 101", len(hs))
	}

	// A stale fork on a stored block does not displace the stored chain
	// that the files also hold.
	fork := chainOf(want[150], 2, 200)
	s, _, err = sourceOf(t, FileOptions{Known: known}, map[string][]byte{"c.blk": frame(heistgraph.Mainnet.Magic, append(fork, blocks[99:]...)...)}, "c.blk")
	if err != nil {
		t.Fatal(err)
	}
	got, err = collect(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if hs := hashesOf(t, got, 101); !slices.Equal(hs, want[101:]) {
		t.Errorf("%d blocks from 101", len(hs))
	}
	if st := s.Stats(); st.Stale != 2 {
		t.Errorf("stats %+v", st)
	}
}

// An analyst's single block copied from an explorer: no parent, placed at
// its BIP34 height, no genesis emitted.
func TestFileSourceStandaloneBlock(t *testing.T) {
	t.Parallel()
	raw := readFile(t, block574200File)
	s, _, err := sourceOf(t, FileOptions{}, map[string][]byte{"block.hex": append([]byte(hex.EncodeToString(raw)), '\n')}, "block.hex")
	if err != nil {
		t.Fatal(err)
	}
	got, err := collect(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Height != 574200 || got[0].Hash.String() != hash574200 || len(got[0].Txs) != 3315 {
		t.Fatalf("%d blocks; first at %d", len(got), got[0].Height)
	}
	// The same block as raw bytes in a blk frame, with its parent known
	// (at a made-up height, to see it used).
	known := func(h heistgraph.Hash) (int64, bool) { return 42, h == got[0].PrevHash }
	s, _, err = sourceOf(t, FileOptions{Known: known}, map[string][]byte{"b.blk": frame(heistgraph.Mainnet.Magic, raw)}, "b.blk")
	if err != nil {
		t.Fatal(err)
	}
	got, err = collect(t, s)
	if err != nil || len(got) != 1 || got[0].Height != 43 {
		t.Fatalf("%d blocks, %v", len(got), err)
	}
	// Two standalone blocks whose heights overlap a chain: the branch
	// with less work is stale.
	b3 := synth{prev: heistgraph.Hash{9}, version: 2, height: 3, tag: 1}.bytes()
	s, _, err = sourceOf(t, FileOptions{}, map[string][]byte{"c.blk": frame(heistgraph.Mainnet.Magic, append([][]byte{b3}, blocks1to255(t)[:10]...)...)}, "c.blk")
	if err != nil {
		t.Fatal(err)
	}
	got, err = collect(t, s)
	if err != nil || len(got) != 11 || s.Stats().Stale != 1 {
		t.Fatalf("%d blocks, %+v, %v", len(got), s.Stats(), err)
	}
}

func TestFileSourceNetworks(t *testing.T) {
	t.Parallel()
	blocks := blocks1to255(t)[:3]
	testnet := heistgraph.Testnet
	mainnet := heistgraph.Mainnet
	// Regtest blocks on the regtest genesis, with BIP34 heights.
	rg, _ := GenesisHash(heistgraph.Regtest)
	var regtest [][]byte
	prev := rg
	for h := range 3 {
		b := synth{prev: prev, version: 4, height: int64(h + 1), tag: byte(h)}.bytes()
		regtest = append(regtest, b)
		prev = hash256(b[:80])
	}
	tests := []struct {
		name    string
		opts    FileOptions
		files   map[string][]byte
		open    []string
		net     heistgraph.Network
		blocks  int
		wantErr string
	}{
		{"detected regtest", FileOptions{}, map[string][]byte{"r.blk": frame(heistgraph.Regtest.Magic, regtest...)}, []string{"r.blk"}, heistgraph.Regtest, 4, ""},
		{"given regtest", FileOptions{Network: &heistgraph.Regtest}, map[string][]byte{"r.blk": frame(heistgraph.Regtest.Magic, regtest...)}, []string{"r.blk"}, heistgraph.Regtest, 4, ""},
		{"hex defaults to mainnet", FileOptions{}, map[string][]byte{"m.hex": hexLines(blocks, "\n")}, []string{"m.hex"}, heistgraph.Mainnet, 4, ""},
		{"hex given regtest", FileOptions{Network: &heistgraph.Regtest}, map[string][]byte{"r.hex": hexLines(regtest, "\n")}, []string{"r.hex"}, heistgraph.Regtest, 4, ""},
		{"hex follows blk", FileOptions{}, map[string][]byte{"r.blk": frame(heistgraph.Regtest.Magic, regtest[:1]...), "r.hex": hexLines(regtest[1:], "\n")}, []string{"r.hex", "r.blk"}, heistgraph.Regtest, 4, ""},
		{"given network mismatch", FileOptions{Network: &testnet}, map[string][]byte{"m.blk": frame(mainnet.Magic, blocks...)}, []string{"m.blk"}, heistgraph.Network{}, 0, "network magic f9beb4d9 is mainnet's, not testnet's"},
		{"mixed networks", FileOptions{}, map[string][]byte{"m.blk": frame(mainnet.Magic, blocks...), "t.blk": frame(testnet.Magic, blocks...)}, []string{"m.blk", "t.blk"}, heistgraph.Network{}, 0, "is testnet's, but"},
		{"unknown network option", FileOptions{Network: &heistgraph.Network{Name: "x"}}, map[string][]byte{"m.blk": frame(mainnet.Magic, blocks...)}, []string{"m.blk"}, heistgraph.Network{}, 0, "unknown network"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _, err := sourceOf(t, tc.opts, tc.files, tc.open...)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, heistgraph.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := collect(t, s)
			if err != nil {
				t.Fatal(err)
			}
			if s.Network() != tc.net || len(got) != tc.blocks || got[0].Chain != tc.net.Chain {
				t.Errorf("network %s, %d blocks", s.Network().Name, len(got))
			}
			hashesOf(t, got, 0)
		})
	}
}

// Bad input ends the sequence with a *DecodeError naming file and offset.
func TestFileSourceInvalid(t *testing.T) {
	t.Parallel()
	blocks := blocks1to255(t)
	plain := frame(heistgraph.Mainnet.Magic, blocks...)
	// recordAt is the offset of record i in plain.
	recordAt := func(i int) int64 {
		off := int64(0)
		for _, b := range blocks[:i] {
			off += 8 + int64(len(b))
		}
		return off
	}
	at := func(i int, f func(rec []byte)) []byte {
		out := bytes.Clone(plain)
		f(out[recordAt(i):])
		return out
	}
	b170 := recordAt(169) + 8
	tx1Out0Value := b170 + 81 + 134 + 4 + 1 + 32 + 4 + 1 + 0x48 + 4 + 1
	hexFile := hexLines(blocks[:5], "\n")
	hexBad := bytes.Clone(hexFile)
	hexBad[500] = 'x'
	key := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}

	tests := []struct {
		name    string
		files   map[string][]byte
		open    string
		atNew   bool   // NewFileSource fails
		offset  int64  // -1: don't check
		height  int64  // in the error, when known
		hash    string // in the error, when known
		msg     string
		merkle  bool
		wantAny int // blocks yielded before the error, -1: don't check
	}{
		{"truncated file", map[string][]byte{"f.blk": plain[:len(plain)-100]}, "f.blk", false, recordAt(254), 0, "",
			"truncated record: length", false, 0},
		{"truncated record header", map[string][]byte{"f.blk": append(bytes.Clone(plain), 0xf9, 0xbe, 0xb4)}, "f.blk", false, int64(len(plain)), 0, "",
			"truncated record header", false, 0},
		{"wrong magic", map[string][]byte{"f.blk": at(10, func(r []byte) { copy(r, heistgraph.Testnet.Magic[:]) })}, "f.blk", false, recordAt(10), 0, "",
			"network magic 0b110907, want f9beb4d9", false, 0},
		{"garbage between records", map[string][]byte{"f.blk": append(bytes.Clone(plain[:recordAt(3)]), append([]byte{1, 2, 3}, plain[recordAt(3):]...)...)}, "f.blk", false, recordAt(3), 0, "",
			"network magic", false, 0},
		{"length past the end", map[string][]byte{"f.blk": at(254, func(r []byte) { binary.LittleEndian.PutUint32(r[4:], 1_000_000) })}, "f.blk", false, recordAt(254), 0, "",
			"runs past the end of the file", false, 0},
		{"absurd length", map[string][]byte{"f.blk": at(5, func(r []byte) { binary.LittleEndian.PutUint32(r[4:], 0xfffffff0) })}, "f.blk", false, recordAt(5), 0, "",
			"exceeds the maximum block size", false, 0},
		{"length below a header", map[string][]byte{"f.blk": at(5, func(r []byte) { binary.LittleEndian.PutUint32(r[4:], 79) })}, "f.blk", false, recordAt(5), 0, "",
			"less than a block header", false, 0},
		{"length one short", map[string][]byte{"f.blk": at(5, func(r []byte) { r[4]-- })}, "f.blk", false, recordAt(6) - 1, 0, "",
			"network magic", false, 0},
		{"tx that does not decode", map[string][]byte{"f.blk": at(169, func(r []byte) { r[8+81+134+4+1+32+4] = 0xff })}, "f.blk", false, b170 + 81 + 134 + 4 + 1 + 36, 170, hash170,
			"tx 1: input 0:", false, 170},
		{"merkle mismatch", map[string][]byte{"f.blk": func() []byte {
			b := bytes.Clone(plain)
			b[tx1Out0Value]++
			return b
		}()}, "f.blk", false, b170 + 36, 170, hash170, "merkle root mismatch", true, 170},
		{"xor-obfuscated merkle mismatch", map[string][]byte{"blk00000.dat": func() []byte {
			b := bytes.Clone(plain)
			b[tx1Out0Value]++
			return xorWith(b, key)
		}(), XORFile: key[:]}, "blk00000.dat", false, b170 + 36, 170, hash170, "merkle root mismatch", true, 170},
		{"bad hex", map[string][]byte{"f.hex": hexBad}, "f.hex", false, 500, 0, "", "invalid hex character 'x'", false, -1},
		{"odd hex", map[string][]byte{"f.hex": append(bytes.Clone(hexFile), "\nabc\n"...)}, "f.hex", false, int64(len(hexFile) + 1), 0, "", "odd number of hex digits", false, 0},
		{"hex too short for a header", map[string][]byte{"f.hex": []byte("  abcd  \n")}, "f.hex", false, 2, 0, "", "cannot hold a block header", false, 0},
		{"no BIP34 height", map[string][]byte{"f.blk": frame(heistgraph.Mainnet.Magic, blocks[99:]...)}, "f.blk", false, 0, 0, hash256(blocks[99][:80]).String(),
			"neither in the input nor known, and its coinbase states no BIP34 height", false, 0},
		{"not a block file", map[string][]byte{"f.bin": []byte("\x01\x02\x03\x04\x05\x06\x07\x08 not blocks")}, "f.bin", true, 0, 0, "",
			"neither blk framing (no known network magic at offset 0: 01020304) nor block hex (byte 0x01 at offset 0", false, 0},
		// Random bytes that start like hex text (the issue's "invalid hex
		// character 'è'"): neither format, and where the hex stops.
		{"binary starting with hex digits", map[string][]byte{"r.bin": []byte("a3\xc3\xa8\x00\x9f random bytes")}, "r.bin", true, 0, 0, "",
			"nor block hex (byte 0xc3 at offset 2 is not a hex digit)", false, 0},
		{"empty named file", map[string][]byte{"e.blk": nil}, "e.blk", true, 0, 0, "",
			"file is empty: not a blk file nor raw block hex", false, 0},
		{"white space only", map[string][]byte{"w.hex": []byte(" \n\n\t\n")}, "w.hex", false, 0, 0, "",
			"holds only white space: not a blk file nor raw block hex", false, 0},
		{"bad xor.dat", map[string][]byte{"blk00000.dat": plain, XORFile: []byte{1, 2, 3}}, "blk00000.dat", true, 0, 0, "",
			"xor key of 3 bytes, want 8", false, 0},
		{"folder without blk files", map[string][]byte{"notes.txt": []byte("x")}, "", true, 0, 0, "", "folder holds no blk*.dat files", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, dir, err := sourceOf(t, FileOptions{}, tc.files, tc.open)
			var got []*heistgraph.Block
			if !tc.atNew {
				if err != nil {
					t.Fatal(err)
				}
				got, err = collect(t, s)
			}
			if err == nil {
				t.Fatalf("no error; %d blocks", len(got))
			}
			if tc.wantAny >= 0 && len(got) != tc.wantAny {
				t.Errorf("%d blocks before the error, want %d", len(got), tc.wantAny)
			}
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Errorf("does not wrap ErrInvalid: %v", err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if tc.offset < 0 {
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("not a *DecodeError: %v", err)
			}
			path := filepath.Join(dir, tc.open)
			if tc.name == "bad xor.dat" {
				path = filepath.Join(dir, XORFile)
			}
			if de.File != path || de.Offset != tc.offset || de.Height != tc.height || de.Hash != tc.hash {
				t.Errorf("error at %s:%d height %d hash %q; want %s:%d height %d hash %q (%v)",
					de.File, de.Offset, de.Height, de.Hash, path, tc.offset, tc.height, tc.hash, err)
			}
			if !strings.Contains(err.Error(), de.File) {
				t.Errorf("message does not name the file: %v", err)
			}
			var me *MerkleError
			if errors.As(err, &me) != tc.merkle {
				t.Errorf("MerkleError %v, want %v", me, tc.merkle)
			}
		})
	}
	if _, err := NewFileSource(nil, FileOptions{}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("no paths: %v", err)
	}
	// A missing path is bad input that names the path (and still says
	// why, for errors.Is).
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := NewFileSource([]string{missing}, FileOptions{}); !errors.Is(err, os.ErrNotExist) || !errors.Is(err, heistgraph.ErrInvalid) ||
		!strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
}

func TestFileSourceEmptyAndCancel(t *testing.T) {
	t.Parallel()
	// Zero padding (a blk file Bitcoin Core preallocated) and an empty
	// blk file in a folder hold no blocks and are no error. (An empty file
	// named on its own is an error: see TestFileSourceInvalid.)
	s, _, err := sourceOf(t, FileOptions{}, map[string][]byte{"blk00000.dat": make([]byte, 1<<12)}, "blk00000.dat")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := collect(t, s); err != nil || len(got) != 0 {
		t.Fatalf("%d blocks, %v", len(got), err)
	}
	s, _, err = sourceOf(t, FileOptions{}, map[string][]byte{"blk00000.dat": nil, "blk00001.dat": make([]byte, 64)}, ".")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := collect(t, s); err != nil || len(got) != 0 {
		t.Fatalf("empty folder files: %d blocks, %v", len(got), err)
	}

	s, _, err = sourceOf(t, FileOptions{}, map[string][]byte{"f.blk": frame(heistgraph.Mainnet.Magic, blocks1to255(t)...)}, "f.blk")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	n := 0
	var last error
	for _, err := range s.Blocks(ctx) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 10 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) || n != 10 {
		t.Errorf("after cancel: %d blocks, %v", n, last)
	}
	// Breaking out early is fine, and a new run starts over.
	for range s.Blocks(t.Context()) {
		break
	}
	if got, err := collect(t, s); err != nil || len(got) != 256 {
		t.Errorf("rerun: %d blocks, %v", len(got), err)
	}
}
