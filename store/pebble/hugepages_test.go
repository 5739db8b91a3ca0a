package pebble

import (
	"testing"
	"unsafe"
)

// TestHugePages checks that asking for huge pages keeps a slice's
// contents and touches nothing outside it, for slices shorter than a huge
// page, exactly one, and longer ones at offsets that are not aligned (the
// advice covers only the whole pages inside).
func TestHugePages(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n, first int // words in the backing array, the slice's first
	}{
		{"empty", 0, 0},
		{"one word", 1, 0},
		{"under a page", hugePageBytes/8 - 1, 0},
		{"one page", hugePageBytes / 8, 0},
		{"unaligned, two pages long", hugePageBytes/4 + 3, 3},
		{"five pages", 5 * hugePageBytes / 8, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			back := make([]uint64, tc.n+1)
			for i := range back {
				back[i] = uint64(i)*0x9e3779b97f4a7c15 + 1
			}
			s := back[tc.first:tc.n]
			hugePages(s)
			for i := range back {
				if back[i] != uint64(i)*0x9e3779b97f4a7c15+1 {
					t.Fatalf("word %d changed", i)
				}
			}
			recs := make([]outRec, len(s)/int(unsafe.Sizeof(outRec{})/8))
			hugePages(recs)
			for i := range recs {
				if recs[i] != (outRec{}) {
					t.Fatalf("record %d not empty", i)
				}
			}
		})
	}
}
