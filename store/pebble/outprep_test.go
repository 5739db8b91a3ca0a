package pebble

import (
	"bytes"
	"hash/maphash"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// prepAddrs are addresses of every stored form (addrcodec_test.go), the
// empty one and one past progMax's room.
var prepAddrs = []string{
	"",
	"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
	"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
	"1111111111111111111114oLvT2",
	"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
	"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
	"bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw",
	"ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9",
	"bc1sw50qgdz25j",
	"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
	"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
	"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
	"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",
	"0x52908400098527886E0F7030069857D2E4169EE7",
}

// prepBlocks makes n blocks whose outputs name prepAddrs in turn, from
// the address at shift on; every third block is nil and every fourth has
// a tx without outputs.
func prepBlocks(n, shift int) []*heistgraph.Block {
	bs := make([]*heistgraph.Block, n)
	j := shift
	for k := range bs {
		if k%3 == 2 {
			continue
		}
		b := &heistgraph.Block{}
		for i := range 1 + k%4 {
			var tx heistgraph.Tx
			for range i * 3 {
				tx.Outputs = append(tx.Outputs, heistgraph.TxOut{Address: prepAddrs[j%len(prepAddrs)]})
				j++
			}
			b.Txs = append(b.Txs, tx)
		}
		bs[k] = b
	}
	return bs
}

// TestRunPrep: each output's preparation is what build would make of its
// address itself (the two hashes and the stored form), whether the
// goroutine or the caller made it, in whatever order the blocks are
// asked for, from one run to the next (the programs of the last run are
// not overwritten under a block being read), and for a run cut short
// (stop) before all its blocks were prepared.
func TestRunPrep(t *testing.T) {
	seed := maphash.MakeSeed()
	tests := []struct {
		name   string
		blocks int
		order  func(n int) []int
		stopAt int // stop after asking for this many blocks (-1: all)
	}{
		{"in order", 12, func(n int) []int { return seqInts(n, false) }, -1},
		{"reversed", 12, func(n int) []int { return seqInts(n, true) }, -1},
		{"one block", 1, func(n int) []int { return seqInts(n, false) }, -1},
		{"cut short", 40, func(n int) []int { return seqInts(n, false) }, 3},
		{"none", 0, func(n int) []int { return nil }, -1},
	}
	var r runPrep
	for run, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := prepBlocks(tt.blocks, run)
			r.start(bs, seed)
			defer r.stop()
			asked := 0
			for _, k := range tt.order(len(bs)) {
				if tt.stopAt >= 0 && asked == tt.stopAt {
					r.stop()
				}
				asked++
				outs := r.of(k)
				checkPrep(t, bs[k], outs, seed)
			}
		})
	}
}

func seqInts(n int, reversed bool) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
		if reversed {
			s[i] = n - 1 - i
		}
	}
	return s
}

// checkPrep compares outs with what b's outputs make directly.
func checkPrep(t *testing.T, b *heistgraph.Block, outs []outPrep, seed maphash.Seed) {
	t.Helper()
	var want []string
	if b != nil {
		for _, tx := range b.Txs {
			for _, o := range tx.Outputs {
				want = append(want, o.Address)
			}
		}
	}
	if len(outs) != len(want) {
		t.Fatalf("%d outputs prepared, want %d", len(outs), len(want))
	}
	for i, addr := range want {
		o := &outs[i]
		if addr == "" {
			if o.h != 0 || o.kh != 0 || o.own {
				t.Errorf("output %d without an address: %+v", i, o)
			}
			continue
		}
		if o.h != maphash.String(seed, addr) || o.kh != addrKeyHash(addr) {
			t.Errorf("%q: hashes %x %x, want %x %x", addr, o.h, o.kh, maphash.String(seed, addr), addrKeyHash(addr))
		}
		p, ok := packAddr(addr)
		if !o.own {
			if ok && len(p.Prog) <= progMax {
				t.Errorf("%q: not packed by the preparation", addr)
			}
			continue
		}
		if o.ok != ok {
			t.Errorf("%q: packs %v, want %v", addr, o.ok, ok)
			continue
		}
		got, wantForm := appendAddrForm(nil, addr, &o.p, o.ok), appendAddrValue(nil, addr)
		if !bytes.Equal(got, wantForm) {
			t.Errorf("%q: stored form %x, want %x", addr, got, wantForm)
		}
	}
}
