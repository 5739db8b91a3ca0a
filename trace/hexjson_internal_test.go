package trace

import (
	"math/rand/v2"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// TestAppendHashHex writes hashes of every byte value at every place:
// the text is Hash.String's.
func TestAppendHashHex(t *testing.T) {
	for c := range 256 {
		for at := range 32 {
			var h heistgraph.Hash
			h[at] = byte(c)
			h[(at+7)%32] = byte(255 - c)
			prefix := []byte("x")
			if got := string(appendHashHex(prefix, &h)); got != "x"+h.String() {
				t.Fatalf("byte %#x at %d: %s, want x%s", c, at, got, h)
			}
		}
	}
}

// TestPlainWord compares plainWord with the byte table on words of one
// byte of every value among plain ones, and on random words.
func TestPlainWord(t *testing.T) {
	plain := func(x uint64) bool {
		for k := range 8 {
			if jsonPlain[byte(x>>(8*k))]&plainText == 0 {
				return false
			}
		}
		return true
	}
	r := rand.New(rand.NewPCG(7, 8))
	for c := range 256 {
		for at := range 8 {
			x := uint64(0x6161616161616161)&^(0xff<<(8*at)) | uint64(c)<<(8*at)
			if got, want := plainWord(x), plain(x); got != want {
				t.Fatalf("%#016x: %v, want %v", x, got, want)
			}
		}
	}
	for range 100000 {
		x := r.Uint64()
		if r.IntN(2) == 0 {
			x &= 0x7f7f7f7f7f7f7f7f
		}
		if got, want := plainWord(x), plain(x); got != want {
			t.Fatalf("%#016x: %v, want %v", x, got, want)
		}
	}
}
