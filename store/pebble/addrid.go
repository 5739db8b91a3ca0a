package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"runtime"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// Address ids (schema.go): ApplyBlock gives an address its id the first
// time it has an event, from the chain's counter (m + "addrid/" + chain),
// and keeps the id in the address's totals. Finding the id of an
// address seen before is a lookup of its totals (findTotals: the entries
// under its hash, confirmed by the address table), which the ids cache
// answers for most addresses during ingest.

// addrKey names an address of one chain.
type addrKey struct {
	c    chainCode
	addr string
}

// addrIDEntryBytes is the unit the ids cache's share of the memory and the
// filters are sized in: what an entry of the Go map it once was took (the
// map's 161–175 bytes measured at 3–32 MiB, TestCacheBytes). The cache
// now counts its own bytes exactly (idcache.go) and holds an entry in
// about 45 of them.
const addrIDEntryBytes = 176

// The address filter and the txid filter of an initial ingest start at
// these bytes per addrIDEntryBytes of the ids cache (a quarter and an
// eighth of the 112 bytes an entry was counted before, which sized them),
// at most their parts of Options.FilterBytes, and grow from there with the
// chain (ingestfilter.go).
const (
	addrFilterBytesPerID = 28
	txidFilterBytesPerID = 14
)

// idCacheBytes is the ids cache's share of the store's cache bytes (the
// output cache's, Options.UTXOCacheSize): 5/7 as many addrIDEntryBytes as
// the output cache has entries, the ratio they always had.
func idCacheBytes(cacheBytes int64) int64 {
	return cacheBytes / utxoEntryBytes * 5 / 7 * addrIDEntryBytes
}

// runIDs is what the run being built knows of address ids: the ids it read
// or gave out, and the chain's next id once the run has read its counter
// (next 0: not read). A run holds blocks of one chain.
type runIDs struct {
	ids idTable
	// fresh are the ids of ids that the cache did not give (read from
	// the store or given out): those the cache takes (cacheIDs), with
	// their addresses' stored forms in forms.
	fresh []freshID
	forms []byte
	runCounter
}

// freshID is an address id the run read from the store or gave out (or
// found in the cache but for its reused part's newer generation), h its
// address's hash, c its chain and forms[at:end] its stored form; seen
// that the run did not give it out (addrIDCache.put).
type freshID struct {
	id, h   uint64
	at, end int
	c       chainCode
	seen    bool
}

// addFresh adds id of the address of chain c whose hash is h and whose
// stored form is form to r.fresh; seen that the run did not give it out.
func (r *runIDs) addFresh(c chainCode, h uint64, form []byte, id uint64, seen bool) {
	at := len(r.forms)
	r.forms = append(r.forms, form...)
	r.fresh = append(r.fresh, freshID{id: id, h: h, at: at, end: len(r.forms), c: c, seen: seen})
}

// idTable holds the ids the run knows by address, in place of a map keyed
// by the address string: an open-addressed table, a power of two long and
// at most half full, whose slots hold the high 32 bits of the address's
// hash (addrHash, which the chain's filter takes too: one hash an address)
// and 1 + the index of its entry in ents (0: empty). An entry's string is
// compared only when those bits match.
type idTable struct {
	slots []uint64
	ents  []idEntry
}

// idEntry is an address the run knows, its id and its hash.
type idEntry struct {
	k  addrKey
	id uint64
	h  uint64
}

// find returns the id of k, whose hash is h.
func (x *idTable) find(h uint64, k *addrKey) (uint64, bool) {
	if len(x.ents) == 0 {
		return 0, false
	}
	mask := uint64(len(x.slots) - 1)
	tag := h &^ (1<<32 - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return 0, false
		}
		if s&^(1<<32-1) == tag {
			if e := &x.ents[uint32(s)-1]; e.k == *k {
				return e.id, true
			}
		}
	}
}

// put adds k, whose hash is h and which the table does not hold, with id.
func (x *idTable) put(h uint64, k addrKey, id uint64) {
	if 2*(len(x.ents)+1) > len(x.slots) {
		x.rebuild(max(1024, 2*len(x.slots)))
	}
	x.ents = append(x.ents, idEntry{k, id, h})
	x.place(h, len(x.ents))
}

// place puts j1 (1 + an entry's index), with h's high bits, in h's first
// empty slot.
func (x *idTable) place(h uint64, j1 int) {
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = h&^(1<<32-1) | uint64(j1)
}

// rebuild makes the table n slots long (a power of two) and places its
// entries again.
func (x *idTable) rebuild(n int) {
	x.slots = make([]uint64, n)
	for j := range x.ents {
		x.place(x.ents[j].h, j+1)
	}
}

// reset empties the table, keeping its room.
func (x *idTable) reset() {
	if len(x.ents) > 0 {
		clear(x.slots)
	}
	clear(x.ents) // drop the address strings
	x.ents = x.ents[:0]
}

// runCounter is one of a run's per-chain counters (address ids,
// transaction numbers): the chain's next value once the run has read it
// (next 0: not read). A run holds blocks of one chain.
type runCounter struct {
	c     chainCode
	next  uint64
	first uint64 // next when the run read it
	given bool   // the run gave out values: its batch writes the counter
}

// take gives out chain c's next value, reading the counter stored under
// key(c) first when the run has not read it.
func (r *runCounter) take(db pebbledb.Reader, c chainCode, key func(chainCode) []byte, what string) (uint64, error) {
	if r.next == 0 || r.c != c {
		if r.given {
			return 0, fmt.Errorf("%s of two chains in one run: %w", what, errCorrupt)
		}
		next, err := readCounter(db, key(c), what+" counter")
		if err != nil {
			return 0, err
		}
		r.c, r.next, r.first = c, next, next
	}
	v := r.next
	r.next++
	r.given = true
	return v, nil
}

// write adds the counter to w when the run gave out values.
func (r *runCounter) write(w *sortedWrites, key func(chainCode) []byte) error {
	if !r.given {
		return nil
	}
	return w.Set(key(r.c), appendUvarint(nil, r.next), nil)
}

func (r *runIDs) reset() {
	r.ids.reset()
	r.fresh = r.fresh[:0]
	r.forms = r.forms[:0]
	r.c, r.next, r.first, r.given = 0, 0, 0, false
}

// givenFrom returns the first of chain c's values given out since the
// counter stood at mark (next when a block started; 0: not read then):
// the values from it on were given out since.
func (r *runCounter) givenFrom(c chainCode, mark uint64) uint64 {
	switch {
	case !r.given || r.c != c:
		return math.MaxUint64
	case mark == 0:
		return r.first
	}
	return mark
}

// addrID returns the id of addr on chain c: from the run, the cache, or
// the address's stored totals, and otherwise a new id from the chain's
// counter. The caller holds DB.writeMu.
func (a *applier) addrID(db pebbledb.Reader, c chainCode, addr string) (uint64, error) {
	return a.hashedAddrID(db, c, addr, nil, nil)
}

// hashedAddrID is addrID given the preparation of the output whose address
// addr is (nil: none, for an input's) and what stageAddrs found of it (nil:
// nothing).
func (a *applier) hashedAddrID(db pebbledb.Reader, c chainCode, addr string, pr *outPrep, st *addrStage) (uint64, error) {
	var h uint64
	hashed := pr != nil
	if hashed {
		h = pr.h
	}
	f, err := a.newFilter(db, c)
	if err != nil {
		return 0, err
	}
	k := addrKey{c, addr}
	var kh uint64 // addr's addrKeyHash, the filter's hash
	if f != nil {
		// Every address with an id went through the filter (giveID), so
		// one it does not hold is new: neither the run nor the cache is
		// asked (a new address would miss both).
		if pr != nil {
			kh = pr.kh
		} else {
			kh = addrKeyHash(addr)
		}
		var held bool
		if st != nil {
			held = st.held
			if !held && a.dirty.has(f, kh) {
				// An address the stage found new may have been given
				// its id since, as an input's (whose bits the stage did
				// not see): then the run holds it.
				if id, ok := a.ids.ids.find(h, &k); ok {
					return id, nil
				}
			}
		} else {
			held = f.has(kh)
		}
		if !held {
			if !hashed {
				h = a.addrHash(addr)
			}
			return a.giveID(db, c, k, f, h, kh, pr, st)
		}
	}
	if !hashed {
		h = a.addrHash(addr)
	}
	r := &a.ids
	if id, ok := r.ids.find(h, &k); ok {
		return id, nil
	}
	form := a.formOf(addr, pr)
	var id uint64
	var old, ok bool
	if st != nil && st.asked {
		id, old, ok = st.id, st.old, st.ok
	} else {
		id, old, ok = a.idCache.get(h, c, form)
	}
	if ok {
		r.ids.put(h, k, id)
		if old {
			r.addFresh(c, h, form, id, true)
		}
		return id, nil
	}
	id, found, err := a.storedAddrID(db, c, addr, pr)
	if err != nil {
		return 0, err
	}
	if found {
		r.ids.put(h, k, id)
		r.addFresh(c, h, form, id, true)
		return id, nil
	}
	return a.giveID(db, c, k, f, h, kh, pr, st)
}

// giveID gives address k a new id from chain c's counter, and adds it to
// the chain's filter f (nil: none) unless stageAddrs did (st, what it found
// of the address: nil, none); h is its hash (addrHash), kh its addrKeyHash
// (with f), pr the preparation of the output whose address it is (nil:
// none).
func (a *applier) giveID(db pebbledb.Reader, c chainCode, k addrKey, f *addrFilter, h, kh uint64, pr *outPrep, st *addrStage) (uint64, error) {
	r := &a.ids
	id, err := r.take(db, c, metaAddrIDKey, "address id")
	if err != nil {
		return 0, err
	}
	r.ids.put(h, k, id)
	a.counts.addrIDs.Add(1)
	if f != nil && (st == nil || st.held) {
		f.add(kh)
		if st == nil {
			a.dirty.mark(f, kh) // not an output's: stageAddrs did not see it
		}
	}
	a.idKey = appendAddrByIDKey(a.idKey[:0], c, id)
	a.idVal = append(a.idVal[:0], a.formOf(k.addr, pr)...)
	r.addFresh(c, h, a.idVal, id, false)
	return id, a.w.Set(a.idKey, a.idVal, nil)
}

// formOf returns addr's stored form (addrcodec.go), valid until its next
// call; pr is the preparation of the output whose address addr is (nil:
// none).
func (a *applier) formOf(addr string, pr *outPrep) []byte {
	if pr != nil && pr.own {
		a.form = appendAddrForm(a.form[:0], addr, &pr.p, pr.ok)
		return a.form
	}
	p := a.packedOf(addr)
	if p == nil {
		p = &packedAddr{}
	}
	a.form = appendAddrForm(a.form[:0], addr, p, a.givenOK)
	return a.form
}

// packedOut returns the packed form of addr, the address of the output
// prepared as pr (nil: it does not pack).
func (a *applier) packedOut(pr *outPrep, addr string) *packedAddr {
	if !pr.own {
		return a.packedOf(addr)
	}
	if !pr.ok {
		return nil
	}
	return &pr.p
}

// outPreps returns the preparation of the outputs of b, block k of the
// run: the run's (runPrep), or for a block past those, one made now.
func (a *applier) outPreps(k int, b *heistgraph.Block) []outPrep {
	if k < len(a.prep.blocks) {
		return a.prep.of(k)
	}
	a.spare.start([]*heistgraph.Block{b}, a.hashSeed())
	return a.spare.of(0)
}

// packedOf returns the packed form of addr (nil: it does not pack): the
// one giveID made when it gave addr its id just now, or a new one.
func (a *applier) packedOf(addr string) *packedAddr {
	if addr != a.given {
		a.given = addr
		a.givenP, a.givenOK = packAddrInto(&a.givenBuf, addr)
	}
	if !a.givenOK {
		return nil
	}
	return &a.givenP
}

// addrReader returns the applier's reader of chain c's address table: one
// iterator for the run (runreads.go), which closeReads closes.
func (a *applier) addrReader(db pebbledb.Reader, c chainCode) *addrReader {
	if a.addrs == nil || a.addrs.c != c || a.addrs.r != db {
		if a.addrs != nil {
			a.addrs.Close() // nothing was read through it that an error could spoil
		}
		a.addrs = newAddrIter(db, c)
	}
	return a.addrs
}

// closeReads closes the run's iterators over the store (at the end of its
// build): the next run reads what this one wrote.
func (a *applier) closeReads() error {
	a.ahead.stopReads()
	a.run = nil
	var err error
	if a.addrs != nil {
		err = a.addrs.Close()
	}
	return errors.Join(err, a.reads.close())
}

// An addrFilter is a Bloom filter of the addresses of one chain that have
// ids, by their addrKeyHash, kept by the process that gave every one of
// them out: it is made only for a chain whose counter is unset when the
// process first gives it an id (no address of the chain has totals yet),
// so an address it does not hold is new, without a lookup. That is every
// address of an initial ingest; a store that already holds addresses of
// the chain (a resumed ingest) looks each address up instead. A rewind
// only removes addresses, which leaves the filter a superset: what it
// holds is looked up as before. It grows with the chain (ingestfilter.go):
// n is the addresses added since it was made or rebuilt.
type addrFilter struct {
	bits []uint64
	n    int
}

// addrFilterProbes is the number of bits an address sets, all in one
// block of 512 bits (a cache line: one miss a probe, where bits spread
// over the whole filter cost a miss each). Three, not seven: below the
// ten bits an address a filter grows at (filterBits), seven bits make
// more new addresses false positives, each a lookup (at 3.6 bits about one
// in three against one in five); at the medium world's hundreds of bits
// an address either is about none.
const addrFilterProbes = 3

// addrHash is the hash of addr that the run's ids and the ids cache take
// (one seed for the applier's life).
func (a *applier) addrHash(addr string) uint64 {
	return maphash.String(a.hashSeed(), addr)
}

// hashSeed returns addrHash's seed, made on first use.
func (a *applier) hashSeed() maphash.Seed {
	if !a.seeded {
		a.seed, a.seeded = maphash.MakeSeed(), true
	}
	return a.seed
}

// locate returns the first word of h's block; bit i of h's bits is bit
// (h >> 9i) & 511 of the block.
func (f *addrFilter) locate(h uint64) int {
	blocks := uint64(len(f.bits) / 8)
	return int((h>>32)*blocks>>32) * 8
}

func (f *addrFilter) add(h uint64) {
	f.n++
	w := f.locate(h)
	for i := range addrFilterProbes {
		b := h >> (9 * i) & 511
		f.bits[w+int(b/64)] |= 1 << (b % 64)
	}
}

func (f *addrFilter) has(h uint64) bool {
	w := f.locate(h)
	for i := range addrFilterProbes {
		b := h >> (9 * i) & 511
		if f.bits[w+int(b/64)]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// newFilter returns chain c's filter, deciding on the chain's first lookup
// whether it gets one (nil: it does not, or the ids cache has no room): at
// first as large as the ids cache's bytes say (addrFilterBytesPerID), at
// most its part of Options.FilterBytes.
func (a *applier) newFilter(db pebbledb.Reader, c chainCode) (*addrFilter, error) {
	if f, ok := a.filters[c]; ok {
		return f, nil
	}
	if a.filters == nil {
		a.filters = map[chainCode]*addrFilter{}
	}
	var f *addrFilter
	words := a.idBase / addrIDEntryBytes * addrFilterBytesPerID / 8
	if words > 0 {
		next, err := nextAddrID(db, c)
		if err != nil {
			return nil, err
		}
		if next == 1 && (a.ids.c != c || !a.ids.given) {
			most, _ := filterWords(a.filterBytes)
			f = &addrFilter{bits: make([]uint64, firstWords(words, most))}
			hugePages(f.bits)
			a.counts.addrFilter.Add(8 * int64(len(f.bits)))
		}
	}
	a.filters[c] = f
	return f, nil
}

// nextAddrID reads chain c's address id counter (1 when none is stored).
func nextAddrID(db pebbledb.Reader, c chainCode) (uint64, error) {
	return readCounter(db, metaAddrIDKey(c), "address id counter")
}

// readCounter reads the counter stored under key (1 when none is stored).
func readCounter(db pebbledb.Reader, key []byte, what string) (uint64, error) {
	v, found, err := lookup(db, key, nil)
	if err != nil || !found {
		return 1, err
	}
	n, w := binary.Uvarint(v)
	if w <= 0 || w != len(v) || n == 0 {
		return 0, fmt.Errorf("%s: %w", what, errCorrupt)
	}
	return n, nil
}

// writeIDs adds the run's id counter to its writes when it gave out ids.
func (a *applier) writeIDs() error {
	return a.ids.write(&a.w, metaAddrIDKey)
}

// cacheIDs copies the run's ids into the cache (applyGroup: while its
// batch is committed): those it read from the store or gave out, or found
// in the cache but for its reused part's newer generation; those that gave
// are there already (nothing is put into the cache while a run is built,
// so nothing drops them).
func (a *applier) cacheIDs() {
	r := &a.ids
	for lo := 0; lo < len(r.fresh); lo += outPutBatch {
		batch := r.fresh[lo:min(lo+outPutBatch, len(r.fresh))]
		// The slots the puts place are read first, at once (putOuts).
		var touched uint64
		for _, f := range batch {
			g := &a.idCache.win.gens[0]
			if f.seen {
				g = &a.idCache.main.gens[0]
			}
			if len(g.slots) > 0 {
				touched += g.slots[f.h>>g.shift]
			}
		}
		runtime.KeepAlive(touched) // the reads are made
		for _, f := range batch {
			a.idCache.put(f.h, f.c, r.forms[f.at:f.end], f.id, f.seen)
		}
	}
}

// storedAddrID is the package's storedAddrID through the run's iterators;
// pr is the preparation of the output whose address addr is (nil: none).
func (a *applier) storedAddrID(db pebbledb.Reader, c chainCode, addr string, pr *outPrep) (id uint64, found bool, err error) {
	it, err := a.reads.totalsIter(db, c)
	if err != nil {
		return 0, false, err
	}
	var kh uint64
	if pr != nil {
		kh = pr.kh
	} else {
		kh = addrKeyHash(addr)
	}
	t, found, err := seekTotals(it, a.addrReader(db, c), c, addr, kh, nil)
	a.counts.addrLookups.Add(1)
	if err != nil || !found {
		return 0, false, err
	}
	a.counts.addrFound.Add(1)
	if t.ID == 0 {
		return 0, false, fmt.Errorf("address %q: totals without an id: %w", addr, errCorrupt)
	}
	return t.ID, true, nil
}

// storedAddrID returns the id of addr from its stored totals in r (found
// false when the address has no totals).
func storedAddrID(r pebbledb.Reader, c chainCode, addr string) (id uint64, found bool, err error) {
	t, found, err := findTotals(r, c, addr, nil)
	if err != nil || !found {
		return 0, false, err
	}
	if t.ID == 0 {
		return 0, false, fmt.Errorf("address %q: totals without an id: %w", addr, errCorrupt)
	}
	return t.ID, true, nil
}
