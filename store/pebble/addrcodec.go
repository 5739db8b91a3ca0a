package pebble

import (
	"bytes"
	"strings"

	"github.com/btcsuite/btcd/address/v2/base58"
	"github.com/btcsuite/btcd/address/v2/bech32"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
)

// Addresses in the address table (addrtable.go; output records and the
// resolved inputs of tx records name them by id since schema 6) are
// stored in binary: a base58check address as its version byte
// and 20-byte hash, a segwit address as its human-readable part, witness
// version and program, anything else as the string. The form needs no
// network: the version byte and the human-readable part are kept, so the
// string is rebuilt exactly (checksums recomputed). An address is packed
// only when rebuilding it gives the same string back (an upper-case or
// mixed-case bech32 string, a bech32m checksum on a version 0 program, a
// base58 payload of another length stay strings), so every answer is the
// same byte for byte.
//
// The first byte is a tag:
//
//	addrEmpty                                   the empty address
//	addrString + len + bytes                    any other string
//	addrBase58 + version(1) + hash(20)          base58check, 25 bytes decoded
//	addrBech32 + len + hrp + witver(1) + len + program
//	addrBech32BC, addrBech32TB, addrBech32RT + witver(1) + len + program
//	                                            the same with the hrp "bc", "tb", "bcrt"
const (
	addrEmpty byte = iota
	addrString
	addrBase58
	addrBech32
	addrBech32BC
	addrBech32TB
	addrBech32RT
)

// knownHRPs are the human-readable parts with a tag of their own, from
// addrBech32BC on.
var knownHRPs = [...]string{"bc", "tb", "bcrt"}

// packedAddr is an address in its stored parts. Prog aliases the value it
// was read from.
type packedAddr struct {
	Tag     byte
	Version byte // base58check version byte or witness version
	HRP     string
	Prog    []byte // base58check hash or witness program
}

// appendAddrValue appends addr's stored form.
func appendAddrValue(dst []byte, addr string) []byte {
	p, ok := packAddr(addr)
	return appendAddrForm(dst, addr, &p, ok)
}

// appendAddrForm appends addr's stored form: p, its packed parts, when ok
// (packAddr's answers), the string otherwise.
func appendAddrForm(dst []byte, addr string, p *packedAddr, ok bool) []byte {
	if !ok {
		if addr == "" {
			return append(dst, addrEmpty)
		}
		return appendString(append(dst, addrString), addr)
	}
	return appendPackedAddr(dst, p)
}

func appendPackedAddr(dst []byte, p *packedAddr) []byte {
	dst = append(dst, p.Tag)
	switch p.Tag {
	case addrBase58:
		return append(append(dst, p.Version), p.Prog...)
	case addrBech32:
		dst = appendString(dst, p.HRP)
	}
	return appendBytes(append(dst, p.Version), p.Prog)
}

// packAddr splits addr into its parts when its string is rebuilt from
// them exactly.
func packAddr(addr string) (packedAddr, bool) {
	return packAddrInto(nil, addr)
}

// progBuf holds the hash or program of a packed address: the longest
// segwit program of a string of at most 90 characters.
type progBuf [65]byte

// packAddrInto is packAddr with the hash or program of a base58check or
// segwit address in buf (not nil: then p aliases buf until the next call),
// which spares the applier an allocation for each address it packs.
func packAddrInto(buf *progBuf, addr string) (packedAddr, bool) {
	if p, ok := packSegwit(buf, addr); ok {
		return p, true
	}
	var dst []byte
	if buf != nil {
		dst = buf[:0]
	} else {
		dst = make([]byte, 0, 20)
	}
	if hash, version, ok := bitcoin.DecodeBase58Check20(dst, addr); ok {
		return packedAddr{Tag: addrBase58, Version: version, Prog: hash}, true
	}
	return packBech32Btcd(addr)
}

// packAddrBtcd is packAddr by btcd's decoders (the tests' reference; packAddr
// asks them only for what the allocation-free decoders of package bitcoin
// do not pack).
func packAddrBtcd(addr string) (packedAddr, bool) {
	if addr == "" {
		return packedAddr{}, false
	}
	if hash, version, err := base58.CheckDecode(addr); err == nil && len(hash) == 20 {
		// Base58 is a bijection between strings and byte strings (leading
		// '1's are leading zero bytes), so the string rebuilds.
		return packedAddr{Tag: addrBase58, Version: version, Prog: hash}, true
	}
	return packBech32Btcd(addr)
}

// packBech32Btcd is packAddrBtcd's bech32 half.
func packBech32Btcd(addr string) (packedAddr, bool) {
	hrp, data, variant, err := bech32.DecodeGeneric(addr)
	if err != nil || len(data) < 1 || data[0] > 16 {
		return packedAddr{}, false
	}
	// The string rebuilds only when it is lower case, its checksum is the
	// variant of its witness version and its padding bits are zero (the
	// conversion fails on more than 4 of them or on one set). Then String
	// writes back the same hrp, the same 5-bit groups and so the same
	// checksum: no need to encode it again to find out.
	if (data[0] == 0) != (variant == bech32.Version0) || hasUpper(addr) {
		return packedAddr{}, false
	}
	prog, err := bech32.ConvertBits(data[1:], 5, 8, false)
	if err != nil {
		return packedAddr{}, false
	}
	p := packedAddr{Tag: addrBech32, Version: data[0], HRP: hrp, Prog: prog}
	for i, h := range knownHRPs {
		if h == hrp {
			p.Tag = addrBech32BC + byte(i)
		}
	}
	return p, true
}

// packSegwit packs a segwit address as packAddrBtcd does (its program in
// buf when buf is not nil, as packAddrInto), without its allocations (a quarter of the cost of giving ids to the new addresses
// of an ingest went to btcd's bech32 decoder): ok only for a lower-case
// bech32 string of at most 90 characters whose checksum is its witness
// version's variant, with zero padding, that is no base58check string of a
// 20-byte hash (which packAddr prefers); anything else is left to
// packAddrBtcd (ok false), which says whether it packs.
func packSegwit(buf *progBuf, addr string) (packedAddr, bool) {
	var own progBuf // at most (90-8)*5/8 bytes
	into := buf != nil
	if !into {
		buf = &own
	}
	prog, hrp, version, ok := bitcoin.DecodeSegwitAddress(buf[:0], addr)
	if !ok || maybeBase58(addr) && isBase58Hash(addr) {
		return packedAddr{}, false
	}
	if !into {
		prog = bytes.Clone(prog)
	}
	p := packedAddr{Tag: addrBech32, Version: version, HRP: hrp, Prog: prog}
	for i, h := range knownHRPs {
		if h == hrp {
			p.Tag = addrBech32BC + byte(i)
		}
	}
	return p, true
}

// maybeBase58 reports whether every character of addr could be base58's:
// a bech32 string with a '0' or an 'l' cannot be base58check, which spares
// most of them btcd's allocating decoder.
func maybeBase58(addr string) bool {
	return !strings.ContainsAny(addr, "0l")
}

// isBase58Hash reports whether addr is a base58check string of a 20-byte
// hash.
func isBase58Hash(addr string) bool {
	var buf [20]byte
	_, _, ok := bitcoin.DecodeBase58Check20(buf[:0], addr)
	return ok
}

// hasUpper reports whether s holds an upper-case ASCII letter.
func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// String rebuilds the address string of a packed address.
func (p *packedAddr) String() (string, bool) {
	switch p.Tag {
	case addrBase58:
		if len(p.Prog) == 20 {
			var buf [40]byte
			return string(bitcoin.AppendBase58Check(buf[:0], p.Version, p.Prog)), true
		}
		return base58.CheckEncode(p.Prog, p.Version), true
	case addrBech32, addrBech32BC, addrBech32TB, addrBech32RT:
		if p.Version > 16 {
			return "", false
		}
		if plainHRP(p.HRP) {
			var buf [128]byte
			return string(bitcoin.AppendSegwitAddress(buf[:0], p.HRP, p.Version, p.Prog)), true
		}
		return btcdSegwit(p)
	}
	return "", false
}

// btcdSegwit is String of a segwit address by btcd's encoder (for the hrps
// bitcoin.AppendSegwitAddress does not take).
func btcdSegwit(p *packedAddr) (string, bool) {
	conv, err := bech32.ConvertBits(p.Prog, 8, 5, true)
	if err != nil {
		return "", false
	}
	data := append([]byte{p.Version}, conv...)
	var s string
	if p.Version == 0 {
		s, err = bech32.Encode(p.HRP, data)
	} else {
		s, err = bech32.EncodeM(p.HRP, data)
	}
	return s, err == nil
}

// plainHRP reports whether hrp is non-empty lower-case printable ASCII,
// which bitcoin.AppendSegwitAddress encodes as btcd does (btcd lowers the
// case first).
func plainHRP(hrp string) bool {
	for i := 0; i < len(hrp); i++ {
		if c := hrp[i]; c < 33 || c > 126 || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return hrp != ""
}

// packed reads an address's stored form. For addrEmpty and addrString the
// string is in s and p.Tag says which; otherwise s is empty and the caller
// rebuilds it with p.String when it needs it.
func (r *reader) packed() (p packedAddr, s string) {
	p.Tag = r.byte()
	switch p.Tag {
	case addrEmpty:
	case addrString:
		s = r.str()
	case addrBase58:
		p.Version = r.byte()
		if len(r.b) < 20 {
			r.fail()
			break
		}
		p.Prog, r.b = r.b[:20:20], r.b[20:]
	case addrBech32, addrBech32BC, addrBech32TB, addrBech32RT:
		if p.Tag == addrBech32 {
			p.HRP = r.str()
		} else {
			p.HRP = knownHRPs[p.Tag-addrBech32BC]
		}
		p.Version = r.byte()
		p.Prog = r.raw()
	default:
		r.fail()
	}
	return p, s
}

// addrValue reads an address's stored form and returns its string.
func (r *reader) addrValue() string {
	p, s := r.packed()
	if r.bad || p.Tag == addrEmpty || p.Tag == addrString {
		return s
	}
	s, ok := p.String()
	if !ok {
		r.fail()
	}
	return s
}

// packedScript appends to dst the standard script (scripts.go) of an
// output of type t paying the packed address p: the template around its
// hash or program. ok is false for every other type and for an address
// whose form or program length is not the template's.
func packedScript(dst []byte, t heistgraph.ScriptType, p *packedAddr) (_ []byte, ok bool) {
	switch t {
	case heistgraph.ScriptPubKeyHash, heistgraph.ScriptScriptHash:
		if p.Tag != addrBase58 || len(p.Prog) != 20 {
			return dst, false
		}
	case heistgraph.ScriptWitnessV0KeyHash, heistgraph.ScriptWitnessV0ScriptHash, heistgraph.ScriptWitnessV1Taproot:
		if p.Tag < addrBech32 {
			return dst, false
		}
	default:
		return dst, false
	}
	return templateScript(dst, t, p.Version, p.Prog)
}
