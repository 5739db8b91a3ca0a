package bitcoin

import (
	"cmp"
	"math/big"
	"math/bits"
	"slices"

	"github.com/heistgraph/heistgraph"
)

// This file puts indexed records in chain order: it links each block to its
// parent, gives every block a height, picks the best chain by cumulative
// work and marks the rest stale. It works on the index alone; no block body
// is read except a root's coinbase when it needs its BIP34 height.

// record is one unique block of the index. Its size is what memory grows
// with: about 130 bytes a block.
type record struct {
	hash, prev heistgraph.Hash
	off        int64 // see found.off
	size       int32
	file       int32 // index into FileSource.files; genesisFile for the built-in genesis
	bits       uint32
	parent     int32 // index of the parent record, or -1 for a root
	child      int32 // first child, or -1
	sibling    int32 // next child of the same parent, or -1
	height     int64
	work       u256 // cumulative work from the root of its tree
	known      bool // Known reported it: not emitted
	main       bool // on the best chain of an accepted tree
}

const genesisFile = -1

// recordOf builds a record from what pass 1 found.
func recordOf(file int32, f found) record {
	r := record{
		hash:    hash256(f.header[:]),
		off:     f.off,
		size:    int32(f.size),
		file:    file,
		bits:    uint32(f.header[72]) | uint32(f.header[73])<<8 | uint32(f.header[74])<<16 | uint32(f.header[75])<<24,
		parent:  -1,
		child:   -1,
		sibling: -1,
	}
	copy(r.prev[:], f.header[4:36])
	return r
}

// plan is the outcome of ordering: the records to emit, in order.
type plan struct {
	recs  []record
	emit  []int32 // indexes into recs, in height order
	stale []int32 // records on no accepted best chain, not known
	known int     // records Known reported
}

// rootHeight decides the height of a block whose parent is neither in the
// index nor known, or returns why it cannot.
type rootHeight func(r *record) (int64, error)

// order links recs (unique by hash) into trees, sets heights and work, picks
// each tree's best chain, and resolves trees that claim the same heights.
// known reports blocks the caller already has; root gives the height of a
// root block that is neither genesis nor known nor a child of a known block.
func order(recs []record, byHash map[heistgraph.Hash]int32, genesis heistgraph.Hash,
	known func(heistgraph.Hash) (int64, bool), root rootHeight) (*plan, error) {
	p := &plan{recs: recs}
	var roots []int32
	for i := range recs {
		r := &recs[i]
		if h, ok := known(r.hash); ok {
			r.known, r.height = true, h
			p.known++
		}
		if r.hash == genesis {
			roots = append(roots, int32(i))
			continue
		}
		if pi, ok := byHash[r.prev]; ok {
			r.parent = pi
			continue
		}
		roots = append(roots, int32(i))
	}
	// Link children in reverse so each list is in index (file) order.
	for i := len(recs) - 1; i >= 0; i-- {
		if pi := recs[i].parent; pi >= 0 {
			recs[i].sibling = recs[pi].child
			recs[pi].child = int32(i)
		}
	}

	type tree struct {
		root, tip int32
		lo, hi    int64 // heights of the best chain
	}
	trees := make([]tree, 0, len(roots))
	workOf := workCache{}
	var stack []int32
	for _, ri := range roots {
		r := &recs[ri]
		switch {
		case r.hash == genesis:
			r.height = 0
		case r.known:
		default:
			if h, ok := known(r.prev); ok {
				r.height = h + 1
				break
			}
			h, err := root(r)
			if err != nil {
				return nil, err
			}
			r.height = h
		}
		r.work = workOf.get(r.bits)
		// Depth first over the tree: heights and cumulative work; the tip is
		// the block of most work, the first found on a tie.
		t := tree{root: ri, tip: ri}
		stack = append(stack[:0], ri)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if recs[i].work.cmp(recs[t.tip].work) > 0 || recs[i].work == recs[t.tip].work && i < t.tip {
				t.tip = i
			}
			for c := recs[i].child; c >= 0; c = recs[c].sibling {
				recs[c].height = recs[i].height + 1
				recs[c].work = recs[i].work.add(workOf.get(recs[c].bits))
				stack = append(stack, c)
			}
		}
		t.lo, t.hi = r.height, recs[t.tip].height
		trees = append(trees, t)
	}
	// Accept trees by decreasing work; one whose best chain overlaps the
	// heights of an accepted one is a fork the data cannot place: stale.
	slices.SortStableFunc(trees, func(a, b tree) int { return -recs[a.tip].work.cmp(recs[b.tip].work) })
	var accepted []tree // sorted by lo
	for _, t := range trees {
		i, _ := slices.BinarySearchFunc(accepted, t.lo, func(a tree, lo int64) int { return cmp.Compare(a.lo, lo) })
		if i > 0 && accepted[i-1].hi >= t.lo || i < len(accepted) && accepted[i].lo <= t.hi {
			continue
		}
		accepted = slices.Insert(accepted, i, t)
		for j := t.tip; j >= 0; j = recs[j].parent {
			recs[j].main = true
		}
	}
	for i := range recs {
		r := &recs[i]
		switch {
		case r.main && !r.known:
			p.emit = append(p.emit, int32(i))
		case !r.main && !r.known:
			p.stale = append(p.stale, int32(i))
		}
	}
	slices.SortStableFunc(p.emit, func(a, b int32) int { return cmp.Compare(recs[a].height, recs[b].height) })
	return p, nil
}

// u256 is an unsigned 256-bit integer, least significant word first, for
// chain work. Addition saturates instead of wrapping.
type u256 [4]uint64

func (a u256) add(b u256) u256 {
	var s u256
	var c uint64
	for i := range a {
		s[i], c = bits.Add64(a[i], b[i], c)
	}
	if c != 0 {
		return u256{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
	}
	return s
}

func (a u256) cmp(b u256) int {
	for i := 3; i >= 0; i-- {
		if a[i] != b[i] {
			return cmp.Compare(a[i], b[i])
		}
	}
	return 0
}

// workCache memoizes blockWork: bits change once per 2016 blocks.
type workCache map[uint32]u256

func (c workCache) get(nbits uint32) u256 {
	if w, ok := c[nbits]; ok {
		return w
	}
	w := blockWork(nbits)
	c[nbits] = w
	return w
}

// blockWork is the expected number of hashes for a block of compact target
// nbits: 2^256 / (target+1), or 0 for a negative, zero or overflowing target
// (Core's GetBlockProof).
func blockWork(nbits uint32) u256 {
	mant := int64(nbits & 0x007fffff)
	exp := uint(nbits >> 24)
	if mant == 0 || nbits&0x00800000 != 0 {
		return u256{}
	}
	t := big.NewInt(mant)
	if exp <= 3 {
		t.Rsh(t, 8*(3-exp))
	} else {
		t.Lsh(t, 8*(exp-3))
	}
	if t.Sign() == 0 || t.BitLen() > 256 {
		return u256{}
	}
	w := new(big.Int).Lsh(big.NewInt(1), 256)
	w.Div(w, t.Add(t, big.NewInt(1)))
	var b [32]byte
	w.FillBytes(b[:]) // < 2^256 since target+1 >= 2
	var u u256
	for i := range u {
		for j := range 8 {
			u[i] |= uint64(b[31-8*i-j]) << (8 * j)
		}
	}
	return u
}
