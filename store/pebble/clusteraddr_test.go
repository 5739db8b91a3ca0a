package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// storeAddrs returns chain code c's addresses in the order of their ids in
// the store (index 0 unused: ids start at 1).
func storeAddrs(t *testing.T, d *DB, c chainCode) []string {
	t.Helper()
	lo, hi := tableBounds(prefixAddress, c)
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	byID := map[uint64]string{}
	names := newAddrReader(d.db, c)
	for ok := it.First(); ok; ok = it.Next() {
		tot, err := decodeTotals(it.Value())
		if err != nil {
			t.Fatal(err)
		}
		if byID[tot.ID], err = names.addr(tot.ID); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]string, len(byID)+1)
	for id, a := range byID {
		if id == 0 || id >= uint64(len(out)) {
			t.Fatalf("address %q has id %d of %d", a, id, len(byID))
		}
		out[id] = a
	}
	return out
}

// clusterAddrStore returns a store holding six generated blocks, its chain
// code and its addresses in the order of their ids (storeAddrs).
func clusterAddrStore(t *testing.T) (*DB, chainCode, []string) {
	t.Helper()
	const ch = heistgraph.ChainBTCRegtest
	db := openMem(t, 1<<20)
	g := storetest.NewGenerator(ch, 3, 4)
	mustApply(t, db, g.Next(), g.Next(), g.Next(), g.Next(), g.Next(), g.Next())
	code, _, err := db.code(ch)
	if err != nil {
		t.Fatal(err)
	}
	s := storeAddrs(t, db, code)
	if len(s) < 12 {
		t.Fatalf("%d addresses in the store, want 11 or more", len(s)-1)
	}
	return db, code, s
}

// commitInRun adds cb to a run of its own and commits it.
func commitInRun(t *testing.T, db *DB, cb *store.ClusterBatch) {
	t.Helper()
	ctx := context.Background()
	r, err := db.ClusterRun(ctx, heistgraph.ChainBTCRegtest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Add(ctx, cb); err != nil {
		t.Fatal(err)
	}
	if err := r.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// clusterAddrModel is what main's schema (an address table entry for every
// address) answers: the last id given an address, until a rewind removes
// the id the table names it by.
type clusterAddrModel struct {
	byAddr map[string]uint64
	byID   map[uint64]string
}

func (m *clusterAddrModel) give(first uint64, addrs []string) {
	for i, a := range addrs {
		m.byAddr[a] = first + uint64(i)
		m.byID[first+uint64(i)] = a
	}
}

func (m *clusterAddrModel) rewind(first uint64) {
	for id, a := range m.byID {
		if id >= first {
			delete(m.byAddr, a)
			delete(m.byID, id)
		}
	}
}

// TestClusterAddrExceptions gives clustering ids that are mostly the
// store's own and some that are not (two addresses swapped, an address
// the store does not hold, an address given again, first under another id
// and then under its own), through both ways a commit writes, and checks
// AddressCluster against what an entry for every address answers, and
// that the address table holds exactly the ids that are not the store's.
func TestClusterAddrExceptions(t *testing.T) { bothCommitWays(t, testClusterAddrExceptions) }

func testClusterAddrExceptions(t *testing.T) {
	ctx := context.Background()
	const ch = heistgraph.ChainBTCRegtest
	db, code, s := clusterAddrStore(t)
	m := &clusterAddrModel{byAddr: map[string]uint64{}, byID: map[uint64]string{}}
	// Ids 1..4: s1, s2 own, s5 not (3), s4 own. Ids 5..: s5 again (own),
	// an address the store lacks, s7.. own; s3 and s6 never given (the
	// id table names others under their ids).
	batches := [][]string{
		{s[1], s[2], s[5], s[4]},
		append([]string{s[5], "not-in-the-store"}, s[7:]...),
	}
	next := uint64(1)
	for h, addrs := range batches {
		commitInRun(t, db, &store.ClusterBatch{Block: &heistgraph.ClusterBlock{Height: int64(h), FirstAddr: next}, NewAddresses: addrs})
		m.give(next, addrs)
		next += uint64(len(addrs))
		checkClusterAddrs(t, db, code, m, s)
	}
	if err := db.RewindClusters(ctx, ch, 0); err != nil {
		t.Fatal(err)
	}
	m.rewind(uint64(len(batches[0]) + 1))
	checkClusterAddrs(t, db, code, m, s)
	// Swapped: both are exceptions, and found by them.
	cb := &store.ClusterBatch{Block: &heistgraph.ClusterBlock{Height: 1, FirstAddr: 5}, NewAddresses: []string{s[6], s[5]}, Rebuilt: true}
	if err := db.WriteClusters(ctx, ch, cb); err != nil {
		t.Fatal(err)
	}
	m.give(5, cb.NewAddresses)
	checkClusterAddrs(t, db, code, m, s)
}

// checkClusterAddrs checks AddressCluster for every address of the store
// and of m against m, and that the address table holds exactly the
// addresses whose id is not their id in the store.
func checkClusterAddrs(t *testing.T, db *DB, c chainCode, m *clusterAddrModel, s []string) {
	t.Helper()
	ctx := context.Background()
	addrs := append(slices.Clone(s[1:]), "not-in-the-store", "never-given")
	wantTable := map[string]uint64{}
	for _, a := range addrs {
		want, ok := m.byAddr[a]
		got, err := db.AddressCluster(ctx, heistgraph.ChainBTCRegtest, a)
		switch {
		case !ok && !errors.Is(err, heistgraph.ErrNotFound):
			t.Fatalf("address %q: got id %d, %v; want not found", a, got.AddrID, err)
		case ok && (err != nil || got.AddrID != want):
			t.Fatalf("address %q: got id %d, %v; want %d", a, got.AddrID, err, want)
		}
		if ok && (!slices.Contains(s, a) || s[want] != a) {
			wantTable[a] = want
		}
	}
	gotTable := clusterAddrTable(t, db, c)
	if len(gotTable) != len(wantTable) {
		t.Fatalf("address table %v, want %v", gotTable, wantTable)
	}
	for a, id := range wantTable {
		if gotTable[a] != id {
			t.Fatalf("address table %v, want %v", gotTable, wantTable)
		}
	}
	checkClusterIDs(t, db, c, m, s)
}

// clusterAddrTable returns chain code c's cluster address table.
func clusterAddrTable(t *testing.T, db *DB, c chainCode) map[string]uint64 {
	t.Helper()
	lo, hi := clusterTableBounds(c, clusterAddr)
	it, err := db.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	table := map[string]uint64{}
	for ok := it.First(); ok; ok = it.Next() {
		r, v := reader{b: it.Key()[len(lo):]}, reader{b: it.Value()}
		table[r.str()] = v.uvarint()
	}
	return table
}

// checkClusterIDs checks ClusterAddress, ClusterSize and Memberships for
// every id of m and the ids around them against m, and that the id table
// holds exactly the ids whose address is not the one the store gave the id
// (the store's address table names the others).
func checkClusterIDs(t *testing.T, db *DB, c chainCode, m *clusterAddrModel, s []string) {
	t.Helper()
	ctx := context.Background()
	const ch = heistgraph.ChainBTCRegtest
	var top uint64
	for id := range m.byID {
		top = max(top, id)
	}
	wantTable := map[uint64]string{}
	for id := uint64(0); id <= top+2; id++ {
		want, ok := m.byID[id]
		got, err := db.ClusterAddress(ctx, ch, id)
		size, serr := db.ClusterSize(ctx, ch, id)
		switch {
		case !ok && (!errors.Is(err, heistgraph.ErrNotFound) || !errors.Is(serr, heistgraph.ErrNotFound)):
			t.Fatalf("id %d: address %q (%v), size %d (%v); want not found", id, got, err, size, serr)
		case ok && (err != nil || got != want || serr != nil || size != 1):
			t.Fatalf("id %d: address %q (%v), size %d (%v); want %q of a cluster of 1", id, got, err, size, serr, want)
		}
		if ok && (id >= uint64(len(s)) || s[id] != want) {
			wantTable[id] = want
		}
	}
	lo, hi := clusterTableBounds(c, clusterID)
	it, err := db.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	gotTable := map[uint64]string{}
	for ok := it.First(); ok; ok = it.Next() {
		gotTable[binary.BigEndian.Uint64(it.Key()[len(lo):])] = string(it.Value())
	}
	if !maps.Equal(gotTable, wantTable) {
		t.Fatalf("id table %v, want %v", gotTable, wantTable)
	}
	var members []store.ClusterMember
	for mb, err := range db.Memberships(ctx, ch) {
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, mb)
	}
	if len(members) != len(m.byID) {
		t.Fatalf("%d memberships, want %d", len(members), len(m.byID))
	}
	for i, mb := range members {
		id := uint64(i + 1)
		if mb.AddrID != id || mb.ClusterID != id || mb.Address != m.byID[id] {
			t.Fatalf("membership %d: %+v, want address %q, its own cluster", i, mb, m.byID[id])
		}
	}
}

// TestClusterAddrNamedAfterRewind: a commit trusts the store's ids that a
// batch names its new addresses by (store.ClusterBatch.NewAddressIDs)
// only when no rewind can have removed them since they were given out
// (addrKeptFrom, kept in the store). The store gives ids, rewinds the blocks that hold the
// whole history of some addresses and applies them again, which gives
// those addresses new ids; a batch then names every address by the id it
// had before the rewind, as records read before it would: the ids that
// were replaced must be kept as exceptions (trusting them would leave
// AddressCluster answering the addresses' new ids, which the clustering
// never gave them). A second batch gives the moved addresses their new
// ids, named by them: trusted, and their earlier entries go.
func TestClusterAddrNamedAfterRewind(t *testing.T) {
	bothCommitWays(t, testClusterAddrNamedAfterRewind)
}

func testClusterAddrNamedAfterRewind(t *testing.T) {
	ctx := context.Background()
	const ch = heistgraph.ChainBTCRegtest
	db := openMem(t, 1<<20)
	g := storetest.NewGenerator(ch, 3, 4)
	var blocks []*heistgraph.Block
	for range 6 {
		blocks = append(blocks, g.Next())
	}
	mustApply(t, db, blocks...)
	code, _, err := db.code(ch)
	if err != nil {
		t.Fatal(err)
	}
	kept := func(what string, want uint64) {
		t.Helper()
		if from, err := db.addrKeptFrom(code); err != nil || from != want {
			t.Fatalf("%s: ids from %d (%v) kept, want from %d", what, from, err, want)
		}
		db.addrKept.Delete(code) // as a new process reads it
		if from, err := db.addrKeptFrom(code); err != nil || from != want {
			t.Fatalf("%s, read again: ids from %d (%v) kept, want from %d", what, from, err, want)
		}
	}
	kept("never rewound", 1)
	before := storeAddrs(t, db, code)
	n := uint64(len(before) - 1)
	if err := db.RewindTo(ctx, ch, 2); err != nil {
		t.Fatal(err)
	}
	kept("after a rewind", n+1)
	mustApply(t, db, blocks[3:]...)
	if err := db.RewindTo(ctx, ch, 8); err != nil { // nothing to remove
		t.Fatal(err)
	}
	kept("after blocks applied again", n+1)
	// The store's ids now: the moved addresses' new ones, in id order.
	now := map[string]uint64{}
	var moved []string
	for id := n + 1; ; id++ {
		v, found, err := lookup(db.db, appendAddrByIDKey(nil, code, id), nil)
		if err != nil || !found {
			break
		}
		e, err := decodeAddrEntry(v)
		if err != nil {
			t.Fatal(err)
		}
		a := e.s
		sid, ok, err := storedAddrID(db.db, code, a)
		if err != nil || !ok || sid != id {
			t.Fatalf("address %q: id %d in its totals, %d in the address table", a, sid, id)
		}
		now[a] = id
		moved = append(moved, a)
	}
	if len(moved) == 0 {
		t.Fatal("no address got a new id: the test proves nothing")
	}
	m := &clusterAddrModel{byAddr: map[string]uint64{}, byID: map[uint64]string{}}
	commit := func(h int64, first uint64, addrs []string) {
		t.Helper()
		ids := make([]uint64, len(addrs))
		for i := range ids {
			ids[i] = first + uint64(i)
		}
		commitInRun(t, db, &store.ClusterBatch{Block: &heistgraph.ClusterBlock{Height: h, FirstAddr: first}, NewAddresses: addrs, NewAddressIDs: ids})
		m.give(first, addrs)
	}
	check := func(wantTable map[string]uint64) {
		t.Helper()
		for _, a := range before[1:] {
			got, err := db.AddressCluster(ctx, ch, a)
			if err != nil || got.AddrID != m.byAddr[a] {
				t.Fatalf("address %q: id %d (%v), want %d", a, got.AddrID, err, m.byAddr[a])
			}
		}
		for id, a := range m.byID {
			if got, err := db.ClusterAddress(ctx, ch, id); err != nil || got != a {
				t.Fatalf("id %d: address %q (%v), want %q", id, got, err, a)
			}
		}
		if gotTable := clusterAddrTable(t, db, code); !maps.Equal(gotTable, wantTable) {
			t.Fatalf("address table %v, want %v", gotTable, wantTable)
		}
	}
	// Named by the ids of before the rewind: the moved ones are not the
	// store's own any more.
	commit(0, 1, before[1:])
	want := map[string]uint64{}
	for _, a := range moved {
		want[a] = m.byAddr[a]
	}
	check(want)
	// The moved addresses under their new ids, named by them.
	commit(1, n+1, moved)
	check(map[string]uint64{})
}

// TestClusterAddrNamedOwn: batches that name their new addresses by the
// store's ids they get (store.ClusterBatch.NewAddressIDs, none rewound)
// leave no entry in the address and id tables, whether the address table
// is empty (the commit then writes nothing there) or holds exceptions of
// an earlier batch (two addresses given each other's ids, named by their
// own ids, so not named by the ones they get: read from the totals).
func TestClusterAddrNamedOwn(t *testing.T) { bothCommitWays(t, testClusterAddrNamedOwn) }

func testClusterAddrNamedOwn(t *testing.T) {
	db, code, s := clusterAddrStore(t)
	m := &clusterAddrModel{byAddr: map[string]uint64{}, byID: map[uint64]string{}}
	batches := []struct {
		addrs []string
		ids   []uint64
	}{
		{s[1:5], []uint64{1, 2, 3, 4}},
		{[]string{s[6], s[5]}, []uint64{6, 5}},
		{s[7:], nil},
	}
	for i := 7; i < len(s); i++ {
		batches[2].ids = append(batches[2].ids, uint64(i))
	}
	next := uint64(1)
	for h, b := range batches {
		commitInRun(t, db, &store.ClusterBatch{Block: &heistgraph.ClusterBlock{Height: int64(h), FirstAddr: next}, NewAddresses: b.addrs, NewAddressIDs: b.ids})
		m.give(next, b.addrs)
		next += uint64(len(b.addrs))
		checkClusterAddrs(t, db, code, m, s)
	}
}
