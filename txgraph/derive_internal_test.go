package txgraph

import (
	"testing"

	"github.com/heistgraph/heistgraph"
)

// TestDerive builds small graphs with each kind of mark and checks the
// derived columns against their definitions read from the other columns:
// in_spent is the spent output's number when the spent transaction is
// stored and has that output, and a transaction is answered by number
// (Numbered) when it is stored, not marked, and spends no output of a
// marked transaction. A graph loaded and extended derives them again.
func TestDerive(t *testing.T) {
	t.Parallel()
	const ch = heistgraph.ChainBTCRegtest
	id := func(s string) heistgraph.Hash {
		var h heistgraph.Hash
		copy(h[:], s)
		return h
	}
	cb := func(name string) heistgraph.TxRecord {
		return heistgraph.TxRecord{Chain: ch, Tx: heistgraph.Tx{TxID: id(name),
			Inputs:  []heistgraph.TxIn{{Coinbase: true, Sequence: 0xffffffff}},
			Outputs: []heistgraph.TxOut{{Value: 50, Address: "a-" + name, Type: heistgraph.ScriptWitnessV0KeyHash}}}}
	}
	// spend spends each of ins ("txid:vout" as name and vout), known
	// says whether the store knew each spent output.
	type in struct {
		tx    string
		vout  uint32
		known bool
	}
	spend := func(name string, outs int, ins ...in) heistgraph.TxRecord {
		rec := heistgraph.TxRecord{Chain: ch, Tx: heistgraph.Tx{TxID: id(name)}}
		for _, i := range ins {
			rec.Tx.Inputs = append(rec.Tx.Inputs, heistgraph.TxIn{PrevOut: heistgraph.Outpoint{TxID: id(i.tx), Vout: i.vout}, Sequence: 0xffffffff})
			var p *heistgraph.TxOut
			if i.known {
				p = &heistgraph.TxOut{Value: 50}
			}
			rec.Prevouts = append(rec.Prevouts, p)
		}
		for k := range outs {
			rec.Tx.Outputs = append(rec.Tx.Outputs, heistgraph.TxOut{Value: 10, Address: name + string(rune('a'+k)), Type: heistgraph.ScriptWitnessV0KeyHash})
		}
		return rec
	}
	tests := []struct {
		name   string
		blocks [][]heistgraph.TxRecord
	}{
		{"plain", [][]heistgraph.TxRecord{
			{cb("c1")},
			{cb("c2"), spend("t1", 2, in{"c1", 0, true}), spend("t2", 1, in{"t1", 0, true}, in{"t1", 1, true})},
			{cb("c3"), spend("t3", 1, in{"t2", 0, true}, in{"t2", 5, false})}, // no output 5
		}},
		{"stored twice", [][]heistgraph.TxRecord{
			{cb("c1")},
			{cb("c1"), spend("t1", 1, in{"c1", 0, true})}, // c1 again: marked, and t1 spends it
			{cb("c3"), spend("t2", 1, in{"t1", 0, true})},
		}},
		{"spent before stored", [][]heistgraph.TxRecord{
			{cb("c1"), spend("t1", 1, in{"x", 0, false})}, // x is stored later
			{spend("x", 2, in{"c1", 0, true}), spend("t2", 1, in{"x", 1, true})},
		}},
		{"two spenders", [][]heistgraph.TxRecord{
			{cb("c1")},
			{spend("t1", 1, in{"c1", 0, true}), spend("t2", 1, in{"c1", 0, true})}, // c1:0 spent twice
			{spend("t3", 1, in{"t1", 0, true})},
		}},
		{"store knows more", [][]heistgraph.TxRecord{
			{cb("c1")},
			{spend("t1", 1, in{"c1", 0, true}, in{"y", 0, true})}, // y never stored, yet known
			{spend("t2", 1, in{"t1", 0, true})},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			build := func(blocks [][]heistgraph.TxRecord, from *Graph) *builder {
				b, err := newBuilder(ch, nil)
				if err != nil {
					t.Fatal(err)
				}
				if from != nil {
					if err := b.load(from); err != nil {
						t.Fatal(err)
					}
				}
				for _, blk := range blocks {
					h := int64(len(b.t.blkHash))
					if err := b.block(heistgraph.BlockInfo{Hash: id("block" + string(rune('0'+h))), Height: h}); err != nil {
						t.Fatal(err)
					}
					for k := range blk {
						rec := blk[k]
						rec.Index = k
						if err := b.tx(&rec, nil); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := b.finish(); err != nil {
					t.Fatal(err)
				}
				return b
			}
			check := func(what string, tb *tables) {
				t.Helper()
				r := &Reader{g: &Graph{t: *tb}}
				byNum := 0
				for i, p := range tb.inPrev {
					want := noOut
					if p != none && tb.txBlock[p] >= 0 && tb.inVout[i] < tb.txNOut[p] {
						want = tb.txOut[p] + uint64(tb.inVout[i])
					}
					if tb.inSpent[i] != want {
						t.Errorf("%s: input %d spends output %d, want %d", what, i, tb.inSpent[i], want)
					}
				}
				for n := range uint32(len(tb.txid)) {
					want := tb.txBlock[n] >= 0 && tb.txFlags[n]&flagStore == 0
					for i := tb.txIn[n]; i < tb.txIn[n]+uint64(tb.txNIn[n]); i++ {
						p := tb.inPrev[i]
						if p != none && tb.txBlock[p] >= 0 && tb.inVout[i] < tb.txNOut[p] && tb.txFlags[p]&flagStore != 0 {
							want = false
						}
					}
					if r.Numbered(n) != want {
						t.Errorf("%s: tx %d (%q) numbered %v, want %v", what, n, tb.txid[n][:2], r.Numbered(n), want)
					}
					if want {
						byNum++
					}
				}
				if byNum == 0 || byNum == len(tb.txid) && tc.name != "plain" {
					t.Errorf("%s: %d of %d answered by number: the case marks nothing", what, byNum, len(tb.txid))
				}
			}
			whole := build(tc.blocks, nil)
			check("built", &whole.t)
			// The first block, then the rest loaded and extended.
			first := build(tc.blocks[:1], nil)
			ext := build(tc.blocks[1:], &Graph{t: first.t, m: first.m})
			check("extended", &ext.t)
		})
	}
}
