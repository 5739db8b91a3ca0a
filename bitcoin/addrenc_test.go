package bitcoin

import (
	"bytes"
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
