package pebble

import (
	"encoding/binary"
	"runtime"

	"github.com/heistgraph/heistgraph"
)

// outCache holds outputs of committed runs (utxoCache), in place of a Go
// map: fixed-size records in chunks and an open-addressed table
// of slots, a power of two long and at most half full, each the high 32
// bits of the key's hash (outKeyHash: the txid's own bits, not hashed
// again) and 1 + the record's place (0: empty). A slot is
// chosen by the high bits of the hash, which it keeps, so a removal
// shifts the slots after it back without reading records. A record is 88
// bytes with the script type as its one-byte code (an output of another
// type is not kept) where the map's entry took about 400 with its table's
// overhead (TestCacheBytes), and a probe reads a slot and a record where
// the map's read a group's control word, its key and its value.
//
// A put takes the place a take left last (a stack of them: popping a
// list through the empty records waited for each record's read in turn),
// or a new one, or, when the places the bound allows are all
// made and held, drops the output at the place a cursor going round them
// points to (an arbitrary one, as the map dropped). The bound is exact:
// the slots, the places made and the outputs' address strings (counted
// at outAddrBytes) take at most the bytes given.
type outCache struct {
	tagSlots
	chunks [][]outRec
	places int      // the most places (0: nothing is kept)
	made   int      // the places made so far (the chunks' records)
	free   []uint32 // the empty places, the one put takes next last
	next   int      // the place the cursor points to
	n      int      // the outputs held
	bytes  int64
}

// outRec is an output in the cache: its key (txid, vout, chain), its
// script type's code (scriptTypes), whether it holds an output (live),
// and its head.
type outRec struct {
	txid  heistgraph.Hash
	vout  uint32
	c     chainCode
	typ   uint8
	live  bool
	addr  string
	value int64
	id    uint64
	kh    uint64
	num   uint64
}

// The cache's sizes: a chunk's records (11.5 MB, so that most of a chunk
// is whole 2 MiB pages, which hugePages asks to be huge), a place's bytes (its record and
// its room in the stack of empty places), an address string's bytes on
// the heap as an entry is counted (the 48 of mainnet's most common
// address, a 42-character P2WPKH, TestCacheBytes), the fewest slots.
const (
	outChunkLen  = 1 << 17
	outRecBytes  = 88
	outFreeBytes = 4
	outAddrBytes = 48
	outMinSlots  = 1024
)

// limit sets the bound to bytes (0 or less: nothing is kept), emptying the
// cache when it changes: as many places as bytes allow with slots at most
// half full, the number of slots chosen to make them most.
func (x *outCache) limit(bytes int64) {
	if bytes == x.bytes {
		return
	}
	*x = outCache{bytes: bytes}
	for s := int64(outMinSlots); s <= 1<<32; s *= 2 {
		p := min(s/2, (bytes-8*s)/(outRecBytes+outFreeBytes+outAddrBytes))
		if p <= int64(x.places) {
			break
		}
		x.places = int(p)
	}
}

// size is the bytes the cache takes, at most: its slots, records (the
// chunks made) and stack of empty places, and its outputs' address
// strings.
func (x *outCache) size() int64 {
	recs := min(len(x.chunks)*outChunkLen, x.places)
	return int64(8*len(x.slots)) + int64(recs)*outRecBytes + int64(cap(x.free))*outFreeBytes + int64(x.n)*outAddrBytes
}

// rec returns the record at place p.
func (x *outCache) rec(p int) *outRec { return &x.chunks[p/outChunkLen][p%outChunkLen] }

// find returns the place of k (hash h), or -1.
func (x *outCache) find(h uint64, k *utxoKey) int {
	if x.n == 0 {
		return -1
	}
	_, p := x.probe(h, k)
	return p
}

// probe returns the slot of k (hash h) and its place, or the empty slot
// where k goes and -1.
func (x *outCache) probe(h uint64, k *utxoKey) (uint64, int) {
	mask := uint64(len(x.slots) - 1)
	tag := h &^ (1<<32 - 1)
	for i := h >> x.shift; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return i, -1
		}
		if s&^(1<<32-1) == tag {
			p := int(uint32(s)) - 1
			if r := x.rec(p); r.txid == k.op.TxID && r.vout == k.op.Vout && r.c == k.c {
				return i, p
			}
		}
	}
}

// first reads the first and last words of the record (88 bytes, most
// across two cache lines) that the first slot whose tag matches h's names
// on h's probe (0: none), for prespend's stage of reads made ahead. The
// cache holds outputs.
func (x *outCache) first(h uint64) uint64 {
	mask := uint64(len(x.slots) - 1)
	tag := h &^ (1<<32 - 1)
	for i := h >> x.shift; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return 0
		}
		if s&^(1<<32-1) == tag {
			r := x.rec(int(uint32(s)) - 1)
			return binary.LittleEndian.Uint64(r.txid[:8]) + r.num
		}
	}
}

// take returns k's output and removes it.
func (x *outCache) take(k utxoKey) (utxo, bool) {
	return x.takeAt(x.find(outKeyHash(&k), &k))
}

// takeAt returns the output at place p (-1: none) and removes it.
func (x *outCache) takeAt(p int) (utxo, bool) {
	if p < 0 {
		return utxo{}, false
	}
	r := x.rec(p)
	o := utxo{Value: r.value, Type: scriptTypes[r.typ], Address: r.addr, ID: r.id, KH: r.kh, Num: r.num}
	x.drop(p, r)
	x.free = append(x.free, uint32(p))
	return o, true
}

// drop removes the output of record r at place p (its record is empty).
func (x *outCache) drop(p int, r *outRec) {
	k := utxoKey{r.c, heistgraph.Outpoint{TxID: r.txid, Vout: r.vout}}
	mask := uint64(len(x.slots) - 1)
	i := outKeyHash(&k) >> x.shift
	for uint32(x.slots[i]) != uint32(p+1) {
		i = (i + 1) & mask
	}
	// Shift the slots after i back over it, each to the first place it
	// may take on its way from its home (linear probing's deletion).
	for j := (i + 1) & mask; x.slots[j] != 0; j = (j + 1) & mask {
		if home := x.slots[j] >> x.shift; (j-home)&mask >= (j-i)&mask {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = 0
	r.live, r.addr = false, ""
	x.n--
}

// put adds (or replaces) k's output.
func (x *outCache) put(k utxoKey, o utxo) {
	typ, ok := scriptTypeCode(o.Type)
	if x.places == 0 || !ok {
		return
	}
	if x.slots == nil {
		x.double(outMinSlots)
		x.free = make([]uint32, 0, x.places) // never grown: it is counted
	}
	h := outKeyHash(&k)
	i, p := x.probe(h, &k)
	if p < 0 {
		switch {
		case len(x.free) > 0:
			p = int(x.free[len(x.free)-1])
			x.free = x.free[:len(x.free)-1]
		case x.made < x.places:
			p = x.made
			if x.makePlace() {
				i, _ = x.probe(h, &k) // the slots were placed again
			}
		default:
			p = x.next
			x.next = (x.next + 1) % x.places
			x.drop(p, x.rec(p))
			i, _ = x.probe(h, &k) // the slots after p's were shifted
		}
		x.slots[i] = h&^(1<<32-1) | uint64(p+1)
		x.n++
	}
	*x.rec(p) = outRec{txid: k.op.TxID, vout: k.op.Vout, c: k.c, typ: typ, live: true,
		addr: o.Address, value: o.Value, id: o.ID, kh: o.KH, num: o.Num}
}

// makePlace makes the next place (a chunk when it starts one, the last
// one only as long as the places need), doubling the slots when it would
// leave them more than half full (reported).
func (x *outCache) makePlace() bool {
	if x.made%outChunkLen == 0 && x.made/outChunkLen == len(x.chunks) {
		x.chunks = append(x.chunks, make([]outRec, min(outChunkLen, x.places-x.made)))
		hugePages(x.chunks[len(x.chunks)-1])
	}
	x.made++
	if 2*x.made > len(x.slots) {
		x.double(outMinSlots)
		return true
	}
	return false
}

// clear empties it (after a rewind), keeping its room.
func (x *outCache) clear() {
	clear(x.slots)
	for _, c := range x.chunks {
		clear(c)
	}
	x.n, x.next, x.made, x.free = 0, 0, 0, x.free[:0]
}

// scriptTypeCode returns t's code in scriptTypes (false: t has none).
func scriptTypeCode(t heistgraph.ScriptType) (uint8, bool) {
	for i, k := range scriptTypes {
		if k == t {
			return uint8(i), true
		}
	}
	return 0, false
}

// held returns p (a place find returned for k before) when it still holds
// k's output, or -1: a take since may have removed it.
func (x *outCache) held(p int, k *utxoKey) int {
	if p < 0 {
		return -1
	}
	if r := x.rec(p); !r.live || r.txid != k.op.TxID || r.vout != k.op.Vout || r.c != k.c {
		return -1
	}
	return p
}

// putOuts puts the outputs of outs that are not spent, outPutBatch at a
// time: a first loop reads the slots where their probes start, and, with
// every place made and held, those of the outputs the cursor will drop,
// so that the CPU makes those reads at once (the table is far larger than
// its caches), not one put's after another's.
func (x *outCache) putOuts(outs []groupOut) {
	if x.places == 0 {
		return
	}
	for lo := 0; lo < len(outs); lo += outPutBatch {
		batch := outs[lo:min(lo+outPutBatch, len(outs))]
		if x.n > 0 {
			var touched uint64
			for j := range batch {
				if !batch[j].o.spent {
					touched += x.slots[outKeyHash(&batch[j].k)>>x.shift]
				}
			}
			for j, p := 0, x.next; j < len(batch) && len(x.free) == 0 && x.made == x.places; j, p = j+1, (p+1)%x.places {
				if r := x.rec(p); r.live {
					k := utxoKey{r.c, heistgraph.Outpoint{TxID: r.txid, Vout: r.vout}}
					touched += x.slots[outKeyHash(&k)>>x.shift]
				}
			}
			runtime.KeepAlive(touched) // the reads are made
		}
		for j := range batch {
			if !batch[j].o.spent {
				x.put(batch[j].k, batch[j].o)
			}
		}
	}
}

// outPutBatch is the puts whose reads putOuts makes ahead.
const outPutBatch = 256
