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
// generations (old reporting the older), across the doublings of their
// tables, drops the older generation when the newer is full, and holds
// nothing after clear or a smaller limit.
func TestAddrIDCacheGenerations(t *testing.T) {
	t.Parallel()
	a := &applier{}
	key := func(i int) addrKey { return addrKey{c: chainCode(1 + i%3), addr: fmt.Sprintf("addr-%d", i)} }
	var x addrIDCache
	x.limit(3000, 1) // generations of 2000
	for i := range 5000 {
		k := key(i)
		x.put(a.addrHash(k.addr), k, uint64(i)+1)
	}
	// 0..1999 were dropped, 2000..3999 are the older, 4000..4999 the newer.
	for i := range 5000 {
		k := key(i)
		id, old, ok := x.get(a.addrHash(k.addr), &k)
		switch {
		case i < 2000 && ok:
			t.Fatalf("%d: found %d in a dropped generation", i, id)
		case i >= 2000 && (!ok || id != uint64(i)+1 || old != (i < 4000)):
			t.Fatalf("%d: got %d, old %v, found %v; want %d, old %v", i, id, old, ok, i+1, i < 4000)
		}
	}
	// The same string on another chain is another address.
	k := addrKey{c: 9, addr: "addr-4500"}
	if _, _, ok := x.get(a.addrHash(k.addr), &k); ok {
		t.Fatal("found an address of another chain")
	}
	x.limit(3000, 2) // room for 1500: the 3000 held are dropped
	if k := key(4500); x.gens[0].n+x.gens[1].n != 0 {
		t.Fatalf("%d entries after a smaller limit", x.gens[0].n+x.gens[1].n)
	} else if _, _, ok := x.get(a.addrHash(k.addr), &k); ok {
		t.Fatal("found an id after a smaller limit")
	}
	x.put(1, key(1), 1)
	x.clear()
	if k := key(1); x.gens[0].n != 0 {
		t.Fatal("clear kept entries")
	} else if _, _, ok := x.get(1, &k); ok {
		t.Fatal("found an id after clear")
	}
	x.limit(0, 1)
	x.put(1, key(1), 1)
	if k := key(1); x.gens[0].n != 0 {
		t.Fatal("a cache without room took an entry")
	} else if _, _, ok := x.get(1, &k); ok {
		t.Fatal("found an id in a cache without room")
	}
}
