package pebble

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// heapInUse returns the bytes of live objects on Go's heap after a
// collection.
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// cacheAddr returns a distinct address string of mainnet's most common
// length (42 characters, a P2WPKH bech32 address), allocated on its own as
// a decoded output's is.
func cacheAddr(i int) string {
	return fmt.Sprintf("bc1q%038d", i)
}

// fillUTXO puts n entries into c, as an ingest does, and returns them
// kept by nothing else.
func fillUTXO(c *utxoCache, n int) {
	for i := range n {
		var k utxoKey
		binary.LittleEndian.PutUint64(k.op.TxID[:], uint64(i)*0x9e3779b97f4a7c15)
		k.op.Vout = uint32(i)
		c.put(k, utxo{Value: int64(i), Type: heistgraph.ScriptWitnessV0KeyHash, Address: cacheAddr(i), ID: uint64(i), Num: uint64(i)})
	}
}

func fillIDs(c *addrIDCache, n int) {
	a := &applier{}
	for i := range n {
		addr := cacheAddr(i)
		c.put(a.addrHash(addr), 1, a.formOf(addr, nil), uint64(i), i%4 != 0) // both parts
	}
}

// TestCacheBytes: the output cache and the address ids cache, filled past
// their bound as an ingest fills them, hold no more of Go's heap than the
// bytes they were given (the split of --memory counts on it), and not far
// below it (or the entry sizes are too pessimistic and the caches too
// small). Not parallel: it reads the heap.
func TestCacheBytes(t *testing.T) {
	for _, bytes := range []int64{5 << 20, 24 << 20} {
		cacheBytes(t, bytes)
	}
}

// cacheBytes checks both caches given bytes each.
func cacheBytes(t *testing.T, bytes int64) {
	for _, tc := range []struct {
		name string
		// fill puts n entries into a new cache of bytes and returns it
		// with the number it holds; most is more than it may hold.
		fill func(n int) (any, int)
		most int
	}{
		{"outputs", func(n int) (any, int) {
			c := &utxoCache{}
			c.limit(bytes)
			fillUTXO(c, n)
			return c, c.n
		}, int(bytes / (outRecBytes + outFreeBytes + outAddrBytes))}, // round the ring twice
		{"address ids", func(n int) (any, int) {
			c := &addrIDCache{}
			c.limit(bytes)
			fillIDs(c, n)
			return c, c.entries()
		}, int(bytes / 32)},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.name, bytes), func(t *testing.T) {
			before := heapInUse()
			c, held := tc.fill(3 * tc.most) // filled past its bound, twice
			used := heapInUse() - before
			runtime.KeepAlive(c)
			t.Logf("%d entries held: %d bytes of heap, %.0f an entry", held, used, float64(used)/float64(held))
			if used > bytes*11/10 {
				t.Errorf("%d bytes of heap for a cache of %d", used, bytes)
			}
			if used < bytes/2 {
				t.Errorf("%d bytes of heap for a cache of %d: it keeps less than half", used, bytes)
			}
		})
	}
}
