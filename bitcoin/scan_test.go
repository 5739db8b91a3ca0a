package bitcoin

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/txscript/v2"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/heistgraph/heistgraph"
)

// viewBlock builds the domain value of a scanned block from RawBlock's
// exported fields and methods alone (not from RawBlock.Block), so that
// compareWire checks what an ingester reading the view sees: txids, wtxids
// on demand, prevouts, values, scripts, types, and each address key's
// string.
func viewBlock(rb *RawBlock, net heistgraph.Network) *heistgraph.Block {
	b := &heistgraph.Block{
		Chain: net.Chain, Hash: rb.Hash, PrevHash: rb.PrevHash, MerkleRoot: rb.MerkleRoot,
		Version: rb.Version, Time: rb.Time, Bits: rb.Bits, Nonce: rb.Nonce, Size: len(rb.Raw),
	}
	for i := range rb.Txs {
		rt := &rb.Txs[i]
		tx := heistgraph.Tx{TxID: rt.TxID, WTxID: rb.WTxID(rt), Version: rt.Version, LockTime: rt.LockTime,
			Size: rt.Size(), Weight: rt.Weight()}
		for _, in := range rt.Inputs {
			tx.Inputs = append(tx.Inputs, heistgraph.TxIn{PrevOut: in.PrevOut, Sequence: in.Sequence, Coinbase: in.PrevOut.IsNull()})
		}
		for _, o := range rt.Outputs {
			out := heistgraph.TxOut{Value: o.Value, Type: o.Type, Address: o.Addr.Address(net)}
			if len(o.Script) > 0 {
				out.Script = bytes.Clone(o.Script)
			}
			out.Keys = o.Keys(net)
			tx.Outputs = append(tx.Outputs, out)
		}
		b.Txs = append(b.Txs, tx)
	}
	return b
}

// The fast path gives what btcd's wire and txscript give, and what
// DecodeBlock gives, on every real block, with one Scanner reused across
// all of them (a small block after a large one reuses its arenas). Equal
// address keys are exactly equal address strings.
func TestScanMatchesWire(t *testing.T) {
	t.Parallel()
	blocks := realBlocks(t)
	var s Scanner
	byKey := map[AddrKey]string{}
	byAddr := map[string]AddrKey{}
	var txs, outs int
	for i, raw := range blocks {
		rb, err := s.Scan(raw)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		got := viewBlock(rb, heistgraph.Mainnet)
		if err := compareWire(raw, got, &chaincfg.MainNetParams); err != nil {
			t.Fatalf("block %d (%s): %v", i, rb.Hash, err)
		}
		want, err := DecodeBlock(raw, heistgraph.Mainnet)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("block %d: the view differs from DecodeBlock", i)
		}
		if blk, err := rb.Block(heistgraph.Mainnet); err != nil || !reflect.DeepEqual(blk, want) {
			t.Fatalf("block %d: RawBlock.Block differs from DecodeBlock (%v)", i, err)
		}
		for _, tx := range rb.Txs {
			txs++
			for _, o := range tx.Outputs {
				outs++
				addr := o.Addr.Address(heistgraph.Mainnet)
				if a, ok := byKey[o.Addr]; ok && a != addr {
					t.Fatalf("key %x: %s and %s", o.Addr.Data(), a, addr)
				}
				if k, ok := byAddr[addr]; ok && k != o.Addr {
					t.Fatalf("address %s: keys %x and %x", addr, k.Data(), o.Addr.Data())
				}
				byKey[o.Addr], byAddr[addr] = addr, o.Addr
			}
		}
	}
	for k, addr := range byKey {
		if k.IsZero() {
			continue
		}
		if back, err := ParseAddress(addr, heistgraph.Mainnet); err != nil || back != k {
			t.Fatalf("ParseAddress(%s) = %x, %v; want %x", addr, back.Data(), err, k.Data())
		}
	}
	if len(byKey) < 10_000 {
		t.Fatalf("only %d distinct addresses", len(byKey))
	}
	t.Logf("%d blocks, %d txs, %d outputs, %d addresses: the view equals btcd wire and DecodeBlock", len(blocks), txs, outs, len(byKey))
}

// Scanning in steady state allocates nothing.
func TestScanAllocs(t *testing.T) {
	raw := readFile(t, block574200File)
	small := segwitBlock(t)
	var s Scanner
	if _, err := s.Scan(raw); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(5, func() {
		for _, b := range [][]byte{raw, small} {
			if _, err := s.Scan(b); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations a scan", allocs)
	}
}

// The view of a segwit block: wtxids differ from txids only for witness
// transactions, weight counts the witness once.
func TestScanSegwit(t *testing.T) {
	raw := readFile(t, block574200File)
	var s Scanner
	rb, err := s.Scan(raw)
	if err != nil {
		t.Fatal(err)
	}
	tx := &rb.Txs[1]
	if tx.TxID.String() != "a80bb6aea647e2ba69d0c5189b0976734d3918d4e9d6e0cb5bef07549706c8d1" || !tx.Segwit() ||
		rb.WTxID(tx).String() != "73a9339394108834e9dd1c55f3411db93ff981dbe374c6791192a431c5c3b958" || tx.Size() != 1060 || tx.Weight() != 1966 {
		t.Fatalf("tx 1: %s segwit %v %s size %d weight %d", tx.TxID, tx.Segwit(), rb.WTxID(tx), tx.Size(), tx.Weight())
	}
	if len(rb.Bytes(tx)) != 1060 {
		t.Fatalf("%d bytes", len(rb.Bytes(tx)))
	}
	if o := tx.Outputs[0]; o.Type != heistgraph.ScriptScriptHash || o.Addr.Kind() != AddrScriptHash ||
		o.Addr.Address(heistgraph.Mainnet) != "3QGenMj5hD4LBp24xow1hsagmMDjgnDpoo" || o.Addr.Address(heistgraph.Testnet) == "3QGenMj5hD4LBp24xow1hsagmMDjgnDpoo" {
		t.Fatalf("output 0: %s %v", o.Type, o.Addr)
	}
	var legacy *RawTx
	for i := range rb.Txs {
		if !rb.Txs[i].Segwit() {
			legacy = &rb.Txs[i]
			break
		}
	}
	if legacy == nil || rb.WTxID(legacy) != legacy.TxID || legacy.Weight() != 4*legacy.Size() {
		t.Fatalf("legacy tx %+v", legacy)
	}
}

// Scan refuses what DecodeBlock refuses, with the same error.
func TestScanInvalid(t *testing.T) {
	raw := readFile(t, block574200File)
	cases := map[string][]byte{
		"empty":     nil,
		"header":    raw[:HeaderSize],
		"truncated": raw[:len(raw)-1],
		"trailing":  append(bytes.Clone(raw), 0),
		"merkle":    mutate(raw, func(b []byte) []byte { b[40] ^= 1; return b }),
		"value":     mutate(raw, func(b []byte) []byte { b[len(b)-20] ^= 0x80; return b }),
	}
	var s Scanner
	for name, b := range cases {
		_, err := s.Scan(b)
		_, want := DecodeBlock(b, heistgraph.Mainnet)
		if err == nil || want == nil || err.Error() != want.Error() || !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("%s: Scan %v; DecodeBlock %v", name, err, want)
		}
	}
	if _, err := (&RawBlock{}).Block(heistgraph.Network{Name: "nope"}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("unknown network: %v", err)
	}
}

// FuzzScan holds the fast path to DecodeBlock (the same acceptance, the same
// errors) and to btcd wire on whatever it accepts. The Scanner is reused
// across inputs, as an ingester reuses it.
func FuzzScan(f *testing.F) {
	blocks := blocks1to255(f)
	genesis, _ := genesisBytes(heistgraph.Mainnet)
	for _, b := range [][]byte{genesis, blocks[0], blocks[169], segwitBlock(f)} {
		f.Add(b)
	}
	var s Scanner
	f.Fuzz(func(t *testing.T, raw []byte) {
		rb, err := s.Scan(raw)
		want, wantErr := DecodeBlock(raw, heistgraph.Mainnet)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("Scan %v; DecodeBlock %v", err, wantErr)
		}
		if err != nil {
			return
		}
		got := viewBlock(rb, heistgraph.Mainnet)
		if !reflect.DeepEqual(got, want) {
			t.Fatal("the view differs from DecodeBlock")
		}
		if err := compareWire(raw, got, &chaincfg.MainNetParams); err != nil {
			t.Fatal(err)
		}
	})
}

// scriptOf builds the standard script that pays key (a base58 or witness
// key).
func scriptOf(k AddrKey) []byte {
	d := k.Data()
	switch k.Kind() {
	case AddrPubKeyHash:
		return append(append([]byte{opDup, opHash160, opData20}, d...), opEqualVerify, opCheckSig)
	case AddrScriptHash:
		return append(append([]byte{opHash160, opData20}, d...), opEqual)
	}
	v := byte(k.Kind() - AddrWitness0)
	if v > 0 {
		v += op1 - 1
	}
	return append([]byte{v, byte(len(d))}, d...)
}

func TestAddrKeyBinary(t *testing.T) {
	cases := []struct {
		script string
		kind   AddrKind
		addr   string
	}{
		{"76a914751e76e8199196d454941c45d1b3a323f1433bd688ac", AddrPubKeyHash, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"},
		{"210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798ac", AddrPubKeyHash, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"},
		{"a914f7af43209e948e90019a0303653d042ee97a05ee87", AddrScriptHash, "3QGenMj5hD4LBp24xow1hsagmMDjgnDpoo"},
		{"0014751e76e8199196d454941c45d1b3a323f1433bd6", AddrWitness0, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"},
		{"512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", AddrWitness0 + 1, ""},
		{"51024e73", AddrWitness0 + 1, "bc1pfeessrawgf"},
		{"6a0401020304", AddrNone, ""},
	}
	for _, tc := range cases {
		script, _ := hex.DecodeString(tc.script)
		var key AddrKey
		typ := classifyKey(script, &key, nil)
		_, addr, _ := ClassifyScript(script, heistgraph.Mainnet)
		if key.Kind() != tc.kind || key.Address(heistgraph.Mainnet) != addr || tc.addr != "" && addr != tc.addr {
			t.Errorf("%s (%s): kind %d address %q, want %d %q (ClassifyScript %q)", tc.script, typ, key.Kind(), key.Address(heistgraph.Mainnet), tc.kind, tc.addr, addr)
		}
		b, err := key.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back AddrKey
		if err := back.UnmarshalBinary(b); err != nil || back != key {
			t.Errorf("%s: %x reads back as %v, %v", tc.script, b, back, err)
		}
		if !key.IsZero() && !bytes.Equal(scriptOf(key), script) && typ != heistgraph.ScriptPubKey {
			t.Errorf("%s: rebuilt as %x", tc.script, scriptOf(key))
		}
	}
	for _, bad := range []string{"", "00", "0001aa", "0113" + "00", "0314" + "0102", "0303010203", "0401aa", "1402aaaa", "0114" + "0000000000000000000000000000000000000000" + "00"} {
		b, _ := hex.DecodeString(bad)
		var k AddrKey
		if err := k.UnmarshalBinary(b); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// FuzzAddrKey: any bytes ReadAddrKey accepts are a key some script pays,
// which classifies back to the same key, with the same address string as
// ClassifyScript gives, and whose binary form reads back the same.
func FuzzAddrKey(f *testing.F) {
	f.Add([]byte{byte(AddrPubKeyHash), 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add([]byte{byte(AddrWitness0 + 1), 2, 0x4e, 0x73})
	f.Add([]byte{byte(AddrWitness0 + 16), 40})
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, n, err := ReadAddrKey(b)
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatal(err)
			}
			return
		}
		again, _ := k.AppendBinary(nil)
		if !bytes.Equal(again, b[:n]) {
			t.Fatalf("%x written back as %x", b[:n], again)
		}
		if k.IsZero() {
			return
		}
		script := scriptOf(k)
		var back AddrKey
		classifyKey(script, &back, nil)
		_, addr, _ := ClassifyScript(script, heistgraph.Mainnet)
		if back != k || k.Address(heistgraph.Mainnet) != addr || addr == "" {
			t.Fatalf("%x: script %x classifies to %x (%q), key address %q", b[:n], script, back.Data(), addr, k.Address(heistgraph.Mainnet))
		}
		for _, net := range []heistgraph.Network{heistgraph.Mainnet, heistgraph.Testnet, heistgraph.Regtest} {
			if parsed, err := ParseAddress(k.Address(net), net); err != nil || parsed != k {
				t.Fatalf("%s: ParseAddress(%s) = %x, %v", net.Name, k.Address(net), parsed.Data(), err)
			}
		}
	})
}

// A block with a bare multisig and a P2PK output: the view's Keys and
// address keys give what DecodeBlock gives, and btcd's txscript agrees.
func TestScanMultisigAndPubKey(t *testing.T) {
	g, _ := GenesisHash(heistgraph.Mainnet)
	base := synth{prev: g, version: 0x20000000, height: 9}
	tx := spendTx(base.msg().Transactions[0].TxHash(), 1e8)
	multisig, _ := hex.DecodeString("51210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f817982102c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee552ae")
	p2pk, _ := hex.DecodeString("210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798ac")
	tx.AddTxOut(wire.NewTxOut(5000, multisig))
	tx.AddTxOut(wire.NewTxOut(6000, p2pk))
	base.txs = []*wire.MsgTx{tx}
	raw := base.bytes()
	var s Scanner
	rb, err := s.Scan(raw)
	if err != nil {
		t.Fatal(err)
	}
	want, err := DecodeBlock(raw, heistgraph.Mainnet)
	if err != nil {
		t.Fatal(err)
	}
	ms, pk := &rb.Txs[1].Outputs[1], &rb.Txs[1].Outputs[2]
	if keys := ms.Keys(heistgraph.Mainnet); len(keys) != 2 || !reflect.DeepEqual(keys, want.Txs[1].Outputs[1].Keys) || !ms.Addr.IsZero() {
		t.Errorf("multisig: keys %q, want %q; key %v", keys, want.Txs[1].Outputs[1].Keys, ms.Addr)
	}
	if pk.Type != heistgraph.ScriptPubKey || pk.Addr.Kind() != AddrPubKeyHash || pk.Addr.Address(heistgraph.Mainnet) != want.Txs[1].Outputs[2].Address ||
		pk.Keys(heistgraph.Mainnet) != nil {
		t.Errorf("p2pk: %s %v", pk.Type, pk.Addr)
	}
	if err := compareWire(raw, viewBlock(rb, heistgraph.Mainnet), &chaincfg.MainNetParams); err != nil {
		t.Fatal(err)
	}
}

func TestParseAddress(t *testing.T) {
	good := []struct {
		addr string
		net  heistgraph.Network
		kind AddrKind
	}{
		{"1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", heistgraph.Mainnet, AddrPubKeyHash},
		{"3QGenMj5hD4LBp24xow1hsagmMDjgnDpoo", heistgraph.Mainnet, AddrScriptHash},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", heistgraph.Mainnet, AddrWitness0},
		{"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", heistgraph.Mainnet, AddrWitness0},
		{"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", heistgraph.Regtest, AddrWitness0},
		{"bc1pfeessrawgf", heistgraph.Mainnet, AddrWitness0 + 1},
		// BIP350 test vectors: versions 1 and 16, a 40-byte program.
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", heistgraph.Mainnet, AddrWitness0 + 1},
		{"bc1sw50qgdz25j", heistgraph.Mainnet, AddrWitness0 + 16},
		{"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", heistgraph.Mainnet, AddrWitness0 + 1},
	}
	for _, tc := range good {
		k, err := ParseAddress(tc.addr, tc.net)
		want := tc.addr
		if tc.kind >= AddrWitness0 {
			want = strings.ToLower(want)
		}
		if err != nil || k.Kind() != tc.kind || k.Address(tc.net) != want {
			t.Errorf("%s: %v kind %d, reads back %q", tc.addr, err, k.Kind(), k.Address(tc.net))
		}
	}
	bad := []struct{ addr, why string }{
		{"", "neither"},
		{"1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMJ", "neither"},        // checksum
		{"mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", "base58 version"}, // testnet P2PKH on mainnet
		{"tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "prefix"}, // testnet segwit on mainnet
		{"bc1zw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k", "neither"}, // too long
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav", "program"},                                                         // 41 bytes? BIP350: invalid program length
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "checksum"},                                                                                          // v0 with bech32m
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "checksum"},                                                                      // v1 with bech32
		{"BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "program"},                                                                                                 // v0, 16 bytes
		{"0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", "neither"},                                                                   // a public key
		{"Bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "neither"},                                                                                           // mixed case
	}
	for _, tc := range bad {
		_, err := ParseAddress(tc.addr, heistgraph.Mainnet)
		if !errors.Is(err, heistgraph.ErrInvalid) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: %v, want an error saying %q", tc.addr, err, tc.why)
		}
	}
	if _, err := ParseAddress("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", heistgraph.Network{Name: "x"}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("unknown network: %v", err)
	}
}

// FuzzParseAddress: whatever string ParseAddress accepts reads back the
// same from its key, and btcd's address decoder, where it knows the kind,
// agrees on the script it pays.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", "3QGenMj5hD4LBp24xow1hsagmMDjgnDpoo",
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "bc1pfeessrawgf", "bc1sw50qgdz25j", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseAddress(s, heistgraph.Mainnet)
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatal(err)
			}
			return
		}
		if k.Address(heistgraph.Mainnet) != strings.ToLower(s) && k.Address(heistgraph.Mainnet) != s {
			t.Fatalf("%q reads back as %q", s, k.Address(heistgraph.Mainnet))
		}
		a, err := address.DecodeAddress(s, &chaincfg.MainNetParams)
		if err != nil {
			if k.Kind() <= AddrWitness0 {
				t.Fatalf("%q: btcd refuses a kind it knows: %v", s, err)
			}
			return
		}
		script, err := txscript.PayToAddrScript(a)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if !bytes.Equal(script, scriptOf(k)) {
			t.Fatalf("%q: btcd pays %x, the key %x", s, script, scriptOf(k))
		}
	})
}
