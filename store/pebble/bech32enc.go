package pebble

// A bech32 and bech32m encoder for rebuilding packed segwit addresses
// (packedAddr.String): the same strings as btcd's bech32.Encode and
// EncodeM, about ten times faster. btcd's checksum steps the generator bit
// by bit for each of the string's 5-bit symbols; here one table lookup
// does a symbol's step, and nothing is allocated but the string. Building
// strings is most of what reading addresses back costs (a clustering's
// catch-up reads every new address's).

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// bech32Gen is the BCH code's generator; bech32Step[b] is the xor of the
// generator's terms for the bits of b (the top 5 bits of the checksum).
var (
	bech32Gen  = [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	bech32Step = func() (t [32]uint32) {
		for b := range t {
			for i, g := range bech32Gen {
				if b>>i&1 == 1 {
					t[b] ^= g
				}
			}
		}
		return t
	}()
)

// bech32Const is the constant xored into the checksum: bech32 for witness
// version 0, bech32m (BIP 350) above.
const (
	bech32Const  = 1
	bech32mConst = 0x2bc830a3
)

func polymodStep(chk uint32, v byte) uint32 {
	return (chk&0x1ffffff)<<5 ^ uint32(v) ^ bech32Step[chk>>25]
}

// appendSegwitAddr appends the segwit address of witness version ver
// (<= 16) and program prog with the human-readable part hrp, which must
// be lower-case printable ASCII (ok false otherwise: the caller asks
// btcd), encoded as bech32 for version 0 and bech32m above.
func appendSegwitAddr(dst []byte, hrp string, ver byte, prog []byte) ([]byte, bool) {
	if ver > 16 || hrp == "" {
		return dst, false
	}
	chk := uint32(1)
	for i := 0; i < len(hrp); i++ {
		c := hrp[i]
		if c < 33 || c > 126 || 'A' <= c && c <= 'Z' {
			return dst, false
		}
		chk = polymodStep(chk, c>>5)
	}
	chk = polymodStep(chk, 0)
	for i := 0; i < len(hrp); i++ {
		chk = polymodStep(chk, hrp[i]&31)
	}
	dst = append(dst, hrp...)
	dst = append(dst, '1', bech32Charset[ver])
	chk = polymodStep(chk, ver)
	// The program in 5-bit groups, the last padded with zero bits.
	acc, bits := uint32(0), uint(0)
	for _, b := range prog {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			v := byte(acc >> bits & 31)
			dst = append(dst, bech32Charset[v])
			chk = polymodStep(chk, v)
		}
	}
	if bits > 0 {
		v := byte(acc << (5 - bits) & 31)
		dst = append(dst, bech32Charset[v])
		chk = polymodStep(chk, v)
	}
	for range 6 {
		chk = polymodStep(chk, 0)
	}
	if ver == 0 {
		chk ^= bech32Const
	} else {
		chk ^= bech32mConst
	}
	for i := range 6 {
		dst = append(dst, bech32Charset[chk>>(5*(5-i))&31])
	}
	return dst, true
}
