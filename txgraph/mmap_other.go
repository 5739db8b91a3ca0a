//go:build !unix

package txgraph

import (
	"os"
	"unsafe"
)

// mapFile reads path into memory, 8-byte aligned as the sections need
// (systems without mmap).
func mapFile(path string) ([]byte, func() error, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	words := make([]uint64, (len(raw)+7)/8)
	if len(words) == 0 {
		return nil, func() error { return nil }, nil
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(raw))
	copy(b, raw)
	return b, func() error { return nil }, nil
}
