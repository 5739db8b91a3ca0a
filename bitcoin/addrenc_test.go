package bitcoin

import (
	"bytes"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2/base58"
	"github.com/btcsuite/btcd/address/v2/bech32"
)

// Our encoders against btcd's, byte for byte: base58 of every payload up to
// 28 bytes (leading zero bytes included), base58check of every version
// byte, and segwit addresses of every version and program length.

func TestAppendBase58(t *testing.T) {
	t.Parallel()
	cases := [][]byte{
		{}, {0}, {0, 0, 0}, {1}, {57}, {58}, {0, 58}, {0xff},
		bytes.Repeat([]byte{0xff}, 28), bytes.Repeat([]byte{0}, 28),
		append(bytes.Repeat([]byte{0}, 27), 1),
	}
	for n := 1; n <= 28; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		cases = append(cases, b)
	}
	for _, b := range cases {
		if got, want := string(appendBase58([]byte("x"), b)), "x"+base58.Encode(b); got != want {
			t.Errorf("%x: %q, btcd %q", b, got, want)
		}
	}
}

func TestAppendBase58Check(t *testing.T) {
	t.Parallel()
	hashes := [][]byte{make([]byte, 20), bytes.Repeat([]byte{0xff}, 20)}
	for _, h := range hashes {
		for v := range 256 {
			if got, want := string(appendBase58Check(nil, byte(v), h)), base58.CheckEncode(h, byte(v)); got != want {
				t.Fatalf("version %d hash %x: %q, btcd %q", v, h, got, want)
			}
		}
	}
}

func TestAppendSegwit(t *testing.T) {
	t.Parallel()
	for _, hrp := range []string{"bc", "tb", "bcrt"} {
		for version := range byte(17) {
			for n := 2; n <= 40; n++ {
				program := bytes.Repeat([]byte{byte(n*7 + int(version))}, n)
				checkSegwit(t, hrp, version, program)
			}
		}
	}
}

func checkSegwit(t *testing.T, hrp string, version byte, program []byte) {
	t.Helper()
	data, err := bech32.ConvertBits(program, 8, 5, true)
	if err != nil {
		t.Fatal(err)
	}
	data = append([]byte{version}, data...)
	var want string
	if version == 0 {
		want, err = bech32.Encode(hrp, data)
	} else {
		want, err = bech32.EncodeM(hrp, data)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := string(appendSegwit(nil, hrp, version, program)); got != want {
		t.Errorf("%s v%d %x: %q, btcd %q", hrp, version, program, got, want)
	}
}

func FuzzAddressEncoding(f *testing.F) {
	f.Add(byte(0), []byte{0, 0, 1, 2})
	f.Add(byte(5), bytes.Repeat([]byte{0xee}, 32))
	f.Fuzz(func(t *testing.T, version byte, b []byte) {
		if len(b) <= 28 {
			if got, want := string(appendBase58(nil, b)), base58.Encode(b); got != want {
				t.Fatalf("base58 %x: %q, btcd %q", b, got, want)
			}
		}
		if len(b) >= 20 {
			if got, want := string(appendBase58Check(nil, version, b[:20])), base58.CheckEncode(b[:20], version); got != want {
				t.Fatalf("base58check %d %x: %q, btcd %q", version, b[:20], got, want)
			}
		}
		if len(b) >= 2 && len(b) <= 40 {
			checkSegwit(t, "bc", version%17, b)
		}
	})
}

// segwitDecodeCases are strings DecodeSegwitAddress accepts (the first 6)
// and near misses it must refuse.
var segwitDecodeCases = []string{
	"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",                                 // v0, 20 bytes
	"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",             // v0, 32 bytes
	"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",             // v1 (bech32m)
	"bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw",                               // regtest
	"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", // v1, 40 bytes
	"ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9",                                // another hrp
	"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",                                 // upper case
	"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",                                 // bad checksum
	"bc1zw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", // v2 with a bech32 checksum
	"bc1gmk9yu", // no witness version
	"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
	"a1qqqqqqq",
	"",
}

// TestDecodeSegwitAddress: every address AppendSegwitAddress writes decodes
// back to its parts (both variants, every version, programs of every
// length, several hrps), the cases accept as they are marked, and every
// one-character change of an accepted case is judged as btcd judges it.
func TestDecodeSegwitAddress(t *testing.T) {
	t.Parallel()
	for _, hrp := range []string{"bc", "tb", "bcrt", "x"} {
		for version := range byte(17) {
			for n := range 41 {
				prog := make([]byte, n)
				for i := range prog {
					prog[i] = byte(i*37 + n + int(version))
				}
				addr := string(AppendSegwitAddress(nil, hrp, version, prog))
				got, gotHRP, gotVersion, ok := DecodeSegwitAddress([]byte("x"), addr)
				if len(addr) <= 90 && (!ok || gotHRP != hrp || gotVersion != version || string(got) != "x"+string(prog)) {
					t.Fatalf("%q: %q %d %x %v, want %q %d %x", addr, gotHRP, gotVersion, got, ok, hrp, version, prog)
				}
				checkDecodeSegwit(t, addr)
			}
		}
	}
	// Padding bits set, and a 5-bit group of padding too many, with either
	// checksum on each version.
	for _, version := range []byte{0, 1, 16, 17} {
		for n := range 45 {
			conv, err := bech32.ConvertBits(bytes.Repeat([]byte{byte(n)}, n), 8, 5, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, pad := range []byte{0, 1, 2} {
				data := append([]byte{version}, conv...)
				if pad == 2 {
					data = append(data, 0)
				} else {
					data[len(data)-1] |= pad
				}
				for _, enc := range []func(string, []byte) (string, error){bech32.Encode, bech32.EncodeM} {
					if addr, err := enc("bc", data); err == nil {
						checkDecodeSegwit(t, addr)
					}
				}
			}
		}
	}
	for i, addr := range segwitDecodeCases {
		if _, _, _, ok := DecodeSegwitAddress(nil, addr); ok != (i < 6) {
			t.Errorf("%q: ok %v", addr, ok)
		}
		checkDecodeSegwit(t, addr)
	}
	for _, addr := range segwitDecodeCases[:6] {
		for i := range len(addr) {
			for _, c := range bech32Alphabet + "1QPZ-" {
				checkDecodeSegwit(t, addr[:i]+string(c)+addr[i+1:])
			}
			checkDecodeSegwit(t, addr[:i]+addr[i+1:])
		}
	}
}

// checkDecodeSegwit holds DecodeSegwitAddress to btcd's decoders and to
// AppendSegwitAddress: it accepts addr exactly when btcd decodes it as a
// lower-case string, a witness version of at most 16 with its variant and
// a program with zero padding, gives btcd's parts, and AppendSegwitAddress
// rebuilds addr from them.
func checkDecodeSegwit(t *testing.T, addr string) {
	t.Helper()
	got, hrp, version, ok := DecodeSegwitAddress(nil, addr)
	wantOK := false
	var wantProg []byte
	if h, data, variant, err := bech32.DecodeGeneric(addr); err == nil && len(data) > 0 && data[0] <= 16 &&
		(data[0] == 0) == (variant == bech32.Version0) && strings.ToLower(addr) == addr {
		if p, err := bech32.ConvertBits(data[1:], 5, 8, false); err == nil {
			wantOK, wantProg = true, p
			if ok && (h != hrp || data[0] != version) {
				t.Fatalf("%q: %q v%d, btcd %q v%d", addr, hrp, version, h, data[0])
			}
		}
	}
	if ok != wantOK || !bytes.Equal(got, wantProg) {
		t.Fatalf("%q: %x %v, btcd %x %v", addr, got, ok, wantProg, wantOK)
	}
	if ok {
		if back := string(AppendSegwitAddress(nil, hrp, version, got)); back != addr {
			t.Fatalf("%q: rebuilt as %q", addr, back)
		}
	}
}

// FuzzDecodeSegwitAddress: every string is judged as btcd judges it, and
// what is accepted is rebuilt exactly.
func FuzzDecodeSegwitAddress(f *testing.F) {
	for _, addr := range segwitDecodeCases {
		f.Add(addr)
	}
	f.Fuzz(checkDecodeSegwit)
}

// base58CheckCases are base58check strings of 20-byte hashes under several
// versions, and near misses: other payload lengths, a changed character
// (checksum), characters outside the alphabet, leading '1's that make the
// decoded length wrong, and strings too long for 25 bytes.
var base58CheckCases = []string{
	"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",                           // P2PKH, version 0
	"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",                           // P2SH, version 5
	"mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",                           // testnet P2PKH, version 111
	"2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc",                          // testnet P2SH, version 196
	"1111111111111111111114oLvT2",                                  // the zero hash, version 0
	"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",                           // checksum broken
	"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN",                            // a character short
	"11BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",                          // a leading '1' more: 26 bytes
	"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN0",                           // '0' is not base58
	"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVNé",                           // nor is a non-ASCII character
	"5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ",          // a WIF key: 37 bytes
	"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", // far past 25 bytes
	"1111111111111111111111111",                                    // 25 zero bytes (bad checksum)
	"11111111111111111111111111",                                   // 26
	"",
	"1",
	"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", // segwit
}

// checkDecodeBase58Check20 compares DecodeBase58Check20 with btcd's CheckDecode on addr.
func checkDecodeBase58Check20(t *testing.T, addr string) {
	hash, version, err := base58.CheckDecode(addr)
	want := err == nil && len(hash) == 20
	gh, gv, ok := DecodeBase58Check20([]byte("x"), addr)
	if ok != want || ok && (gv != version || string(gh) != "x"+string(hash)) || !ok && string(gh) != "x" {
		t.Fatalf("%q: DecodeBase58Check20 = %d %x %v, btcd %d %x %v", addr, gv, gh, ok, version, hash, err)
	}
	if ok {
		if back := string(AppendBase58Check(nil, gv, gh[1:])); back != addr {
			t.Fatalf("%q: rebuilt as %q", addr, back)
		}
	}
}

// TestDecodeBase58Check20: DecodeBase58Check20 answers as btcd's CheckDecode with a 20-byte
// payload, on the cases and on every one-character change of the valid
// ones.
func TestDecodeBase58Check20(t *testing.T) {
	t.Parallel()
	valid := 0
	for _, addr := range base58CheckCases {
		checkDecodeBase58Check20(t, addr)
		if _, _, ok := DecodeBase58Check20(nil, addr); ok {
			valid++
			for i := range len(addr) {
				for _, c := range []byte("1z2Ab") {
					checkDecodeBase58Check20(t, addr[:i]+string(c)+addr[i+1:])
				}
			}
		}
	}
	if valid != 5 {
		t.Fatalf("%d valid cases, want 5", valid)
	}
}

// FuzzDecodeBase58Check20: DecodeBase58Check20 and btcd's CheckDecode agree on any string.
func FuzzDecodeBase58Check20(f *testing.F) {
	for _, addr := range base58CheckCases {
		f.Add(addr)
	}
	f.Fuzz(checkDecodeBase58Check20)
}

// TestDecodeAllocs: the decoders allocate nothing when their buffer has
// room.
func TestDecodeAllocs(t *testing.T) {
	buf := make([]byte, 0, 65)
	for name, decode := range map[string]func() bool{
		"segwit": func() bool { _, _, _, ok := DecodeSegwitAddress(buf, segwitDecodeCases[2]); return ok },
		"base58": func() bool { _, _, ok := DecodeBase58Check20(buf, base58CheckCases[0]); return ok },
	} {
		allocs := testing.AllocsPerRun(100, func() {
			if !decode() {
				t.Fatalf("%s: not decoded", name)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations a decode, want 0", name, allocs)
		}
	}
}
