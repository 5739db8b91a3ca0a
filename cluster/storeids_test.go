package cluster

import (
	"cmp"
	"context"
	"iter"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// rangeView is a store offering BlockRangeTxs but not BlockRangeIDs (the
// clustering reads the addresses' strings). Its roles' methods are
// declared: an embedded role's field name would shadow its method.
type rangeView struct {
	Store
	db *pebble.DB
}

func (v rangeView) BlockRangeTxs(ctx context.Context, ch heistgraph.Chain, from, to int64) iter.Seq2[store.BlockRecords, error] {
	return v.db.BlockRangeTxs(ctx, ch, from, to)
}

// blockTxsView is a store offering BlockTxs only of the bulk reads.
type blockTxsView struct {
	Store
	db *pebble.DB
}

func (v blockTxsView) BlockTxs(ctx context.Context, ch heistgraph.Chain, h int64) iter.Seq2[heistgraph.TxRecord, error] {
	return v.db.BlockTxs(ctx, ch, h)
}

// TestStoreIDsAfterSecondIDs: an Engine that keeps its state while the
// store rewinds blocks it clustered and applies the same blocks again (so
// that their hashes still match and the engine does not rewind) meets
// addresses the store gave a second id; it finds them by their strings,
// and clusters as a run from scratch over a store that never rewound, and
// as a run that reads the strings.
func TestStoreIDsAfterSecondIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gen := storetest.NewGenerator(chain, 7, 12)
	var blocks []*heistgraph.Block
	for range 60 {
		blocks = append(blocks, gen.Next())
	}
	st, ref, strs := openMem(t), openMem(t), openMem(t)
	apply := func(db *pebble.DB, bs []*heistgraph.Block) {
		t.Helper()
		for _, b := range bs {
			if err := db.ApplyBlock(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	apply(st, blocks[:30])
	eng, err := Open(ctx, st, chain, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Update(ctx); err != nil {
		t.Fatal(err)
	}
	// The addresses first paid in blocks 20 to 29, as the store names them
	// before and after it rewinds and applies those blocks again.
	storeIDs := func() map[string]uint64 {
		out := map[string]uint64{}
		for b, err := range st.BlockRangeIDs(ctx, chain, 20, 29) {
			if err != nil {
				t.Fatal(err)
			}
			ids := b.AddrIDs
			for i := range b.Txs {
				_, outs, rest := store.TxAddrIDs(ids, &b.Txs[i].Tx)
				ids = rest
				for _, s := range outs {
					if s == 0 {
						continue
					}
					a, err := st.AddressesByID(ctx, chain, []uint64{s}, nil)
					if err != nil {
						t.Fatal(err)
					}
					out[a[0]] = s
				}
			}
		}
		return out
	}
	before := storeIDs()
	if err := st.RewindTo(ctx, chain, 19); err != nil {
		t.Fatal(err)
	}
	apply(st, blocks[20:30])
	after := storeIDs()
	second := 0
	for a, s := range after {
		if before[a] != s {
			second++
		}
	}
	if second == 0 {
		t.Fatal("no address got a second id: the case is not tested")
	}
	apply(st, blocks[30:])
	if _, err := eng.Update(ctx); err != nil {
		t.Fatal(err)
	}
	apply(ref, blocks)
	apply(strs, blocks)
	if _, err := Update(ctx, ref, chain, DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	if _, err := Update(ctx, rangeView{strs, strs}, chain, DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	want := memberships(t, ref)
	if len(want) < 100 || len(evidence(t, ref)) < 10 {
		t.Fatalf("too little clustered to compare: %d addresses", len(want))
	}
	for name, db := range map[string]*pebble.DB{"engine across the rewind": st, "strings": strs} {
		if !slices.Equal(memberships(t, db), want) || !slices.EqualFunc(evidence(t, db), evidence(t, ref), evidenceEqual) {
			t.Errorf("%s: the clustering differs from a run over a store that never rewound (%d addresses with a second id)", name, second)
		}
	}
}

// TestStoreIDsMap checks storeIDs against a Go map over random ids, on the
// heap and spilled.
func TestStoreIDsMap(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		m := newStoreIDs(dir)
		ref := map[uint64]uint32{}
		x := uint64(1)
		for i := range 20000 {
			x = x*6364136223846793005 + 1442695040888963407
			s := x >> 44 // up to about a million
			if i%3 == 0 {
				s = uint64(i)
			}
			id := uint32(x>>20) | 1
			m.set(s, id)
			ref[s] = id
		}
		for s, id := range ref {
			if got := m.of(s); got != id {
				t.Fatalf("dir %q: of(%d) = %d, want %d", dir, s, got, id)
			}
		}
		for s := uint64(0); s < 1<<21; s += 7 {
			if _, ok := ref[s]; !ok && m.of(s) != 0 {
				t.Fatalf("dir %q: of(%d) = %d, never set", dir, s, m.of(s))
			}
		}
		if m.err != nil {
			t.Fatal(m.err)
		}
	}
}

// TestLargest2 checks largest2 against sorting a copy of the roots by
// size with slices.SortFunc (what guard did), over random roots and sizes
// with many ties.
func TestLargest2(t *testing.T) {
	m, err := newMembers(64, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 64 {
		m.add()
	}
	e := &engine{m: m}
	x := uint64(7)
	rnd := func(n uint64) uint64 {
		x = x*6364136223846793005 + 1442695040888963407
		return x >> 33 % n
	}
	for range 20000 {
		perm := rand.Perm(63)
		roots := make([]uint32, 2+rnd(18))
		for i := range roots {
			roots[i] = uint32(perm[i] + 1)
			m.setSize(roots[i], uint32(1+rnd(4)))
		}
		order := slices.Clone(roots)
		slices.SortFunc(order, func(a, b uint32) int { return cmp.Compare(m.sizeOf(b), m.sizeOf(a)) })
		if a, b := e.largest2(roots); a != order[0] || b != order[1] {
			t.Fatalf("roots %v sizes %v: %d, %d, want %d, %d", roots, sizes(m, roots), a, b, order[0], order[1])
		}
	}
}

func sizes(m *members, ids []uint32) []uint32 {
	out := make([]uint32, len(ids))
	for i, id := range ids {
		out[i] = m.sizeOf(id)
	}
	return out
}
