package cluster

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestGraphIDs holds graphIDs to a plain array over sequences of sets: in
// the graph's order (the prefix, no array), and sequences that break it at
// some point (an address out of order, an id that is not a+1, an id
// replaced), after which every answer must still be the array's.
func TestGraphIDs(t *testing.T) {
	t.Parallel()
	const n = 200
	// inOrder sets the graph's addresses 0 to n-1 in order, each to the id
	// f gives it when f says so.
	inOrder := func(f func(a uint32) (uint32, bool)) [][2]uint32 {
		var s [][2]uint32
		for a := range uint32(n) {
			if id, ok := f(a); ok {
				s = append(s, [2]uint32{a, id})
			}
		}
		return s
	}
	tests := []struct {
		name  string
		sets  func(rng *rand.Rand) [][2]uint32 // (graph address, engine id)
		dense bool                             // the map must have left the prefix
	}{
		{"in order", func(*rand.Rand) [][2]uint32 {
			return inOrder(func(a uint32) (uint32, bool) { return a + 1, true })
		}, false},
		{"in order, some set twice", func(rng *rand.Rand) [][2]uint32 {
			var s [][2]uint32
			for a := range uint32(n) {
				s = append(s, [2]uint32{a, a + 1})
				if b := uint32(rng.IntN(int(a + 1))); rng.IntN(3) == 0 {
					s = append(s, [2]uint32{b, b + 1})
				}
			}
			return s
		}, false},
		{"an address skipped", func(*rand.Rand) [][2]uint32 {
			return inOrder(func(a uint32) (uint32, bool) { return a + 1, a != 50 })
		}, true},
		{"ids shifted from an address on", func(*rand.Rand) [][2]uint32 {
			return inOrder(func(a uint32) (uint32, bool) { return a + 1 + 3*b2u(a >= 70), true })
		}, true},
		{"random", func(rng *rand.Rand) [][2]uint32 {
			var s [][2]uint32
			for range 3 * n {
				s = append(s, [2]uint32{uint32(rng.IntN(n)), uint32(1 + rng.IntN(2*n))})
			}
			return s
		}, true},
		{"an id replaced in the prefix", func(*rand.Rand) [][2]uint32 {
			return append(inOrder(func(a uint32) (uint32, bool) { return a + 1, true }), [2]uint32{10, 500})
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, 2))
			m := newGraphIDs(n)
			want := make([]uint32, n)
			for k, s := range tc.sets(rng) {
				m.set(s[0], s[1])
				want[s[0]] = s[1]
				for a := range uint32(n) {
					if got := m.get(a); got != want[a] {
						t.Fatalf("after set %d (%d → %d): get(%d) = %d, want %d", k, s[0], s[1], a, got, want[a])
					}
				}
			}
			if got := m.dense != nil; got != tc.dense {
				t.Errorf("dense array: %v, want %v", got, tc.dense)
			}
		})
	}
}

// b2u is 1 for true, 0 for false.
func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// TestIDSet holds idSet to a map over random adds and resets: its list
// holds each id added since the last reset once, ids near and far apart,
// repeats and growth included, has answers as the map does, and a reset
// (of few ids in a large table, or of many) leaves none behind.
func TestIDSet(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	var s idSet
	want := map[uint32]bool{}
	for round := range 50 {
		for range rng.IntN(300) {
			id := uint32(rng.IntN(64 * (round + 1)))
			switch rng.IntN(4) {
			case 0:
				id = uint32(rng.IntN(5)) // repeats
			case 1:
				id = uint32(rng.IntN(1 << 20)) // far apart
			}
			s.add(id)
			want[id] = true
		}
		got := slices.Sorted(slices.Values(s.list))
		if len(got) != len(want) {
			t.Fatalf("round %d: %d ids, want %d", round, len(got), len(want))
		}
		for i, id := range got {
			if !want[id] || i > 0 && got[i-1] == id {
				t.Fatalf("round %d: %v is not the set", round, got)
			}
		}
		for range 200 {
			id := uint32(rng.IntN(64 * (round + 1)))
			if s.has(id) != want[id] {
				t.Fatalf("round %d: has(%d) = %v, want %v", round, id, s.has(id), want[id])
			}
		}
		for id := range want {
			if !s.has(id) {
				t.Fatalf("round %d: has(%d) = false after its add", round, id)
			}
		}
		s.reset()
		for id := range want {
			if s.has(id) {
				t.Fatalf("round %d: has(%d) after the reset", round, id)
			}
		}
		clear(want)
	}
}
