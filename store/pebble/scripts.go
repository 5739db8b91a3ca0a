package pebble

import (
	"github.com/btcsuite/btcd/address/v2/base58"
	"github.com/btcsuite/btcd/address/v2/bech32"

	"github.com/heistgraph/heistgraph"
)

// standardScript appends to dst the script that an output of type t paying
// addr has when t is one of the standard templates that name their address
// (P2PKH, P2SH, P2WPKH, P2WSH, P2TR): the template around the hash or
// program the address encodes, read without its network (the base58check
// version byte and checksum, the bech32 human-readable part and checksum
// are not checked). ok is false for every other type and for an address
// that does not decode to a program of the template's length.
//
// An output record leaves out a script this rebuilds byte for byte
// (appendOutputRecord checks that it does), so the script is kept once, in
// the address.
func standardScript(dst []byte, t heistgraph.ScriptType, addr string) (_ []byte, ok bool) {
	switch t {
	case heistgraph.ScriptPubKeyHash, heistgraph.ScriptScriptHash:
		b := base58.Decode(addr)
		if len(b) != 1+20+4 {
			return dst, false
		}
		if t == heistgraph.ScriptPubKeyHash {
			dst = append(dst, 0x76, 0xa9, 20) // OP_DUP OP_HASH160 push(20)
			return append(append(dst, b[1:21]...), 0x88, 0xac), true
		}
		dst = append(dst, 0xa9, 20) // OP_HASH160 push(20)
		return append(append(dst, b[1:21]...), 0x87), true
	case heistgraph.ScriptWitnessV0KeyHash, heistgraph.ScriptWitnessV0ScriptHash, heistgraph.ScriptWitnessV1Taproot:
		_, data, _, err := bech32.DecodeGeneric(addr)
		if err != nil || len(data) < 1 {
			return dst, false
		}
		prog, err := bech32.ConvertBits(data[1:], 5, 8, false)
		if err != nil {
			return dst, false
		}
		version, size := byte(0), 32
		switch t {
		case heistgraph.ScriptWitnessV0KeyHash:
			size = 20
		case heistgraph.ScriptWitnessV1Taproot:
			version = 1
		}
		if data[0] != version || len(prog) != size {
			return dst, false
		}
		op := byte(0) // OP_0
		if version > 0 {
			op = 0x50 + version // OP_1..OP_16
		}
		return append(append(dst, op, byte(size)), prog...), true
	}
	return dst, false
}
