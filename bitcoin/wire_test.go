package bitcoin

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/heistgraph/heistgraph"
)

// The hand decoder must give exactly what btcd's wire package gives, on
// every real block we have: this is the condition for not using wire.

// realBlocks returns every real block in testdata, in file order:
// blocks 1-255, 574200, and 0-14131 (from the decompressed blk file).
func realBlocks(tb testing.TB) [][]byte {
	tb.Helper()
	blocks := append(blocks1to255(tb), readFile(tb, block574200File))
	big, err := os.ReadFile(bigBlkPath(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return append(blocks, splitBlk(tb, big)...)
}

func TestDecodeMatchesWire(t *testing.T) {
	t.Parallel()
	blocks := realBlocks(t)
	if len(blocks) != 255+1+14132 {
		t.Fatalf("%d real blocks", len(blocks))
	}
	var txs, outs int
	for i, raw := range blocks {
		b, err := DecodeBlock(raw, heistgraph.Mainnet)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if err := compareWire(raw, b, &chaincfg.MainNetParams); err != nil {
			t.Fatalf("block %d (%s): %v", i, b.Hash, err)
		}
		txs += len(b.Txs)
		for _, tx := range b.Txs {
			outs += len(tx.Outputs)
		}
	}
	t.Logf("%d blocks, %d txs, %d outputs identical to btcd wire and txscript", len(blocks), txs, outs)
}

// compareWire decodes raw with wire and compares every field with b.
func compareWire(raw []byte, b *heistgraph.Block, params *chaincfg.Params) error {
	var m wire.MsgBlock
	if err := m.Deserialize(bytes.NewReader(raw)); err != nil {
		return fmt.Errorf("wire: %w", err)
	}
	h := m.Header
	if b.Hash != heistgraph.Hash(m.BlockHash()) || b.PrevHash != heistgraph.Hash(h.PrevBlock) ||
		b.MerkleRoot != heistgraph.Hash(h.MerkleRoot) || b.Version != h.Version || b.Bits != h.Bits ||
		b.Nonce != h.Nonce || b.Time != h.Timestamp.Unix() || b.Size != m.SerializeSize() {
		return fmt.Errorf("header differs: %+v vs %+v", b, h)
	}
	if len(b.Txs) != len(m.Transactions) {
		return fmt.Errorf("%d txs, wire %d", len(b.Txs), len(m.Transactions))
	}
	for i, mt := range m.Transactions {
		tx := &b.Txs[i]
		size, stripped := mt.SerializeSize(), mt.SerializeSizeStripped()
		if tx.TxID != heistgraph.Hash(mt.TxHash()) || tx.WTxID != heistgraph.Hash(mt.WitnessHash()) ||
			tx.Version != mt.Version || tx.LockTime != mt.LockTime || tx.Size != size || tx.Weight != stripped*3+size {
			return fmt.Errorf("tx %d differs: %s %s v%d lt%d size %d weight %d; wire %s %s size %d stripped %d",
				i, tx.TxID, tx.WTxID, tx.Version, tx.LockTime, tx.Size, tx.Weight, mt.TxHash(), mt.WitnessHash(), size, stripped)
		}
		if len(tx.Inputs) != len(mt.TxIn) || len(tx.Outputs) != len(mt.TxOut) {
			return fmt.Errorf("tx %d: %d/%d inputs/outputs, wire %d/%d", i, len(tx.Inputs), len(tx.Outputs), len(mt.TxIn), len(mt.TxOut))
		}
		for j, in := range mt.TxIn {
			got := tx.Inputs[j]
			if got.PrevOut.TxID != heistgraph.Hash(in.PreviousOutPoint.Hash) || got.PrevOut.Vout != in.PreviousOutPoint.Index ||
				got.Sequence != in.Sequence || got.Coinbase != (i == 0) {
				return fmt.Errorf("tx %d input %d differs: %+v vs %+v", i, j, got, in)
			}
		}
		for j, out := range mt.TxOut {
			got := tx.Outputs[j]
			if got.Value != out.Value || !bytes.Equal(got.Script, out.PkScript) {
				return fmt.Errorf("tx %d output %d differs", i, j)
			}
			if err := compareTxscript(out.PkScript, params, got.Type, got.Address, got.Keys); err != nil {
				return fmt.Errorf("tx %d output %d: %w", i, j, err)
			}
		}
	}
	return nil
}

// compareTxscript checks a classification against btcd's
// txscript.ExtractPkScriptAddrs, allowing the differences ClassifyScript
// documents.
func compareTxscript(script []byte, params *chaincfg.Params, typ heistgraph.ScriptType, addr string, keys []string) error {
	class, addrs, _, _ := txscript.ExtractPkScriptAddrs(script, params)
	differ := func() error {
		return fmt.Errorf("script %x: ClassifyScript %s %q %q; btcd %s %v", script, typ, addr, keys, class, addrs)
	}
	switch {
	case class == txscript.NonStandardTy && typ == heistgraph.ScriptNullData:
		// Core's rule: OP_RETURN then any pushes.
		if script[0] != txscript.OP_RETURN || addr != "" || keys != nil {
			return differ()
		}
		return nil
	case class == txscript.NonStandardTy && typ == heistgraph.ScriptWitnessUnknown:
		v, prog, ok := witnessProgram(script)
		if !ok || v == 0 {
			return differ()
		}
		// btcd encodes no version above 1: decode ours with its bech32.
		hrp, data, enc, err := bech32.DecodeGeneric(addr)
		if err != nil || hrp != params.Bech32HRPSegwit || enc != bech32.VersionM || len(data) == 0 || int(data[0]) != v {
			return fmt.Errorf("%w (address %v)", differ(), err)
		}
		if p, err := bech32.ConvertBits(data[1:], 5, 8, false); err != nil || !bytes.Equal(p, prog) {
			return fmt.Errorf("%w (program %x, %v)", differ(), p, err)
		}
		return nil
	case class.String() != string(typ):
		return differ()
	}
	switch class {
	case txscript.PubKeyTy:
		// Ours is the P2PKH of the key bytes as they are.
		want, _ := address.NewAddressPubKeyHash(address.Hash160(script[1:len(script)-1]), params)
		if addr != want.EncodeAddress() || keys != nil {
			return differ()
		}
		if len(addrs) == 1 && script[1] != 0x06 && script[1] != 0x07 {
			if pk := addrs[0].(*address.AddressPubKey); pk.AddressPubKeyHash().EncodeAddress() != addr {
				return differ()
			}
		}
	case txscript.MultiSigTy:
		// btcd drops keys off the curve; ours keeps them, in order.
		if addr != "" {
			return differ()
		}
		k := 0
		for _, a := range addrs {
			want := a.(*address.AddressPubKey).AddressPubKeyHash().EncodeAddress()
			for k < len(keys) && keys[k] != want {
				k++
			}
			if k == len(keys) {
				return differ()
			}
		}
	default:
		want := ""
		if len(addrs) == 1 {
			want = addrs[0].EncodeAddress()
		}
		if addr != want || keys != nil {
			return differ()
		}
	}
	return nil
}
