package pebble

import (
	"slices"

	"github.com/heistgraph/heistgraph"
)

// spendPrep is an input's look-up made ahead of its tx (prespend): its
// prevout's hash (outKeyHash) and its place in the output cache (-1:
// none).
type spendPrep struct {
	h     uint64
	place int
}

// prespend looks the inputs of block b (chain c) up in the output cache
// before its txs are applied, into a.spends: their hashes (applyInput
// does not hash them again) and places. The cache is far larger than the
// CPU's caches; in a loop of look-ups alone the CPU makes several of
// their reads at once. No output enters the cache while a block is
// applied, so a place found stays the output's unless an input takes it
// before (held). Reading ahead, in loops of their own, the slots where the
// inputs' and the outputs' other look-ups start (the run's outputs and
// ids, the ids cache) cost as much as it saved (docs/benchmarks.md).
func (a *applier) prespend(b *heistgraph.Block, c chainCode) {
	n := 0
	for i := range b.Txs {
		n += len(b.Txs[i].Inputs)
	}
	a.spends = slices.Grow(a.spends[:0], n)[:n]
	x := &a.utxo
	j := 0
	for i := range b.Txs {
		for v := range b.Txs[i].Inputs {
			in := &b.Txs[i].Inputs[v]
			k := utxoKey{c, in.PrevOut}
			h := outKeyHash(&k)
			a.spends[j] = spendPrep{h: h, place: -1}
			if !in.Coinbase {
				a.spends[j].place = x.find(h, &k)
			}
			j++
		}
	}
}
