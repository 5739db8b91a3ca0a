package heistgraph

import (
	"encoding/hex"
	"fmt"
)

// Hash is a 256-bit block or transaction hash in internal byte order (the
// order double SHA-256 produces). Its String form is byte-reversed hex, as
// Bitcoin explorers and Bitcoin Core print it.
type Hash [32]byte

// String returns the byte-reversed lower-case hex form.
func (h Hash) String() string {
	var r [64]byte
	const digits = "0123456789abcdef"
	for i := 0; i < 32; i++ {
		b := h[31-i]
		r[2*i] = digits[b>>4]
		r[2*i+1] = digits[b&0x0f]
	}
	return string(r[:])
}

// IsZero reports whether h is all zeros.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText implements encoding.TextMarshaler with the String form.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler for the String form.
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ParseHash parses the 64-character byte-reversed hex form (either case).
// It returns an error wrapping ErrInvalid for anything else.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 64 {
		return h, fmt.Errorf("hash %q: want 64 hex characters, have %d: %w", short(s), len(s), ErrInvalid)
	}
	var b [32]byte
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return h, fmt.Errorf("hash %q: not hex: %w", short(s), ErrInvalid)
	}
	for i := 0; i < 32; i++ {
		h[i] = b[31-i]
	}
	return h, nil
}

func short(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
