package pebble

import (
	"encoding/binary"

	"github.com/heistgraph/heistgraph"
)

// utxoKey names an output of one chain.
type utxoKey struct {
	c  chainCode
	op heistgraph.Outpoint
}

// utxo is what resolving a spend needs of an output: the head of its output
// record. spent marks an output of the run being built that one of the
// run's inputs spends (it is not moved into the cache).
type utxo struct {
	Value   int64
	Type    heistgraph.ScriptType
	Address string
	ID      uint64 // the address's id (0 without an address)
	KH      uint64 // the address's addrKeyHash (with an address)
	Num     uint64 // the number of the output's tx
	spent   bool
}

// utxoEntryBytes is what an entry of the output cache cost on Go's heap
// when it was a Go map (348–416 bytes measured at 3–32 MiB): it no longer
// sizes that cache (outCache counts its own bytes), only the address ids
// cache's share of the cache bytes, as many ids for the bytes as before
// (idCacheBytes).
const utxoEntryBytes = 400

// utxoCache holds outputs of committed blocks, as their output records
// hold them, so that most spends resolve without a point lookup: ingest
// spends most outputs within a few thousand blocks of their creation. An
// entry is removed when an input spends it (a second spender, in
// conflicting data, reads the store), and the whole cache is emptied by a
// rewind, which may change or remove outputs. It is bounded: past its size,
// the oldest entries are dropped (a miss only costs a lookup).
type utxoCache = outCache

// group is what the blocks of the run being built wrote that a later block
// of the run reads: the heights and hashes it stores (the conflict checks of
// ApplyBlock), its txids (a later block repeating one starts a run of its
// own), its outputs (spends resolve from them), and whether it wrote a
// pending marker (a later block then starts a run of its own, since
// resolving pending spends reads the store).
type group struct {
	heights map[int64]heistgraph.Hash
	hashes  map[heistgraph.Hash]int64
	txids   map[heistgraph.Hash]uint64 // their numbers (txnum.go)
	// outs indexes the outputs in outList, which holds them in the order
	// they were made: a spend marks its output in place, and the outputs
	// go to the cache in one pass over the list (putOut, out).
	outs    outIndex
	outList []groupOut
	pending bool
	// collided is set when a block of the run repeats a txid, stored or
	// of the run: until then the run's outputs and the cache's (committed
	// runs') have no key in common, and an input the cache holds is not
	// looked up among the run's outputs (applyInput).
	collided bool
}

// groupOut is an output the run made.
type groupOut struct {
	k utxoKey
	o utxo
}

func (g *group) reset() {
	if g.heights == nil {
		g.heights = map[int64]heistgraph.Hash{}
		g.hashes = map[heistgraph.Hash]int64{}
		g.txids = map[heistgraph.Hash]uint64{}
	}
	clear(g.heights)
	clear(g.hashes)
	clear(g.txids)
	g.outs.reset()
	clear(g.outList) // drop the address strings
	g.outList = g.outList[:0]
	g.pending = false
	g.collided = false
}

// putOut records an output the run made (again, for a txid repeated
// within a block: the later one replaces it).
func (g *group) putOut(k utxoKey, o utxo) {
	if 2*(g.outs.n+1) > len(g.outs.slots) {
		g.outs.rebuild(max(1024, 2*len(g.outs.slots)), g.outList)
	}
	h := outKeyHash(&k)
	i, ok := g.outs.find(h, &k, g.outList)
	if ok {
		g.outList[uint32(g.outs.slots[i])-1].o = o
		return
	}
	g.outList = append(g.outList, groupOut{k, o})
	g.outs.slots[i] = h&^(1<<32-1) | uint64(len(g.outList))
	g.outs.n++
}

// out returns the output k the run made (nil: none); the pointer is valid
// until the next putOut.
func (g *group) out(k utxoKey) *utxo { return g.outHashed(outKeyHash(&k), &k) }

// outHashed is out of k with hash h (outKeyHash).
func (g *group) outHashed(h uint64, k *utxoKey) *utxo {
	if g.outs.n == 0 {
		return nil
	}
	if i, ok := g.outs.find(h, k, g.outList); ok {
		return &g.outList[uint32(g.outs.slots[i])-1].o
	}
	return nil
}

// outIndex indexes a run's outputs (group.outList) by their key, in place
// of a Go map: an open-addressed table, a power of two long and at most
// half full, whose slots hold the high 32 bits of the key's hash and 1 +
// the output's index in the list (0: empty). The hash is the txid's own
// bits (a double SHA-256) mixed with the output's index and the chain's
// code, so a key is not hashed; the list is read only when the high bits
// match. A slot is 8 bytes where a map's entry held the 40-byte key: the
// table of a run's few hundred thousand outputs stays in the CPU's cache
// far more than the map did (its probes were a tenth of building a run).
type outIndex struct {
	slots []uint64
	n     int
}

// outKeyHash hashes k.
func outKeyHash(k *utxoKey) uint64 {
	x := binary.LittleEndian.Uint64(k.op.TxID[:8]) ^ (uint64(k.op.Vout)+1)*0xbf58476d1ce4e5b9 ^ uint64(k.c)<<48
	h := x * 0x9e3779b97f4a7c15
	return h ^ h>>32
}

// find returns the slot of k (hash h), ok true, or the empty slot where k
// goes.
func (x *outIndex) find(h uint64, k *utxoKey, list []groupOut) (int, bool) {
	mask := uint64(len(x.slots) - 1)
	tag := h &^ (1<<32 - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return int(i), false
		}
		if s&^(1<<32-1) == tag && list[uint32(s)-1].k == *k {
			return int(i), true
		}
	}
}

// rebuild makes the table n slots long (a power of two) and indexes list
// in it.
func (x *outIndex) rebuild(n int, list []groupOut) {
	x.slots = make([]uint64, n)
	hugePages(x.slots)
	x.n = 0
	for j := range list {
		h := outKeyHash(&list[j].k)
		i, _ := x.find(h, &list[j].k, list[:j])
		x.slots[i] = h&^(1<<32-1) | uint64(j+1)
		x.n++
	}
}

// reset empties the table, keeping its room.
func (x *outIndex) reset() {
	if x.n > 0 {
		clear(x.slots)
	}
	x.n = 0
}

// add records a block built into the run (its txids entered txids as
// they got their numbers).
func (g *group) add(b *heistgraph.Block) {
	g.heights[b.Height] = b.Hash
	g.hashes[b.Hash] = b.Height
}
