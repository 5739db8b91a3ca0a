package bitcoin

import (
	"encoding/binary"
	"strings"

	"github.com/heistgraph/heistgraph/internal/sha256d"
)

// Address encoders that append to a buffer without allocating. They produce
// exactly what btcd's base58.CheckEncode and bech32.Encode/EncodeM produce
// for the payloads addresses carry (a test holds them to it); btcd's
// base58 works on math/big and its bech32 on strings, which made address
// encoding about 40% of decoding a block.

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// base58Pow5 is 58^5, the largest power of 58 below 2^32: dividing by it
// yields five base58 digits per pass over 32-bit limbs.
const base58Pow5 = 58 * 58 * 58 * 58 * 58

// appendBase58Check appends the base58check encoding of version followed by
// the 20-byte hash: a P2PKH or P2SH address.
func appendBase58Check(dst []byte, version byte, hash []byte) []byte {
	var payload [25]byte
	payload[0] = version
	copy(payload[1:21], hash)
	check := sha256d.Sum(payload[:21])
	copy(payload[21:], check[:4])
	return appendBase58(dst, payload[:])
}

// appendBase58 appends the base58 encoding of b, which holds at most 28
// bytes (every base58check address payload does): one '1' per leading zero
// byte, then the number's digits, most significant first.
func appendBase58(dst []byte, b []byte) []byte {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		dst = append(dst, '1')
		zeros++
	}
	// The number as big-endian 32-bit limbs, padded at the front.
	var limbs [7]uint32
	var padded [28]byte
	copy(padded[len(padded)-len(b):], b)
	for i := range limbs {
		limbs[i] = binary.BigEndian.Uint32(padded[4*i:])
	}
	// Digits, least significant first: divide by 58^5 until nothing is left.
	var digits [40]byte
	n := 0
	first := 0 // limbs before first are zero
	for {
		for first < len(limbs) && limbs[first] == 0 {
			first++
		}
		if first == len(limbs) {
			break
		}
		var rem uint64
		for i := first; i < len(limbs); i++ {
			cur := rem<<32 | uint64(limbs[i])
			limbs[i] = uint32(cur / base58Pow5)
			rem = cur % base58Pow5
		}
		for range 5 {
			digits[n] = byte(rem % 58)
			rem /= 58
			n++
		}
	}
	// The last pass may leave leading zero digits: drop them.
	for n > 0 && digits[n-1] == 0 {
		n--
	}
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, base58Alphabet[digits[i]])
	}
	return dst
}

const bech32Alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// bech32Step[top] is the xor of the BIP173 generator's terms for the bits
// of top, the checksum state's 5 high bits: one lookup a symbol instead of
// a test a bit.
var bech32Step = func() (t [32]uint32) {
	for top := range t {
		for i, g := range [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3} {
			if top>>i&1 == 1 {
				t[top] ^= g
			}
		}
	}
	return t
}()

// bech32Polymod folds the 5-bit values vs into the BIP173 checksum state.
func bech32Polymod(chk uint32, vs ...byte) uint32 {
	for _, v := range vs {
		chk = (chk&0x1ffffff)<<5 ^ uint32(v) ^ bech32Step[chk>>25]
	}
	return chk
}

// AppendSegwitAddress appends the segwit address of witness version
// version (0 to 16) and program with the lower-case human-readable part
// hrp: what btcd's bech32.Encode (version 0) or EncodeM (above) gives for
// it, without allocating.
func AppendSegwitAddress(dst []byte, hrp string, version byte, program []byte) []byte {
	return appendSegwit(dst, hrp, version, program)
}

// AppendBase58Check appends the base58check address of version and the
// 20-byte hash: what btcd's base58.CheckEncode gives for it, without
// allocating.
func AppendBase58Check(dst []byte, version byte, hash []byte) []byte {
	return appendBase58Check(dst, version, hash)
}

// appendSegwit appends the segwit address of a witness program (2 to 40
// bytes): bech32 for version 0, bech32m for versions 1 to 16 (BIP173,
// BIP350). hrp must be lower case.
func appendSegwit(dst []byte, hrp string, version byte, program []byte) []byte {
	chk := uint32(1)
	for i := 0; i < len(hrp); i++ {
		chk = bech32Polymod(chk, hrp[i]>>5)
	}
	chk = bech32Polymod(chk, 0)
	for i := 0; i < len(hrp); i++ {
		chk = bech32Polymod(chk, hrp[i]&31)
	}
	dst = append(dst, hrp...)
	dst = append(dst, '1', bech32Alphabet[version])
	chk = bech32Polymod(chk, version)
	// 8-bit to 5-bit groups, padded with zero bits.
	var acc uint32
	var bits uint8
	for _, b := range program {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			v := byte(acc>>bits) & 31
			chk = bech32Polymod(chk, v)
			dst = append(dst, bech32Alphabet[v])
		}
	}
	if bits > 0 {
		v := byte(acc<<(5-bits)) & 31
		chk = bech32Polymod(chk, v)
		dst = append(dst, bech32Alphabet[v])
	}
	chk = bech32Polymod(chk, 0, 0, 0, 0, 0, 0)
	if version == 0 {
		chk ^= 1
	} else {
		chk ^= 0x2bc830a3 // BIP350's bech32m constant
	}
	for i := range 6 {
		dst = append(dst, bech32Alphabet[chk>>(5*(5-i))&31])
	}
	return dst
}

// bech32Values maps the characters of bech32's alphabet to their values,
// every other byte (upper case included) to 0xff.
var bech32Values = digitValues(bech32Alphabet)

// digitValues maps the characters of alphabet to their positions, every
// other byte to 0xff.
func digitValues(alphabet string) (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}

// DecodeSegwitAddress is AppendSegwitAddress's inverse, without
// allocating: for a lower-case bech32 string of at most 90 characters whose
// checksum is its witness version's variant (bech32 for version 0, bech32m
// for 1 to 16) and whose padding bits are zero, it appends the witness
// program to dst and returns its human-readable part (a substring of addr)
// and witness version; ok is false for anything else. It is exactly the
// set of strings that AppendSegwitAddress rebuilds byte for byte, which is
// what btcd's bech32.DecodeGeneric and ConvertBits accept of lower-case
// strings with a matching variant. The program's length is not checked (BIP
// 173 asks 2 to 40 bytes, 20 or 32 for version 0).
func DecodeSegwitAddress(dst []byte, addr string) (_ []byte, hrp string, version byte, ok bool) {
	one := strings.LastIndexByte(addr, '1')
	if len(addr) < 8 || len(addr) > 90 || one < 1 || one+8 > len(addr) {
		return dst, "", 0, false // an hrp, a witness version and the checksum
	}
	hrp, data := addr[:one], addr[one+1:]
	chk := uint32(1)
	for i := 0; i < len(hrp); i++ {
		c := hrp[i]
		if c < 33 || c > 126 || 'A' <= c && c <= 'Z' {
			return dst, "", 0, false
		}
		chk = bech32Polymod(chk, c>>5)
	}
	chk = bech32Polymod(chk, 0)
	for i := 0; i < len(hrp); i++ {
		chk = bech32Polymod(chk, hrp[i]&31)
	}
	n0 := len(dst)
	acc, bits := uint32(0), uint(0)
	for i := 0; i < len(data); i++ {
		v := bech32Values[data[i]]
		if v == 0xff {
			return dst[:n0], "", 0, false
		}
		chk = bech32Polymod(chk, v)
		if i == 0 || i >= len(data)-6 {
			continue // the witness version, the checksum
		}
		acc, bits = acc<<5|uint32(v), bits+5
		if bits >= 8 {
			bits -= 8
			dst = append(dst, byte(acc>>bits))
		}
	}
	version = bech32Values[data[0]]
	switch {
	case version > 16, bits > 4, acc&(1<<bits-1) != 0,
		version == 0 && chk != 1, version != 0 && chk != 0x2bc830a3:
		return dst[:n0], "", 0, false
	}
	return dst, hrp, version, true
}

// base58Digits maps the characters of base58's alphabet to their values,
// every other byte to 0xff.
var base58Digits = digitValues(base58Alphabet)

// DecodeBase58Check20 is AppendBase58Check's inverse, without big integers
// or allocating: for a base58check string of a version byte and a 20-byte
// hash it appends the hash to dst and returns the version; ok is false for
// anything else. It accepts exactly what btcd's base58.CheckDecode decodes
// to a 20-byte payload, with the same version and hash. Each leading '1' is
// a leading zero byte; the other characters are the digits of the value of
// the remaining bytes, which make 25 in all (version, hash, and the first
// 4 bytes of the double SHA-256 of those 21).
func DecodeBase58Check20(dst []byte, addr string) (_ []byte, version byte, ok bool) {
	zeros := 0
	for zeros < len(addr) && addr[zeros] == '1' {
		zeros++
	}
	if zeros > 25 {
		return dst, 0, false
	}
	// The value in 7 limbs of 32 bits, least significant first: 224 bits,
	// past the 200 of 25 bytes, so that an overflow means too long.
	var v [7]uint32
	for i := zeros; i < len(addr); i++ {
		d := base58Digits[addr[i]]
		if d == 0xff {
			return dst, 0, false
		}
		carry := uint64(d)
		for j := range v {
			x := uint64(v[j])*58 + carry
			v[j], carry = uint32(x), x>>32
		}
		if carry != 0 {
			return dst, 0, false
		}
	}
	var be [28]byte
	for j, limb := range v {
		binary.BigEndian.PutUint32(be[24-4*j:], limb)
	}
	n := 0 // the value's length without leading zeros
	for n < len(be) && be[n] == 0 {
		n++
	}
	if zeros+len(be)-n != 25 {
		return dst, 0, false
	}
	dec := be[3:] // 25 bytes: the leading zeros, then the value
	if sum := sha256d.Sum(dec[:21]); [4]byte(sum[:4]) != [4]byte(dec[21:]) {
		return dst, 0, false
	}
	return append(dst, dec[1:21]...), dec[0], true
}
