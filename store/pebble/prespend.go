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
// before its txs are applied, into a.spends. The tables are far larger
// than the CPU's caches, and a look-up's reads wait on memory: one
// input's look-up after another, amid the rest of applyTx, waits for each
// in turn, where a loop of look-ups alone lets the CPU make many at once.
// A first loop hashes the prevouts and reads the slots where their look-
// ups start, in the cache and in the run's outputs (which the block's own
// outputs join as it is applied, so those are looked up in turn), a
// second reads those where the block's outputs go and their addresses'
// ids are looked up, a third finds the prevouts in the cache and reads
// the run's output the first slot of its table names when their hashes
// agree. No output enters the cache while a
// block is applied, so a place found stays the output's unless an input
// takes it before (held).
func (a *applier) prespend(b *heistgraph.Block, c chainCode) {
	n := 0
	for i := range b.Txs {
		n += len(b.Txs[i].Inputs)
	}
	a.spends = slices.Grow(a.spends[:0], n)[:n]
	x, g := &a.utxo, a.grp.outs.slots
	gmask := uint64(len(g) - 1)
	var touched uint64
	j := 0
	for i := range b.Txs {
		for v := range b.Txs[i].Inputs {
			k := utxoKey{c, b.Txs[i].Inputs[v].PrevOut}
			h := outKeyHash(&k)
			a.spends[j] = spendPrep{h: h, place: -1}
			if x.n > 0 {
				touched += x.slots[h>>x.shift]
			}
			if len(g) > 0 {
				touched += g[h&gmask]
			}
			j++
		}
	}
	// The block's outputs: the slots where their addresses' look-ups
	// start, in the run's ids and the ids cache (hashedAddrID), and in
	// the run's outputs, where applyTx puts them.
	ids := a.ids.ids.slots
	imask := uint64(len(ids) - 1)
	g0, g1 := &a.idCache.gens[0], &a.idCache.gens[1]
	o := 0
	for i := range b.Txs {
		tx := &b.Txs[i]
		for v := range tx.Outputs {
			if len(g) > 0 {
				k := utxoKey{c, heistgraph.Outpoint{TxID: tx.TxID, Vout: uint32(v)}}
				touched += g[outKeyHash(&k)&gmask]
			}
			if h := a.outs[o].h; h != 0 {
				if len(ids) > 0 {
					touched += ids[h&imask]
				}
				if g0.n > 0 {
					touched += g0.slots[h>>g0.shift]
				}
				if g1.n > 0 {
					touched += g1.slots[h>>g1.shift]
				}
			}
			o++
		}
	}
	if x.n == 0 && a.grp.outs.n == 0 {
		runtime.KeepAlive(touched) // the reads are made
		return
	}
	j = 0
	for i := range b.Txs {
		for v := range b.Txs[i].Inputs {
			if in := &b.Txs[i].Inputs[v]; !in.Coinbase {
				k := utxoKey{c, in.PrevOut}
				h := a.spends[j].h
				if len(g) > 0 {
					if s := g[h&gmask]; s != 0 && s&^(1<<32-1) == h&^(1<<32-1) {
						touched += uint64(a.grp.outList[uint32(s)-1].k.op.Vout)
					}
				}
				a.spends[j].place = x.find(h, &k)
			}
			j++
		}
	}
	runtime.KeepAlive(touched) // the reads are made
}
