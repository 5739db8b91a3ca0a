package cluster

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
)

// fuzzTx builds a transaction and its prevouts from data: the first byte
// gives the numbers of inputs and outputs, each further byte an output's
// value (from a few amounts, Whirlpool's and Wasabi's among them) and
// type (OP_RETURN included), or an input's prevout (nil included).
func fuzzTx(data []byte) (*heistgraph.Tx, []*heistgraph.TxOut) {
	values := []int64{100_000, 1_000_000, 10_000_000, 5_000, 2_000, 123_456, 2_730, 20_000_000, 150_000, 1_050_000, 7, 100_100, 9_999_999, 33_000, 64_000_000, 500}
	types := []heistgraph.ScriptType{heistgraph.ScriptWitnessV0KeyHash, heistgraph.ScriptWitnessV1Taproot, heistgraph.ScriptPubKeyHash, heistgraph.ScriptNullData}
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	head := next()
	nin, nout := 1+int(head&7)*4%30, 1+int(head>>3)%40
	tx := &heistgraph.Tx{Version: 2}
	var prev []*heistgraph.TxOut
	for i := range nin {
		b := next()
		tx.Inputs = append(tx.Inputs, heistgraph.TxIn{PrevOut: heistgraph.Outpoint{TxID: heistgraph.Hash{byte(i + 1)}, Vout: uint32(b)}})
		if b&0x80 != 0 {
			prev = append(prev, nil)
			continue
		}
		prev = append(prev, &heistgraph.TxOut{Value: values[b&15] + int64(b>>4&3)*100, Type: types[b>>4&1], Address: string(rune('a' + b&7))})
	}
	for range nout {
		b := next()
		tx.Outputs = append(tx.Outputs, heistgraph.TxOut{Value: values[b&15], Type: types[b>>4&3], Address: string(rune('a' + b>>6))})
	}
	return tx, prev
}

// FuzzMayJoin: pattern.MayJoin never says no to a transaction the
// CoinJoin detectors or the Stonewall rule accept (clustering would then
// apply common-input ownership to a CoinJoin), and the detectors say the
// same comparing owner numbers (the clustering's graph ids) as comparing
// the addresses.
func FuzzMayJoin(f *testing.F) {
	f.Add([]byte{0x22, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00})
	f.Add([]byte{0x10, 0x01, 0x02, 0x03, 0x03, 0x04})
	f.Add([]byte{0xff, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x31, 0x02})
	f.Add([]byte{0x1c, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x41, 0x81, 0xc1, 0x02})
	f.Fuzz(func(t *testing.T, data []byte) {
		tx, prev := fuzzTx(data)
		var buf []int64
		may := pattern.MayJoin(tx, &buf)
		cj, ok := pattern.AnalyzeCoinJoin(tx, prev, pattern.CoinJoinOptions{})
		if ok && !may {
			t.Fatalf("a %s CoinJoin of %d inputs and %d outputs: MayJoin says no", cj.Kind, len(tx.Inputs), len(tx.Outputs))
		}
		if pattern.IsStonewall(tx) && !may {
			t.Fatalf("a Stonewall of %d inputs and %d outputs: MayJoin says no", len(tx.Inputs), len(tx.Outputs))
		}
		num := map[string]uint32{}
		owner := func(o *heistgraph.TxOut) uint32 {
			if _, ok := num[o.Address]; !ok {
				num[o.Address] = uint32(len(num) + 1)
			}
			return num[o.Address]
		}
		in, out := make([]uint32, len(prev)), make([]uint32, len(tx.Outputs))
		for i, p := range prev {
			if p != nil {
				in[i] = owner(p)
			}
		}
		for j := range tx.Outputs {
			out[j] = owner(&tx.Outputs[j])
		}
		byNum, okNum := pattern.AnalyzeCoinJoin(tx, prev, pattern.CoinJoinOptions{InOwners: in, OutOwners: out})
		if okNum != ok || !reflect.DeepEqual(byNum, cj) {
			t.Fatalf("by owner numbers %+v %v, by addresses %+v %v", byNum, okNum, cj, ok)
		}
	})
}

// TestMayJoin: the detectors' shapes pass, the rest do not, with few and
// with many outputs.
func TestMayJoin(t *testing.T) {
	out := func(v int64, ty heistgraph.ScriptType) heistgraph.TxOut { return heistgraph.TxOut{Value: v, Type: ty} }
	p2wpkh, nulldata := heistgraph.ScriptWitnessV0KeyHash, heistgraph.ScriptNullData
	many := func(n, dup int) []heistgraph.TxOut {
		var o []heistgraph.TxOut
		for i := range n {
			o = append(o, out(int64(1000+i), p2wpkh))
		}
		for i := range dup {
			o[n-1-i].Value = o[3].Value
		}
		return o
	}
	pairs := func(n int) []heistgraph.TxOut {
		o := many(n, 0)
		for i := range 3 {
			o[2*i+1].Value = o[2*i].Value
		}
		return o
	}
	two, twenty := make([]heistgraph.TxIn, 2), make([]heistgraph.TxIn, 20)
	three := []heistgraph.TxOut{out(5, p2wpkh), out(5, p2wpkh), out(5, p2wpkh)}
	for _, c := range []struct {
		name string
		tx   heistgraph.Tx
		want bool
	}{
		{"two amounts", heistgraph.Tx{Inputs: two, Outputs: []heistgraph.TxOut{out(5, p2wpkh), out(6, p2wpkh)}}, false},
		{"two equal", heistgraph.Tx{Inputs: two, Outputs: []heistgraph.TxOut{out(5, p2wpkh), out(5, p2wpkh)}}, false},
		{"two equal of three", heistgraph.Tx{Inputs: two, Outputs: []heistgraph.TxOut{out(5, p2wpkh), out(6, p2wpkh), out(5, p2wpkh)}}, true},
		{"two equal of four", heistgraph.Tx{Inputs: two, Outputs: []heistgraph.TxOut{out(5, p2wpkh), out(6, p2wpkh), out(5, p2wpkh), out(7, p2wpkh)}}, true},
		{"two equal of five", heistgraph.Tx{Inputs: two, Outputs: many(5, 1)}, false},
		{"two equal of three, one an OP_RETURN", heistgraph.Tx{Inputs: two, Outputs: []heistgraph.TxOut{out(0, nulldata), out(0, p2wpkh), out(6, p2wpkh)}}, false},
		{"three equal", heistgraph.Tx{Inputs: two, Outputs: three}, true},
		{"one input", heistgraph.Tx{Inputs: two[:1], Outputs: three}, false},
		{"40 distinct", heistgraph.Tx{Inputs: two, Outputs: many(40, 0)}, false},
		{"40, two equal", heistgraph.Tx{Inputs: two, Outputs: many(40, 1)}, false},
		{"40, three equal", heistgraph.Tx{Inputs: two, Outputs: many(40, 2)}, true},
		{"40, three pairs, 2 inputs", heistgraph.Tx{Inputs: two, Outputs: pairs(40)}, false},
		{"40, three pairs, 20 inputs", heistgraph.Tx{Inputs: twenty, Outputs: pairs(40)}, true},
	} {
		var buf []int64
		if got := pattern.MayJoin(&c.tx, &buf); got != c.want {
			t.Errorf("%s: MayJoin = %v, want %v", c.name, got, c.want)
		}
	}
}

// mapRing is the ring as it was, a map keyed by the whole txid: the
// reference TestRingSameKey holds the ring to.
type mapRing struct {
	byTx  map[heistgraph.Hash]*candidate
	queue []*candidate
	done  map[*candidate]bool
}

func (r *mapRing) add(c *candidate) {
	r.byTx[c.txid] = c
	r.queue = append(r.queue, c)
}

func (r *mapRing) remove(c *candidate) {
	r.done[c] = true
	delete(r.byTx, c.txid)
}

func (r *mapRing) expire(height int64) {
	i := 0
	for ; i < len(r.queue) && (r.done[r.queue[i]] || r.queue[i].height < height); i++ {
		if !r.done[r.queue[i]] {
			delete(r.byTx, r.queue[i].txid)
		}
	}
	r.queue = r.queue[i:]
}

// sameQueue fails t unless r's candidates waiting are ref's, in order.
func sameQueue(t *testing.T, r *ring, ref *mapRing) {
	t.Helper()
	var got, want []uint32
	for c := range r.waiting {
		got = append(got, c.txIndex)
	}
	for _, c := range ref.queue {
		if !ref.done[c] {
			want = append(want, c.txIndex)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("waiting: %v, want %v", got, want)
	}
}

// TestRingSameKey: the ring finds (by txid, and by graph number:
// getNum), replaces and forgets candidates as a map keyed by the whole
// txid did, also when txids share the first 8
// bytes (the key of its map) and when one txid comes twice (a later
// candidate of a txid replaces the earlier; the earlier's expiry forgets
// the txid), across rebuilds of its bits.
func TestRingSameKey(t *testing.T) {
	// few: 36 txids over 3 keys (long probe runs of one key); many: 6,000
	// txids over 2,000 keys, thousands waiting (the index grows, deletions
	// shift runs that wrap around the table's end).
	for _, c := range []struct {
		name        string
		keys, lasts int
		steps, span int
	}{{"few", 3, 12, 5000, 50}, {"many", 2000, 3, 40000, 2000}} {
		t.Run(c.name, func(t *testing.T) { testRing(t, c.keys, c.lasts, c.steps, c.span) })
	}
}

func testRing(t *testing.T, keys, lasts, steps, span int) {
	rng := rand.New(rand.NewPCG(7, 8))
	r := newRing()
	ref := &mapRing{byTx: map[heistgraph.Hash]*candidate{}, done: map[*candidate]bool{}}
	txid := func() heistgraph.Hash {
		var h heistgraph.Hash
		k := uint64(rng.IntN(keys))
		for i := range 8 {
			h[i] = byte(k * 0x9e3779b97f4a7c15 >> (8 * i))
		}
		h[31] = byte(rng.IntN(lasts))
		return h
	}
	removed := 0
	for step := range steps {
		h := txid()
		switch rng.IntN(4) {
		case 0, 1:
			c := &candidate{txid: h, height: int64(step / span), txIndex: uint32(step)}
			if step%3 != 0 {
				c.num = uint32(step) + 1 // a graph number; the others have none
			}
			r.add(c) // a copy
			ref.add(c)
		case 2:
			if c := r.get(&h); c != nil {
				r.remove(c)
				ref.remove(ref.byTx[h])
				removed++
			}
		default:
			r.expire(int64(step/span - 3))
			ref.expire(int64(step/span - 3))
		}
		if step%97 != 0 && keys > 3 {
			continue
		}
		for h := range ref.byTx {
			got, want := r.get(&h), ref.byTx[h]
			if got == nil || got.txIndex != want.txIndex {
				t.Fatalf("step %d: get(%x…%x) = %v, want %v", step, h[0], h[31], got, want)
			}
			if want.num != 0 && !r.mayNum(want.num-1) {
				t.Fatalf("step %d: candidate %d's number %d not marked", step, want.txIndex, want.num-1)
			}
		}
		// getNum finds the candidates waiting by their numbers, and no
		// other (replaced, removed, expired or never added).
		byNum := map[uint32]*candidate{}
		for _, c := range ref.byTx {
			if c.num != 0 {
				byNum[c.num] = c
			}
		}
		for range 40 {
			num := uint32(1 + rng.IntN(step+1))
			if got, want := r.getNum(num), byNum[num]; (got == nil) != (want == nil) || got != nil && got.txIndex != want.txIndex {
				t.Fatalf("step %d: getNum(%d) = %v, want %v", step, num, got, want)
			}
		}
		for range 20 {
			h := txid()
			if got, want := r.get(&h), ref.byTx[h]; (got == nil) != (want == nil) || got != nil && got.txIndex != want.txIndex {
				t.Fatalf("step %d: get(%x…%x) = %v, want %v", step, h[0], h[31], got, want)
			}
		}
	}
	// number gives the candidates without one their numbers.
	r.number(func(h *heistgraph.Hash) uint32 { return ref.byTx[*h].txIndex + 1 })
	for h, c := range ref.byTx {
		if got := r.get(&h); got.num != c.txIndex+1 || !r.mayNum(c.txIndex) {
			t.Fatalf("after number: candidate %d has number %d (marked %v)", c.txIndex, got.num, r.mayNum(c.txIndex))
		}
		if got := r.getNum(c.txIndex + 1); got == nil || got.txIndex != c.txIndex {
			t.Fatalf("after number: getNum(%d) = %v", c.txIndex+1, got)
		}
	}
	// The queue holds what the reference's does, in order.
	sameQueue(t, r, ref)
	if removed < 100 {
		t.Fatalf("%d candidates removed: the test does not exercise removal", removed)
	}
}

// TestRingNumbersOnly: a ring that stops keeping its index by txid
// (numbersOnly, as the graph's catch-up does) and builds it again (a get, a
// candidate without a graph number: a block read as records) finds,
// removes and expires candidates as the map keyed by txid does, by number
// and by txid, with the candidates' txids distinct (numbersOnly's
// condition), across rebuilds of its bits and growths of its tables.
func TestRingNumbersOnly(t *testing.T) {
	for _, c := range []struct {
		name  string
		steps int
		span  int // steps a height
		// switchEvery: one step in switchEvery switches to numbersOnly,
		// one in recordEvery asks by txid (building the index again).
		switchEvery, recordEvery int
	}{
		{"mostly by number", 40000, 2000, 500, 3000},
		{"switching often", 20000, 300, 7, 11},
		{"by number only", 30000, 1000, 1 << 30, 1 << 30},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, uint64(c.switchEvery)))
			r := newRing()
			r.numbersOnly()
			ref := &mapRing{byTx: map[heistgraph.Hash]*candidate{}, done: map[*candidate]bool{}}
			byNum := map[uint32]*candidate{}
			var hs []heistgraph.Hash
			removed, expired := 0, 0
			for step := range c.steps {
				if rng.IntN(c.switchEvery) == 0 {
					r.numbersOnly()
				}
				switch k := rng.IntN(8); {
				case k < 4:
					var h heistgraph.Hash
					for i := range h {
						h[i] = byte(rng.Uint32())
					}
					cd := &candidate{txid: h, height: int64(step / c.span), txIndex: uint32(step), num: uint32(step) + 1}
					if rng.IntN(c.recordEvery) == 0 {
						cd.num = 0 // a block read as records
					}
					r.add(cd)
					ref.add(cd)
					if cd.num != 0 {
						byNum[cd.num] = cd
					}
					hs = append(hs, h)
				case k < 6:
					// A graph's input spends a candidate's output.
					num := uint32(1 + rng.IntN(step+1))
					got, want := r.getNum(num), byNum[num]
					if want != nil && ref.byTx[want.txid] != want {
						want = nil // removed or expired
					}
					if (got == nil) != (want == nil) || got != nil && got.txIndex != want.txIndex {
						t.Fatalf("step %d: getNum(%d) = %v, want %v", step, num, got, want)
					}
					if got != nil {
						r.remove(got)
						ref.remove(want)
						removed++
					}
				case k == 6 && len(hs) > 0 && rng.IntN(c.recordEvery) == 0:
					// A record's input spends one by txid.
					h := hs[rng.IntN(len(hs))]
					got, want := r.get(&h), ref.byTx[h]
					if (got == nil) != (want == nil) || got != nil && got.txIndex != want.txIndex {
						t.Fatalf("step %d: get(%x) = %v, want %v", step, h[:4], got, want)
					}
					if got != nil {
						r.remove(got)
						ref.remove(want)
						removed++
					}
				default:
					n := len(ref.byTx)
					r.expire(int64(step/c.span - 2))
					ref.expire(int64(step/c.span - 2))
					expired += n - len(ref.byTx)
				}
				if step%499 != 0 {
					continue
				}
				for _, cd := range ref.byTx {
					if cd.num != 0 && (!r.mayNum(cd.num-1) || r.getNum(cd.num) == nil) {
						t.Fatalf("step %d: candidate %d not found by its number", step, cd.txIndex)
					}
				}
			}
			// Asked by txid at the end, the ring has every candidate
			// waiting and no other; its queue is the reference's.
			for _, h := range hs {
				if got, want := r.get(&h), ref.byTx[h]; (got == nil) != (want == nil) || got != nil && got.txIndex != want.txIndex {
					t.Fatalf("at the end: get(%x) = %v, want %v", h[:4], got, want)
				}
			}
			sameQueue(t, r, ref)
			if removed < 100 || expired < 100 {
				t.Fatalf("%d removed, %d expired: the test does not exercise them", removed, expired)
			}
		})
	}
}
