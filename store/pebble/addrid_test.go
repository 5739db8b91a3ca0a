package pebble

import (
	"encoding/binary"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// checkAddrIDs checks chain's address ids against the schema: every
// totals value holds an id, no two addresses share one, every id is below
// the chain's counter, and every event key's id is an address's (an event
// under an id without totals would be lost to every read and to Digest).
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
	for ok := it.First(); ok; ok = it.Next() {
		tot, err := decodeTotals(it.Value())
		if err != nil {
			t.Fatal(err)
		}
		addr := string(it.Key()[len(lo):])
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
		id, w := binary.Uvarint(it.Key()[len(lo):])
		if w <= 0 || len(it.Key()) != len(lo)+w+eventPosLen {
			t.Fatalf("%s: event key %x: bad form", chain, it.Key())
		}
		if owner[id] == "" {
			t.Fatalf("%s: event key %x under id %d, which no address has", chain, it.Key(), id)
		}
	}
}
