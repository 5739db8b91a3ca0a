package sha256d

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

// BenchmarkSum compares Sum with two crypto/sha256.Sum256 calls, and
// Nodes with a loop of them, on the sizes a block hashes: merkle nodes
// (64 bytes), small and large transactions.
//
//	go test ./internal/sha256d -run '^$' -bench .
func BenchmarkSum(b *testing.B) {
	for _, n := range []int{32, 64, 80, 250, 1000} {
		p := make([]byte, n)
		b.Run(fmt.Sprintf("%d/sha256d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				_ = Sum(p)
			}
		})
		b.Run(fmt.Sprintf("%d/crypto", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				first := sha256.Sum256(p)
				_ = sha256.Sum256(first[:])
			}
		})
	}
}

func BenchmarkNodes(b *testing.B) {
	const n = 1024
	src := make([][Size]byte, 2*n)
	dst := make([][Size]byte, n)
	b.Run("sha256d", func(b *testing.B) {
		b.SetBytes(2 * n * Size)
		for b.Loop() {
			Nodes(dst, src)
		}
	})
	b.Run("crypto", func(b *testing.B) {
		b.SetBytes(2 * n * Size)
		var pair [2 * Size]byte
		for b.Loop() {
			for i := range dst {
				copy(pair[:], src[2*i][:])
				copy(pair[Size:], src[2*i+1][:])
				first := sha256.Sum256(pair[:])
				dst[i] = sha256.Sum256(first[:])
			}
		}
	})
}
