package sha256d

import (
	"crypto/sha256"
	"fmt"
	"syscall"
	"testing"
	"time"
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

// BenchmarkInterleave measures what hashing two messages together pays,
// in process CPU time with each way in turn in every iteration (the
// machine is shared): txid-like messages (4 + 150 to 1,100 + 4 bytes, two
// by two with Sum3Pair against one by one with Sum3), and a merkle level
// of 4,096 nodes (Nodes one node a call, then over the level with SHA-NI
// two at a time, then with AVX-512 16 at a time where the CPU has it).
//
//	go test ./internal/sha256d -run '^$' -bench Interleave -benchtime 2s
func BenchmarkInterleave(b *testing.B) {
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 131)
	}
	var msgs [][3][]byte
	seed := uint32(1)
	for off := 0; ; {
		seed = seed*1664525 + 1013904223
		n := 150 + int(seed>>8)%950
		if off+n+8 > len(data) {
			break
		}
		msgs = append(msgs, [3][]byte{data[off : off+4], data[off+4 : off+4+n], data[off+4+n : off+8+n]})
		off += n + 8
	}
	ids := make([][Size]byte, 8192)
	var d Double
	ways := []struct {
		name string
		f    func()
	}{
		{"txids-one", func() {
			for _, m := range msgs {
				_ = d.Sum3(m[0], m[1], m[2])
			}
		}},
		{"txids-two", func() {
			for i := 0; i+1 < len(msgs); i += 2 {
				_, _ = d.Sum3Pair(&msgs[i], &msgs[i+1])
			}
		}},
		{"nodes-one", func() {
			for i := 0; i < len(ids)/2; i++ {
				Nodes(ids[i:i+1], ids[2*i:2*i+2])
			}
		}},
		{"nodes-two", func() { // SHA-NI two at a time, without AVX-512
			avx := useAVX512
			useAVX512 = false
			Nodes(ids[:len(ids)/2], ids)
			useAVX512 = avx
		}},
		{"nodes-avx512", func() { Nodes(ids[:len(ids)/2], ids) }},
	}
	spent := make([]time.Duration, len(ways))
	for b.Loop() {
		for i, w := range ways {
			t0 := cpuTime(b)
			w.f()
			spent[i] += cpuTime(b) - t0
		}
	}
	for i, w := range ways {
		b.ReportMetric(float64(spent[i].Nanoseconds())/float64(b.N)/1e3, w.name+"-µs")
	}
}

// cpuTime returns the process's user plus system CPU time.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
