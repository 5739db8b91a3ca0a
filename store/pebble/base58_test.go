package pebble

import (
	"bytes"
	"testing"

	"github.com/btcsuite/btcd/address/v2/base58"
)

// base58Cases are base58check strings of 20-byte hashes under several
// versions, and near misses: other payload lengths, a changed character
// (checksum), characters outside the alphabet, leading '1's that make the
// decoded length wrong, and strings too long for 25 bytes.
var base58Cases = []string{
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

// checkBase58Hash compares base58Hash with btcd's CheckDecode on addr.
func checkBase58Hash(t *testing.T, addr string) {
	hash, version, err := base58.CheckDecode(addr)
	want := err == nil && len(hash) == 20
	gv, gh, ok := base58Hash(addr)
	if ok != want || ok && (gv != version || !bytes.Equal(gh, hash)) {
		t.Fatalf("%q: base58Hash = %d %x %v, btcd %d %x %v", addr, gv, gh, ok, version, hash, err)
	}
}

// TestBase58Hash: base58Hash answers as btcd's CheckDecode with a 20-byte
// payload, on the cases and on every one-character change of the valid
// ones.
func TestBase58Hash(t *testing.T) {
	t.Parallel()
	valid := 0
	for _, addr := range base58Cases {
		checkBase58Hash(t, addr)
		if _, _, ok := base58Hash(addr); ok {
			valid++
			for i := range len(addr) {
				for _, c := range []byte("1z2Ab") {
					checkBase58Hash(t, addr[:i]+string(c)+addr[i+1:])
				}
			}
		}
	}
	if valid != 5 {
		t.Fatalf("%d valid cases, want 5", valid)
	}
}

// FuzzBase58Hash: base58Hash and btcd's CheckDecode agree on any string.
func FuzzBase58Hash(f *testing.F) {
	for _, addr := range base58Cases {
		f.Add(addr)
	}
	f.Fuzz(checkBase58Hash)
}
