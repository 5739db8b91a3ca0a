package pebble

import (
	"testing"

	"github.com/btcsuite/btcd/address/v2/bech32"
)

// btcdSegwit is the address btcd encodes for hrp, ver and prog.
func btcdSegwit(tb testing.TB, hrp string, ver byte, prog []byte) string {
	tb.Helper()
	conv, err := bech32.ConvertBits(prog, 8, 5, true)
	if err != nil {
		tb.Fatal(err)
	}
	data := append([]byte{ver}, conv...)
	var s string
	if ver == 0 {
		s, err = bech32.Encode(hrp, data)
	} else {
		s, err = bech32.EncodeM(hrp, data)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestSegwitAddr: BIP 173 and BIP 350 addresses are rebuilt from their
// parts, and an hrp the encoder does not take is left to btcd.
func TestSegwitAddr(t *testing.T) {
	for _, want := range []string{
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
		"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
		"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
		"bc1sw50qgdz25j",
		"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
		"tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
		"bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw",
	} {
		p, ok := packAddr(want)
		if !ok {
			t.Fatalf("%s: not packed", want)
		}
		got, ok := appendSegwitAddr(nil, p.HRP, p.Version, p.Prog)
		if !ok || string(got) != want {
			t.Errorf("%s: rebuilt %q (%v)", want, got, ok)
		}
	}
	for _, hrp := range []string{"", "BC", "b\x80", "b c"} {
		if got, ok := appendSegwitAddr(nil, hrp, 0, make([]byte, 20)); ok {
			t.Errorf("hrp %q: encoded %q", hrp, got)
		}
	}
	if got, ok := appendSegwitAddr(nil, "bc", 17, make([]byte, 20)); ok {
		t.Errorf("witness version 17: encoded %q", got)
	}
}

// FuzzSegwitAddr: the encoder gives btcd's string for every part it
// takes.
func FuzzSegwitAddr(f *testing.F) {
	f.Add("bc", byte(0), []byte("0123456789abcdefghij"))
	f.Add("bcrt", byte(1), []byte("0123456789abcdefghij0123456789ab"))
	f.Add("tb", byte(16), []byte{1, 2})
	f.Fuzz(func(t *testing.T, hrp string, ver byte, prog []byte) {
		ver %= 17
		got, ok := appendSegwitAddr(nil, hrp, ver, prog)
		if !ok {
			return
		}
		if want := btcdSegwit(t, hrp, ver, prog); string(got) != want {
			t.Fatalf("%q %d %x: %q, btcd %q", hrp, ver, prog, got, want)
		}
	})
}

// BenchmarkSegwitAddr compares the encoder with btcd's on a P2WPKH
// address.
func BenchmarkSegwitAddr(b *testing.B) {
	p, _ := packAddr("bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw")
	b.Run("here", func(b *testing.B) {
		b.ReportAllocs()
		var buf [128]byte
		for b.Loop() {
			_, _ = appendSegwitAddr(buf[:0], p.HRP, p.Version, p.Prog)
		}
	})
	b.Run("btcd", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = btcdSegwit(b, p.HRP, p.Version, p.Prog)
		}
	})
}
