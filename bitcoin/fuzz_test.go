package bitcoin

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/heistgraph/heistgraph"
)

// Fuzz targets: run each with, for example,
//
//	go test ./bitcoin/ -run '^$' -fuzz '^FuzzDecodeBlock$' -fuzztime 30s
//
// They are seeded from testdata; failures the fuzzer finds are kept in
// testdata/fuzz/<name>/ and rerun by go test.

// segwitBlock is a small block with a witness transaction, built with wire.
func segwitBlock(tb testing.TB) []byte {
	g, _ := GenesisHash(heistgraph.Mainnet)
	base := synth{prev: g, version: 0x20000000, height: 7}
	cb := base.msg().Transactions[0].TxHash()
	tx := spendTx(cb, 1e8)
	tx.TxIn[0].Witness = wire.TxWitness{bytes.Repeat([]byte{0x30}, 71), bytes.Repeat([]byte{0x02}, 33)}
	tx.AddTxOut(wire.NewTxOut(0, []byte{0x6a, 0x02, 0xbe, 0xef}))
	tx.AddTxOut(wire.NewTxOut(546, append([]byte{0x51, 0x20}, bytes.Repeat([]byte{0x33}, 32)...)))
	base.txs = []*wire.MsgTx{tx}
	return base.bytes()
}

func FuzzDecodeBlock(f *testing.F) {
	blocks := blocks1to255(f)
	genesis, _ := genesisBytes(heistgraph.Mainnet)
	f.Add(genesis)
	f.Add(blocks[0])
	f.Add(blocks[169])
	f.Add(segwitBlock(f))
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := DecodeBlock(raw, heistgraph.Mainnet)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, heistgraph.ErrInvalid) || de.Offset < 0 || de.Offset > int64(len(raw)) {
				t.Fatalf("bad error: %v", err)
			}
			return
		}
		// What we accept, btcd decodes to the same values.
		if err := compareWire(raw, b, &chaincfg.MainNetParams); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzDecodeTx(f *testing.F) {
	for _, raw := range [][]byte{blocks1to255(f)[169], segwitBlock(f)} {
		var m wire.MsgBlock
		if err := m.Deserialize(bytes.NewReader(raw)); err != nil {
			f.Fatal(err)
		}
		for _, tx := range m.Transactions {
			var buf bytes.Buffer
			tx.Serialize(&buf)
			f.Add(buf.Bytes())
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		tx, err := DecodeTx(raw, heistgraph.Mainnet)
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("bad error: %v", err)
			}
			return
		}
		var m wire.MsgTx
		if err := m.Deserialize(bytes.NewReader(raw)); err != nil {
			t.Fatalf("we decode, wire does not: %v", err)
		}
		if tx.TxID != heistgraph.Hash(m.TxHash()) || tx.WTxID != heistgraph.Hash(m.WitnessHash()) || tx.Size != m.SerializeSize() ||
			len(tx.Inputs) != len(m.TxIn) || len(tx.Outputs) != len(m.TxOut) {
			t.Fatalf("differs from wire")
		}
	})
}

// FuzzBlkReader runs a whole FileSource over one fuzzed file, plain or
// beside an xor.dat: whatever the bytes, it yields blocks or an error
// wrapping ErrInvalid, and never panics.
func FuzzBlkReader(f *testing.F) {
	blocks := blocks1to255(f)
	plain := frame(heistgraph.Mainnet.Magic, blocks[:3]...)
	f.Add(plain, false)
	f.Add(append(bytes.Clone(plain), make([]byte, 64)...), false)
	f.Add(frame(heistgraph.Mainnet.Magic, blocks[2], blocks[0], blocks[1]), false)
	f.Add(xorWith(plain, fuzzKey), true)
	f.Add(frame(heistgraph.Regtest.Magic, segwitBlock(f)), false)
	f.Add(frame(heistgraph.Mainnet.Magic, segwitBlock(f)), false)
	f.Add([]byte(hex.EncodeToString(blocks[0])+"\n\n"+hex.EncodeToString(blocks[1])+"\r\n"), false)
	f.Add([]byte(" "+hex.EncodeToString(segwitBlock(f))), false)
	f.Fuzz(func(t *testing.T, data []byte, obfuscated bool) {
		fsys := mapFS{fstest.MapFS{"blocks/blk00000.dat": {Data: data}}}
		if obfuscated {
			fsys.MapFS["blocks/"+XORFile] = &fstest.MapFile{Data: fuzzKey[:]}
		}
		s, err := newFileSource(fsys, []string{"blocks"}, FileOptions{})
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("bad error: %v", err)
			}
			return
		}
		var last *heistgraph.Block
		for b, err := range s.Blocks(context.Background()) {
			if err != nil {
				var de *DecodeError
				if !errors.Is(err, heistgraph.ErrInvalid) || !errors.As(err, &de) || de.File != "blocks/blk00000.dat" &&
					de.File != "" || de.Offset < 0 || de.Offset > int64(len(data)) {
					t.Fatalf("bad error: %v", err)
				}
				return
			}
			if last != nil && b.Height < last.Height {
				t.Fatalf("height %d after %d", b.Height, last.Height)
			}
			last = b
		}
	})
}

var fuzzKey = [8]byte{0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67}

// FuzzClassifyScript checks ClassifyScript against btcd's txscript on any
// script, allowing only the documented differences.
func FuzzClassifyScript(f *testing.F) {
	for _, s := range []string{
		"76a914751e76e8199196d454941c45d1b3a323f1433bd688ac", "a914f7af43209e948e90019a0303653d042ee97a05ee87",
		"0014751e76e8199196d454941c45d1b3a323f1433bd6", "5120" + "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
		"210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798ac", "6a0401020304", "51024e73", "6002751e",
		"51210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f8179851ae", "", "00",
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		typ, addr, keys := ClassifyScript(script, heistgraph.Mainnet)
		if err := compareTxscript(script, &chaincfg.MainNetParams, typ, addr, keys); err != nil {
			t.Fatal(err)
		}
	})
}
