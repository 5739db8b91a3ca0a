package txgraph

import (
	"testing"
)

// TestSpillKeepsElements grows arrays across several mappings, on the heap
// and in files, moves one in from the heap, and gives a slot table fresh
// zeroed room: the elements written stay, whatever the growth.
func TestSpillKeepsElements(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spill bool
		n     int
	}{
		{"heap", false, 100_000},
		{"files, one mapping", true, 1000},
		{"files, grown and mapped again", true, 300_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sp *spill
			if tc.spill {
				var err error
				if sp, err = newSpill(t.TempDir()); err != nil {
					t.Fatal(err)
				}
				defer sp.close()
			}
			var a []uint64
			b := make([]uint32, 0, 3) // on the heap: moved into its file
			b = append(b, 7, 8, 9)
			for i := range tc.n {
				if err := reserve(sp, &a, len(a)+1); err != nil {
					t.Fatal(err)
				}
				if err := reserve(sp, &b, len(b)+1); err != nil {
					t.Fatal(err)
				}
				if c := cap(a); len(a) == c {
					t.Fatalf("reserve left no room at %d", i)
				}
				a = append(a, uint64(i)*3)
				b = append(b, uint32(i))
			}
			for i, v := range a {
				if v != uint64(i)*3 {
					t.Fatalf("a[%d] = %d, want %d", i, v, i*3)
				}
			}
			if b[0] != 7 || b[2] != 9 || b[len(b)-1] != uint32(tc.n-1) {
				t.Fatalf("b lost elements: %v … %v", b[:3], b[len(b)-1])
			}
			if tc.spill && sp.file(fieldOf("a", &a).key, fieldOf("a", &a).bytes()) == nil {
				t.Fatal("a spilled array has no file")
			}
			s := make([]uint32, 8)
			s[3] = 1
			if err := fresh(sp, &s, 16); err != nil {
				t.Fatal(err)
			}
			for i, v := range s {
				if v != 0 || len(s) != 16 {
					t.Fatalf("fresh slots: %d at %d of %d", v, i, len(s))
				}
			}
		})
	}
}
