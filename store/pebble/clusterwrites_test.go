package pebble

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/batchrepr"
)

// TestClusterWritesOrder: a run's writes, handed to a batch table by table,
// leave what the same writes applied one after another leave (the last
// write of a key wins: ids and index positions written several times,
// deletions and sets of one key, one address given two ids, addresses
// whose length takes two varint bytes), with the batch's keys in order.
// Odd rounds write thousands of ids; half the rounds some of them above 32
// bits.
func TestClusterWritesOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const c chainCode = 7
	for round := range 20 {
		var w clusterWrites
		type op struct {
			del      bool
			key, val string
		}
		var ref []op
		set := func(k, v []byte) { ref = append(ref, op{false, string(k), string(v)}) }
		del := func(k []byte) { ref = append(ref, op{true, string(k), ""}) }
		var addrs []string
		next := uint64(1 + rng.IntN(1000))
		n, ids := 200, 40
		if round%2 == 1 {
			n, ids = 8*radixMin*4, radixMin*2
		}
		// id returns an id to write: few distinct below 2*ids, some wide
		// but in the rounds written by the integer sort (idOrder: every
		// id below 32 bits).
		narrow := round%4 >= 2
		id := func() uint64 {
			if !narrow && rng.IntN(50) == 0 {
				return uint64(rng.IntN(4))<<(8*(1+rng.IntN(7))) | 1
			}
			return uint64(rng.IntN(ids) + 1)
		}
		for range n {
			var k []byte
			switch rng.IntN(8) {
			case 0: // a new address, sometimes one given before, sometimes long
				a := fmt.Sprintf("bcrt1q%x", rng.IntN(300))
				if rng.IntN(9) == 0 {
					a = strings.Repeat("x", 120+rng.IntN(20))
				}
				if len(addrs) > 0 && rng.IntN(6) == 0 {
					a = addrs[rng.IntN(len(addrs))]
				}
				addrs = append(addrs, a)
				w.address(next, a, false)
				set(clusterAddrKey(nil, c, a), appendUvarint(nil, next))
				set(clusterIDKey(nil, c, clusterID, next), []byte(a))
				next++
			case 1:
				id, v := id(), uint64(rng.IntN(40)+1)
				w.members.add(id, v, false)
				set(clusterIDKey(nil, c, clusterMember, id), appendUvarint(nil, v))
			case 2:
				id, n := id(), uint64(rng.IntN(3))
				w.sizes.add(id, n, n == 0)
				if k = clusterIDKey(nil, c, clusterSize, id); n == 0 {
					del(k)
				} else {
					set(k, appendUvarint(nil, n))
				}
			case 3:
				id := id()
				pos := evidencePosKey{uint64(rng.IntN(4)), uint32(rng.IntN(3)), uint32(rng.IntN(3))}
				if rng.IntN(20) == 0 { // wide
					pos = evidencePosKey{rng.Uint64() >> rng.IntN(64), rng.Uint32() >> rng.IntN(32), rng.Uint32() >> rng.IntN(32)}
				}
				d := rng.IntN(3) == 0
				w.index = append(w.index, indexWrite{id: id, pos: pos, seq: uint32(len(w.index)), del: d})
				k = appendU32(appendU32(appendU64(clusterIDKey(nil, c, clusterIndex, id), pos.height), pos.txIndex), pos.n)
				if d {
					del(k)
				} else {
					set(k, nil)
				}
			default: // the other tables, encoded
				var sw *sortedWrites
				sub := []byte{clusterBlock, clusterEvidence, clusterOverride, clusterState, clusterPending}[rng.IntN(5)]
				switch sub {
				case clusterBlock, clusterEvidence:
					sw = &w.low
				case clusterOverride:
					sw = &w.mid
				default:
					sw = &w.high
				}
				k = clusterIDKey(nil, c, sub, uint64(rng.IntN(5)))
				v := []byte{byte(rng.IntN(256))}
				sw.add(opSet, k, v)
				set(k, v)
			}
		}
		want := map[string]op{}
		for _, o := range ref {
			want[o.key] = o
		}
		if w.size() <= 0 {
			t.Fatalf("round %d: size %d", round, w.size())
		}
		db := openMem(t, 1<<20)
		got := map[string]op{}
		var prev []byte
		// put checks the order of the writes handed over and keeps the
		// last of each key.
		put := func(del bool, k, v []byte) {
			// Keys written several times in the tables kept encoded
			// (sortedWrites) come in the order given.
			if prev != nil && bytes.Compare(prev, k) > 0 {
				t.Fatalf("round %d: key %x after %x", round, k, prev)
			}
			prev = bytes.Clone(k)
			got[string(k)] = op{del, string(k), string(v)}
		}
		if round%3 == 2 {
			// A sink that is not a batch (an ingesting commit's
			// tableSink): the writes come to it one by one.
			if err := w.writeTo(funcSink(put), db.db, c, math.MaxUint64); err != nil {
				t.Fatal(err)
			}
		} else {
			b := db.db.NewBatch()
			if err := w.writeTo(b, db.db, c, math.MaxUint64); err != nil {
				t.Fatal(err)
			}
			r := batchrepr.Read(b.Repr())
			for {
				kind, k, v, ok, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				put(kind == pebbledb.InternalKeyKindDelete, k, v)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("round %d: %d keys written, want %d", round, len(got), len(want))
		}
		for k, o := range want {
			if got[k] != o {
				t.Fatalf("round %d: key %x: %+v, want %+v", round, k, got[k], o)
			}
		}
		if w.size() != 0 || len(w.members)+len(w.index)+len(w.addrEnd) != 0 {
			t.Fatalf("round %d: writes left after writeTo", round)
		}
	}
}

// funcSink is a kvSink that hands every write to a function.
type funcSink func(del bool, key, val []byte)

func (f funcSink) Set(key, val []byte, _ *pebbledb.WriteOptions) error {
	f(false, key, val)
	return nil
}

func (f funcSink) Delete(key []byte, _ *pebbledb.WriteOptions) error {
	f(true, key, nil)
	return nil
}

// TestPosIDs: posIDs answers as a map of positions does over adds mostly
// in order (a run's) with some below the last (replaced, or new), and
// forgets everything on reset.
func TestPosIDs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var w posIDs
	for round := range 3 {
		ref := map[evidencePosKey][]uint64{}
		var last evidencePosKey
		for i := range 3000 {
			p := last
			switch rng.IntN(10) {
			case 0: // anywhere at or below the last height
				p = evidencePosKey{uint64(rng.IntN(int(last.height) + 1)), uint32(rng.IntN(4)), uint32(rng.IntN(4))}
			case 1, 2: // the same transaction
				p.n++
			case 3: // the next block
				p = evidencePosKey{last.height + 1, 0, 2}
			default: // a later transaction of the block
				p.txIndex += uint32(1 + rng.IntN(3))
				p.n = 2
			}
			if got, ok := w.get(p); !slices.Equal(got, ref[p]) || ok != (ref[p] != nil) {
				t.Fatalf("round %d step %d: get(%v) = %v, %v; want %v", round, i, p, got, ok, ref[p])
			}
			ids := []uint64{uint64(i + 1)}
			w.put(p, ids)
			ref[p] = ids
			if last.compare(p) < 0 {
				last = p
			}
		}
		for p, ids := range ref {
			if got, ok := w.get(p); !ok || !slices.Equal(got, ids) {
				t.Fatalf("round %d: get(%v) = %v, %v; want %v", round, p, got, ok, ids)
			}
		}
		if !slices.IsSortedFunc(w.pos, evidencePosKey.compare) || len(w.pos) != len(ref) {
			t.Fatalf("round %d: %d positions, sorted %v; want %d", round, len(w.pos), slices.IsSortedFunc(w.pos, evidencePosKey.compare), len(ref))
		}
		w.reset()
		if _, ok := w.get(last); ok {
			t.Fatalf("round %d: a position found after reset", round)
		}
	}
}
