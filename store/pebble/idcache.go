package pebble

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// addrIDCache holds the ids of addresses of committed blocks, by the
// addresses' hashes (addrHash, which the run's table holds too: moving a
// run's ids into it hashes no string again) and their stored forms
// (addrcodec.go: a P2WPKH address is 23 bytes where its string is 42–44,
// and the form is what giveID writes to the address table, so it is at
// hand). An entry is a record in an arena of byte chunks and a slot of a
// table: about 30 bytes and 16–32 for the slot, where a map's entry, or
// the tables of strings this replaced, took 130–175 with the string
// (TestCacheBytes), and nothing in it is a pointer for the collector to
// scan.
//
// It keeps the addresses seen again apart from those only just given
// their ids, as a segmented cache does (SLRU, W-TinyLFU): an address the
// run found in the store or in the cache (but for the reused part's newer
// generation, which holds it already) goes to the reused part, main; an
// address the run gave its id goes to the window, win, which takes what
// main leaves of the bound and at least a winShare-th of it. Most
// addresses are used once (on the large world 94% of them; the reused ones
// mostly come back hundreds of thousands of outputs later), so a cache
// that keeps the most recent ids, as this one did, is filled by addresses
// never seen again and evicts the reused ones long before they return: at
// the full chain's share of the memory (--store-as 24GiB/780) it answered
// 3% of the look-ups of stored addresses. Seen twice, an address is
// likelier to be seen again, and main keeps only those (docs/
// benchmarks.md, "The ids cache keeps the reused addresses"). While main
// is smaller than its share (a large cache, or the start of a chain), the
// window takes the rest and the cache holds the recent ids as before.
//
// A miss only costs a lookup. It is emptied by a rewind, which may remove
// an address's totals and with them its id.
type addrIDCache struct {
	main, win idGens
	bytes     int64
}

// winShare is the least part of the ids cache the window of new
// addresses keeps: a 16th (a replay of the lw4 world's capped ingest through
// this cache, docs/benchmarks.md, "The ids cache keeps the reused
// addresses": 0 to a 16th kept as many reused addresses, a quarter 4% fewer).
const winShare = 16

// limit sets the bound to bytes (0 or less: no entries are kept): main
// takes at most all but the window's least share, and the window what
// main leaves (idGens.limit keeps what fits of each).
func (x *addrIDCache) limit(bytes int64) {
	x.bytes = bytes
	x.main.limit(bytes - max(bytes, 0)/winShare)
	x.win.limit(bytes - x.main.size())
}

// size is the bytes x has made room for.
func (x *addrIDCache) size() int64 { return x.main.size() + x.win.size() }

// get returns the id of the address of chain c whose hash is h and whose
// stored form is form; old reports that the reused part's newer
// generation does not hold it (the run puts it again, seen: put).
func (x *addrIDCache) get(h uint64, c chainCode, form []byte) (id uint64, old, ok bool) {
	if id, old, ok := x.main.get(h, c, form); ok {
		return id, old, true
	}
	id, _, ok = x.win.get(h, c, form)
	return id, ok, ok
}

// put adds the address of chain c whose hash is h and whose stored form is
// form with id: to the reused part when seen (the run found it in the
// store, or get said old), which does not hold it in its newer
// generation, and otherwise (the run gave it its id) to the window. A form
// longer than idFormMax is not kept.
func (x *addrIDCache) put(h uint64, c chainCode, form []byte, id uint64, seen bool) {
	if !seen {
		x.win.put(h, c, form, id)
		return
	}
	x.main.put(h, c, form, id)
	x.win.limit(x.bytes - x.main.size())
}

// clear empties it (after a rewind).
func (x *addrIDCache) clear() {
	x.main.clear()
	x.win.clear()
}

// entries is the number of ids it holds.
func (x *addrIDCache) entries() int { return x.main.entries() + x.win.entries() }

// parts returns its generations: main's newer and older, the window's.
func (x *addrIDCache) parts() [4]*idGen {
	return [4]*idGen{&x.main.gens[0], &x.main.gens[1], &x.win.gens[0], &x.win.gens[1]}
}

// idGens is a part of the ids cache, bounded by two generations, counted
// exactly (the slots and the chunks they have made room for): puts go to
// the newer, which takes at most half the bytes and never more than the
// older leaves, and when it is full the older is emptied, keeping its room
// if it fits the newer's share, and becomes the newer (an id found only in
// the older is put again by the run that found it, so the ids in use
// stay). A smaller bound (the filters taking back what the cache borrowed
// of theirs: filterSpare; main growing into the window's room) drops the
// older generation, and the newer becomes the older if it fits alone, so
// that the ids in use stay then too.
type idGens struct {
	gens  [2]idGen // gens[0] the newer
	bytes int64
}

// limit sets the bound to bytes (0 or less: no entries are kept). A part
// that takes more drops its older generation, then its newer if that alone
// takes more; a newer that fits becomes the older, and the next newer
// takes what it leaves (genBytes).
func (x *idGens) limit(bytes int64) {
	if bytes == x.bytes {
		return
	}
	x.bytes = bytes
	if x.size() <= max(bytes, 0) {
		return
	}
	x.gens[1] = idGen{}
	if x.gens[0].size() > max(bytes, 0) {
		x.gens[0] = idGen{}
		return
	}
	x.gens[0], x.gens[1] = idGen{}, x.gens[0]
}

// size is the bytes x has made room for.
func (x *idGens) size() int64 { return x.gens[0].size() + x.gens[1].size() }

// get returns the id of the address of chain c whose hash is h and whose
// stored form is form; old reports that only the older generation holds
// it.
func (x *idGens) get(h uint64, c chainCode, form []byte) (id uint64, old, ok bool) {
	if id, ok := x.gens[0].find(h, c, form); ok {
		return id, false, true
	}
	id, ok = x.gens[1].find(h, c, form)
	return id, ok, ok
}

// put adds the address of chain c whose hash is h and whose stored form
// is form, which the newer generation does not hold, with id. A form
// longer than idFormMax is not kept.
func (x *idGens) put(h uint64, c chainCode, form []byte, id uint64) {
	if x.bytes <= 0 || len(form) > idFormMax {
		return
	}
	n := idRecLen(form, id)
	if !x.gens[0].room(n, x.genBytes()) {
		x.gens[0], x.gens[1] = x.gens[1], x.gens[0]
		if x.gens[0].size() > x.genBytes() {
			x.gens[0] = idGen{} // its room is more than the newer's share now
		} else {
			x.gens[0].reset()
		}
		if !x.gens[0].room(n, x.genBytes()) {
			return // a share smaller than a generation's least room
		}
	}
	x.gens[0].put(h, c, form, id, n, x.genBytes())
}

// genBytes is what the newer generation may take: half the part, less
// what the older takes past the other half (after a smaller limit), at
// most what a slot's 32 bits of a record's place address.
func (x *idGens) genBytes() int64 {
	return min(x.bytes/2, x.bytes-x.gens[1].size(), idArenaMax)
}

// clear empties it.
func (x *idGens) clear() {
	x.gens[0].reset()
	x.gens[1].reset()
}

// entries is the number of ids it holds.
func (x *idGens) entries() int { return x.gens[0].n + x.gens[1].n }

// A record of an idGen's arena: the chain's code (2 bytes, little endian),
// the form's length (1 byte), the form, the id (uvarint), padded to a
// multiple of 4 bytes, so that a slot's 32 low bits address 16 GiB of
// records (idArenaMax).
const (
	idFormMax     = 255
	idRecAlign    = 4
	idArenaMax    = idRecAlign << 32
	idChunkMin    = 4 << 10
	idChunkMaxLen = 1 << 20
	idMinSlots    = 1024
)

// idRecLen is the length of the record of form and id, padded.
func idRecLen(form []byte, id uint64) int {
	n := 3 + len(form) + (bits.Len64(id|1)+6)/7
	return (n + idRecAlign - 1) &^ (idRecAlign - 1)
}

// idGen is a generation of the ids cache: records in chunks of one size,
// each filled from its start (a record never spans two), so that growing
// the arena copies nothing, and a table of slots, a power of two long and
// at most half full (three quarters when doubling it would leave less
// room for records than it gains: grows), each the high 32 bits of a hash and 1 + the record's
// offset over idRecAlign (0: empty). A slot is chosen by the high bits of
// the hash, which the slots keep, so that doubling the table places the
// slots again without reading the records.
type idGen struct {
	tagSlots
	chunks [][]byte
	chunk  int // the chunks' length, a power of two (0: none made yet)
	used   int // the arena's offset of the next record
	n      int
}

// size is the bytes g has made room for.
func (g *idGen) size() int64 {
	return int64(8*len(g.slots)) + int64(len(g.chunks))*int64(g.chunk)
}

// room reports whether a record of n bytes fits within bound bytes, with
// the slots' and the chunks' growth it needs (an empty generation's first
// slots and chunk too).
func (g *idGen) room(n int, bound int64) bool {
	slots := int64(len(g.slots))
	if 2*(g.n+1) > len(g.slots) {
		if g.grows(bound) {
			slots = max(idMinSlots, 2*slots)
		} else if 4*(g.n+1) > 3*len(g.slots) {
			return false
		}
	}
	chunk := g.chunk
	if chunk == 0 {
		chunk = idChunkLen(bound)
	}
	chunks := int64(len(g.chunks))
	if g.chunk == 0 || g.next(n)+n > len(g.chunks)*g.chunk {
		chunks++
	}
	return 8*slots+chunks*int64(chunk) <= bound
}

// idChunkLen is the chunks' length of a generation of at most bound bytes:
// a power of two of at most an eighth of it, within [idChunkMin,
// idChunkMaxLen].
func idChunkLen(bound int64) int {
	return max(idChunkMin, min(idChunkMaxLen, 1<<max(bits.Len64(uint64(max(bound, 0)/8))-1, 0)))
}

// grows reports whether g, its slots half full, doubles them before its
// next put (or, at most three quarters full, fills them instead): whether
// doubled they let it hold more within bound bytes, at the bytes of its
// records so far, than the slots it has.
func (g *idGen) grows(bound int64) bool {
	if g.n == 0 {
		return true
	}
	s, rec := int64(len(g.slots)), int64(max((g.used+g.n-1)/g.n, 1)) // a record's bytes, rounded up
	return min(3*s/2, (bound-16*s)/rec) > min(3*s/4, (bound-8*s)/rec)
}

// put adds the record of n bytes of form and id, of chain c and hash h,
// which g does not hold; bound sizes the chunks when g has none, and the
// slots.
func (g *idGen) put(h uint64, c chainCode, form []byte, id uint64, n int, bound int64) {
	if 2*(g.n+1) > len(g.slots) && g.grows(bound) {
		g.double(idMinSlots)
	}
	if g.chunk == 0 {
		g.chunk = idChunkLen(bound)
	}
	g.used = g.next(n)
	if g.used/g.chunk == len(g.chunks) {
		g.chunks = append(g.chunks, make([]byte, g.chunk))
	}
	r := g.chunks[g.used/g.chunk][g.used%g.chunk:][:n]
	binary.LittleEndian.PutUint16(r, uint16(c))
	r[2] = byte(len(form))
	copy(r[3:], form)
	binary.PutUvarint(r[3+len(form):], id)
	g.n++
	g.place(h&^(1<<32-1) | uint64(g.used/idRecAlign+1))
	g.used += n
}

// next returns the offset of a record of n bytes put next: the next, or
// the start of the next chunk when the rest of this one is too short (it
// stays unused).
func (g *idGen) next(n int) int {
	if off := g.used % g.chunk; off+n > g.chunk {
		return g.used + g.chunk - off
	}
	return g.used
}

// find returns the id of the address of chain c whose hash is h and whose
// form is form.
func (g *idGen) find(h uint64, c chainCode, form []byte) (uint64, bool) {
	if g.n == 0 {
		return 0, false
	}
	mask := uint64(len(g.slots) - 1)
	tag := h &^ (1<<32 - 1)
	for i := h >> g.shift; ; i = (i + 1) & mask {
		s := g.slots[i]
		if s == 0 {
			return 0, false
		}
		if s&^(1<<32-1) != tag {
			continue
		}
		at := (int(uint32(s)) - 1) * idRecAlign
		r := g.chunks[at/g.chunk][at%g.chunk:]
		if binary.LittleEndian.Uint16(r) == uint16(c) && int(r[2]) == len(form) && bytes.Equal(r[3:3+len(form)], form) {
			id, _ := binary.Uvarint(r[3+len(form):])
			return id, true
		}
	}
}

// reset empties g, keeping its room.
func (g *idGen) reset() {
	if g.n > 0 {
		clear(g.slots)
	}
	g.n, g.used = 0, 0
}
