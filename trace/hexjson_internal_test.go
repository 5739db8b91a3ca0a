package trace

import (
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
