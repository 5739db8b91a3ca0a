package bitcoin

import (
	"bytes"
	"crypto/sha256"
	"hash"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/heistgraph/heistgraph"
)

// Benchmarks on real blocks. Run, for example:
//
//	go test ./bitcoin/ -run '^$' -bench . -benchtime 2s
//
// BenchmarkDecode compares, on the same bytes:
//   - heistgraph: DecodeBlock, everything (the checking walk, the values
//     read and the transactions hashed from the bytes, the merkle check,
//     script classification and address encoding, the domain values);
//   - noaddr: the same without encoding addresses;
//   - scan: Scanner.Scan, the fast path ingest reads (the same checks,
//     txids, merkle check, script types and binary address keys; no
//     wtxids, no strings, no allocation once its arenas have grown);
//   - hashes: only the hashing a decode with txids and a merkle check
//     cannot avoid (the transactions' bounds found beforehand), with
//     internal/sha256d as Scan does it: the ceiling of any such decode;
//   - hashes-crypto: the same with crypto/sha256, a call a hash (how Scan
//     hashed before internal/sha256d);
//   - wire: btcd's MsgBlock.Deserialize plus TxHash and WitnessHash of
//     every transaction (no checks, no merkle root, no addresses);
//   - sha256d: double SHA-256 (crypto/sha256) over the block bytes once,
//     the floor;
//   - paired: all of them in turn in each iteration, rates in CPU time (the
//     figures docs/benchmarks.md quotes on a shared machine).
//
// DecodeBlock decoded with wire until issue 23 (mainnet scale): reading the
// checked bytes directly, with addresses encoded without math/big, made it
// about twice as fast (docs/benchmarks.md, "Mainnet scale").
func BenchmarkDecode(b *testing.B) {
	sets := []struct {
		name   string
		blocks func(testing.TB) [][]byte
	}{
		{"574200", func(tb testing.TB) [][]byte { return [][]byte{readFile(tb, block574200File)} }},
		{"1-255", blocks1to255},
	}
	for _, set := range sets {
		blocks := set.blocks(b)
		var size int64
		for _, raw := range blocks {
			size += int64(len(raw))
		}
		run := func(name string, f func(raw []byte) error) {
			b.Run(set.name+"/"+name, func(b *testing.B) {
				b.SetBytes(size)
				b.ReportAllocs()
				for b.Loop() {
					for _, raw := range blocks {
						if err := f(raw); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
		variants := decodeVariants()
		for _, v := range variants { // warm up: hashes records the bounds
			for _, raw := range blocks {
				if err := v.decode(raw); err != nil {
					b.Fatal(err)
				}
			}
		}
		for _, v := range variants {
			run(v.name, v.decode)
		}
		b.Run(set.name+"/paired", func(b *testing.B) {
			decodePaired(b, variants, blocks, size)
		})
	}
}

// decodeVariant is one of the ways BenchmarkDecode reads a block.
type decodeVariant struct {
	name   string
	decode func(raw []byte) error
}

func decodeVariants() []decodeVariant {
	var s Scanner
	known := map[*byte][]RawTx{}
	bounds := func(raw []byte) ([]RawTx, error) {
		txs, ok := known[&raw[0]]
		if !ok {
			b, err := s.Scan(raw)
			if err != nil {
				return nil, err
			}
			txs = slices.Clone(b.Txs)
			known[&raw[0]] = txs
		}
		return txs, nil
	}
	var ids []heistgraph.Hash
	var d scanHasher
	var c cryptoDoubler
	hashes := func(d hasher, root func([]heistgraph.Hash)) func([]byte) error {
		return func(raw []byte) error {
			txs, err := bounds(raw)
			if err != nil {
				return err
			}
			ids = d.txids(raw, txs, ids[:0])
			root(ids)
			return nil
		}
	}
	return []decodeVariant{
		{"heistgraph", func(raw []byte) error {
			_, err := DecodeBlock(raw, heistgraph.Mainnet)
			return err
		}},
		{"noaddr", func(raw []byte) error {
			_, err := decodeBlock(raw, nil)
			return err
		}},
		{"scan", func(raw []byte) error {
			_, err := s.Scan(raw)
			return err
		}},
		// Only the hashing Scan cannot avoid: the header, every txid (over
		// the stripped bytes), the merkle tree; the transactions' bounds
		// found beforehand (the warm-up). hashes-crypto does it with
		// crypto/sha256 (Scan's before internal/sha256d).
		{"hashes", hashes(&d, func(ids []heistgraph.Hash) { merkleRoot(ids) })},
		{"hashes-crypto", hashes(&c, func(ids []heistgraph.Hash) { c.merkleRoot(ids) })},
		{"wire", func(raw []byte) error {
			var m wire.MsgBlock
			if err := m.Deserialize(bytes.NewReader(raw)); err != nil {
				return err
			}
			for _, tx := range m.Transactions {
				_ = tx.TxHash()
				_ = tx.WitnessHash()
			}
			return nil
		}},
		{"sha256d", func(raw []byte) error {
			first := sha256.Sum256(raw)
			_ = sha256.Sum256(first[:])
			return nil
		}},
	}
}

// decodePaired runs every variant in turn on the same blocks within each
// iteration, and reports each one's rate in process CPU time (getrusage:
// user + system, the garbage collector's included) and the rates of
// heistgraph, noaddr and scan as percentages of sha256d's, the floor. On a
// shared, loaded machine wall time measures the neighbours; CPU time of
// paired runs keeps the ratios.
func decodePaired(b *testing.B, variants []decodeVariant, blocks [][]byte, size int64) {
	spent := make([]time.Duration, len(variants))
	for b.Loop() {
		for i, v := range variants {
			t0 := cpuTime(b)
			for _, raw := range blocks {
				if err := v.decode(raw); err != nil {
					b.Fatal(err)
				}
			}
			spent[i] += cpuTime(b) - t0
		}
	}
	floor := spent[len(spent)-1]
	for i, v := range variants {
		b.ReportMetric(float64(size)*float64(b.N)/spent[i].Seconds()/1e6, v.name+"-MB/s")
		if v.name != "wire" && v.name != "sha256d" {
			b.ReportMetric(100*floor.Seconds()/spent[i].Seconds(), v.name+"-%-of-floor")
		}
	}
}

// cpuTime returns the process's user plus system CPU time.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkClassifyScript measures ClassifyScript per script type, and
// btcd's ExtractPkScriptAddrs plus EncodeAddress on the same script.
func BenchmarkClassifyScript(b *testing.B) {
	scripts := []struct{ name, hex string }{
		{"pubkeyhash", "76a914751e76e8199196d454941c45d1b3a323f1433bd688ac"},
		{"scripthash", "a914f7af43209e948e90019a0303653d042ee97a05ee87"},
		{"witness_v0_keyhash", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
		{"witness_v0_scripthash", "0020701a8d401c84fb13e6baf169d59684e17abd9fa216c8cc5b9fc63d622ff8c58d"},
		{"witness_v1_taproot", "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
		{"pubkey", "210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798ac"},
		{"multisig", "51210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f817982102c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee552ae"},
		{"nulldata", "6a24aa21a9ed26402ed52f8eee7114e8f5c57c79a7862371c7f0dbfe51e7152e67d36b143593"},
		{"nonstandard", "7651"},
	}
	for _, s := range scripts {
		script := unhex(b, s.hex)
		b.Run(s.name+"/heistgraph", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ClassifyScript(script, heistgraph.Mainnet)
			}
		})
		b.Run(s.name+"/txscript", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, addrs, _, _ := txscript.ExtractPkScriptAddrs(script, &chaincfg.MainNetParams)
				for _, a := range addrs {
					_ = a.EncodeAddress()
				}
			}
		})
	}
}

// BenchmarkFileSource reads the 16 MiB blk file of blocks 0-14131 (early
// blocks: tiny, nearly all coinbase-only) and blocks 1-255 plus 574200 as
// hex, through NewFileSource and Blocks (blocks) or RawBlocks (raw, the
// fast path): indexing, ordering, reading and decoding or scanning. Bytes
// are the files' sizes. paired runs both in turn in each iteration and
// reports each one's rate in process CPU time.
func BenchmarkFileSource(b *testing.B) {
	big := bigBlkPath(b)
	dir := b.TempDir()
	hexPath := writeFile(b, dir, "blocks.hex", hexLines(append(blocks1to255(b), readFile(b, block574200File)), "\n"))
	blkPath := writeFile(b, dir, "blk00000.dat", append(frame(heistgraph.Mainnet.Magic, readFile(b, block574200File)), make([]byte, 1024)...))
	read := func(tb testing.TB, path string, raw bool) {
		s, err := NewFileSource([]string{path}, FileOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		n := 0
		if raw {
			for _, err := range s.RawBlocks(tb.Context()) {
				if err != nil {
					tb.Fatal(err)
				}
				n++
			}
		} else {
			for _, err := range s.Blocks(tb.Context()) {
				if err != nil {
					tb.Fatal(err)
				}
				n++
			}
		}
		if n == 0 {
			tb.Fatal("no blocks")
		}
	}
	for _, tc := range []struct {
		name string
		path string
	}{{"blk-0-to-14131", big}, {"hex-1-255+574200", hexPath}, {"blk-574200", blkPath}} {
		st, err := os.Stat(tc.path)
		if err != nil {
			b.Fatal(err)
		}
		for _, v := range []struct {
			name string
			raw  bool
		}{{"blocks", false}, {"raw", true}} {
			b.Run(tc.name+"/"+v.name, func(b *testing.B) {
				b.SetBytes(st.Size())
				b.ReportAllocs()
				for b.Loop() {
					read(b, tc.path, v.raw)
				}
			})
		}
		b.Run(tc.name+"/paired", func(b *testing.B) {
			var spent [2]time.Duration
			for b.Loop() {
				for i, raw := range []bool{false, true} {
					t0 := cpuTime(b)
					read(b, tc.path, raw)
					spent[i] += cpuTime(b) - t0
				}
			}
			for i, name := range []string{"blocks", "raw"} {
				b.ReportMetric(float64(st.Size())*float64(b.N)/spent[i].Seconds()/1e6, name+"-MB/s")
			}
		})
	}
}

// hasher is doubler (Scan's hashing) or cryptoDoubler.
type hasher interface {
	// txids hashes the header of raw and appends the txids of its
	// transactions txs (their bounds known) to ids.
	txids(raw []byte, txs []RawTx, ids []heistgraph.Hash) []heistgraph.Hash
}

type scanHasher struct{ d doubler }

func (h *scanHasher) txids(raw []byte, txs []RawTx, ids []heistgraph.Hash) []heistgraph.Hash {
	_ = h.d.sum(raw[:HeaderSize])
	h.d.txids(raw, txs)
	for i := range txs {
		ids = append(ids, txs[i].TxID)
	}
	return ids
}

// cryptoDoubler is the double SHA-256 Scan used before internal/sha256d:
// crypto/sha256 with one reused state, a call a hash and a merkle node.
type cryptoDoubler struct {
	h    hash.Hash
	mid  [sha256.Size]byte
	out  heistgraph.Hash
	pair [2 * sha256.Size]byte
}

func (d *cryptoDoubler) sum3(a, b, c []byte) heistgraph.Hash {
	if d.h == nil {
		d.h = sha256.New()
	}
	h := d.h
	h.Reset()
	h.Write(a)
	h.Write(b)
	h.Write(c)
	h.Sum(d.mid[:0])
	h.Reset()
	h.Write(d.mid[:])
	h.Sum(d.out[:0])
	return d.out
}

func (d *cryptoDoubler) sum(b []byte) heistgraph.Hash { return d.sum3(b, nil, nil) }

func (d *cryptoDoubler) txids(raw []byte, txs []RawTx, ids []heistgraph.Hash) []heistgraph.Hash {
	_ = d.sum(raw[:HeaderSize])
	for i := range txs {
		p := txParts(raw, &txs[i].sh)
		ids = append(ids, d.sum3(p[0], p[1], p[2]))
	}
	return ids
}

// merkleRoot computes the root as merkleRoot does, without the mutation
// check.
func (d *cryptoDoubler) merkleRoot(ids []heistgraph.Hash) heistgraph.Hash {
	for len(ids) > 1 {
		if len(ids)%2 == 1 {
			ids = append(ids, ids[len(ids)-1])
		}
		for i := 0; i < len(ids); i += 2 {
			copy(d.pair[:32], ids[i][:])
			copy(d.pair[32:], ids[i+1][:])
			ids[i/2] = d.sum(d.pair[:])
		}
		ids = ids[:len(ids)/2]
	}
	return ids[0]
}
