package heistgraph

import (
	"errors"
	"testing"
)

func TestParseHash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"block 170", "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee", nil},
		{"upper case", "00000000D1145790A8694403D4063F323D499E655C83426834D4CE2F8DD4A2EE", nil},
		{"short", "00", ErrInvalid},
		{"not hex", "zz000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee", ErrInvalid},
		{"empty", "", ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := ParseHash(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			// Internal order is reversed: the display's leading zeros are the last bytes.
			if h[31] != 0 || h[0] != 0xee {
				t.Fatalf("byte order wrong: %x", h)
			}
			if got := h.String(); got != "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee" {
				t.Fatalf("round trip %s", got)
			}
		})
	}
}

func TestParseOutpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		vout uint32
		ok   bool
	}{
		{"ok", "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16:1", 1, true},
		{"max vout", "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16:4294967295", 4294967295, true},
		{"no colon", "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16", 0, false},
		{"vout overflow", "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16:4294967296", 0, false},
		{"negative", "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16:-1", 0, false},
		{"bad txid", "abc:0", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			op, err := ParseOutpoint(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err %v does not wrap ErrInvalid", err)
				}
				return
			}
			if op.Vout != tc.vout || op.String() != tc.in {
				t.Fatalf("got %v", op)
			}
		})
	}
}

func TestParseChain(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"btc", "BTC", "btc-regtest", "eth", "arbitrum"} {
		if _, err := ParseChain(ok); err != nil {
			t.Errorf("ParseChain(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "btc-moon", "et h", "eth/1"} {
		if _, err := ParseChain(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseChain(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}
