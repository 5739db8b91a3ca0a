package pebble

import (
	"runtime"
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
// does not hash them again) and places. No output enters the cache while
// a block is applied, so a place found stays the output's unless an input
// takes it before (held).
//
// The cache's slots and records are far larger than the CPU's caches and
// its TLB, and a look-up is two misses one after the other (a slot, then
// the record it names). One loop of whole look-ups kept few of them in
// flight (each iteration is long: its branches wait for its reads), so
// the look-ups go in stages, each a short loop whose reads do not depend
// on each other: the hashes and the first slot of each probe (and the
// slot where the run's own outputs are looked up, by applyInput, and
// where the block's outputs go, by putOut), then the first record each
// probe names, then the look-ups themselves, whose reads are in the CPU's
// caches by then. A stage's reads only load: a sum of them is kept.
func (a *applier) prespend(b *heistgraph.Block, c chainCode) {
	n := 0
	for i := range b.Txs {
		n += len(b.Txs[i].Inputs)
	}
	a.spends = slices.Grow(a.spends[:0], n)[:n]
	x := &a.utxo
	g := &a.grp.outs
	var touched uint64
	j := 0
	for i := range b.Txs {
		for v := range b.Txs[i].Inputs {
			k := utxoKey{c, b.Txs[i].Inputs[v].PrevOut}
			h := outKeyHash(&k)
			a.spends[j] = spendPrep{h: h, place: -1}
			j++
		}
	}
	if x.n > 0 {
		for j := range a.spends {
			touched += x.slots[a.spends[j].h>>x.shift]
		}
	}
	if g.n > 0 {
		mask := uint64(len(g.slots) - 1)
		for j := range a.spends {
			touched += g.slots[a.spends[j].h&mask]
		}
		for i := range b.Txs {
			txid := b.Txs[i].TxID
			for v := range b.Txs[i].Outputs {
				k := utxoKey{c, heistgraph.Outpoint{TxID: txid, Vout: uint32(v)}}
				touched += g.slots[outKeyHash(&k)&mask]
			}
		}
	}
	if x.n == 0 {
		runtime.KeepAlive(touched)
		return
	}
	for j := range a.spends {
		touched += x.first(a.spends[j].h)
	}
	runtime.KeepAlive(touched) // the reads are made
	j = 0
	for i := range b.Txs {
		for v := range b.Txs[i].Inputs {
			if in := &b.Txs[i].Inputs[v]; !in.Coinbase {
				k := utxoKey{c, in.PrevOut}
				_, a.spends[j].place = x.probe(a.spends[j].h, &k)
			}
			j++
		}
	}
}
