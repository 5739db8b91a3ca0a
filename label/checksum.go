package label

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
)

// This file holds the two checksummed address encodings Bitcoin uses,
// base58check (P2PKH, P2SH; also Tron) and bech32/bech32m (BIP 173, BIP 350),
// enough to validate an address without importing an adapter.

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var base58Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base58Alphabet); i++ {
		t[base58Alphabet[i]] = int8(i)
	}
	return t
}()

// isBase58 reports whether s uses only the base58 alphabet.
func isBase58(s string) bool {
	for i := 0; i < len(s); i++ {
		if base58Index[s[i]] < 0 {
			return false
		}
	}
	return s != ""
}

// base58Check decodes s and verifies its 4-byte double-SHA-256 checksum. It
// returns the payload (version byte first) without the checksum.
func base58Check(s string) ([]byte, error) {
	if s == "" || len(s) > 64 {
		return nil, errors.New("base58 string of bad length")
	}
	var buf [64]byte // big-endian; 64 base58 digits fit in 47 bytes
	n := 0           // bytes of buf in use, at its end
	for i := 0; i < len(s); i++ {
		d := base58Index[s[i]]
		if d < 0 {
			return nil, fmt.Errorf("character %q is not base58", s[i])
		}
		carry := int(d)
		for j := len(buf) - 1; j >= len(buf)-n; j-- {
			carry += int(buf[j]) * 58
			buf[j] = byte(carry)
			carry >>= 8
		}
		for ; carry > 0; carry >>= 8 {
			n++
			buf[len(buf)-n] = byte(carry)
		}
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	b := make([]byte, zeros+n)
	copy(b[zeros:], buf[len(buf)-n:])
	if len(b) < 5 {
		return nil, errors.New("base58 payload too short")
	}
	payload, sum := b[:len(b)-4], b[len(b)-4:]
	h := sha256.Sum256(payload)
	h = sha256.Sum256(h[:])
	if string(h[:4]) != string(sum) {
		return nil, errors.New("base58check checksum mismatch")
	}
	return payload, nil
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// isBech32Chars reports whether s, lower-cased, uses only the bech32 data
// alphabet.
func isBech32Chars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if strings.IndexByte(bech32Charset, c) < 0 {
			return false
		}
	}
	return s != ""
}

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if top>>i&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}

// segwitAddress checks a segwit address with the given human-readable part:
// bech32 for witness version 0 (20- or 32-byte program), bech32m for
// versions 1 to 16 (2 to 40 bytes).
func segwitAddress(hrp, addr string) error {
	if len(addr) > 90 {
		return errors.New("bech32 string longer than 90 characters")
	}
	if addr != strings.ToLower(addr) && addr != strings.ToUpper(addr) {
		return errors.New("bech32 string mixes upper and lower case")
	}
	s := strings.ToLower(addr)
	pos := strings.LastIndexByte(s, '1')
	if pos != len(hrp) || s[:pos] != hrp || len(s)-pos-1 < 7 {
		return fmt.Errorf("want prefix %s1 and a checksum", hrp)
	}
	data := make([]byte, 0, len(s)-pos-1)
	for i := pos + 1; i < len(s); i++ {
		d := strings.IndexByte(bech32Charset, s[i])
		if d < 0 {
			return fmt.Errorf("character %q is not bech32", s[i])
		}
		data = append(data, byte(d))
	}
	values := make([]byte, 0, 2*len(hrp)+1+len(data))
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]>>5)
	}
	values = append(values, 0)
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]&31)
	}
	values = append(values, data...)
	const bech32Const, bech32mConst = 1, 0x2bc830a3
	check := bech32Polymod(values)
	if check != bech32Const && check != bech32mConst {
		return errors.New("bech32 checksum mismatch")
	}
	data = data[:len(data)-6]
	if len(data) < 1 {
		return errors.New("no witness version")
	}
	ver := data[0]
	if ver > 16 {
		return fmt.Errorf("witness version %d", ver)
	}
	// Regroup the 5-bit program into bytes.
	var prog []byte
	acc, bits := 0, 0
	for _, v := range data[1:] {
		acc = (acc<<5 | int(v)) & 0xfff
		bits += 5
		if bits >= 8 {
			bits -= 8
			prog = append(prog, byte(acc>>bits))
		}
	}
	if bits >= 5 || acc&(1<<bits-1) != 0 {
		return errors.New("bad padding in witness program")
	}
	if len(prog) < 2 || len(prog) > 40 {
		return fmt.Errorf("witness program of %d bytes", len(prog))
	}
	if ver == 0 && len(prog) != 20 && len(prog) != 32 {
		return fmt.Errorf("version 0 witness program of %d bytes", len(prog))
	}
	if ver == 0 && check != bech32Const || ver != 0 && check != bech32mConst {
		return fmt.Errorf("witness version %d with the wrong checksum variant", ver)
	}
	return nil
}
