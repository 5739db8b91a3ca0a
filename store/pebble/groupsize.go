package pebble

import (
	"math/bits"

	"github.com/heistgraph/heistgraph"
)

// Sizing a run's write buffer ahead. The bytes a run writes grow with its
// blocks' transactions, inputs and outputs (about 145 bytes for each of
// them on the medium world, within 1% from group to group), and those are
// known before the run is built. Reserving the bytes ahead means the buffer
// never grows by copying itself while the run is built: grown as it
// filled, the first groups of an ingest copied their writes several times
// over (growslice was half of the applier's memmove).

// defaultBytesPerItem is what a run is assumed to write for each of its
// transactions, inputs and outputs before a run was committed (the
// medium world's 145, rounded up).
const defaultBytesPerItem = 160

// groupItems counts the transactions, inputs and outputs of b (items),
// and its outputs.
func groupItems(b *heistgraph.Block) (items, outs int) {
	items = len(b.Txs)
	for i := range b.Txs {
		outs += len(b.Txs[i].Outputs)
		items += len(b.Txs[i].Inputs)
	}
	return items + outs, outs
}

// groupBytes estimates the bytes of writes of the run that ApplyBlocks
// would build from bs: perItem bytes for each transaction, input and output
// of the blocks it would take, up to the first block that reaches limit
// (the run stops after it), and a sixteenth more; and counts those blocks
// and their outputs. Nil blocks count for no writes and no outputs.
func groupBytes(bs []*heistgraph.Block, perItem, limit int) (bytes, outs, blocks int) {
	n := 0
	for _, b := range bs {
		if n >= limit {
			break
		}
		if b != nil {
			items, o := groupItems(b)
			n += items * perItem
			outs += o
		}
		blocks++
	}
	return n + n/16, outs, blocks
}

// size makes room in the run's maps and lists of outputs and of address
// ids (all empty) for outs outputs and as many addresses, so that they do
// not grow by rehashing or copying while the run is built: those already
// sized for as many (clear keeps a map's room) are kept, others are made a
// quarter larger.
func (a *applier) size(outs int) {
	if outs <= a.sizedFor {
		return
	}
	a.sizedFor = outs + outs/4
	a.grp.outs.rebuild(1<<bits.Len(uint(2*a.sizedFor)), nil)
	a.grp.outList = make([]groupOut, 0, a.sizedFor)
	a.ids.ids.rebuild(1 << bits.Len(uint(2*a.sizedFor)))
	a.ids.ids.ents = make([]idEntry, 0, a.sizedFor)
	a.ids.fresh = make([]freshID, 0, a.sizedFor)
}

// reserve makes room in w's buffer for n bytes of writes in all (it never
// shrinks it). The buffer holds no writes yet, so nothing is copied. A
// buffer too small is replaced by one a quarter larger than n: estimates
// vary by a few percent from group to group, and each new buffer is fresh
// memory whose pages the kernel must map again as they are written.
func (w *sortedWrites) reserve(n int) {
	if n > cap(w.buf) && len(w.buf) == 0 {
		w.buf = make([]byte, 0, n+n/4)
	}
}

// learnItems records what the run just committed wrote (bytes) for its
// items (transactions, inputs and outputs), so that the next run's buffer
// is sized by what this chain writes.
func (a *applier) learnItems(bytes, items int) {
	if items > 0 && bytes > 0 {
		a.bytesPerItem = max(bytes/items, 1)
	}
}
