package bitcoin

import (
	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/txscript/v2"

	"github.com/heistgraph/heistgraph"
)

// Opcodes the byte patterns below use.
const (
	opData20        = txscript.OP_DATA_20
	opData32        = txscript.OP_DATA_32
	opData33        = txscript.OP_DATA_33
	opData65        = txscript.OP_DATA_65
	op0             = txscript.OP_0
	op1             = txscript.OP_1
	op16            = txscript.OP_16
	opPushData1     = txscript.OP_PUSHDATA1
	opPushData2     = txscript.OP_PUSHDATA2
	opPushData4     = txscript.OP_PUSHDATA4
	opReturn        = txscript.OP_RETURN
	opDup           = txscript.OP_DUP
	opHash160       = txscript.OP_HASH160
	opEqual         = txscript.OP_EQUAL
	opEqualVerify   = txscript.OP_EQUALVERIFY
	opCheckSig      = txscript.OP_CHECKSIG
	opCheckMultiSig = txscript.OP_CHECKMULTISIG
)

// ClassifyScript names the form of an output script and the address it pays,
// with the prefixes of net:
//
//   - P2PKH, P2SH, P2WPKH, P2WSH and P2TR: their address (base58check,
//     bech32, or bech32m for witness version 1 and up).
//   - P2PK ("pubkey"): the P2PKH address of the key exactly as the script
//     holds it (compressed or uncompressed), as Bitcoin Core derives it.
//   - Bare multisig ("multisig"): no address; keys holds the P2PKH address of
//     each strictly encoded key, in script order.
//   - OP_RETURN followed only by pushes ("nulldata"): no address.
//   - Pay-to-anchor ("anchor") and other witness programs of version 1 to 16
//     ("witness_unknown"): their bech32m address.
//   - Anything else, including version-0 witness programs of other lengths
//     and empty scripts: "nonstandard", no address.
//
// The classification is btcd's (txscript.ExtractPkScriptAddrs, whose names
// heistgraph.ScriptType uses) with two exceptions taken from Bitcoin Core's
// Solver: nulldata is any OP_RETURN followed by pushes, where btcd wants a
// single push of at most 80 bytes; and unknown witness versions are
// "witness_unknown" with an address, which btcd names but never returns.
// Keys are not checked to lie on the curve (neither does Core's Solver);
// btcd drops a multisig key that does not parse and gives no address for a
// P2PK script whose key does not parse.
//
// For a network ClassifyScript does not know, the type is still classified
// but addr and keys are empty. The returned strings are newly allocated;
// script is not retained. ClassifyScript is safe for concurrent use.
func ClassifyScript(script []byte, net heistgraph.Network) (typ heistgraph.ScriptType, addr string, keys []string) {
	p, _ := addrParamsFor(net)
	return classify(script, p)
}

// classify is ClassifyScript with the network's prefixes looked up; p may be
// nil for "no addresses".
func classify(s []byte, p *addrParams) (heistgraph.ScriptType, string, []string) {
	var buf [90]byte
	typ, addr, keys := classifyAppend(buf[:0], s, p)
	return typ, string(addr), keys
}

// classifyAppend classifies s and appends its address, if it has one, to
// dst; p may be nil for "no addresses".
func classifyAppend(dst, s []byte, p *addrParams) (heistgraph.ScriptType, []byte, []string) {
	var key AddrKey
	typ := classifyKey(s, &key, nil)
	if p == nil {
		return typ, dst, nil
	}
	dst = key.appendAddr(dst, p)
	if typ != heistgraph.ScriptMultisig {
		return typ, dst, nil
	}
	return typ, dst, multisigAddrs(s, p)
}

// multisigAddrs returns the P2PKH addresses of the keys of the bare
// multisig script s.
func multisigAddrs(s []byte, p *addrParams) []string {
	keys, _ := multisigKeys(s, true)
	addrs := make([]string, len(keys))
	var buf [40]byte
	for i, k := range keys {
		addrs[i] = string(appendBase58Check(buf[:0], p.pubKeyHash, address.Hash160(k)))
	}
	return addrs
}

// classifyKey classifies s and sets *k to the key of the address it pays
// (the zero key for none). It checks byte patterns for the common forms
// first and tokenizes only what is left. h hashes P2PK keys; nil allocates
// a hasher when one is needed.
func classifyKey(s []byte, k *AddrKey, h *hasher160) heistgraph.ScriptType {
	n := len(s)
	switch {
	case n == 25 && s[0] == opDup && s[1] == opHash160 && s[2] == opData20 && s[23] == opEqualVerify && s[24] == opCheckSig:
		k.setHash(AddrPubKeyHash, s[3:23])
		return heistgraph.ScriptPubKeyHash
	case n == 22 && s[0] == op0 && s[1] == opData20:
		k.setWitness(0, s[2:])
		return heistgraph.ScriptWitnessV0KeyHash
	case n == 23 && s[0] == opHash160 && s[1] == opData20 && s[22] == opEqual:
		k.setHash(AddrScriptHash, s[2:22])
		return heistgraph.ScriptScriptHash
	case n == 34 && s[0] == op0 && s[1] == opData32:
		k.setWitness(0, s[2:])
		return heistgraph.ScriptWitnessV0ScriptHash
	case n == 34 && s[0] == op1 && s[1] == opData32:
		k.setWitness(1, s[2:])
		return heistgraph.ScriptWitnessV1Taproot
	case n == 35 && s[0] == opData33 && s[34] == opCheckSig && (s[1] == 0x02 || s[1] == 0x03),
		n == 67 && s[0] == opData65 && s[66] == opCheckSig && (s[1] == 0x04 || s[1] == 0x06 || s[1] == 0x07):
		if h == nil {
			h = new(hasher160)
		}
		k.setHash(AddrPubKeyHash, h.sum(s[1:n-1]))
		return heistgraph.ScriptPubKey
	case n > 0 && s[0] == opReturn:
		if pushOnly(s[1:]) {
			*k = AddrKey{}
			return heistgraph.ScriptNullData
		}
		*k = AddrKey{}
		return heistgraph.ScriptNonStandard
	}
	if version, program, ok := witnessProgram(s); ok {
		switch {
		case version == 0:
			// Core and btcd: only 20- and 32-byte programs are standard.
			*k = AddrKey{}
			return heistgraph.ScriptNonStandard
		case version == 1 && len(program) == 2 && program[0] == 0x4e && program[1] == 0x73:
			k.setWitness(1, program)
			return heistgraph.ScriptAnchor
		default:
			k.setWitness(byte(version), program)
			return heistgraph.ScriptWitnessUnknown
		}
	}
	if n > 0 && s[n-1] == opCheckMultiSig {
		if _, ok := multisigKeys(s, false); ok {
			*k = AddrKey{}
			return heistgraph.ScriptMultisig
		}
	}
	*k = AddrKey{}
	return heistgraph.ScriptNonStandard
}

// witnessProgram reports whether s is a witness program as BIP141 and Core's
// CScript::IsWitnessProgram define it: 4 to 42 bytes, a version opcode
// (OP_0, OP_1..OP_16), then one direct push of the remaining 2 to 40 bytes.
func witnessProgram(s []byte) (version int, program []byte, ok bool) {
	n := len(s)
	if n < 4 || n > 42 {
		return 0, nil, false
	}
	if s[0] != op0 && (s[0] < op1 || s[0] > op16) {
		return 0, nil, false
	}
	if int(s[1])+2 != n {
		return 0, nil, false
	}
	if s[0] == op0 {
		return 0, s[2:], true
	}
	return int(s[0]-op1) + 1, s[2:], true
}

// pushOnly reports whether s parses as data pushes only (opcodes up to
// OP_16), as Core's CScript::IsPushOnly.
func pushOnly(s []byte) bool {
	for i := 0; i < len(s); {
		op := s[i]
		i++
		if op > op16 {
			return false
		}
		var n int
		switch {
		case op < opPushData1:
			n = int(op)
		case op == opPushData1:
			if i+1 > len(s) {
				return false
			}
			n = int(s[i])
			i++
		case op == opPushData2:
			if i+2 > len(s) {
				return false
			}
			n = int(s[i]) | int(s[i+1])<<8
			i += 2
		case op == opPushData4:
			if i+4 > len(s) {
				return false
			}
			n = int(uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24)
			if n < 0 {
				return false
			}
			i += 4
		}
		if n > len(s)-i {
			return false
		}
		i += n
	}
	return true
}

// multisigKeys recognises a bare multisig script as btcd does
// (extractMultisigScriptDetails): a small integer, pushes, a small integer
// equal to the number of pushes, OP_CHECKMULTISIG. It returns the pushes
// that are strictly encoded public keys (33 bytes starting 02 or 03, 65
// bytes starting 04), when collect is set; the others count towards the
// total but are skipped.
func multisigKeys(s []byte, collect bool) ([][]byte, bool) {
	const scriptVersion = 0
	tok := txscript.MakeScriptTokenizer(scriptVersion, s)
	if !tok.Next() || !txscript.IsSmallInt(tok.Opcode()) {
		return nil, false
	}
	var keys [][]byte
	pushes := 0
	for tok.Next() {
		if txscript.IsSmallInt(tok.Opcode()) {
			break
		}
		pushes++
		if d := tok.Data(); collect && len(d) == 33 && (d[0] == 0x02 || d[0] == 0x03) || len(d) == 65 && d[0] == 0x04 {
			keys = append(keys, d)
		}
	}
	if tok.Done() {
		return nil, false
	}
	if txscript.AsSmallInt(tok.Opcode()) != pushes {
		return nil, false
	}
	if len(s)-int(tok.ByteIndex()) != 1 {
		return nil, false
	}
	return keys, true
}
