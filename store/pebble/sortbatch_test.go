package pebble

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// TestSortAheadMatchesSort checks that writes sorted ahead in runs (chunk
// lengths from 1 to past the writes' count) and merged come out exactly as
// one stable sort of them all by key gives, over keys that share their
// first 16 bytes or are prefixes of each other, in sort's answer and in
// the batch writeTo makes; rounds of 40,000 writes take the paths that
// merge and encode in two halves at once. Each round reuses the
// sortedWrites (its run buffers). With lanes (setLanes) for some of the
// tables, whose keys come in order (with repeats) or, in some rounds, not,
// the answer is the same.
func TestSortAheadMatchesSort(t *testing.T) {
	d := concatDB(t)
	kinds := map[byte]pebbledb.InternalKeyKind{opSet: pebbledb.InternalKeyKindSet, opMerge: pebbledb.InternalKeyKindMerge, opDelete: pebbledb.InternalKeyKindDelete}
	for seed := range uint64(20) {
		for _, chunk := range []int{0, 1, 2, 7, 64, 1000, 4096} {
			rng := rand.New(rand.NewPCG(seed, 9))
			var w sortedWrites
			w.chunk = chunk
			lanes := [][]byte{nil, {'b'}, {'a', 'c'}}[seed%3]
			w.setLanes(lanes...)
			var next [256]uint32 // the next key of each lane's table, in order
			for round := range 3 {
				n := rng.IntN(400)
				if round == 2 && seed < 2 && chunk != 1 {
					n = 40000
				}
				type write struct {
					kind     byte
					key, val string
				}
				var want []write
				disorder := round == 1 && seed%2 == 1 // the lanes' keys at random
				for i := range n {
					key := []byte{byte('a' + rng.IntN(3)), 0, 1}
					if w.laneOf[key[0]] != 0 && !disorder {
						// In order, a key sometimes written again; a
						// longer key sometimes, past the shorter one.
						next[key[0]] += uint32(rng.IntN(2))
						key = binary.BigEndian.AppendUint32(key, next[key[0]])
						key = append(key, bytes.Repeat([]byte{0}, rng.IntN(2)*9)...)
					} else {
						key = append(key, bytes.Repeat([]byte{0}, rng.IntN(16))...)
						for range rng.IntN(4) {
							key = append(key, byte(rng.IntN(3)))
						}
					}
					val := []byte{byte(i), byte(i >> 8), byte(i >> 16)}
					kind := byte(rng.IntN(3))
					if kind == opDelete {
						val = nil
					}
					w.add(kind, key, val)
					want = append(want, write{kind, string(key), string(val)})
				}
				slices.SortStableFunc(want, func(x, y write) int { return strings.Compare(x.key, y.key) })
				got := w.sort()
				if len(got) != len(want) {
					t.Fatalf("seed %d chunk %d round %d: %d writes sorted, want %d", seed, chunk, round, len(got), len(want))
				}
				for i, o := range got {
					g := write{o.kind, string(w.buf[o.key:o.val]), string(w.buf[o.val:o.end])}
					if g != want[i] {
						t.Fatalf("seed %d chunk %d round %d: write %d is %q, want %q", seed, chunk, round, i, g, want[i])
					}
				}
				b := d.db.NewBatch()
				if err := w.writeTo(b); err != nil {
					t.Fatal(err)
				}
				if int(b.Count()) != len(want) {
					t.Fatalf("seed %d chunk %d round %d: batch of %d writes, want %d", seed, chunk, round, b.Count(), len(want))
				}
				r := b.Reader()
				for i, x := range want {
					kind, k, v, ok, err := r.Next()
					if err != nil || !ok || kind != kinds[x.kind] || string(k) != x.key || string(v) != x.val {
						t.Fatalf("seed %d chunk %d round %d: batch write %d is %v %q %q (%v, %v), want %q", seed, chunk, round, i, kind, k, v, ok, err, x)
					}
				}
				if _, _, _, ok, _ := r.Next(); ok {
					t.Fatalf("seed %d chunk %d round %d: writes past %d in the batch", seed, chunk, round, len(want))
				}
				_ = b.Close()
			}
		}
	}
}

// TestTask: a task runs exactly once whoever starts it (its goroutine or
// wait), and never after stop returns.
func TestTask(t *testing.T) {
	var runs [2000]atomic.Int32
	for i := range 1000 {
		tk := goTask(func() { runs[i].Add(1) })
		if i%2 == 0 {
			runtime.Gosched()
		}
		tk.wait()
		if n := runs[i].Load(); n != 1 {
			t.Fatalf("task %d ran %d times by wait", i, n)
		}
		tk.wait() // done: returns at once
	}
	for i := 1000; i < 2000; i++ {
		tk := goTask(func() { runs[i].Add(1) })
		if i%2 == 0 {
			runtime.Gosched()
		}
		tk.stop()
		n := runs[i].Load()
		tk.wait() // stopped: returns without running it
		runtime.Gosched()
		if m := runs[i].Load(); n > 1 || m != n {
			t.Fatalf("task %d ran %d times by stop, %d after", i, n, m)
		}
	}
}

// TestSortOpsRadix: sortOps (a radix sort on the first 16 bytes, then the
// runs that share them) orders writes exactly as a comparison sort by
// cmpOps does, over keys of random bytes, keys that differ only in one
// byte position, keys shorter than 16 bytes that zeros pad (a prefix of a
// longer key), keys written several times, tables (first bytes) whose
// keys each differ in other byte positions, some of them fewer writes than
// radixMin, and lengths on both sides of radixMin.
func TestSortOpsRadix(t *testing.T) {
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 23))
		var w sortedWrites
		n := []int{0, 1, radixMin - 1, radixMin, 5000}[seed%5]
		pos := rng.IntN(24)
		for i := range n {
			var key []byte
			switch rng.IntN(5) {
			case 0: // random bytes, random length
				key = make([]byte, rng.IntN(30))
				for j := range key {
					key[j] = byte(rng.Uint32())
				}
			case 1: // one byte position differs
				key = make([]byte, 24)
				key[pos] = byte(rng.IntN(4))
			case 2: // a prefix of the one-position key, zeros only
				key = make([]byte, rng.IntN(20))
			case 3: // a table whose keys differ in two positions of their own
				tb := rng.IntN(6)
				if tb == 5 && rng.IntN(8) > 0 {
					tb = 4 // a table of few writes
				}
				key = make([]byte, 20)
				key[0] = 'a' + byte(tb)
				key[1+(pos+5*tb)%19] = byte(rng.IntN(3))
				key[1+(pos+7*tb+3)%19] = byte(rng.Uint32())
			default: // a key written before
				if len(w.ops) > 0 {
					o := w.ops[rng.IntN(len(w.ops))]
					key = slices.Clone(w.buf[o.key:o.val])
				}
			}
			w.add(byte(rng.IntN(3)), key, []byte{byte(i), byte(i >> 8)})
		}
		want := slices.Clone(w.ops)
		slices.SortFunc(want, func(x, y writeOp) int { return cmpOps(&x, &y, w.buf) })
		sortOps(w.ops, w.buf)
		if !slices.Equal(w.ops, want) {
			t.Fatalf("seed %d: %d writes sorted by radix differ from the comparison sort", seed, n)
		}
	}
}

// BenchmarkSortOps sorts a run of applySortChunk writes with keys shaped
// like the applier's (a table prefix and chain code, then a big-endian id
// or number and more), by sortOps (radix) and by the comparison sort it
// replaced (cmp).
func BenchmarkSortOps(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var w sortedWrites
	for i := range applySortChunk {
		key := []byte{"aeotsyd"[rng.IntN(7)], 0, 1}
		key = binary.BigEndian.AppendUint64(key, uint64(rng.IntN(1<<20)))
		key = binary.BigEndian.AppendUint64(key, uint64(rng.IntN(3000)))
		key = binary.BigEndian.AppendUint32(key, uint32(i))
		w.add(opSet, key, []byte("value"))
	}
	ops := make([]writeOp, len(w.ops))
	for _, bb := range []struct {
		name string
		sort func([]writeOp, []byte)
	}{
		{"radix", sortOps},
		{"cmp", func(ops []writeOp, buf []byte) {
			slices.SortFunc(ops, func(x, y writeOp) int { return cmpOps(&x, &y, buf) })
		}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				copy(ops, w.ops)
				bb.sort(ops, w.buf)
			}
		})
	}
}

// BenchmarkSortOpsTables sorts a run of applySortChunk writes shaped like
// a run of the applier's, by table: for each tx, its outputs (o, by the
// run's numbers), their events and their addresses' events (e, by ids
// over 8 million), its spends of older outputs (s), new addresses (y, by
// the next ids), the address totals (a, by a random hash) and the tx's own
// keys (t by txid, d and v by number); by radixOps as it is (tables) and
// by the radix sort over all writes at once it replaced (flat, kept here),
// the part of sortOps that changed.
func BenchmarkSortOpsTables(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var w sortedWrites
	const c = chainCode(1)
	num, id := uint64(1_500_000), uint64(4_000_000)
	var key []byte
	set := func() { w.add(opSet, key, []byte("value")) }
	for len(w.ops) < applySortChunk {
		num++
		for n := range 3 {
			key = appendOutputKey(key[:0], c, num, uint32(n))
			set()
			key = appendEventKey(key[:0], c, 1+rng.Uint64N(8_000_000), eventPos{Height: 6000, TxIndex: uint32(num % 3000), Index: uint32(n)})
			set()
			key = appendAddressKey(key[:0], c, fmt.Sprint(rng.Uint64()), 1+rng.Uint64N(8_000_000))
			set()
		}
		for n := range 2 {
			key = appendSpendsOfKey(key[:0], c, rng.Uint64N(num), uint32(rng.IntN(3)), true)
			key = appendSpender(key, num, uint32(n))
			set()
			key = appendEventKey(key[:0], c, 1+rng.Uint64N(8_000_000), eventPos{Height: 6000, TxIndex: uint32(num % 3000), Kind: heistgraph.Spent, Index: uint32(n)})
			set()
			id++
			key = appendAddrByIDKey(key[:0], c, id)
			set()
		}
		var txid heistgraph.Hash
		for k := range txid {
			txid[k] = byte(rng.Uint32())
		}
		key = appendTxKey(key[:0], c, txid)
		set()
		key = appendTxNumKey(key[:0], c, num)
		set()
		key = appendTxRecKey(key[:0], c, num)
		set()
	}
	ops, tmp := make([]writeOp, len(w.ops)), make([]writeOp, len(w.ops))
	for _, bb := range []struct {
		name  string
		radix func(ops, tmp []writeOp) []writeOp
	}{
		{"tables", radixOps},
		{"flat", radixFlat},
	} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				copy(ops, w.ops)
				bb.radix(ops, tmp)
			}
		})
	}
}

// radixFlat is radixOps as it was before it went by table: every byte
// position where any two writes differ is a pass over them all.
func radixFlat(ops, tmp []writeOp) []writeOp {
	var counts [16][256]int32
	countDigits(ops, &counts)
	n := int32(len(ops))
	src, dst := ops, tmp
	for pos := 15; pos >= 0; pos-- {
		if c := &counts[pos]; c[opDigit(&src[0], pos)] != n {
			radixPass(src, dst, c, pos)
			src, dst = dst, src
		}
	}
	return src
}

// TestKeyPrefix checks keyPrefix against the key's first 16 bytes copied
// into zeros, for every length from 0 to 20 (the word boundaries, and the
// shift of a second word read from a shorter key's last 8 bytes).
func TestKeyPrefix(t *testing.T) {
	key := make([]byte, 20)
	for i := range key {
		key[i] = byte(0xa0 + i)
	}
	for n := range len(key) + 1 {
		var want [16]byte
		copy(want[:], key[:n])
		hi, lo := keyPrefix(key[:n])
		if w1, w2 := binary.BigEndian.Uint64(want[:8]), binary.BigEndian.Uint64(want[8:]); hi != w1 || lo != w2 {
			t.Errorf("length %d: %016x %016x, want %016x %016x", n, hi, lo, w1, w2)
		}
	}
}
