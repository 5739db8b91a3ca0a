package pebble

import (
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
	Num     uint64 // the number of the output's tx
	spent   bool
}

// utxoEntryBytes is what one cache entry costs on Go's heap: the key and
// value in the map with its overhead, and the address string. The map
// keeps the slots of removed entries (spent, or dropped past the bound)
// until it grows, so its table holds about twice the entries: 348–416
// bytes an entry were measured at 3–32 MiB (TestCacheBytes) where 160 were
// counted before (docs/benchmarks.md, "Memory to the end of the large
// world").
const utxoEntryBytes = 400

// utxoCache holds outputs of committed blocks, as their output records
// hold them, so that most spends resolve without a point lookup: ingest
// spends most outputs within a few thousand blocks of their creation. An
// entry is removed when an input spends it (a second spender, in
// conflicting data, reads the store), and the whole cache is emptied by a
// rewind, which may change or remove outputs. It is bounded: past its size,
// arbitrary entries are dropped (a miss only costs a lookup).
type utxoCache = bounded[utxoKey, utxo]

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
	outs    map[utxoKey]int32
	outList []groupOut
	pending bool
}

// groupOut is an output the run made.
type groupOut struct {
	k utxoKey
	o utxo
}

func (g *group) reset() {
	if g.outs == nil {
		g.heights = map[int64]heistgraph.Hash{}
		g.hashes = map[heistgraph.Hash]int64{}
		g.txids = map[heistgraph.Hash]uint64{}
		g.outs = map[utxoKey]int32{}
	}
	clear(g.heights)
	clear(g.hashes)
	clear(g.txids)
	clear(g.outs)
	clear(g.outList) // drop the address strings
	g.outList = g.outList[:0]
	g.pending = false
}

// putOut records an output the run made (again, for a txid repeated
// within a block: the later one replaces it).
func (g *group) putOut(k utxoKey, o utxo) {
	if j, ok := g.outs[k]; ok {
		g.outList[j].o = o
		return
	}
	g.outs[k] = int32(len(g.outList))
	g.outList = append(g.outList, groupOut{k, o})
}

// out returns the output k the run made (nil: none); the pointer is valid
// until the next putOut.
func (g *group) out(k utxoKey) *utxo {
	if j, ok := g.outs[k]; ok {
		return &g.outList[j].o
	}
	return nil
}

// add records a block built into the run (its txids entered txids as
// they got their numbers).
func (g *group) add(b *heistgraph.Block) {
	g.heights[b.Height] = b.Hash
	g.hashes[b.Hash] = b.Height
}
