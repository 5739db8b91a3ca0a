package pebble

import (
	"bytes"
	"testing"

	"github.com/btcsuite/btcd/address/v2/bech32"
)

// TestAddrValue: addresses of the standard forms (BIP 173 and BIP 350
// examples, testnet and regtest addresses) are stored in binary and read
// back as the same string; anything whose string would not rebuild exactly
// is stored as the string.
func TestAddrValue(t *testing.T) {
	tests := []struct {
		addr string
		tag  byte
		size int // stored bytes
	}{
		{"", addrEmpty, 1},
		{"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", addrBase58, 22},
		{"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", addrBase58, 22},
		{"1111111111111111111114oLvT2", addrBase58, 22}, // version 0, hash of zeros: leading '1's
		{"2NE3FnBEiUq176rPesXGSqVyeQNnsj3ouN3", addrBase58, 22},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", addrBech32BC, 23},
		{"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", addrBech32TB, 35},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", addrBech32BC, 35},
		{"bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw", addrBech32RT, 23},
		{"ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9", addrBech32, 1 + 4 + 1 + 1 + 20}, // an hrp without a tag of its own,
		// BIP 350: a version 16 program of 2 bytes, and one of 40.
		{"bc1sw50qgdz25j", addrBech32BC, 5},
		{"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", addrBech32BC, 43},
		// Strings that would not rebuild exactly.
		{"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", addrString, 44},                     // upper case
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", addrString, 44},                     // BIP 350: bech32m on version 0
		{"bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", addrString, 64}, // bad checksum
		{"tb1pw508d6qejxtdg4y5r3zarqfsj6c3", addrString, 34},                               // BIP 350: bech32 on version 1
		{"bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", addrString, 39},                          // BIP 173: more than 4 padding bits
		{"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv", addrString, 64}, // BIP 173: padding bits set
		{"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", addrString, 36},                             // bad checksum
		{"0x52908400098527886E0F7030069857D2E4169EE7", addrString, 44},                     // an EVM address
		{"x", addrString, 3},
	}
	for _, tt := range tests {
		v := appendAddrValue([]byte("x"), tt.addr)[1:]
		if v[0] != tt.tag || len(v) != tt.size {
			t.Errorf("%q: stored as %x (tag %d, %d bytes), want tag %d, %d bytes", tt.addr, v, v[0], len(v), tt.tag, tt.size)
		}
		r := reader{b: v}
		if got := r.addrValue(); got != tt.addr || r.done("address") != nil {
			t.Errorf("%q: read back %q (%v)", tt.addr, got, r.done("address"))
		}
	}
}

// TestAddrValueCorrupt: a stored address that is cut short or has an
// unknown tag does not decode.
func TestAddrValueCorrupt(t *testing.T) {
	for _, v := range [][]byte{
		{},
		{addrBase58, 0, 1, 2},
		{addrBech32BC, 0, 20, 1},
		{addrBech32BC, 17, 2, 1, 2}, // witness version 17
		{addrString, 5, 'a'},
		{addrBech32RT + 1},
	} {
		r := reader{b: v}
		if s := r.addrValue(); r.done("address") == nil {
			t.Errorf("%x decodes to %q", v, s)
		}
	}
}

// FuzzAddrValue: every string is read back as itself, and no stored form
// panics the reader.
func FuzzAddrValue(f *testing.F) {
	f.Add("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")
	f.Add("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0")
	f.Add("bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw")
	f.Add("")
	f.Fuzz(func(t *testing.T, addr string) {
		v := appendAddrValue(nil, addr)
		r := reader{b: v}
		if got := r.addrValue(); got != addr || r.done("address") != nil {
			t.Fatalf("%q: stored as %x, read back %q (%v)", addr, v, got, r.done("address"))
		}
		r = reader{b: []byte(addr)}
		_ = r.addrValue()
	})
}

// packSegwitCases are addresses packSegwit packs (one of each tag, the
// first 4), and strings it must leave to btcd's decoders or pack as they
// do. bitcoin.DecodeSegwitAddress, which it calls, has its own near misses.
var packSegwitCases = []string{
	"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", // v1 (bech32m)
	"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", // v0, 32 bytes
	"bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw",                   // regtest
	"ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9",                    // an hrp without a tag
	"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",                     // upper case: a string
	"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",                             // base58check
	"",
}

// TestPackSegwitMatchesBtcd: packAddr (packSegwit first) packs as btcd's
// decoders do.
func TestPackSegwitMatchesBtcd(t *testing.T) {
	fast := 0
	for _, addr := range packSegwitCases {
		checkPackAddr(t, addr)
		if _, ok := packSegwit(nil, addr); ok {
			fast++
		}
	}
	if fast != 4 {
		t.Errorf("packSegwit packed %d of the cases, want the first 4", fast)
	}
	// Both checksums on each witness version, programs of every length
	// to past the limit, padding bits set or not, too many of them.
	for _, version := range []byte{0, 1, 16, 17} {
		for n := range 60 {
			prog := make([]byte, n)
			for i := range prog {
				prog[i] = byte(i*37 + n)
			}
			conv, err := bech32.ConvertBits(prog, 8, 5, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, pad := range []byte{0, 1, 2} {
				data := append([]byte{version}, conv...)
				if pad == 2 {
					data = append(data, 0) // 5 more bits: past a byte's padding
				} else {
					data[len(data)-1] |= pad
				}
				for _, enc := range []func(string, []byte) (string, error){bech32.Encode, bech32.EncodeM} {
					for _, hrp := range []string{"bc", "tb", "bcrt", "x"} {
						if addr, err := enc(hrp, data); err == nil {
							checkPackAddr(t, addr)
						}
					}
				}
			}
		}
	}
	// Every one-character change of the packed cases (most break the
	// checksum; some change the case, the separator or the version).
	for _, addr := range packSegwitCases[:4] {
		for i := range len(addr) {
			for _, c := range "qpzry9x8gf2tvdw0s3jn54khce6mua7l1QPZ-" {
				checkPackAddr(t, addr[:i]+string(c)+addr[i+1:])
			}
			checkPackAddr(t, addr[:i]+addr[i+1:])
		}
	}
}

// checkPackAddr checks packAddr, and packAddrInto with a buffer that
// held another address's program, against btcd's decoders.
func checkPackAddr(t *testing.T, addr string) {
	t.Helper()
	want, wantOK := packAddrBtcd(addr)
	var buf progBuf
	for i := range buf {
		buf[i] = 0xa5
	}
	for name, pack := range map[string]func(string) (packedAddr, bool){
		"packAddr":     packAddr,
		"packAddrInto": func(addr string) (packedAddr, bool) { return packAddrInto(&buf, addr) },
	} {
		got, gotOK := pack(addr)
		if gotOK != wantOK || got.Tag != want.Tag || got.Version != want.Version || got.HRP != want.HRP || !bytes.Equal(got.Prog, want.Prog) {
			t.Fatalf("%q: %s packed %+v %v, btcd %+v %v", addr, name, got, gotOK, want, wantOK)
		}
	}
}

// FuzzPackSegwit: packAddr packs every string as btcd's decoders do.
func FuzzPackSegwit(f *testing.F) {
	for _, addr := range packSegwitCases {
		f.Add(addr)
	}
	f.Fuzz(checkPackAddr)
}
