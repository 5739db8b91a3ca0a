package evm

import (
	"math/big"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DecodeSymbol reads the answer to symbol(): an ABI-encoded string (offset,
// length, bytes) or, for old tokens such as MKR and EOS, a bytes32. NUL
// bytes are dropped, the result trimmed and cut to valid UTF-8 without
// control characters. It returns false for anything else or an empty
// symbol.
func DecodeSymbol(b []byte) (string, bool) {
	var raw []byte
	switch {
	case len(b) >= 64:
		off := new(big.Int).SetBytes(b[:32])
		if !off.IsInt64() || off.Int64() > int64(len(b)-32) {
			return "", false
		}
		o := int(off.Int64())
		n := new(big.Int).SetBytes(b[o : o+32])
		if !n.IsInt64() || n.Int64() > int64(len(b)-o-32) {
			return "", false
		}
		raw = b[o+32 : o+32+int(n.Int64())]
	case len(b) == 32:
		raw = b
	default:
		return "", false
	}
	s := strings.Map(func(r rune) rune {
		if r == 0 || r == utf8.RuneError || unicode.IsControl(r) {
			return -1
		}
		return r
	}, string(raw))
	s = strings.TrimSpace(s)
	return s, s != ""
}

// DecodeDecimals reads the answer to decimals(): a 32-byte word holding a
// value below 256. It returns false for anything else.
func DecodeDecimals(b []byte) (uint8, bool) {
	if len(b) != 32 {
		return 0, false
	}
	for _, c := range b[:31] {
		if c != 0 {
			return 0, false
		}
	}
	return b[31], true
}
