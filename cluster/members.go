package cluster

import "iter"

// members holds the cluster of every address id in memory: cid[id] is the
// id of its cluster (the smallest address id in it), next links the
// members of each cluster in a ring, and size[c] counts the members of
// cluster c. Id 0 is unused. Merging two clusters relabels the members of
// the one with the larger id, so a lookup is one array read and the
// persisted membership of an address changes only when its cluster id
// does.
type members struct {
	cid  []uint32
	next []uint32
	size []uint32
}

func newMembers(n int) *members {
	m := &members{cid: make([]uint32, 1, n+1), next: make([]uint32, 1, n+1), size: make([]uint32, 1, n+1)}
	return m
}

// len returns the number of address ids given out plus one (for id 0).
func (m *members) len() int { return len(m.cid) }

// add appends a new address as its own cluster and returns its id.
func (m *members) add() uint32 {
	id := uint32(len(m.cid))
	m.cid = append(m.cid, id)
	m.next = append(m.next, id)
	m.size = append(m.size, 1)
	return id
}

// of returns the cluster of address id.
func (m *members) of(id uint32) uint32 { return m.cid[id] }

// sizeOf returns the size of cluster c.
func (m *members) sizeOf(c uint32) uint32 { return m.size[c] }

// all yields the members of cluster c.
func (m *members) all(c uint32) iter.Seq[uint32] {
	return func(yield func(uint32) bool) {
		id := c
		for {
			if !yield(id) {
				return
			}
			id = m.next[id]
			if id == c {
				return
			}
		}
	}
}

// merge joins clusters a and b (cluster ids) and returns the surviving id,
// the smaller one. moved is called for every address whose cluster id
// changes.
func (m *members) merge(a, b uint32, moved func(id, c uint32)) uint32 {
	if a == b {
		return a
	}
	if b < a {
		a, b = b, a
	}
	for id := range m.all(b) {
		m.cid[id] = a
		if moved != nil {
			moved(id, a)
		}
	}
	// Splice the rings.
	m.next[a], m.next[b] = m.next[b], m.next[a]
	m.size[a] += m.size[b]
	m.size[b] = 0
	return a
}

// setRings rebuilds the rings and sizes from cid (after loading or a
// rebuild). It relies on cid[c] == c for every cluster id c in use, which
// holds because a cluster's id is one of its members.
func (m *members) setRings() {
	clear(m.size)
	for id := range m.next {
		m.next[id] = uint32(id)
	}
	for id := 1; id < len(m.cid); id++ {
		c := m.cid[id]
		m.size[c]++
		if uint32(id) != c {
			m.next[id], m.next[c] = m.next[c], uint32(id)
		}
	}
}

// detach takes address id out of its cluster into a cluster of its own
// and returns the id of the rest of the cluster (0 when id was alone).
// When id was the cluster's id, the rest takes the smallest id left. moved
// is called for every address whose cluster id changes, id included. It
// walks the cluster once or twice.
func (m *members) detach(id uint32, moved func(id, c uint32)) uint32 {
	c := m.cid[id]
	if m.size[c] <= 1 {
		return 0
	}
	p := id
	for m.next[p] != id {
		p = m.next[p]
	}
	m.next[p] = m.next[id]
	m.next[id] = id
	n := m.size[c] - 1
	if id == c {
		nc := p
		for x := range m.all(p) {
			nc = min(nc, x)
		}
		for x := range m.all(p) {
			m.cid[x] = nc
			moved(x, nc)
		}
		m.size[nc] = n
		c = nc
	} else {
		m.size[c] = n
	}
	m.cid[id], m.size[id] = id, 1
	moved(id, id)
	return c
}
