package heistgraph

import (
	"fmt"
	"strconv"
	"strings"
)

// ScriptType names an output script's form with btcd's and Bitcoin Core's
// words, as they appear in JSON as script_type.
type ScriptType string

// The script types of design.md.
const (
	ScriptPubKey              ScriptType = "pubkey"
	ScriptPubKeyHash          ScriptType = "pubkeyhash"
	ScriptScriptHash          ScriptType = "scripthash"
	ScriptWitnessV0KeyHash    ScriptType = "witness_v0_keyhash"
	ScriptWitnessV0ScriptHash ScriptType = "witness_v0_scripthash"
	ScriptWitnessV1Taproot    ScriptType = "witness_v1_taproot"
	ScriptWitnessUnknown      ScriptType = "witness_unknown"
	ScriptAnchor              ScriptType = "anchor"
	ScriptMultisig            ScriptType = "multisig"
	ScriptNullData            ScriptType = "nulldata"
	ScriptNonStandard         ScriptType = "nonstandard"
)

// Outpoint names a transaction output: TXID:VOUT.
type Outpoint struct {
	TxID Hash
	Vout uint32
}

// String returns "txid:vout" with the txid in explorer (byte-reversed) hex.
func (o Outpoint) String() string {
	return o.TxID.String() + ":" + strconv.FormatUint(uint64(o.Vout), 10)
}

// IsNull reports whether o is the null outpoint a coinbase input spends.
func (o Outpoint) IsNull() bool { return o.TxID.IsZero() && o.Vout == 0xffffffff }

// ParseOutpoint parses "TXID:VOUT". It returns an error wrapping ErrInvalid
// for anything else.
func ParseOutpoint(s string) (Outpoint, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return Outpoint{}, fmt.Errorf("outpoint %q: want TXID:VOUT: %w", short(s), ErrInvalid)
	}
	h, err := ParseHash(s[:i])
	if err != nil {
		return Outpoint{}, fmt.Errorf("outpoint %q: %w", short(s), err)
	}
	v, err := strconv.ParseUint(s[i+1:], 10, 32)
	if err != nil {
		return Outpoint{}, fmt.Errorf("outpoint %q: bad output index: %w", short(s), ErrInvalid)
	}
	return Outpoint{TxID: h, Vout: uint32(v)}, nil
}

// Inpoint names a transaction input: the spending transaction and the
// input's index in it.
type Inpoint struct {
	TxID Hash
	Vin  uint32
}

// TxIn is a transaction input. A coinbase input has Coinbase set and a null
// PrevOut.
type TxIn struct {
	PrevOut  Outpoint
	Sequence uint32
	Coinbase bool
}

// TxOut is a transaction output. Address is empty when the script has no
// address form (nulldata, nonstandard, bare multisig); a pubkey (P2PK) output
// carries the P2PKH address of its key with Type kept as ScriptPubKey. A bare
// multisig output lists its keys' P2PKH addresses in Keys.
type TxOut struct {
	Value   int64 // satoshis
	Script  []byte
	Type    ScriptType
	Address string
	Keys    []string
}

// Tx is a decoded UTXO-chain transaction.
type Tx struct {
	TxID     Hash
	WTxID    Hash
	Version  int32
	LockTime uint32
	Size     int // serialized bytes, witness included
	Weight   int // BIP141 weight units
	Inputs   []TxIn
	Outputs  []TxOut
}

// IsCoinbase reports whether tx is a coinbase transaction.
func (tx *Tx) IsCoinbase() bool { return len(tx.Inputs) == 1 && tx.Inputs[0].Coinbase }

// VSize returns the virtual size in vbytes (weight / 4, rounded up).
func (tx *Tx) VSize() int { return (tx.Weight + 3) / 4 }

// OutputSum returns the total value of tx's outputs in satoshis.
func (tx *Tx) OutputSum() int64 {
	var s int64
	for i := range tx.Outputs {
		s += tx.Outputs[i].Value
	}
	return s
}
