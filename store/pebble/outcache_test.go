package pebble

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// outKey returns a key of chain c whose txid starts with t (keys of one t
// and different vouts share their txid, as a tx's outputs do).
func outKey(c chainCode, t uint64, vout uint32) utxoKey {
	var k utxoKey
	k.c = c
	binary.LittleEndian.PutUint64(k.op.TxID[:], t*0x9e3779b97f4a7c15)
	binary.LittleEndian.PutUint64(k.op.TxID[24:], t)
	k.op.Vout = vout
	return k
}

func outOf(i int) utxo {
	return utxo{Value: int64(i), Type: heistgraph.ScriptWitnessV0KeyHash, Address: cacheAddr(i), ID: uint64(i) + 1, KH: uint64(i) * 3, Num: uint64(i) + 7}
}

// TestOutCache: against a map of what was put and not taken, a take
// returns the last output put under its key or nothing, never another's;
// with room for all, exactly the map's; past its room, the cursor drops
// the outputs in the order of their places (without takes, the order of
// their puts); a type without a code is not kept; clear empties it.
func TestOutCache(t *testing.T) {
	for _, tc := range []struct {
		name   string
		places int // the cache's room, in outputs
		keys   int // distinct keys drawn from
		ops    int
		exact  bool // nothing is dropped: takes match the map
	}{
		{"room for all", 5000, 3000, 40000, true},
		{"past its room", 500, 3000, 40000, false},
		{"tiny", 3, 20, 2000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var x outCache
			x.limit(int64(tc.places)*400 + 1<<16)
			if x.places < tc.places {
				t.Fatalf("room for %d outputs, want at least %d", x.places, tc.places)
			}
			x.places = tc.places
			want := map[utxoKey]utxo{}
			peak := 0 // the most outputs held
			rng := rand.New(rand.NewPCG(1, uint64(tc.keys)))
			for i := range tc.ops {
				// few txids, several vouts and two chains: probe chains
				// of keys that differ in one field only
				k := outKey(chainCode(rng.IntN(2)), uint64(rng.IntN(tc.keys/4)), uint32(rng.IntN(4)))
				if rng.IntN(2) == 0 {
					o := outOf(i)
					x.put(k, o)
					want[k] = o
					peak = max(peak, x.n)
					continue
				}
				got, ok := x.take(k)
				w, held := want[k]
				delete(want, k)
				if ok && (!held || got != w) {
					t.Fatalf("op %d: take %v = %+v, want %+v (held %v)", i, k, got, w, held)
				}
				if tc.exact && ok != held {
					t.Fatalf("op %d: take %v found %v, want %v", i, k, ok, held)
				}
				if x.made > peak {
					t.Fatalf("op %d: %d places made for at most %d outputs held: empty places are not taken again", i, x.made, peak)
				}
				if x.n > x.places || (tc.exact && x.n != len(want)) {
					t.Fatalf("op %d: %d held, %d put and not taken, room %d", i, x.n, len(want), x.places)
				}
			}
			if x.size() > x.bytes {
				t.Errorf("%d bytes for a bound of %d", x.size(), x.bytes)
			}
		})
	}

	t.Run("dropped in the order of their places", func(t *testing.T) {
		var x outCache
		x.limit(100 * (outRecBytes + outAddrBytes))
		n := x.places
		for i := range n + n/2 {
			x.put(outKey(1, uint64(i), 0), outOf(i))
		}
		for i := range n + n/2 {
			_, ok := x.take(outKey(1, uint64(i), 0))
			if ok != (i >= n/2) {
				t.Fatalf("put %d of %d in %d places: held %v", i, n+n/2, n, ok)
			}
		}
	})

	t.Run("other type, clear", func(t *testing.T) {
		var x outCache
		x.limit(1 << 20)
		o := outOf(1)
		o.Type = "future"
		x.put(outKey(1, 1, 0), o)
		x.put(outKey(1, 2, 0), outOf(2))
		if _, ok := x.take(outKey(1, 1, 0)); ok {
			t.Error("an output of a type without a code is held")
		}
		x.clear()
		if _, ok := x.take(outKey(1, 2, 0)); ok {
			t.Error("an output is held after clear")
		}
		x.put(outKey(1, 3, 0), outOf(3))
		if got, ok := x.take(outKey(1, 3, 0)); !ok || got != outOf(3) {
			t.Errorf("after clear: take = %+v, %v", got, ok)
		}
	})
}
