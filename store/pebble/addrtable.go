package pebble

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	pebbledb "github.com/cockroachdb/pebble/v2"
)

// The address table (schema.go, y + chain + id(be64) -> address in its
// stored form, addrcodec.go) names the address of every address id the
// store gave out. ApplyBlock writes an id's entry in the batch that gives
// the id out, and nothing ever changes or removes it: ids are never
// reused, so an entry stays true after a rewind removed the address's
// last event (a later event of the address gets a new id, and a second
// entry). Output records and the resolved inputs of tx records name their
// address by id, resolved on read through this table; the clustering's id
// table keeps only the ids whose address is not the one named here
// (clusteraddr.go).

// prefixAddrByID is the address table.
const prefixAddrByID byte = 'y'

// appendAddrByIDKey builds the key of address id id's entry.
func appendAddrByIDKey(dst []byte, c chainCode, id uint64) []byte {
	return appendU64(appendTable(dst, prefixAddrByID, c), id)
}

// addrEntry is an address as the address table names it: its string, and
// its packed parts when it has them (Tag addrString otherwise). Prog
// aliases storage the entry owns.
type addrEntry struct {
	p packedAddr
	s string
}

// decodeAddrEntry decodes an address table value, copying what it keeps.
func decodeAddrEntry(v []byte) (addrEntry, error) {
	r := reader{b: v}
	p, s := r.packed()
	if !r.bad && p.Tag != addrEmpty && p.Tag != addrString {
		p.Prog = bytes.Clone(p.Prog)
		var ok bool
		if s, ok = p.String(); !ok {
			r.fail()
		}
	}
	if p.Tag == addrEmpty || s == "" {
		r.fail() // an address with an id is never empty
	}
	return addrEntry{p: p, s: s}, r.done("address table entry")
}

// addrReader resolves the address ids of one chain through the address
// table of r, remembering what it resolved (entries never change): by
// point lookups, or through one iterator when made by newAddrIter (then
// the caller closes it). It is not safe for concurrent use.
type addrReader struct {
	r    pebbledb.Reader
	c    chainCode
	key  []byte
	seen map[uint64]addrEntry // what it resolved, when it has no shared cache
	// shared is the store's cache (nil: none), asked before r.
	shared *addrCache
	// iter: read through it, opened on first use.
	iter bool
	it   *pebbledb.Iterator
}

// addrReaderMax bounds what an addrReader remembers.
const addrReaderMax = 1 << 14

func newAddrReader(r pebbledb.Reader, c chainCode) *addrReader {
	return &addrReader{r: r, c: c}
}

// newAddrIter returns an addrReader that reads through one iterator over
// r (a snapshot or a batch: an iterator sees what r held when it was
// opened), cheaper than a lookup per id for a reader of many records; a
// block's new addresses have consecutive ids, which the iterator's seeks
// find by stepping.
func newAddrIter(r pebbledb.Reader, c chainCode) *addrReader {
	return &addrReader{r: r, c: c, iter: true}
}

// Close closes the iterator of an addrReader made by newAddrIter.
func (a *addrReader) Close() error {
	if a.it == nil {
		return nil
	}
	err := a.it.Close()
	a.it = nil
	return err
}

// lookup finds the value of a.key.
func (a *addrReader) lookup() (v []byte, found bool, closer io.Closer, err error) {
	if !a.iter {
		v, closer, err = a.r.Get(a.key)
		if errors.Is(err, pebbledb.ErrNotFound) {
			return nil, false, nil, nil
		}
		return v, err == nil, closer, err
	}
	if a.it == nil {
		lo, hi := tableBounds(prefixAddrByID, a.c)
		if a.it, err = a.r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi}); err != nil {
			return nil, false, nil, err
		}
	}
	if !a.it.SeekGE(a.key) || !bytes.Equal(a.it.Key(), a.key) {
		return nil, false, nil, a.it.Error()
	}
	v, err = a.it.ValueAndErr()
	return v, err == nil, noClose, err
}

// noClose is the closer of a value an iterator holds.
var noClose = io.NopCloser(nil)

// entry returns address id id's entry.
func (a *addrReader) entry(id uint64) (addrEntry, error) {
	if e, ok := a.seen[id]; ok {
		return e, nil
	}
	if e, ok := a.shared.get(a.c, id); ok {
		return e, nil
	}
	a.key = appendAddrByIDKey(a.key[:0], a.c, id)
	v, found, closer, err := a.lookup()
	if err != nil {
		return addrEntry{}, err
	}
	if !found {
		return addrEntry{}, fmt.Errorf("address id %d: not in the address table: %w", id, errCorrupt)
	}
	e, err := decodeAddrEntry(v)
	if cerr := closer.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return addrEntry{}, fmt.Errorf("address id %d: %w", id, err)
	}
	if a.shared != nil {
		a.shared.put(a.c, id, e)
	} else {
		a.remember(id, e)
	}
	return e, nil
}

func (a *addrReader) remember(id uint64, e addrEntry) {
	if a.seen == nil || len(a.seen) >= addrReaderMax {
		a.seen = make(map[uint64]addrEntry)
	}
	a.seen[id] = e
}

// addrCache is a store's cache of address table entries, shared by its
// readers: an entry never changes, so nothing is ever stale. It is direct
// mapped on the id (the ids a reader asks for together are mostly near
// each other), allocated on first use. Safe for concurrent use; a nil
// cache holds nothing.
type addrCache struct {
	mu    sync.Mutex
	slots []addrSlot
}

type addrSlot struct {
	c  chainCode
	id uint64 // 0: empty
	e  addrEntry
}

// addrCacheSlots is the size of an addrCache: about 3 MiB of slots.
const addrCacheSlots = 1 << 15

func (ac *addrCache) get(c chainCode, id uint64) (addrEntry, bool) {
	if ac == nil {
		return addrEntry{}, false
	}
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if ac.slots == nil {
		return addrEntry{}, false
	}
	s := &ac.slots[id%addrCacheSlots]
	if s.id != id || s.c != c {
		return addrEntry{}, false
	}
	return s.e, true
}

func (ac *addrCache) put(c chainCode, id uint64, e addrEntry) {
	if ac == nil {
		return
	}
	ac.mu.Lock()
	if ac.slots == nil {
		ac.slots = make([]addrSlot, addrCacheSlots)
	}
	ac.slots[id%addrCacheSlots] = addrSlot{c: c, id: id, e: e}
	ac.mu.Unlock()
}

// addrIter is newAddrIter with the store's cache.
func (d *DB) addrIter(r pebbledb.Reader, c chainCode) *addrReader {
	a := newAddrIter(r, c)
	a.shared = &d.addrCache
	return a
}

// addr returns the address of id (the empty string for id 0: no address).
func (a *addrReader) addr(id uint64) (string, error) {
	if id == 0 {
		return "", nil
	}
	e, err := a.entry(id)
	return e.s, err
}
