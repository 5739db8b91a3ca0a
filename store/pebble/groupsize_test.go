package pebble

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// sizedBlock is a block of txs transactions of ins inputs and outs outputs
// each.
func sizedBlock(txs, ins, outs int) *heistgraph.Block {
	b := &heistgraph.Block{Txs: make([]heistgraph.Tx, txs)}
	for i := range b.Txs {
		b.Txs[i].Inputs = make([]heistgraph.TxIn, ins)
		b.Txs[i].Outputs = make([]heistgraph.TxOut, outs)
	}
	return b
}

// TestGroupBytes: the estimate counts every transaction, input and output
// of the blocks a run would take (up to the first that reaches the limit,
// which the run takes too), nil blocks as nothing, plus a sixteenth.
func TestGroupBytes(t *testing.T) {
	t.Parallel()
	b3 := sizedBlock(1, 1, 1)  // 3 items
	b10 := sizedBlock(2, 2, 2) // 10 items
	b0 := &heistgraph.Block{}  // a block without txs
	tests := []struct {
		name    string
		bs      []*heistgraph.Block
		perItem int
		limit   int
		want    int
		outs    int
	}{
		{"none", nil, 100, 1 << 20, 0, 0},
		{"empty block", []*heistgraph.Block{b0}, 100, 1 << 20, 0, 0},
		{"nil block", []*heistgraph.Block{nil, b3}, 160, 1 << 20, 480 + 30, 1},
		{"all under the limit", []*heistgraph.Block{b3, b10, b3}, 160, 1 << 20, 2560 + 160, 6},
		{"stops after the block that reaches the limit", []*heistgraph.Block{b3, b10, b3}, 100, 1300, 1300 + 81, 5},
		{"the first block always counts", []*heistgraph.Block{b10, b3}, 100, 1, 1000 + 62, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, outs, _ := groupBytes(tc.bs, tc.perItem, tc.limit)
			if got != tc.want || outs != tc.outs {
				t.Fatalf("groupBytes = %d, %d outputs, want %d, %d", got, outs, tc.want, tc.outs)
			}
		})
	}
}

// TestReserve: reserve gives an empty buffer room for the estimate and a
// quarter more, keeps a buffer large enough, never shrinks one, and never
// replaces a buffer holding writes.
func TestReserve(t *testing.T) {
	t.Parallel()
	var w sortedWrites
	w.reserve(1000)
	if cap(w.buf) != 1250 || len(w.buf) != 0 {
		t.Fatalf("after reserve(1000): len %d cap %d, want 0 1250", len(w.buf), cap(w.buf))
	}
	p := &w.buf[:1][0]
	w.reserve(1200) // fits
	w.reserve(10)
	if cap(w.buf) != 1250 || &w.buf[:1][0] != p {
		t.Fatalf("a buffer large enough was replaced (cap %d)", cap(w.buf))
	}
	_ = w.Set([]byte("k"), []byte("v"), nil)
	w.reserve(1 << 20)
	if cap(w.buf) != 1250 || string(w.buf) != "kv" {
		t.Fatalf("a buffer holding writes was replaced (cap %d, %q)", cap(w.buf), w.buf)
	}
	w.reset()
	w.reserve(1 << 20)
	if cap(w.buf) != 1<<20+1<<18 {
		t.Fatalf("cap %d after reserve(1 MiB) on an emptied buffer, want %d", cap(w.buf), 1<<20+1<<18)
	}
}

// TestDeltas: a block's deltas are one per address (its id and string
// together), in the order they were first touched, through the table's
// growth and across reset; an id met with another string (only a corrupt
// store could give one) is another entry, as it was when the string
// alone was the key, and one met without a string joins the id's entry.
func TestDeltas(t *testing.T) {
	t.Parallel()
	var s deltas
	for round := range 3 {
		n := []int{5, 3000, 40}[round]
		for i := range n {
			// ids in a stride that collides in a small table's slots
			s.get(uint64(1+i*1024), fmt.Sprintf("addr%d", i)).received += int64(i)
		}
		for i := range n {
			dl := s.get(uint64(1+i*1024), fmt.Sprintf("addr%d", i))
			dl.received += int64(i)
			dl.outputs++
		}
		if len(s.ds) != n || len(s.addrs) != n {
			t.Fatalf("round %d: %d deltas for %d addresses", round, len(s.ds), n)
		}
		for i := range n {
			if dl, addr := s.ds[i], s.addrs[i]; addr != fmt.Sprintf("addr%d", i) || dl.id != uint64(1+i*1024) ||
				dl.received != int64(2*i) || dl.outputs != 1 || dl.lastTx != -1 || dl.minH != -1 || dl.maxH != -1 {
				t.Fatalf("round %d: delta %d is %q %+v", round, i, addr, dl)
			}
		}
		if dl := s.get(1, ""); dl != &s.ds[0] || s.addrs[0] != "addr0" {
			t.Fatalf("round %d: id 1 without its string is not addr0's delta", round)
		}
		if other := s.get(1, "another"); other == &s.ds[0] || len(s.ds) != n+1 {
			t.Fatalf("round %d: id 1 with another string shares addr0's delta", round)
		}
		// An entry made without its string (a spend resolved from the
		// unspent outputs) takes the first string given.
		id := uint64(1 + n*1024)
		if dl, again := s.get(id, ""), s.get(id, "late"); dl != again || s.addrs[len(s.addrs)-1] != "late" || len(s.ds) != n+2 {
			t.Fatalf("round %d: an entry made without its string: %q, %d entries", round, s.addrs[len(s.addrs)-1], len(s.ds))
		}
		s.reset()
		if len(s.ds) != 0 || len(s.addrs) != 0 {
			t.Fatalf("round %d: reset left %d deltas", round, len(s.ds))
		}
	}
}

// TestGroupOuts: the run's outputs are found by outpoint, a spend marks
// its output in place, an outpoint made again (a txid repeated within a
// block) replaces its output without a second entry, and the list keeps
// the order they were made in; reset empties both.
func TestGroupOuts(t *testing.T) {
	t.Parallel()
	var g group
	g.reset()
	k := func(vout uint32) utxoKey {
		return utxoKey{1, heistgraph.Outpoint{TxID: heistgraph.Hash{1}, Vout: vout}}
	}
	for v := range uint32(100) {
		g.putOut(k(v), utxo{Value: int64(v), Address: fmt.Sprint("a", v)})
	}
	if o := g.out(k(100)); o != nil {
		t.Fatalf("an output never made: %+v", o)
	}
	g.out(k(7)).spent = true
	g.putOut(k(9), utxo{Value: 900})
	if len(g.outList) != 100 || g.outs.n != 100 {
		t.Fatalf("%d outputs listed, %d indexed, want 100", len(g.outList), g.outs.n)
	}
	for v, o := range g.outList {
		want := utxo{Value: int64(v), Address: fmt.Sprint("a", v), spent: v == 7}
		if v == 9 {
			want = utxo{Value: 900}
		}
		if o.k != k(uint32(v)) || o.o != want || *g.out(k(uint32(v))) != want {
			t.Fatalf("output %d is %+v, want %+v", v, o, want)
		}
	}
	g.reset()
	if len(g.outList) != 0 || g.outs.n != 0 || g.out(k(1)) != nil {
		t.Fatal("reset kept outputs")
	}
}

// TestCacheIDsFresh: after a run the ids cache holds every id the run
// knows, with the ids the store or the counter gave, and only those are
// put into it, and those the window of new addresses gave, which go to the
// reused part (the ids its newer generation gave stay as they are).
func TestCacheIDsFresh(t *testing.T) {
	t.Parallel()
	d := concatDB(t)
	a := &applier{}
	a.idCache.limit(1 << 20)
	const c = chainCode(1)
	ids := map[string]uint64{}
	for run, addrs := range [][]string{{"a", "b", "a"}, {"a", "c", "b", "d"}} {
		a.w.reset()
		a.ids.reset()
		for _, addr := range addrs {
			id, err := a.addrID(d.db, c, addr)
			if err != nil {
				t.Fatal(err)
			}
			if want, ok := ids[addr]; ok && id != want {
				t.Fatalf("run %d: %q has id %d, had %d", run, addr, id, want)
			}
			ids[addr] = id
		}
		if want := []int{2, 4}[run]; len(a.ids.fresh) != want { // a and b again, seen
			t.Fatalf("run %d: %d fresh ids, want %d (%v)", run, len(a.ids.fresh), want, a.ids.fresh)
		}
		a.cacheIDs()
		for addr, id := range ids {
			if got, _, ok := a.idCache.get(a.addrHash(addr), c, a.formOf(addr, nil)); !ok || got != id {
				t.Fatalf("run %d: cache holds %d (%v) for %q, want %d", run, got, ok, addr, id)
			}
			seen := run == 1 && (addr == "a" || addr == "b")
			if _, _, ok := a.idCache.main.get(a.addrHash(addr), c, a.formOf(addr, nil)); ok != seen {
				t.Fatalf("run %d: %q in the reused part: %v, want %v", run, addr, ok, seen)
			}
		}
		// the run's counter, as committing its batch would store it
		a.ids.given = false
		a.ids.next = 0
		if err := d.db.Set(metaAddrIDKey(c), appendUvarint(nil, uint64(len(ids)+1)), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSizeMaps: size makes the run's maps of outputs and ids for a
// quarter more than asked, keeps maps that have room, and hands back empty
// maps that work.
func TestSizeMaps(t *testing.T) {
	t.Parallel()
	a := &applier{}
	a.grp.reset()
	a.ids.reset()
	a.size(100)
	if a.sizedFor != 125 || a.grp.outs.n != 0 || len(a.grp.outs.slots) != 256 || len(a.ids.ids.ents) != 0 || len(a.ids.ids.slots) != 256 || cap(a.grp.outList) != 125 || cap(a.ids.fresh) != 125 {
		t.Fatalf("sized for %d, %d outputs in %d slots, %d ids in %d slots", a.sizedFor, a.grp.outs.n, len(a.grp.outs.slots), len(a.ids.ids.ents), len(a.ids.ids.slots))
	}
	outs := &a.grp.outs.slots[0]
	a.grp.putOut(utxoKey{}, utxo{Value: 1})
	a.ids.ids.put(a.addrHash("a"), addrKey{1, "a"}, 1)
	a.grp.reset()
	a.ids.reset()
	a.size(125)
	if &a.grp.outs.slots[0] != outs || a.sizedFor != 125 {
		t.Fatal("a map with room was made again")
	}
	a.size(126)
	if &a.grp.outs.slots[0] == outs || a.sizedFor != 157 || a.grp.outs.n != 0 || len(a.ids.ids.ents) != 0 {
		t.Fatalf("not made larger: sized for %d", a.sizedFor)
	}
	a.grp.putOut(utxoKey{}, utxo{Value: 2})
	if o := a.grp.out(utxoKey{}); o == nil || o.Value != 2 {
		t.Fatalf("the new map lost an output: %v", o)
	}
}

// TestGroupOutsIndex: the run's output index answers as a map would over
// thousands of outputs (the table grows several times, and is made ahead
// by size), txids that share their first 8 bytes or repeat with many
// output indexes, two chains, outputs made again, and runs after a reset.
func TestGroupOutsIndex(t *testing.T) {
	t.Parallel()
	for seed := range uint64(6) {
		rng := rand.New(rand.NewPCG(seed, 5))
		a := &applier{}
		a.grp.reset()
		if seed%2 == 1 {
			a.size(3000)
		}
		for run := range 3 {
			want := map[utxoKey]int64{}
			var keys []utxoKey
			for i := range 3000 + rng.IntN(3000) {
				var k utxoKey
				switch {
				case len(keys) > 0 && rng.IntN(5) == 0: // made again
					k = keys[rng.IntN(len(keys))]
				default:
					k.c = chainCode(1 + rng.IntN(2))
					k.op.Vout = uint32(rng.IntN(40))
					k.op.TxID[rng.IntN(3)] = byte(rng.IntN(256))
					k.op.TxID[8+rng.IntN(24)] = byte(rng.IntN(256))
				}
				a.grp.putOut(k, utxo{Value: int64(i)})
				if _, ok := want[k]; !ok {
					keys = append(keys, k)
				}
				want[k] = int64(i)
			}
			if a.grp.outs.n != len(want) || len(a.grp.outList) != len(want) {
				t.Fatalf("seed %d run %d: %d indexed, %d listed, want %d", seed, run, a.grp.outs.n, len(a.grp.outList), len(want))
			}
			for j, k := range keys {
				if o := a.grp.out(k); o == nil || o.Value != want[k] || a.grp.outList[j].k != k {
					t.Fatalf("seed %d run %d: output %v is %v, want %d", seed, run, k, o, want[k])
				}
				miss := k
				miss.op.Vout += 40
				if o := a.grp.out(miss); o != nil {
					t.Fatalf("seed %d run %d: an output never made: %v", seed, run, o)
				}
			}
			a.grp.reset()
			if a.grp.out(keys[0]) != nil {
				t.Fatalf("seed %d run %d: reset kept outputs", seed, run)
			}
		}
	}
}

// TestRunIDTable: the run's table of address ids answers as a map would
// over thousands of addresses (it grows several times), one address on
// two chains (one hash, two entries), and runs after a reset.
func TestRunIDTable(t *testing.T) {
	t.Parallel()
	a := &applier{}
	rng := rand.New(rand.NewPCG(3, 4))
	var x idTable
	for run := range 3 {
		want := map[addrKey]uint64{}
		var keys []addrKey
		for i := range 2000 + rng.IntN(4000) {
			k := addrKey{chainCode(1 + rng.IntN(2)), fmt.Sprint("addr", rng.IntN(5000))}
			h := a.addrHash(k.addr)
			id, ok := x.find(h, &k)
			if w, had := want[k]; ok != had || id != w {
				t.Fatalf("run %d: %v is %d (%v), want %d (%v)", run, k, id, ok, w, had)
			}
			if !ok {
				x.put(h, k, uint64(i+1))
				want[k] = uint64(i + 1)
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			if id, ok := x.find(a.addrHash(k.addr), &k); !ok || id != want[k] {
				t.Fatalf("run %d: %v is %d (%v), want %d", run, k, id, ok, want[k])
			}
		}
		x.reset()
		if _, ok := x.find(a.addrHash(keys[0].addr), &keys[0]); ok || len(x.ents) != 0 {
			t.Fatalf("run %d: reset kept ids", run)
		}
	}
}
