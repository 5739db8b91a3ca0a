package pebble

import (
	"testing"

	"github.com/btcsuite/btcd/address/v2/base58"
)

// btcdString is the address btcd encodes for p (what packedAddr.String
// gave before it used package bitcoin's encoders).
func btcdString(tb testing.TB, p *packedAddr) string {
	tb.Helper()
	if p.Tag == addrBase58 {
		return base58.CheckEncode(p.Prog, p.Version)
	}
	s, ok := btcdSegwit(p)
	if !ok {
		tb.Fatalf("%+v: btcd cannot encode it", p)
	}
	return s
}

// TestPackedString: BIP 173 and BIP 350 addresses and base58check ones are
// rebuilt from their parts; an hrp the fast encoder does not take goes to
// btcd, with btcd's answer.
func TestPackedString(t *testing.T) {
	for _, want := range []string{
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
		"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
		"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
		"bc1sw50qgdz25j",
		"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
		"tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
		"bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw",
		"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
		"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
		"1111111111111111111114oLvT2",
	} {
		p, ok := packAddr(want)
		if !ok {
			t.Fatalf("%s: not packed", want)
		}
		if got, ok := p.String(); !ok || got != want {
			t.Errorf("%s: rebuilt %q (%v)", want, got, ok)
		}
	}
	for _, hrp := range []string{"BC", "b\x80", "b c"} {
		p := packedAddr{Tag: addrBech32, HRP: hrp, Prog: make([]byte, 20)}
		if plainHRP(hrp) {
			t.Errorf("hrp %q taken", hrp)
		}
		if got, ok := p.String(); !ok || got != btcdString(t, &p) {
			t.Errorf("hrp %q: %q (%v), btcd %q", hrp, got, ok, btcdString(t, &p))
		}
	}
}

// FuzzPackedString: packedAddr.String gives btcd's string for every
// base58check version and hash, and every hrp, witness version and
// program.
func FuzzPackedString(f *testing.F) {
	f.Add(false, "bc", byte(0), []byte("0123456789abcdefghij"))
	f.Add(false, "bcrt", byte(1), []byte("0123456789abcdefghij0123456789ab"))
	f.Add(false, "tb", byte(16), []byte{1, 2})
	f.Add(true, "", byte(5), []byte{0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17})
	f.Fuzz(func(t *testing.T, legacy bool, hrp string, ver byte, prog []byte) {
		p := packedAddr{Tag: addrBase58, Version: ver, Prog: prog}
		if !legacy {
			p = packedAddr{Tag: addrBech32, HRP: hrp, Version: ver % 17, Prog: prog}
		}
		got, ok := p.String()
		if !ok {
			t.Fatalf("%+v: no string", p)
		}
		if want := btcdString(t, &p); got != want {
			t.Fatalf("%+v: %q, btcd %q", p, got, want)
		}
	})
}

// BenchmarkPackedString compares String with btcd's encoders on a P2WPKH
// and a P2PKH address.
func BenchmarkPackedString(b *testing.B) {
	for _, addr := range []string{"bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"} {
		p, _ := packAddr(addr)
		b.Run(addr[:4]+"/here", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = p.String()
			}
		})
		b.Run(addr[:4]+"/btcd", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = btcdString(b, &p)
			}
		})
	}
}
