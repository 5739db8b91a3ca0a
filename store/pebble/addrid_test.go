package pebble

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// checkAddrIDs checks chain's address ids against the schema: every
// totals value holds an id, no two addresses share one, every id is below
// the chain's counter, and every event key's id is an address's (an event
// under an id without totals would be lost to every read and to Digest);
// then the address table (checkAddrTable).
func checkAddrIDs(t *testing.T, d *DB, chain heistgraph.Chain) {
	t.Helper()
	c, ok, err := d.code(chain)
	if err != nil || !ok {
		return
	}
	next, err := nextAddrID(d.db, c)
	if err != nil {
		t.Fatal(err)
	}
	owner := map[uint64]string{}
	lo, hi := tableBounds(prefixAddress, c)
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		t.Fatal(err)
	}
	names := newAddrReader(d.db, c)
	for ok := it.First(); ok; ok = it.Next() {
		tot, err := decodeTotals(it.Value())
		if err != nil {
			t.Fatal(err)
		}
		id, err := addressKeyID(it.Key())
		if err != nil || id != tot.ID {
			t.Fatalf("%s: totals key %x (%v) holds id %d", chain, it.Key(), err, tot.ID)
		}
		addr, err := names.addr(id)
		if err != nil {
			t.Fatal(err)
		}
		if want := appendAddressKey(nil, c, addr, id); !bytes.Equal(it.Key(), want) {
			t.Fatalf("%s: totals of %q (id %d) under key %x, want %x", chain, addr, id, it.Key(), want)
		}
		switch {
		case tot.ID == 0 || tot.ID >= next:
			t.Fatalf("%s: address %q has id %d, counter %d", chain, addr, tot.ID, next)
		case owner[tot.ID] != "":
			t.Fatalf("%s: addresses %q and %q share id %d", chain, owner[tot.ID], addr, tot.ID)
		}
		owner[tot.ID] = addr
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	lo, hi = tableBounds(prefixEvent, c)
	it, err = d.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		id, w := decodeOrdered(it.Key()[len(lo):])
		if w <= 0 || len(it.Key()) != len(lo)+w+eventPosLen {
			t.Fatalf("%s: event key %x: bad form", chain, it.Key())
		}
		if owner[id] == "" {
			t.Fatalf("%s: event key %x under id %d, which no address has", chain, it.Key(), id)
		}
	}
	checkAddrTable(t, d, chain, c, next)
}

// scanTable calls fn with the key (less table prefix and chain code) and
// value of every key of one table of chain code c in d.
func scanTable(t *testing.T, d *DB, prefix byte, c chainCode, fn func(k, v []byte)) {
	t.Helper()
	lo, hi := tableBounds(prefix, c)
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		fn(it.Key()[len(lo):], it.Value())
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
}

// checkAddrTable checks chain's address table (addrtable.go) against the
// schema: it holds an entry for every id given out and for no other (an
// entry outlives a rewind: ids are never reused), the entry of every
// address with totals names that address, and every id an output record
// or a tx record's resolved input holds names the address its events are
// under (the owner of the id in the totals).
// checkAddrIDs calls it with chain code c and its counter next.
func checkAddrTable(t *testing.T, d *DB, chain heistgraph.Chain, c chainCode, next uint64) {
	t.Helper()
	scan := func(prefix byte, fn func(k, v []byte)) { t.Helper(); scanTable(t, d, prefix, c, fn) }
	named := map[uint64]string{}
	scan(prefixAddrByID, func(k, v []byte) {
		id := binary.BigEndian.Uint64(k)
		e, err := decodeAddrEntry(v)
		if len(k) != 8 || err != nil || id == 0 || id >= next {
			t.Fatalf("%s: address table entry %x = %x (%v), counter %d", chain, k, v, err, next)
		}
		named[id] = e.s
	})
	if uint64(len(named)) != next-1 {
		t.Fatalf("%s: %d address table entries for %d ids given out", chain, len(named), next-1)
	}
	owner := map[uint64]string{}
	scan(prefixAddress, func(k, v []byte) {
		tot, err := decodeTotals(v)
		if err != nil {
			t.Fatal(err)
		}
		id, w := decodeOrdered(k[min(8, len(k)):])
		if len(k) < 8 || w == 0 || 8+w != len(k) || id != tot.ID {
			t.Fatalf("%s: totals key %x holds id %d", chain, k, tot.ID)
		}
		addr := named[id]
		if binary.BigEndian.Uint64(k) != addrKeyHash(addr) {
			t.Fatalf("%s: totals of id %d keyed by hash %x, not by that of %q, which the address table names", chain, id, k[:8], addr)
		}
		owner[tot.ID] = addr
	})
	checkID := func(what string, id uint64) {
		t.Helper()
		if id != 0 && owner[id] == "" {
			t.Fatalf("%s: %s names address id %d (%q), which no address with totals has", chain, what, id, named[id])
		}
	}
	scan(prefixOutput, func(k, v []byte) {
		head, err := decodeOutputHead(v)
		if err != nil {
			t.Fatal(err)
		}
		checkID(fmt.Sprintf("output %x", k), head.AddrID)
	})
	scan(prefixTxRec, func(k, v []byte) {
		var rec txRecord
		if err := decodeTxRecord(v, binary.BigEndian.Uint64(k), heistgraph.Hash{}, &rec, pointTxids(d.db, c), nil); err != nil {
			t.Fatal(err)
		}
		for i, in := range rec.Inputs {
			checkID(fmt.Sprintf("tx %x input %d", k, i), in.AddrID)
		}
	})
}

// TestAddrFilter: an address added is always held, whatever the filter's
// size (one block to many), and at 64 bits an address few others are
// (a false positive only costs a lookup, but a filter that held everything
// would make every new address cost one).
func TestAddrFilter(t *testing.T) {
	for _, blocks := range []int{1, 3, 1000} {
		f := &addrFilter{bits: make([]uint64, blocks*8)}
		a := &applier{}
		n := blocks * 512 / 64
		for i := range n {
			f.add(a.addrHash(fmt.Sprintf("addr%d", i)))
		}
		for i := range n {
			if !f.has(a.addrHash(fmt.Sprintf("addr%d", i))) {
				t.Fatalf("%d blocks: addr%d added, not held", blocks, i)
			}
		}
		fp := 0
		for i := range 10000 {
			if f.has(a.addrHash(fmt.Sprintf("other%d", i))) {
				fp++
			}
		}
		if fp > 100 { // about 0.01% expected
			t.Errorf("%d blocks: %d of 10000 other addresses held", blocks, fp)
		}
	}
}

// TestAddrIDCacheGenerations: the ids cache finds every id of its two
// generations (old reporting the older) and no other, across the doublings
// of their tables and the chunks of their arenas (records of every length
// a form may have, ids of every length, a fifth of the addresses sharing
// one hash), takes no more bytes than its bound and at least half of a
// generation's before dropping the older, keeps its room across
// generations, and holds nothing after clear. A smaller limit keeps what
// fits of the newer generation (TestAddrIDCacheLimit).
func TestAddrIDCacheGenerations(t *testing.T) {
	t.Parallel()
	a := &applier{}
	form := func(i int) []byte { return []byte(fmt.Sprintf("%0*d", 1+i*37%idFormMax, i)) }
	chain := func(i int) chainCode { return chainCode(1 + i%3) }
	hash := func(i int) uint64 {
		if i%5 == 0 {
			return 42<<32 | 7
		}
		return a.addrHash(string(form(i)))
	}
	id := func(i int) uint64 { return uint64(i+1) << (i % 55) }
	const bytes = 1 << 20
	var x idGens
	x.limit(bytes)
	const n = 30000
	var starts []int // where each generation began
	for i := range n {
		if x.gens[0].n == 0 || !x.gens[0].room(idRecLen(form(i), id(i)), x.genBytes()) {
			if len(starts) > 0 && x.gens[0].size() < bytes/4 {
				t.Fatalf("put %d: a generation of %d bytes of %d was full", i, x.gens[0].size(), bytes/2)
			}
			starts = append(starts, i)
		}
		x.put(hash(i), chain(i), form(i), id(i))
		if used := x.gens[0].size() + x.gens[1].size(); used > bytes {
			t.Fatalf("put %d: %d bytes, bound %d", i, used, bytes)
		}
	}
	if len(starts) < 4 {
		t.Fatalf("%d generations: the test fills too few", len(starts))
	}
	older, newer := starts[len(starts)-2], starts[len(starts)-1]
	for i := range n {
		got, old, ok := x.get(hash(i), chain(i), form(i))
		switch {
		case i < older && ok:
			t.Fatalf("%d: found %d in a dropped generation", i, got)
		case i >= older && (!ok || got != id(i) || old != (i < newer)):
			t.Fatalf("%d: got %d, old %v, found %v; want %d, old %v", i, got, old, ok, id(i), i < newer)
		}
	}
	// The same form on another chain is another address, and a form too
	// long is not kept.
	if _, _, ok := x.get(hash(n-1), 9, form(n-1)); ok {
		t.Fatal("found an address of another chain")
	}
	long := make([]byte, idFormMax+1)
	x.put(1, 1, long, 1)
	if _, _, ok := x.get(1, 1, long); ok {
		t.Fatal("kept a form longer than idFormMax")
	}
	x.put(1, 1, form(1), 1)
	x.clear()
	if _, _, ok := x.get(1, 1, form(1)); ok || x.entries() != 0 {
		t.Fatal("found an id after clear")
	}
	x.limit(0)
	x.put(1, 1, form(1), 1)
	if _, _, ok := x.get(1, 1, form(1)); ok || x.entries() != 0 {
		t.Fatal("a cache without room took an entry")
	}
}

// TestAddrIDCacheLimit: a smaller bound (a filter's rebuild taking back
// what the cache borrowed) keeps the ids of the newer generation when it
// fits alone, as the older, and drops only what does not fit; the cache
// never takes more than its bound, as it shrinks or after, and once its
// older generation has gone round it holds as many ids as before at the
// new bound. A cache that dropped everything whenever it had to shrink
// (as it did) would look every address up again.
func TestAddrIDCacheLimit(t *testing.T) {
	t.Parallel()
	a := &applier{}
	form := func(i int) []byte { return []byte(fmt.Sprintf("addr%07d", i)) }
	hash := func(i int) uint64 { return a.addrHash(string(form(i))) }
	const bytes = 1 << 20
	for _, tc := range []struct {
		name  string
		bound int64 // in 64ths of bytes
		keep  string
	}{
		{"larger", 96, "all"},
		{"both fit", 63, "all"}, // a full generation and a part of one
		{"newer fits", 40, "newer"},
		{"newer alone", 24, "newer"}, // less than half: the next newer gets what it leaves
		{"newer too large", 8, "none"},
		{"none", 0, "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var x idGens
			x.limit(bytes)
			n := 0
			for x.gens[1].n == 0 || x.gens[0].size() < bytes/4 { // the older full, the newer half
				x.put(hash(n), 1, form(n), uint64(n+1))
				n++
			}
			older := n - x.gens[0].n
			bound := bytes * tc.bound / 64
			x.limit(bound)
			if used := x.size(); used > max(bound, 0) {
				t.Fatalf("%d bytes after a limit of %d", used, bound)
			}
			for i := range n {
				_, old, ok := x.get(hash(i), 1, form(i))
				want := tc.keep == "all" || tc.keep == "newer" && i >= older
				if ok != want {
					t.Fatalf("id %d (older below %d of %d) found %v, want %v", i, older, n, ok, want)
				}
				if ok && tc.keep == "newer" && !old {
					t.Fatalf("id %d of the newer generation kept as the newer", i)
				}
			}
			// Filled again, twice over: never past the bound, and holding
			// at least what two generations of it hold.
			most := 0
			for i := n; i < 3*n; i++ {
				x.put(hash(i), 1, form(i), uint64(i+1))
				if used := x.size(); used > max(bound, 0) {
					t.Fatalf("put %d: %d bytes, bound %d", i, used, bound)
				}
				most = max(most, x.entries())
			}
			if bound > 0 && int64(most) < bound/2/int64(idRecLen(form(n), uint64(n)))/2 {
				t.Errorf("at most %d ids held within %d bytes", most, bound)
			}
			t.Logf("%d ids of %d B kept, at most %d held after", x.entries(), bound, most)
		})
	}
}
