// Package unionfind is a disjoint-set forest over the integers 0..n-1
// whose roots are the smallest element of their set: a set's root is
// known as soon as its smallest element is met, and ids chosen as roots
// come out the same whatever order the unions came in.
package unionfind

// Sets is a disjoint-set forest: Sets[i] is i's parent.
type Sets []uint32

// New returns n singleton sets.
func New(n int) Sets {
	s := make(Sets, n)
	for i := range s {
		s[i] = uint32(i)
	}
	return s
}

// Find returns the root of x's set (its smallest element), halving the
// path on the way.
func (s Sets) Find(x uint32) uint32 {
	for s[x] != x {
		s[x] = s[s[x]]
		x = s[x]
	}
	return x
}

// Union joins the sets of x and y.
func (s Sets) Union(x, y uint32) {
	a, b := s.Find(x), s.Find(y)
	s[max(a, b)] = min(a, b)
}

// UnionAll joins the sets of all of ids.
func (s Sets) UnionAll(ids []uint32) {
	if len(ids) < 2 {
		return
	}
	r := s.Find(ids[0])
	for _, id := range ids[1:] {
		t := s.Find(id)
		s[max(r, t)] = min(r, t)
		r = min(r, t)
	}
}
