package pebble

import "testing"

// TestHugeSpan: the span advised is the whole huge pages inside a slice,
// none for a slice shorter than one or one that holds no whole one, and
// never a byte outside the slice.
func TestHugeSpan(t *testing.T) {
	const h = hugePageBytes
	for _, tc := range []struct {
		name      string
		p, n      uintptr
		off, size uintptr
	}{
		{"empty", 5 * h, 0, 0, 0},
		{"under a page, aligned", 5 * h, h - 1, 0, 0},
		{"one page, aligned", 5 * h, h, 0, h},
		{"one page and a byte, aligned", 5 * h, h + 1, 0, h},
		{"a page long, not aligned", 5*h + 8, h, 0, 0},
		{"two pages long, not aligned", 5*h + 8, 2 * h, h - 8, h},
		{"ends on a boundary", 5*h + 8, 3*h - 8, h - 8, 2 * h},
		{"ends a byte before one", 5*h + 8, 3*h - 9, h - 8, h},
	} {
		t.Run(tc.name, func(t *testing.T) {
			off, size := hugeSpan(tc.p, tc.n)
			if off != tc.off || size != tc.size {
				t.Fatalf("hugeSpan(%#x, %d) = %d, %d; want %d, %d", tc.p, tc.n, off, size, tc.off, tc.size)
			}
			if size > 0 && ((tc.p+off)%h != 0 || size%h != 0 || off+size > tc.n) {
				t.Fatalf("span %d+%d is not whole pages inside the %d bytes", off, size, tc.n)
			}
		})
	}
}

// TestHugePages: asking for huge pages keeps a slice's contents and those
// around it, for slices shorter than a huge page, one long, and longer
// ones that do not start on a page.
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
			hugePages(back[tc.first:tc.n])
			for i := range back {
				if back[i] != uint64(i)*0x9e3779b97f4a7c15+1 {
					t.Fatalf("word %d changed", i)
				}
			}
		})
	}
}
