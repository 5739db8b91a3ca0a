package cluster

import "iter"

// members holds the cluster of every address id in memory, in 8 bytes an
// address. A cluster's id is the smallest address id in it, so for an
// address id that is not its cluster's id, cid < id is the cluster; for a
// cluster's own id c, its cid >= c and holds the size instead: c + size -
// 1 (which fits: the other members' ids are distinct and above c). next
// links the members of each cluster in a ring. Id 0 is unused. Merging two
// clusters relabels the members of the one with the larger id, so a
// lookup is one array read and the persisted membership of an address
// changes only when its cluster id does. An address's cid and next sit
// side by side (cell): a union reads the cluster ids of the addresses it
// joins, then splices their rings, and finds their next in the same cache
// line (two arrays were two misses more a union).
type members struct {
	c     []cell
	spill *spiller
	// absorbed counts the addresses that are not their cluster's id (the
	// clusters are the others) and largest is the size of the largest
	// cluster of two or more, kept as clusters are merged (and counted by
	// setRings), so that a run's statistics (count) do not walk every
	// address; recount says they must be counted again (a detach may have
	// shrunk the largest).
	absorbed int64
	largest  uint32
	recount  bool
}

// cell is an address's cluster id (or its cluster's size) and the next
// member of its cluster's ring.
type cell struct{ cid, next uint32 }

// newMembers returns the memberships of no address with room for n
// before they grow, on the heap or spilled (spill.go) to dir.
func newMembers(n int, dir string) (*members, error) {
	c, s, err := oneArray[cell](dir, n+1)
	if err != nil {
		return nil, err
	}
	m := &members{c: append(c, cell{}), spill: s}
	releaseWith(s, m)
	return m, nil
}

// reserve makes room for n more addresses in the spilled arrays
// (spill.go); add must not go past it.
func (m *members) reserve(n int) error { return m.spill.reserve(int64(len(m.c) + n)) }

// len returns the number of address ids given out plus one (for id 0).
func (m *members) len() int { return len(m.c) }

// add appends a new address as its own cluster and returns its id.
func (m *members) add() uint32 {
	id := uint32(len(m.c))
	m.c = append(m.c, cell{id, id}) // size 1, alone in its ring
	return id
}

// count returns the number of clusters and the size of the largest (0
// without addresses).
func (m *members) count() (clusters int64, largest uint32) {
	if m.recount {
		m.absorbed, m.largest = 0, 0
		for id := 1; id < len(m.c); id++ {
			if n := m.sizeOf(uint32(id)); n == 0 {
				m.absorbed++
			} else {
				m.largest = max(m.largest, n)
			}
		}
		m.recount = false
	}
	clusters = int64(len(m.c)-1) - m.absorbed
	largest = m.largest
	if clusters > 0 {
		largest = max(largest, 1)
	}
	return clusters, largest
}

// of returns the cluster of address id.
func (m *members) of(id uint32) uint32 {
	if c := m.c[id].cid; c < id {
		return c
	}
	return id
}

// sizeOf returns the size of cluster c; 0 when c is not a cluster's id.
func (m *members) sizeOf(c uint32) uint32 {
	if v := m.c[c].cid; v >= c {
		return v - c + 1
	}
	return 0
}

// setSize records that cluster c has n >= 1 members.
func (m *members) setSize(c, n uint32) { m.c[c].cid = c + n - 1 }

// all yields the members of cluster c.
func (m *members) all(c uint32) iter.Seq[uint32] {
	return func(yield func(uint32) bool) {
		id := c
		for {
			if !yield(id) {
				return
			}
			id = m.c[id].next
			if id == c {
				return
			}
		}
	}
}

// merge joins clusters a and b (cluster ids) and returns the surviving id,
// the smaller one. Every address whose cluster id changes is added to
// moved (when not nil).
func (m *members) merge(a, b uint32, moved *idSet) uint32 {
	if a == b {
		return a
	}
	if b < a {
		a, b = b, a
	}
	n := m.sizeOf(a) + m.sizeOf(b)
	m.absorbed++
	m.largest = max(m.largest, n)
	if n == m.sizeOf(a)+1 {
		// b alone, as most clusters a union absorbs: its ring is itself.
		m.c[b].cid = a
		if moved != nil {
			moved.add(b)
		}
		m.c[a].next, m.c[b].next = b, m.c[a].next
		m.setSize(a, n)
		return a
	}
	for id := range m.all(b) {
		m.c[id].cid = a
		if moved != nil {
			moved.add(id)
		}
	}
	// Splice the rings.
	m.c[a].next, m.c[b].next = m.c[b].next, m.c[a].next
	m.setSize(a, n)
	return a
}

// assign sets the cluster of id to c <= id, for a caller that assigns
// every id (loading, a rebuild) and calls setRings afterwards; until then
// of and sizeOf are undefined for the ids assigned.
func (m *members) assign(id, c uint32) { m.c[id].cid = c }

// setRings rebuilds the rings and sizes once every id has been assigned
// its cluster (after loading or a rebuild). It relies on every cluster id
// being one of its members and the smallest.
func (m *members) setRings() {
	for id := range m.c {
		m.c[id].next = uint32(id)
	}
	// Clusters' own ids come first in id order, so each member's cluster
	// is counted after its cid is final: cid[c] == c means size 1 so far.
	// A cluster's size grows to its last: the largest is the most any
	// reaches.
	m.absorbed, m.largest, m.recount = 0, 0, false
	for id := 1; id < len(m.c); id++ {
		c := m.c[id].cid
		if c < uint32(id) {
			m.c[id].next, m.c[c].next = m.c[c].next, uint32(id)
			m.c[c].cid++
			m.absorbed++
			m.largest = max(m.largest, m.c[c].cid-c+1)
		}
	}
}

// detach takes address id out of its cluster into a cluster of its own
// and returns the id of the rest of the cluster (0 when id was alone).
// When id was the cluster's id, the rest takes the smallest id left. moved
// is called for every address whose cluster id changes, id included. It
// walks the cluster once or twice.
func (m *members) detach(id uint32, moved func(id, c uint32)) uint32 {
	c := m.of(id)
	n := m.sizeOf(c)
	if n <= 1 {
		return 0
	}
	p := id
	for m.c[p].next != id {
		p = m.c[p].next
	}
	m.c[p].next = m.c[id].next
	m.c[id].next = id
	if id == c {
		nc := p
		for x := range m.all(p) {
			nc = min(nc, x)
		}
		for x := range m.all(p) {
			m.c[x].cid = nc
			moved(x, nc)
		}
		c = nc
	}
	m.setSize(c, n-1)
	m.setSize(id, 1)
	m.absorbed--
	m.recount = m.recount || n == m.largest
	moved(id, id)
	return c
}
