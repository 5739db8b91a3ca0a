package pebble

import "github.com/heistgraph/heistgraph"

// standardScript appends to dst the script that an output of type t paying
// addr has when t is one of the standard templates that name their address
// (P2PKH, P2SH, P2WPKH, P2WSH, P2TR): the template around the hash or
// program the address encodes, read without its network (the base58check
// version byte and the bech32 human-readable part are not checked; the
// address must be one that packs, addrcodec.go). ok is false for every
// other type and for an address that does not decode to a program of the
// template's length.
//
// An output record leaves out a script this rebuilds byte for byte
// (appendOutputRecord checks that it does), so the script is kept once, in
// the address.
func standardScript(dst []byte, t heistgraph.ScriptType, addr string) (_ []byte, ok bool) {
	p, ok := packAddr(addr)
	if !ok {
		return dst, false
	}
	return packedScript(dst, t, &p)
}

// templateScript appends to dst the script of standard type t around hash
// (P2PKH, P2SH: 20 bytes) or a witness program of version witver. ok is
// false when the type is not one of those five or the version or length is
// not the template's.
func templateScript(dst []byte, t heistgraph.ScriptType, witver byte, prog []byte) (_ []byte, ok bool) {
	switch t {
	case heistgraph.ScriptPubKeyHash:
		if len(prog) != 20 {
			return dst, false
		}
		dst = append(dst, 0x76, 0xa9, 20) // OP_DUP OP_HASH160 push(20)
		return append(append(dst, prog...), 0x88, 0xac), true
	case heistgraph.ScriptScriptHash:
		if len(prog) != 20 {
			return dst, false
		}
		dst = append(dst, 0xa9, 20) // OP_HASH160 push(20)
		return append(append(dst, prog...), 0x87), true
	case heistgraph.ScriptWitnessV0KeyHash, heistgraph.ScriptWitnessV0ScriptHash, heistgraph.ScriptWitnessV1Taproot:
		version, size := byte(0), 32
		switch t {
		case heistgraph.ScriptWitnessV0KeyHash:
			size = 20
		case heistgraph.ScriptWitnessV1Taproot:
			version = 1
		}
		if witver != version || len(prog) != size {
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
