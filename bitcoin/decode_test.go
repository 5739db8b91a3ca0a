package bitcoin

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/heistgraph/heistgraph"
)

// Block 170 holds the first transaction between people: Satoshi paid Hal
// Finney 10 BTC out of block 9's coinbase.
func TestDecodeBlock170(t *testing.T) {
	t.Parallel()
	blocks := blocks1to255(t)
	b, err := DecodeBlock(blocks[169], heistgraph.Mainnet)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Hash.String(); got != hash170 {
		t.Fatalf("hash %s, want %s", got, hash170)
	}
	if b.Chain != heistgraph.ChainBTC || b.Height != 0 || b.Size != len(blocks[169]) || len(b.Txs) != 2 {
		t.Fatalf("chain %q height %d size %d txs %d", b.Chain, b.Height, b.Size, len(b.Txs))
	}
	if b.PrevHash.String() != "000000002a22cfee1f2c846adbd12b3e183d4f97683f85dad08a79780a84bd55" {
		t.Errorf("prev hash %s", b.PrevHash)
	}
	if b.Time != 1231731025 || b.Version != 1 || b.Bits != 0x1d00ffff || b.Nonce != 1889418792 {
		t.Errorf("header: time %d version %d bits %#x nonce %d", b.Time, b.Version, b.Bits, b.Nonce)
	}
	if !b.Txs[0].IsCoinbase() || !b.Txs[0].Inputs[0].Coinbase {
		t.Errorf("tx 0 is not a coinbase")
	}
	tx := b.Txs[1]
	if tx.TxID.String() != txid170 || tx.WTxID != tx.TxID {
		t.Fatalf("txid %s wtxid %s, want %s", tx.TxID, tx.WTxID, txid170)
	}
	if tx.IsCoinbase() || len(tx.Inputs) != 1 || tx.Inputs[0].Coinbase {
		t.Fatalf("inputs %+v", tx.Inputs)
	}
	if got := tx.Inputs[0].PrevOut.String(); got != coinbase9+":0" {
		t.Errorf("spends %s, want %s:0", got, coinbase9)
	}
	if tx.Inputs[0].Sequence != 0xffffffff || tx.LockTime != 0 || tx.Version != 1 {
		t.Errorf("sequence %#x locktime %d version %d", tx.Inputs[0].Sequence, tx.LockTime, tx.Version)
	}
	if tx.Size != 275 || tx.Weight != 4*275 || tx.VSize() != 275 {
		t.Errorf("size %d weight %d", tx.Size, tx.Weight)
	}
	want := []struct {
		value int64
		addr  string
	}{
		{10e8, "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"},
		{40e8, "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"},
	}
	if len(tx.Outputs) != len(want) {
		t.Fatalf("%d outputs", len(tx.Outputs))
	}
	for i, w := range want {
		o := tx.Outputs[i]
		if o.Value != w.value || o.Address != w.addr || o.Type != heistgraph.ScriptPubKey || len(o.Script) != 67 {
			t.Errorf("output %d: %d %s %s (%d script bytes), want %d %s pubkey", i, o.Value, o.Address, o.Type, len(o.Script), w.value, w.addr)
		}
	}

	// Block 9's coinbase is the output spent.
	b9, err := DecodeBlock(blocks[8], heistgraph.Mainnet)
	if err != nil {
		t.Fatal(err)
	}
	cb := b9.Txs[0]
	if cb.TxID.String() != coinbase9 || cb.Outputs[0].Value != 50e8 || cb.Outputs[0].Address != "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S" {
		t.Errorf("block 9 coinbase %s pays %d to %s", cb.TxID, cb.Outputs[0].Value, cb.Outputs[0].Address)
	}
}

// Block 574200 (April 2019) mixes legacy and segwit transactions and every
// common output type.
func TestDecodeBlock574200(t *testing.T) {
	t.Parallel()
	raw := readFile(t, block574200File)
	b, err := DecodeBlock(raw, heistgraph.Mainnet)
	if err != nil {
		t.Fatal(err)
	}
	if b.Hash.String() != hash574200 || len(b.Txs) != 3315 || b.Size != 1245250 {
		t.Fatalf("hash %s, %d txs, size %d", b.Hash, len(b.Txs), b.Size)
	}
	if h, ok := CoinbaseHeight(raw); !ok || h != 574200 {
		t.Errorf("CoinbaseHeight = %d, %v; want 574200", h, ok)
	}
	cb := b.Txs[0]
	if !cb.IsCoinbase() || cb.TxID.String() != "57233bf44b82ef3662479e5c80f71ba00c1ae82e8c9739213841f27a2f3d0d79" {
		t.Errorf("coinbase %s", cb.TxID)
	}
	// The coinbase is segwit (witness reserved value), so its wtxid differs.
	if cb.WTxID == cb.TxID || cb.Size != 240 || cb.Weight != 852 {
		t.Errorf("coinbase wtxid %s size %d weight %d", cb.WTxID, cb.Size, cb.Weight)
	}
	if tx := b.Txs[1]; tx.TxID.String() != "a80bb6aea647e2ba69d0c5189b0976734d3918d4e9d6e0cb5bef07549706c8d1" ||
		tx.WTxID.String() != "73a9339394108834e9dd1c55f3411db93ff981dbe374c6791192a431c5c3b958" || tx.Size != 1060 || tx.Weight != 1966 {
		t.Errorf("tx 1: %s %s size %d weight %d", tx.TxID, tx.WTxID, tx.Size, tx.Weight)
	}

	// A handful of outputs of each type: the address pinned, and derived a
	// second way (the script's hash taken by hand, encoded by btcd's
	// address package).
	params := &chaincfg.MainNetParams
	tests := []struct {
		name, outpoint string
		typ            heistgraph.ScriptType
		addr           string
		second         func(s []byte) (string, error)
	}{
		{"p2wpkh coinbase", "57233bf44b82ef3662479e5c80f71ba00c1ae82e8c9739213841f27a2f3d0d79:0", heistgraph.ScriptWitnessV0KeyHash,
			"bc1qjl8uwezzlech723lpnyuza0h2cdkvxvh54v3dn", func(s []byte) (string, error) {
				a, err := address.NewAddressWitnessPubKeyHash(s[2:22], params)
				return encode(a, err)
			}},
		{"witness commitment", "57233bf44b82ef3662479e5c80f71ba00c1ae82e8c9739213841f27a2f3d0d79:1", heistgraph.ScriptNullData, "", nil},
		{"p2sh", "a80bb6aea647e2ba69d0c5189b0976734d3918d4e9d6e0cb5bef07549706c8d1:0", heistgraph.ScriptScriptHash,
			"3QGenMj5hD4LBp24xow1hsagmMDjgnDpoo", func(s []byte) (string, error) {
				a, err := address.NewAddressScriptHashFromHash(s[2:22], params)
				return encode(a, err)
			}},
		{"p2sh 2", "a80bb6aea647e2ba69d0c5189b0976734d3918d4e9d6e0cb5bef07549706c8d1:1", heistgraph.ScriptScriptHash,
			"33UtQHkmLcSzWe5TXizcnLgGA4puvDEDmY", func(s []byte) (string, error) {
				a, err := address.NewAddressScriptHashFromHash(s[2:22], params)
				return encode(a, err)
			}},
		{"p2pkh", "044027aaa82760da4877eda439c114b166d62d53205cf8f4c570351852d38d6e:1", heistgraph.ScriptPubKeyHash,
			"14zV5ZCqYmgyCzoVEhRVsP7SpUDVsCBz5g", func(s []byte) (string, error) {
				a, err := address.NewAddressPubKeyHash(s[3:23], params)
				return encode(a, err)
			}},
		{"p2pkh 2", "475640eb5895cdc18980c10cadc67a36bdfb3a035e63fa0afaca55fa635912d5:0", heistgraph.ScriptPubKeyHash,
			"1GoC1B4GWdbnwzpCFNxqDb2zSL9UzQnwrW", func(s []byte) (string, error) {
				a, err := address.NewAddressPubKeyHash(s[3:23], params)
				return encode(a, err)
			}},
		{"omni op_return", "802f95c66197fd649c1a855f9f0cf8fc6de33fafbbbd22cdd542850c57d5398c:1", heistgraph.ScriptNullData, "", nil},
		{"p2wsh", "0ed31a69f6ceca5ed3444fc1eba41cd23c7a9476211cb64d8448423809569901:1", heistgraph.ScriptWitnessV0ScriptHash,
			"bc1qwqdg6squsna38e46795at95yu9atm8azzmyvckulcc7kytlcckxswvvzej", func(s []byte) (string, error) {
				a, err := address.NewAddressWitnessScriptHash(s[2:34], params)
				return encode(a, err)
			}},
		{"p2wpkh", "75d6d16bd5127f37e71a2631f1f506f1df072587ef8ec7410c3248cc3dd6b929:1", heistgraph.ScriptWitnessV0KeyHash,
			"bc1q69ty4qg74fqgtutd27sjcwq6l4gd2fe86q0n59", func(s []byte) (string, error) {
				a, err := address.NewAddressWitnessPubKeyHash(s[2:22], params)
				return encode(a, err)
			}},
		{"p2pk compressed", "0d1e55aa5919aa363755890339c58cb8ee880ef16daa60d33631aa49fc70ebdd:0", heistgraph.ScriptPubKey,
			"13XpsmJszDj3GA7rg59pP2bqovU6gk3tLU", func(s []byte) (string, error) {
				a, err := address.NewAddressPubKey(s[1:34], params)
				if err != nil {
					return "", err
				}
				return a.AddressPubKeyHash().EncodeAddress(), nil
			}},
	}
	byTxID := map[string]*heistgraph.Tx{}
	for i := range b.Txs {
		byTxID[b.Txs[i].TxID.String()] = &b.Txs[i]
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, err := heistgraph.ParseOutpoint(tc.outpoint)
			if err != nil {
				t.Fatal(err)
			}
			tx := byTxID[op.TxID.String()]
			if tx == nil {
				t.Fatalf("tx %s not in block", op.TxID)
			}
			o := tx.Outputs[op.Vout]
			if o.Type != tc.typ || o.Address != tc.addr {
				t.Errorf("%s: %s %q, want %s %q", tc.outpoint, o.Type, o.Address, tc.typ, tc.addr)
			}
			if tc.second != nil {
				second, err := tc.second(o.Script)
				if err != nil || second != tc.addr {
					t.Errorf("btcd address package gives %q, %v; want %q", second, err, tc.addr)
				}
			}
		})
	}
}

func encode(a address.Address, err error) (string, error) {
	if err != nil {
		return "", err
	}
	return a.EncodeAddress(), nil
}

// Every real block decodes, its merkle root verifies (DecodeBlock checks
// it) and matches an independent computation from btcd's txids.
func TestDecodeRealBlocksMerkle(t *testing.T) {
	t.Parallel()
	blocks := append(blocks1to255(t), readFile(t, block574200File))
	for i, raw := range blocks {
		b, err := DecodeBlock(raw, heistgraph.Mainnet)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		var m wire.MsgBlock
		if err := m.Deserialize(bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		var ids []chainhash.Hash
		for _, tx := range m.Transactions {
			ids = append(ids, tx.TxHash())
		}
		if want := testMerkle(ids); b.MerkleRoot != heistgraph.Hash(want) {
			t.Fatalf("block %d: merkle %s, want %s", i, b.MerkleRoot, want)
		}
	}
}

func TestGenesis(t *testing.T) {
	t.Parallel()
	tests := []struct {
		net  heistgraph.Network
		hash string
		addr string
	}{
		{heistgraph.Mainnet, "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"},
		{heistgraph.Testnet, "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943", "mpXwg4jMtRhuSpVq4xS3HFHmCmWp9NyGKt"},
		{heistgraph.Regtest, "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206", "mpXwg4jMtRhuSpVq4xS3HFHmCmWp9NyGKt"},
		{heistgraph.Signet, "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6", "mpXwg4jMtRhuSpVq4xS3HFHmCmWp9NyGKt"},
		{heistgraph.Testnet4, "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043", ""},
	}
	for _, tc := range tests {
		t.Run(tc.net.Name, func(t *testing.T) {
			t.Parallel()
			g, err := Genesis(tc.net)
			if err != nil {
				t.Fatal(err)
			}
			if g.Hash.String() != tc.hash || g.Height != 0 || g.Chain != tc.net.Chain || len(g.Txs) != 1 {
				t.Fatalf("genesis %s height %d chain %s", g.Hash, g.Height, g.Chain)
			}
			if h, err := GenesisHash(tc.net); err != nil || h != g.Hash {
				t.Errorf("GenesisHash = %s, %v", h, err)
			}
			if tc.addr != "" && g.Txs[0].Outputs[0].Address != tc.addr {
				t.Errorf("genesis pays %s, want %s", g.Txs[0].Outputs[0].Address, tc.addr)
			}
		})
	}
	if _, err := Genesis(heistgraph.Network{Name: "nope"}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("unknown network: %v", err)
	}
}

func TestCoinbaseHeight(t *testing.T) {
	t.Parallel()
	// cb builds a block prefix: header of the given version, one tx whose
	// coinbase scriptSig is sig.
	cb := func(version int32, segwit bool, sig []byte) []byte {
		b := make([]byte, 80)
		binary.LittleEndian.PutUint32(b, uint32(version))
		b = append(b, 1)          // tx count
		b = append(b, 1, 0, 0, 0) // tx version
		if segwit {
			b = append(b, 0, 1)
		}
		b = append(b, 1) // input count
		b = append(b, make([]byte, 32)...)
		b = append(b, 0xff, 0xff, 0xff, 0xff)
		b = append(b, byte(len(sig)))
		return append(b, sig...)
	}
	tests := []struct {
		name    string
		raw     []byte
		height  int64
		ok      bool
		comment string
	}{
		{"3-byte push", cb(4, false, []byte{3, 0xf8, 0xc2, 0x08, 0xaa}), 574200, true, ""},
		{"segwit coinbase", cb(0x20000000, true, []byte{3, 0xf8, 0xc2, 0x08}), 574200, true, ""},
		{"OP_1", cb(2, false, []byte{0x51, 0x00}), 1, true, ""},
		{"OP_16", cb(2, false, []byte{0x60}), 16, true, ""},
		{"1-byte push", cb(2, false, []byte{1, 17}), 17, true, ""},
		{"2-byte push 128", cb(2, false, []byte{2, 0x80, 0x00}), 128, true, "0x80 alone would be negative"},
		{"4-byte push", cb(2, false, []byte{4, 0xff, 0xff, 0xff, 0x7f}), 1<<31 - 1, true, ""},
		{"version 1", cb(1, false, []byte{3, 0xf8, 0xc2, 0x08}), 0, false, "BIP34 applies from version 2"},
		{"negative version", cb(-1, false, []byte{3, 0xf8, 0xc2, 0x08}), 0, false, ""},
		{"negative", cb(2, false, []byte{1, 0x81}), 0, false, ""},
		{"not minimal", cb(2, false, []byte{2, 5, 0}), 0, false, ""},
		{"zero", cb(2, false, []byte{0}), 0, false, "OP_0"},
		{"OP_1NEGATE", cb(2, false, []byte{0x4f}), 0, false, ""},
		{"5-byte push too high", cb(2, false, []byte{5, 0, 0, 0, 0x80, 0}), 0, false, ""},
		{"8-byte push too high", cb(2, false, []byte{8, 1, 2, 3, 4, 5, 6, 7, 8}), 0, false, ""},
		{"9-byte push", cb(2, false, []byte{9, 1, 2, 3, 4, 5, 6, 7, 8, 9}), 0, false, ""},
		{"push runs past script", cb(2, false, []byte{3, 1}), 0, false, ""},
		{"empty scriptSig", cb(2, false, nil), 0, false, ""},
		{"pushdata1", cb(2, false, []byte{0x4c, 1, 5}), 0, false, ""},
		{"not a coinbase", func() []byte { b := cb(2, false, []byte{1, 5}); b[90] = 1; return b }(), 0, false, ""},
		{"truncated", cb(2, false, []byte{3, 0xf8, 0xc2, 0x08})[:100], 0, false, ""},
		{"empty", nil, 0, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, ok := CoinbaseHeight(tc.raw)
			if h != tc.height || ok != tc.ok {
				t.Errorf("CoinbaseHeight = %d, %v; want %d, %v %s", h, ok, tc.height, tc.ok, tc.comment)
			}
		})
	}
}

func TestDecodeTx(t *testing.T) {
	t.Parallel()
	raw := readFile(t, block574200File)
	var m wire.MsgBlock
	if err := m.Deserialize(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	for i, mtx := range m.Transactions[:50] {
		var buf bytes.Buffer
		if err := mtx.Serialize(&buf); err != nil {
			t.Fatal(err)
		}
		tx, err := DecodeTx(buf.Bytes(), heistgraph.Mainnet)
		if err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
		if tx.TxID != heistgraph.Hash(mtx.TxHash()) || tx.WTxID != heistgraph.Hash(mtx.WitnessHash()) || tx.IsCoinbase() != (i == 0) {
			t.Fatalf("tx %d: %s %s coinbase %v", i, tx.TxID, tx.WTxID, tx.IsCoinbase())
		}
		_, err = DecodeTx(append(buf.Bytes(), 0), heistgraph.Mainnet)
		var de *DecodeError
		if !errors.As(err, &de) || !errors.Is(err, heistgraph.ErrInvalid) || de.Offset != int64(buf.Len()) {
			t.Fatalf("trailing byte: %v", err)
		}
	}
}

// mutate returns a copy of b with f applied.
func mutate(b []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }

func TestDecodeBlockInvalid(t *testing.T) {
	t.Parallel()
	b170 := blocks1to255(t)[169]
	// Block 170: header, tx count (1 byte), coinbase (134 bytes), tx 1 (275).
	const cbStart, tx1Start = 81, 81 + 134
	tx1Out0Value := tx1Start + 4 + 1 + 32 + 4 + 1 + 0x48 + 4 + 1
	if v := binary.LittleEndian.Uint64(b170[tx1Out0Value:]); v != 10e8 {
		t.Fatalf("test layout: value %d at %d", v, tx1Out0Value)
	}
	genesis, _ := GenesisHash(heistgraph.Mainnet)
	withTxs := func(txs ...*wire.MsgTx) []byte { return synth{prev: genesis, version: 1, txs: txs}.bytes() }
	cbID := synth{prev: genesis, version: 1}.msg().Transactions[0].TxHash()

	// A segwit tx whose witnesses are all empty: marker and flag set.
	superfluous := func() []byte {
		tx := spendTx(cbID, 1e8)
		var buf bytes.Buffer
		tx.SerializeNoWitness(&buf)
		s := buf.Bytes()
		out := append(append(bytes.Clone(s[:4]), 0, 1), s[4:len(s)-4]...)
		out = append(out, 0) // no witness items for the one input
		return append(out, s[len(s)-4:]...)
	}()
	badFlag := mutate(superfluous, func(b []byte) []byte { b[5] = 2; return b })
	rawTx := func(tx []byte) []byte {
		m := synth{prev: genesis, version: 1}.msg()
		full := serialize(m)
		full[80] = 2 // two txs
		return append(full, tx...)
	}
	twoCoinbases := func() []byte {
		m := synth{prev: genesis, version: 1}.msg()
		m.AddTransaction(coinbaseTx([]byte{1, 2, 3}))
		return serialize(m)
	}()
	noCoinbase := func() []byte {
		m := synth{prev: genesis, version: 1}.msg()
		m.Transactions[0] = spendTx(cbID, 1)
		return serialize(m)
	}()
	noOutputs := func() []byte {
		tx := spendTx(cbID, 1)
		tx.TxOut = nil
		return withTxs(tx)
	}()
	// Three transactions, the last duplicated: same merkle root (CVE-2012-2459).
	mutated := func() []byte {
		m := synth{prev: genesis, version: 1, txs: []*wire.MsgTx{spendTx(cbID, 1), spendTx(cbID, 2)}}.msg()
		m.AddTransaction(m.Transactions[2])
		return serialize(m)
	}()

	tests := []struct {
		name   string
		raw    []byte
		offset int64  // -1: don't check
		msg    string // in the error
		merkle bool   // wraps a *MerkleError
	}{
		{"empty", nil, 0, "truncated header", false},
		{"truncated header", b170[:79], 0, "truncated header", false},
		{"truncated lock time", b170[:len(b170)-1], int64(len(b170) - 4), "tx 1: truncated lock time", false},
		{"truncated tx", b170[:tx1Start+30], tx1Start + 4, "tx 1: 1 inputs cannot fit in the remaining 25 bytes", false},
		{"trailing garbage", append(bytes.Clone(b170), 0), int64(len(b170)), "1 trailing bytes after 2 transactions", false},
		{"too large", make([]byte, MaxBlockSize+1), 0, "exceeds the maximum", false},
		{"no transactions", append(bytes.Clone(b170[:80]), 0), 80, "no transactions", false},
		{"absurd tx count", append(bytes.Clone(b170[:80]), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 80, "cannot fit", false},
		{"absurd input count", mutate(b170, func(b []byte) []byte {
			return append(append(b[:cbStart+4], 0xfe, 0, 0, 0, 1), b[cbStart+5:]...)
		}), cbStart + 4, "tx 0: 16777216 inputs cannot fit", false},
		{"non-canonical count", mutate(b170, func(b []byte) []byte {
			return append(append(b[:80], 0xfd, 2, 0), b[81:]...)
		}), 80, "non-canonical compact size 2", false},
		{"script past end", mutate(b170, func(b []byte) []byte { b[tx1Out0Value+84] = 0xfc; return b }), int64(tx1Out0Value + 84),
			"tx 1: output 1: script of 252 bytes runs past the end (71 bytes left)", false},
		{"merkle mismatch", mutate(b170, func(b []byte) []byte { b[tx1Out0Value]++; return b }), 36, "merkle root mismatch", true},
		{"mutated merkle", mutated, 36, "mutated merkle tree", true},
		{"negative value", mutate(b170, func(b []byte) []byte { b[tx1Out0Value+7] = 0x80; return b }), int64(tx1Out0Value), "tx 1: output 0: value", false},
		{"value above 21M BTC", mutate(b170, func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[tx1Out0Value:], 21e14+1)
			return b
		}), int64(tx1Out0Value), "outside [0, 2100000000000000]", false},
		{"first tx not coinbase", noCoinbase, -1, "tx 0: first transaction is not a coinbase", false},
		{"two coinbases", twoCoinbases, -1, "tx 1: input 0 spends the null outpoint outside a coinbase", false},
		{"no outputs", noOutputs, -1, "tx 1: no outputs", false},
		{"superfluous witness", rawTx(superfluous), -1, "tx 1: segwit marker but no witness", false},
		{"bad segwit flag", rawTx(badFlag), -1, "tx 1: segwit marker with flag 0x2", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := DecodeBlock(tc.raw, heistgraph.Mainnet)
			if err == nil {
				t.Fatalf("decoded %s", b.Hash)
			}
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("not a *DecodeError: %v", err)
			}
			if tc.offset >= 0 && de.Offset != tc.offset {
				t.Errorf("offset %d, want %d: %v", de.Offset, tc.offset, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			var me *MerkleError
			if errors.As(err, &me) != tc.merkle {
				t.Errorf("MerkleError: %v, want %v", me, tc.merkle)
			}
			if len(tc.raw) >= 80 && len(tc.raw) <= MaxBlockSize && de.Hash != hash256(tc.raw[:80]).String() {
				t.Errorf("error names block %q", de.Hash)
			}
		})
	}
	if _, err := DecodeBlock(b170, heistgraph.Network{Name: "nope"}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("unknown network: %v", err)
	}
}

func TestDecodeErrorMessage(t *testing.T) {
	t.Parallel()
	err := error(&DecodeError{File: "blk00001.dat", Offset: 1234, Height: 170, Hash: hash170, Err: heistgraph.ErrInvalid})
	want := "bitcoin: blk00001.dat: offset 1234 (block " + hash170 + " at height 170): heistgraph: invalid input"
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err, want)
	}
	if !errors.Is(err, heistgraph.ErrInvalid) {
		t.Error("does not unwrap")
	}
	if got := (&DecodeError{Offset: 7, Err: errors.New("x")}).Error(); got != "bitcoin: offset 7: x" {
		t.Errorf("got %q", got)
	}
	if got := (&DecodeError{File: "f", Height: 9, Err: errors.New("x")}).Error(); got != "bitcoin: f: offset 0 (block at height 9): x" {
		t.Errorf("got %q", got)
	}
	h := heistgraph.Hash{1}
	me := &MerkleError{Header: h, Computed: heistgraph.Hash{2}}
	if !errors.Is(me, heistgraph.ErrInvalid) || !strings.Contains(me.Error(), h.String()) {
		t.Errorf("MerkleError: %v", me)
	}
}

// The decoded block does not alias the bytes it came from.
func TestDecodeBlockDoesNotAlias(t *testing.T) {
	t.Parallel()
	raw := bytes.Clone(blocks1to255(t)[169])
	b, err := DecodeBlock(raw, heistgraph.Mainnet)
	if err != nil {
		t.Fatal(err)
	}
	want := hex.EncodeToString(b.Txs[1].Outputs[0].Script)
	clear(raw)
	if got := hex.EncodeToString(b.Txs[1].Outputs[0].Script); got != want {
		t.Errorf("script changed with the input: %s", got)
	}
}

// The checker's walk finds each transaction where wire does, with the
// counts the results are allocated by and the stripped body the txid
// hashes.
func TestCheckerShapes(t *testing.T) {
	t.Parallel()
	for _, raw := range [][]byte{readFile(t, block574200File), blocks1to255(t)[169], segwitBlock(t)} {
		var m wire.MsgBlock
		if err := m.Deserialize(bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		c := checker{raw: raw, pos: HeaderSize}
		n, err := c.count("transaction", minTxSize)
		if err != nil || n != len(m.Transactions) {
			t.Fatalf("%d txs, %v", n, err)
		}
		for i, tx := range m.Transactions {
			sh, err := c.tx(i)
			if err != nil {
				t.Fatal(err)
			}
			scripts := 0
			for _, o := range tx.TxOut {
				scripts += len(o.PkScript)
			}
			if sh.end-sh.start != tx.SerializeSize() || 4+sh.bodyEnd-sh.body+4 != tx.SerializeSizeStripped() ||
				sh.segwit != tx.HasWitness() || sh.ins != len(tx.TxIn) || sh.outs != len(tx.TxOut) || sh.scripts != scripts {
				t.Fatalf("tx %d: shape %+v; wire: size %d, stripped %d, witness %v, %d inputs, %d outputs, %d script bytes",
					i, sh, tx.SerializeSize(), tx.SerializeSizeStripped(), tx.HasWitness(), len(tx.TxIn), len(tx.TxOut), scripts)
			}
		}
	}
}
