package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
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

// idsView is a store offering BlockRangeIDs whose AddressesByID leaves
// the strings of the ids in lose empty, as a store that broke the rule
// "unknown ids come with strings" would.
type idsView struct {
	Store
	db   *pebble.DB
	lose map[uint64]bool
}

func (v idsView) BlockRangeTxs(ctx context.Context, ch heistgraph.Chain, from, to int64) iter.Seq2[store.BlockRecords, error] {
	return v.db.BlockRangeTxs(ctx, ch, from, to)
}

func (v idsView) BlockRangeIDs(ctx context.Context, ch heistgraph.Chain, from, to int64) iter.Seq2[store.BlockRecords, error] {
	return v.db.BlockRangeIDs(ctx, ch, from, to)
}

func (v idsView) AddressesByID(ctx context.Context, ch heistgraph.Chain, ids []uint64, dst []string) ([]string, error) {
	dst, err := v.db.AddressesByID(ctx, ch, ids, dst)
	for i, s := range ids {
		if v.lose[s] {
			dst[len(dst)-len(ids)+i] = ""
		}
	}
	return dst, err
}

// TestIDOfStoreBrokenRule: a store id the engine meets for the first time
// without its string is an error that wraps heistgraph.ErrConflict and
// names the id and where it was met (it was a panic), from idOfStore's
// every case and from a run over a store whose AddressesByID leaves a
// string out; the run over the honest store clusters.
func TestIDOfStoreBrokenRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openMem(t)
	applyNext(t, []*pebble.DB{db}, storetest.NewGenerator(chain, 3, 8), 20, nil)
	e, err := open(ctx, db, chain, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	known := e.idOf("bcrt1qknown")
	e.sids.set(5, known)
	tests := []struct {
		name string
		s    uint64
		o    *heistgraph.TxOut
		want uint32 // with wantErr empty
		// wantErr holds what the error must name.
		wantErr []string
	}{
		{name: "no address", s: 0, o: nil, want: 0},
		{name: "known id without its string", s: 5, o: nil, want: known},
		{name: "unknown id with its string", s: 6, o: &heistgraph.TxOut{Address: "bcrt1qknown"}, want: known},
		{name: "unknown id without an output", s: 7, o: nil, wantErr: []string{"input 2", "store address id 7", "no output record"}},
		{name: "unknown id with an empty address", s: 8, o: &heistgraph.TxOut{}, wantErr: []string{"input 2", "store address id 8", "an empty address"}},
	}
	for _, tc := range tests {
		id, err := e.idOfStore(tc.s, tc.o, "input", 2)
		if tc.wantErr == nil {
			if err != nil || id != tc.want {
				t.Errorf("%s: idOfStore = %d, %v; want %d", tc.name, id, err, tc.want)
			}
			continue
		}
		if !errors.Is(err, heistgraph.ErrConflict) {
			t.Errorf("%s: idOfStore = %d, %v; want an error wrapping ErrConflict", tc.name, id, err)
			continue
		}
		for _, w := range tc.wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not name %q", tc.name, err, w)
			}
		}
	}
	if got := e.sids.of(6); got != known {
		t.Errorf("the store id met with its string maps to %d, want %d", got, known)
	}

	// A run: the store loses the string of one address of block 10.
	var lost uint64
	for b, err := range db.BlockRangeIDs(ctx, chain, 10, 10) {
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range b.AddrIDs {
			lost = max(lost, s)
		}
	}
	if lost == 0 {
		t.Fatal("block 10 names no address: the case is not tested")
	}
	_, err = Update(ctx, idsView{db, db, map[uint64]bool{lost: true}}, chain, DefaultOptions())
	if !errors.Is(err, heistgraph.ErrConflict) || !strings.Contains(err.Error(), fmt.Sprintf("store address id %d,", lost)) || !strings.Contains(err.Error(), "block 10 ") {
		t.Fatalf("Update over a store that lost address id %d's string = %v; want an ErrConflict naming the id and block 10", lost, err)
	}
	if _, err := Update(ctx, idsView{db, db, nil}, chain, DefaultOptions()); err != nil {
		t.Fatalf("Update over the honest store: %v", err)
	}
}

// TestStoreIDsMap checks storeIDs against a Go map over random ids, on the
// heap and spilled, after a prefix of the store's own ids (s == id) of
// each length, the first broken by the first id.
func TestStoreIDsMap(t *testing.T) {
	for _, c := range []struct {
		dir    string
		prefix uint64
	}{{"", 0}, {"", 1}, {"", 5000}, {t.TempDir(), 0}, {t.TempDir(), 3000}} {
		dir := c.dir
		m := newStoreIDs(dir)
		ref := map[uint64]uint32{}
		for s := uint64(1); s <= c.prefix; s++ {
			m.set(s, uint32(s))
			ref[s] = uint32(s)
		}
		if m.array || m.known != c.prefix+1 {
			t.Fatalf("prefix %d: array %v, known %d", c.prefix, m.array, m.known)
		}
		x := uint64(1)
		for i := range 20000 {
			x = x*6364136223846793005 + 1442695040888963407
			s := x>>44 | 1 // up to about a million
			if i%3 == 0 {
				s = uint64(i) + 1
			}
			if _, ok := ref[s]; ok {
				continue // set names unknown ids only
			}
			id := uint32(x>>20) | 1
			if i%5 == 0 {
				id = uint32(s) // the store's own id, past the prefix
			}
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
