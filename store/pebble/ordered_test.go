package pebble

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"
	"testing"
)

// TestOrdered pins appendOrdered's bytes and decodeOrdered's refusals.
func TestOrdered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    uint64
		enc  []byte
	}{
		{"zero", 0, []byte{0}},
		{"one", 1, []byte{1, 1}},
		{"one byte", 255, []byte{1, 255}},
		{"two bytes", 256, []byte{2, 1, 0}},
		{"a mainnet tx count", 1_200_000_000, []byte{4, 0x47, 0x86, 0x8c, 0x00}},
		{"max", math.MaxUint64, []byte{8, 255, 255, 255, 255, 255, 255, 255, 255}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := appendOrdered(nil, tc.v); !bytes.Equal(got, tc.enc) {
				t.Fatalf("appendOrdered(%d) = %x, want %x", tc.v, got, tc.enc)
			}
			v, w := decodeOrdered(append(tc.enc, 0xee))
			if v != tc.v || w != len(tc.enc) {
				t.Fatalf("decodeOrdered(%x) = %d, %d; want %d, %d", tc.enc, v, w, tc.v, len(tc.enc))
			}
		})
	}
	bad := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", []byte{2, 1}},
		{"count over 8", []byte{9, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"leading zero", []byte{2, 0, 1}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if v, w := decodeOrdered(tc.b); w != 0 {
				t.Fatalf("decodeOrdered(%x) = %d, %d; want a refusal", tc.b, v, w)
			}
		})
	}
}

// FuzzOrdered checks that appendOrdered round-trips, that byte order is
// numeric order (which a uvarint's is not) and that decodeOrdered reads
// only what appendOrdered writes.
func FuzzOrdered(f *testing.F) {
	f.Add(uint64(1), uint64(128))
	f.Add(uint64(127), uint64(128))
	f.Add(uint64(255), uint64(256))
	f.Add(uint64(0), uint64(math.MaxUint64))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		ea, eb := appendOrdered(nil, a), appendOrdered(nil, b)
		if v, w := decodeOrdered(ea); v != a || w != len(ea) {
			t.Fatalf("%d: written %x, read %d (%d bytes)", a, ea, v, w)
		}
		if got, want := bytes.Compare(ea, eb), cmp.Compare(a, b); got != want {
			t.Fatalf("%d vs %d: bytes %x vs %x compare %d, want %d", a, b, ea, eb, got, want)
		}
		if len(ea) > binary.MaxVarintLen64 {
			t.Fatalf("%d: %d bytes", a, len(ea))
		}
		// Any bytes: a number read is one appendOrdered writes so.
		raw := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, a), b)[7:]
		if v, w := decodeOrdered(raw); w > 0 && !bytes.Equal(appendOrdered(nil, v), raw[:w]) {
			t.Fatalf("%x: read %d from %x, which is not how it is written", raw, v, raw[:w])
		}
	})
}
