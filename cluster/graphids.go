package cluster

// graphIDs maps the transaction graph's address ids (0 to n-1, given in
// order of first appearance as an output; txgraph.Graph.Addresses) to the
// engine's (1, 2, …, given in order of first appearance in the clustered
// blocks). Both count the same addresses in the same order, so the graph's
// address a nearly always has the engine's id a+1: while that holds for
// every address given an id, the map is the prefix of graph ids [0, known)
// and keeps no array at all (no memory an address, and no cache miss an
// input). The first address that breaks it (a graph built over other
// blocks than the clustering, an address met first as a spent output the
// graph does not hold) turns the map into a dense array of 4 bytes an
// address, which answers the same for every address.
type graphIDs struct {
	known uint32   // graph addresses below known have the engine id a+1 (dense == nil)
	dense []uint32 // dense[a]: the engine's id of graph address a, 0 for none; nil while the prefix holds
	n     int      // the graph's number of addresses
}

// newGraphIDs returns an empty map for a graph of n addresses.
func newGraphIDs(n int) *graphIDs { return &graphIDs{n: n} }

// get returns the engine's id of graph address a; 0 when it has none
// (txgraph.NoAddress has none).
func (t *graphIDs) get(a uint32) uint32 {
	if t.dense == nil {
		if a < t.known {
			return a + 1
		}
		return 0
	}
	if int(a) < len(t.dense) {
		return t.dense[a]
	}
	return 0
}

// prefix returns the bound below which every graph address a has the
// engine's id a+1 without the array (known); 0 once the array is used.
func (t *graphIDs) prefix() uint32 {
	if t.dense == nil {
		return t.known
	}
	return 0
}

// set records that graph address a has the engine's id (not 0), replacing
// any it had.
func (t *graphIDs) set(a, id uint32) {
	if t.dense == nil {
		switch {
		case id == a+1 && a == t.known:
			t.known++
			return
		case id == a+1 && a < t.known:
			return
		}
		t.dense = make([]uint32, t.n)
		for i := range t.known {
			t.dense[i] = i + 1
		}
	}
	t.dense[a] = id
}
