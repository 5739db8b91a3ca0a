package btcdtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// Params are the regtest parameters every key and address here uses.
var Params = &chaincfg.RegressionNetParams

// KeyType is the output script a Key's address pays to.
type KeyType int

// Key types: P2PKH, P2WPKH and P2TR (BIP 86 key path).
const (
	P2PKH KeyType = iota
	P2WPKH
	P2TR
)

// Key is a private key with the address of one script type. Keys are
// derived from a name, so a test's keys are the same in every run.
type Key struct {
	Name string
	Type KeyType
	priv *btcec.PrivateKey
	addr address.Address
}

// NewKey derives the key called name (SHA-256 of the name) with an
// address of type typ.
func NewKey(name string, typ KeyType) *Key {
	seed := sha256.Sum256([]byte("btcdtest key " + name))
	priv, pub := btcec.PrivKeyFromBytes(seed[:])
	k := &Key{Name: name, Type: typ, priv: priv}
	var err error
	switch typ {
	case P2PKH:
		k.addr, err = address.NewAddressPubKeyHash(address.Hash160(pub.SerializeCompressed()), Params)
	case P2WPKH:
		k.addr, err = address.NewAddressWitnessPubKeyHash(address.Hash160(pub.SerializeCompressed()), Params)
	case P2TR:
		k.addr, err = address.NewAddressTaproot(schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(pub)), Params)
	default:
		panic(fmt.Sprintf("btcdtest: unknown key type %d", typ))
	}
	if err != nil {
		panic(fmt.Sprintf("btcdtest: address of key %s: %v", name, err))
	}
	return k
}

// MinerKey is the key the node mines to unless Options.MiningAddr says
// otherwise.
func MinerKey() *Key { return NewKey("miner", P2WPKH) }

// Address returns the key's regtest address.
func (k *Key) Address() string { return k.addr.EncodeAddress() }

// PkScript returns the output script paying the key.
func (k *Key) PkScript() []byte {
	s, err := txscript.PayToAddrScript(k.addr)
	if err != nil {
		panic(err)
	}
	return s
}

// Coin is an output a Key can spend.
type Coin struct {
	TxID  chainhash.Hash
	Vout  uint32
	Value int64 // satoshis
	Key   *Key
}

// String returns "txid:vout".
func (c Coin) String() string { return fmt.Sprintf("%s:%d", c.TxID, c.Vout) }

// Payment is an output to create: Value satoshis to Key's address, or to
// Addr (any regtest address) when Key is nil.
type Payment struct {
	Key   *Key
	Addr  string
	Value int64
}

func (p Payment) pkScript() ([]byte, error) {
	if p.Key != nil {
		return p.Key.PkScript(), nil
	}
	a, err := address.DecodeAddress(p.Addr, Params)
	if err != nil {
		return nil, fmt.Errorf("btcdtest: pay %s: %w", p.Addr, err)
	}
	return txscript.PayToAddrScript(a)
}

// Tx is a signed transaction and the coins its outputs to known keys make.
type Tx struct {
	Msg *wire.MsgTx
	// Fee is the inputs' value minus the outputs'.
	Fee int64
	// Outs are the new coins, one per payment, in output order.
	Outs []Coin
}

// TxID returns the transaction's id.
func (t *Tx) TxID() chainhash.Hash { return t.Msg.TxHash() }

// Hex returns the serialized transaction in hex (witness included).
func (t *Tx) Hex() string {
	var b bytes.Buffer
	if err := t.Msg.Serialize(&b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b.Bytes())
}

// Spend builds a version-2 transaction spending coins to payments and signs
// every input with its coin's key (SIGHASH_ALL; P2PKH script signatures,
// P2WPKH witnesses, P2TR key-path Schnorr signatures). The fee is what the
// coins hold beyond the payments; it is an error for it to be negative.
func Spend(coins []Coin, payments []Payment) (*Tx, error) {
	return spend(coins, payments, wire.MaxTxInSequenceNum)
}

// SpendReplaceable is Spend with every input signalling BIP125
// replaceability (sequence 0xfffffffd), so a node's mempool lets a
// conflicting transaction with a higher fee replace it.
func SpendReplaceable(coins []Coin, payments []Payment) (*Tx, error) {
	return spend(coins, payments, wire.MaxTxInSequenceNum-2)
}

func spend(coins []Coin, payments []Payment, sequence uint32) (*Tx, error) {
	tx := wire.NewMsgTx(2)
	prev := make(map[wire.OutPoint]*wire.TxOut, len(coins))
	var in int64
	for _, c := range coins {
		op := wire.OutPoint{Hash: c.TxID, Index: c.Vout}
		txIn := wire.NewTxIn(&op, nil, nil)
		txIn.Sequence = sequence
		tx.AddTxIn(txIn)
		prev[op] = wire.NewTxOut(c.Value, c.Key.PkScript())
		in += c.Value
	}
	var out int64
	for _, p := range payments {
		s, err := p.pkScript()
		if err != nil {
			return nil, err
		}
		tx.AddTxOut(wire.NewTxOut(p.Value, s))
		out += p.Value
	}
	if out > in {
		return nil, fmt.Errorf("btcdtest: payments of %d sat exceed the %d sat of the coins", out, in)
	}
	hashes := txscript.NewTxSigHashes(tx, txscript.NewMultiPrevOutFetcher(prev))
	for i, c := range coins {
		script := c.Key.PkScript()
		var err error
		switch c.Key.Type {
		case P2PKH:
			tx.TxIn[i].SignatureScript, err = txscript.SignatureScript(tx, i, script, txscript.SigHashAll, c.Key.priv, true)
		case P2WPKH:
			tx.TxIn[i].Witness, err = txscript.WitnessSignature(tx, hashes, i, c.Value, script, txscript.SigHashAll, c.Key.priv, true)
		case P2TR:
			tx.TxIn[i].Witness, err = txscript.TaprootWitnessSignature(tx, hashes, i, c.Value, script, txscript.SigHashDefault, c.Key.priv)
		}
		if err != nil {
			return nil, fmt.Errorf("btcdtest: sign input %d (%s): %w", i, c, err)
		}
	}
	t := &Tx{Msg: tx, Fee: in - out}
	id := tx.TxHash()
	for i, p := range payments {
		if p.Key != nil {
			t.Outs = append(t.Outs, Coin{TxID: id, Vout: uint32(i), Value: p.Value, Key: p.Key})
		} else {
			t.Outs = append(t.Outs, Coin{TxID: id, Vout: uint32(i), Value: p.Value})
		}
	}
	return t, nil
}

// ParseBTC converts a decimal BTC amount as a node prints it in JSON
// ("12.5", "0.00010000", "1e-05") to satoshis, exactly.
func ParseBTC(s string) (int64, error) {
	if strings.ContainsAny(s, "eE") {
		// Go's JSON encoder (btcd) prints small floats in exponent form.
		var f float64
		if _, err := fmt.Sscan(s, &f); err != nil {
			return 0, fmt.Errorf("btcdtest: amount %q: %w", s, err)
		}
		return int64(f*1e8 + 0.5*sign(f)), nil
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 8 {
		return 0, fmt.Errorf("btcdtest: amount %q has more than 8 decimals", s)
	}
	frac += strings.Repeat("0", 8-len(frac))
	var v int64
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("btcdtest: amount %q is not decimal", s)
		}
		v = v*10 + int64(r-'0')
	}
	if neg {
		v = -v
	}
	return v, nil
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}
