package cluster

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestAddrTable: the table gives ids in order and finds every key again
// across its growths, as a map does (by get and add, and by getOrAdd); keys never added are not found, also
// ones sharing hi or lo with a key that was. With its keys on the heap and
// spilled (spill.go).
func TestAddrTable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		start int
		spill bool
	}{{0, false}, {1, false}, {1000, false}, {0, true}, {1000, true}} {
		t.Run(fmt.Sprint(c.start, "/spill=", c.spill), func(t *testing.T) {
			start := c.start
			h := newHasher()
			tab, err := newAddrTable(start, spillDir(t, c.spill))
			if err != nil {
				t.Fatal(err)
			}
			want := map[addrKey]uint32{}
			rng := rand.New(rand.NewPCG(1, uint64(start)))
			for i := range 20_000 {
				k := h.key(fmt.Sprintf("bcrt1q%d", rng.IntN(15_000)))
				if i%2 == 1 {
					// getOrAdd, as get then add on a miss.
					id, added := tab.getOrAdd(k)
					if added != (want[k] == 0) || !added && id != want[k] || added && id != uint32(len(want)+1) {
						t.Fatalf("step %d: getOrAdd = %d, %v; want %d (0: added as %d)", i, id, added, want[k], len(want)+1)
					}
					want[k] = id
					continue
				}
				if id := tab.get(k); id != want[k] {
					t.Fatalf("step %d: get = %d, want %d", i, id, want[k])
				}
				if want[k] == 0 {
					id := tab.add(k)
					if id != uint32(len(want)+1) {
						t.Fatalf("step %d: add = %d, want %d", i, id, len(want)+1)
					}
					want[k] = id
				}
			}
			if tab.len() != len(want) || float64(tab.used) > maxLoad*float64(len(tab.slots)) {
				t.Errorf("%d keys in %d slots, want %d", tab.len(), len(tab.slots), len(want))
			}
			for k, id := range want {
				if got := tab.get(k); got != id {
					t.Fatalf("get(%v) = %d, want %d", k, got, id)
				}
				for _, other := range []addrKey{{k.hi, k.lo + 1}, {k.hi + 1, k.lo}, {k.hi ^ 1<<63, k.lo}, {k.hi, k.lo ^ 0x100}} {
					if _, taken := want[other]; !taken && tab.get(other) != 0 {
						t.Fatalf("get(%v) found a key never added", other)
					}
				}
			}
		})
	}
}

// TestMembers: random merges and detaches against a plain cluster-of
// array: clusters, sizes (kept in the cluster id's entry), rings, the
// moved addresses reported, and the same after setRings from the plain
// assignment. With the arrays on the heap and spilled (spill.go).
func TestMembers(t *testing.T) {
	t.Parallel()
	for _, spill := range []bool{false, true} {
		t.Run(fmt.Sprint("spill=", spill), func(t *testing.T) { testMembers(t, spillDir(t, spill)) })
	}
}

// spillDir returns a directory to spill to when spill is set, else "".
func spillDir(t *testing.T, spill bool) string {
	if !spill {
		return ""
	}
	return t.TempDir()
}

func newMembersT(t *testing.T, n int, dir string) *members {
	t.Helper()
	m, err := newMembers(n, dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func testMembers(t *testing.T, dir string) {
	const n = 300
	rng := rand.New(rand.NewPCG(3, 4))
	m := newMembersT(t, 0, dir)
	ref := make([]uint32, n+1) // ref[id]: the cluster, its smallest id
	for id := range uint32(n) {
		if got := m.add(); got != id+1 {
			t.Fatalf("add = %d, want %d", got, id+1)
		}
		ref[id+1] = id + 1
	}
	check := func(step int) {
		t.Helper()
		size := map[uint32]uint32{}
		for id := 1; id <= n; id++ {
			size[ref[id]]++
		}
		for id := uint32(1); id <= n; id++ {
			if m.of(id) != ref[id] {
				t.Fatalf("step %d: of(%d) = %d, want %d", step, id, m.of(id), ref[id])
			}
			if m.sizeOf(id) != size[id] {
				t.Fatalf("step %d: sizeOf(%d) = %d, want %d", step, id, m.sizeOf(id), size[id])
			}
			var ring uint32
			for x := range m.all(m.of(id)) {
				if ref[x] != ref[id] {
					t.Fatalf("step %d: %d in the ring of %d's cluster", step, x, id)
				}
				ring++
			}
			if ring != size[ref[id]] {
				t.Fatalf("step %d: ring of %d has %d members, want %d", step, id, ring, size[ref[id]])
			}
		}
	}
	// count agrees with the reference after every step (a detach may
	// shrink the largest cluster).
	checkCount := func(step int) {
		t.Helper()
		size := map[uint32]uint32{}
		var largest uint32
		for id := 1; id <= n; id++ {
			size[ref[id]]++
			largest = max(largest, size[ref[id]])
		}
		if c, l := m.count(); c != int64(len(size)) || l != largest {
			t.Fatalf("step %d: count = %d clusters, largest %d; want %d, %d", step, c, l, len(size), largest)
		}
	}
	for step := range 2000 {
		a, b := uint32(1+rng.IntN(n)), uint32(1+rng.IntN(n))
		moved := map[uint32]uint32{}
		record := func(id, c uint32) { moved[id] = c }
		want := map[uint32]uint32{}
		if rng.IntN(4) == 0 {
			// detach a
			c := ref[a]
			var rest []uint32
			for id := uint32(1); id <= n; id++ {
				if ref[id] == c && id != a {
					rest = append(rest, id)
				}
			}
			if len(rest) > 0 {
				if c == a {
					for _, id := range rest {
						want[id] = rest[0]
						ref[id] = rest[0]
					}
				}
				want[a] = a
				ref[a] = a
			}
			m.detach(a, record)
		} else {
			ca, cb := ref[a], ref[b]
			lo, hi := min(ca, cb), max(ca, cb)
			if lo != hi {
				for id := uint32(1); id <= n; id++ {
					if ref[id] == hi {
						ref[id] = lo
						want[id] = lo
					}
				}
			}
			var set idSet
			if got := m.merge(ca, cb, &set); got != lo {
				t.Fatalf("step %d: merge = %d, want %d", step, got, lo)
			}
			for _, id := range set.list {
				record(id, m.of(id))
			}
		}
		if fmt.Sprint(moved) != fmt.Sprint(want) {
			t.Fatalf("step %d: moved %v, want %v", step, moved, want)
		}
		checkCount(step)
		if step%100 == 0 {
			check(step)
		}
	}
	check(-1)
	// setRings from the plain assignment gives the same state.
	m2 := newMembersT(t, n, dir)
	for id := 1; id <= n; id++ {
		m2.add()
	}
	for id := uint32(1); id <= n; id++ {
		m2.assign(id, ref[id])
	}
	m2.setRings()
	m = m2
	check(-2)
	checkCount(-2)
}

// BenchmarkAddrTable gives ids to 2M new addresses as a run meets them
// from the store (idOf: a lookup that misses and adds, getOrAdd), from an
// empty table that grows.
func BenchmarkAddrTable(b *testing.B) {
	const n = 2 << 20
	h := newHasher()
	keys := make([]addrKey, n)
	var buf [8]byte
	for i := range keys {
		for j := range buf {
			buf[j] = byte(i >> (8 * j))
		}
		keys[i] = h.key(string(buf[:]))
	}
	for b.Loop() {
		tab, err := newAddrTable(0, "")
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range keys {
			tab.getOrAdd(k)
		}
	}
}
