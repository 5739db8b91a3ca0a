package main

import (
	"math"
	"testing"
)

func TestBTC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sat  int64
		want string
	}{
		{"zero", 0, "0 BTC"},
		{"one sat", 1, "0.00000001 BTC"},
		{"fee", 96817, "0.00096817 BTC"},
		{"whole coins", 50_0000_0000, "50 BTC"},
		{"issue example", 450_290_000_000, "4,502.9 BTC"},
		{"thousands exactly", 1000_0000_0000, "1,000 BTC"},
		{"below a thousand", 999_9999_9999, "999.99999999 BTC"},
		{"millions", 12_345_678_1234_5678, "12,345,678.12345678 BTC"},
		{"negative", -150_000_000, "-1.5 BTC"},
		{"largest", math.MaxInt64, "92,233,720,368.54775807 BTC"},
		{"smallest", math.MinInt64, "-92,233,720,368.54775808 BTC"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := btc(tc.sat); got != tc.want {
				t.Errorf("btc(%d) = %q, want %q", tc.sat, got, tc.want)
			}
		})
	}
}

func TestEsc(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Nimbus Exchange", "Nimbus Exchange"},
		{"accents and emoji stay", "Bürse 交易所 🐋", "Bürse 交易所 🐋"},
		{"escape sequence", "Evil\x1b[2J\x1b]0;pwned\x07Corp", `Evil\x1b[2J\x1b]0;pwned\aCorp`},
		{"newline and tab", "a\nb\tc\r", `a\nb\tc\r`},
		{"bidi override", "abc\u202Egpj.exe", `abc\u202egpj.exe`},
		{"invalid utf-8", "a\xffb", `a\xffb`},
		{"C1 control", "x\u009by", `x\u009by`},
		{"backslash kept", `a\b`, `a\b`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := esc(tc.in); got != tc.want {
				t.Errorf("esc(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
