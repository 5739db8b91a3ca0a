package pebble

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestSortAheadMatchesSort checks that writes sorted ahead in runs (chunk
// lengths from 1 to past the writes' count) and merged come out exactly as
// one sort of them all gives (a stable sort by key), over keys that share
// their first 16 bytes or are prefixes of each other, twice on one
// sortedWrites (its run buffers reused).
func TestSortAheadMatchesSort(t *testing.T) {
	for seed := range uint64(30) {
		for _, chunk := range []int{0, 1, 2, 7, 64, 1000} {
			rng := rand.New(rand.NewPCG(seed, 9))
			var w sortedWrites
			w.chunk = chunk
			for round := range 2 {
				n := rng.IntN(400)
				type write struct {
					kind     byte
					key, val string
				}
				var want []write
				for i := range n {
					key := []byte{byte('a' + rng.IntN(3)), 0, 1}
					key = append(key, bytes.Repeat([]byte{0}, rng.IntN(16))...)
					for range rng.IntN(4) {
						key = append(key, byte(rng.IntN(3)))
					}
					val := []byte{byte(i), byte(i >> 8)}
					kind := byte(rng.IntN(3))
					w.add(kind, key, val)
					want = append(want, write{kind, string(key), string(val)})
				}
				// The reference: a stable insertion sort by key.
				for i := 1; i < len(want); i++ {
					for j := i; j > 0 && want[j-1].key > want[j].key; j-- {
						want[j-1], want[j] = want[j], want[j-1]
					}
				}
				got := w.sort()
				if len(got) != len(want) {
					t.Fatalf("seed %d chunk %d round %d: %d writes sorted, want %d", seed, chunk, round, len(got), len(want))
				}
				for i, o := range got {
					g := write{o.kind, string(w.buf[o.key:o.val]), string(w.buf[o.val:o.end])}
					if g != want[i] {
						t.Fatalf("seed %d chunk %d round %d: write %d is %q, want %q", seed, chunk, round, i, g, want[i])
					}
				}
				w.reset()
			}
		}
	}
}
