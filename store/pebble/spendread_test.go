package pebble

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestReadAhead bulk-loads generated chains in random runs into a store
// with no output cache (every spend is read from the store) twice, with
// the read-ahead of spent outputs and without, and checks that the stores
// agree (digest, address ids, tx numbers) and that the read-ahead
// resolved inputs: a result handed to the wrong input, or read from a
// store the run has written since, changes the spends' records. A third
// store, whose output cache holds every output, must agree without
// reading ahead (aheadWorth).
func TestReadAhead(t *testing.T) {
	ctx := context.Background()
	defer func(m int) { bulkMin = m }(bulkMin)
	bulkMin = 0
	chain := heistgraph.ChainBTCRegtest
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			g := storetest.NewGenerator(chain, seed, 16)
			var blocks []*heistgraph.Block
			for range 60 {
				blocks = append(blocks, g.Next())
			}
			on, off, cached := openMem(t, 256<<10), openMem(t, 256<<10), openMem(t, 256<<10)
			for _, d := range []*DB{on, off, cached} {
				d.opts.BulkLoad = true
				d.opts.UTXOCacheSize = -1
				d.opts.GroupBytes = 64 << 10
			}
			cached.opts.UTXOCacheSize = DefaultUTXOCacheSize
			off.ap.noAhead = true
			rng := rand.New(rand.NewPCG(seed, 3))
			for at := 0; at < len(blocks); {
				k := 1 + rng.IntN(min(8, len(blocks)-at))
				for _, d := range []*DB{on, off, cached} {
					for n := 0; n < k; {
						m, err := d.ApplyBlocks(ctx, blocks[at+n:at+k])
						if err != nil {
							t.Fatalf("blocks %d–%d: %v", at+n, at+k, err)
						}
						n += m
					}
				}
				at += k
			}
			if want, got := mustDigest(t, off, chain), mustDigest(t, on, chain); got != want {
				t.Fatalf("digest %s with the read-ahead, %s without", got, want)
			}
			if want, got := mustDigest(t, off, chain), mustDigest(t, cached, chain); got != want {
				t.Fatalf("digest %s with the output cache, %s without", got, want)
			}
			checkAddrIDs(t, on, chain)
			checkTxNums(t, on, chain)
			if on.ap.aheadServed == 0 || off.ap.aheadServed != 0 || cached.ap.aheadServed != 0 {
				t.Fatalf("inputs resolved ahead: %d with the read-ahead, %d without, %d with the output cache", on.ap.aheadServed, off.ap.aheadServed, cached.ap.aheadServed)
			}
			if cached.ap.aheadRuns != 0 {
				t.Fatalf("the store whose output cache holds every output read ahead in %d runs", cached.ap.aheadRuns)
			}
		})
	}
}
