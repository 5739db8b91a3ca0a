package pebble

import (
	"bytes"
	"crypto/sha256"
)

// base58Alphabet is base58's digits, from 0.
const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// base58Digits maps the bytes of base58's alphabet to their values, the
// other bytes to 0xff.
var base58Digits = func() [256]byte {
	t := [256]byte(bytes.Repeat([]byte{0xff}, 256))
	for i := range len(base58Alphabet) {
		t[base58Alphabet[i]] = byte(i)
	}
	return t
}()

// base58Hash decodes addr as a base58check string of a version byte and a
// 20-byte hash: ok exactly when btcd's base58.CheckDecode(addr) succeeds
// with a 20-byte payload (FuzzBase58Hash), with the same version and hash,
// but without its big integers and allocations (it was a sixth of the cost
// of giving ids to an ingest's new addresses). Each leading '1' is a
// leading zero byte, the other characters are the digits of the value of
// the remaining bytes, which must make 25 in all (version, hash, and the
// first 4 bytes of the double SHA-256 of those 21).
func base58Hash(addr string) (version byte, hash []byte, ok bool) {
	zeros := 0
	for zeros < len(addr) && addr[zeros] == '1' {
		zeros++
	}
	if zeros > 25 {
		return 0, nil, false
	}
	// The value in 7 limbs of 32 bits, least significant first: 224 bits,
	// past the 200 of 25 bytes, so that an overflow means too long.
	var v [7]uint32
	for i := zeros; i < len(addr); i++ {
		d := base58Digits[addr[i]]
		if d == 0xff {
			return 0, nil, false
		}
		carry := uint64(d)
		for j := range v {
			x := uint64(v[j])*58 + carry
			v[j], carry = uint32(x), x>>32
		}
		if carry != 0 {
			return 0, nil, false
		}
	}
	var be [28]byte
	for j, limb := range v {
		k := 24 - 4*j
		be[k], be[k+1], be[k+2], be[k+3] = byte(limb>>24), byte(limb>>16), byte(limb>>8), byte(limb)
	}
	n := 0 // the value's length without leading zeros
	for n < len(be) && be[n] == 0 {
		n++
	}
	if zeros+len(be)-n != 25 {
		return 0, nil, false
	}
	dec := be[3:] // 25 bytes: the leading zeros, then the value
	sum := sha256.Sum256(dec[:21])
	sum = sha256.Sum256(sum[:])
	if [4]byte(sum[:4]) != [4]byte(dec[21:]) {
		return 0, nil, false
	}
	return dec[0], append([]byte(nil), dec[1:21]...), true
}
